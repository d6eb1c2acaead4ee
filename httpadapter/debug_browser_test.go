//go:build unix

package httpadapter

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestDebugHandlerInChromium loads DebugHandler's page in headless Chromium, from a
// server with requests suspended: the page shows them, with no error in its console, and
// then, without being reloaded, shows them ended once they end.
//
// Chromium's --virtual-time-budget runs the page's timers on a clock that jumps over idle
// time and stops while a fetch is under way: a budget of 5 s is about five refreshes,
// however slow the machine. The DOM is dumped when the budget is spent.
func TestDebugHandlerInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	const k = 3
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	gate, open := future.New[int]()

	var releasing atomic.Bool // from the second load on: the second refresh ends the requests
	var pages, refreshes atomic.Int32
	debug := DebugHandler(s, p)
	mux := http.NewServeMux()
	mux.Handle("/wait", New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		_, err := continuation.Await(c, gate)
		return err
	}, WithLabel(func(r *http.Request) string { return "GET /wait" })))
	mux.HandleFunc("/debug/suspend/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") != "json" {
			pages.Add(1)
		} else if releasing.Load() && refreshes.Add(1) == 2 {
			open(1, nil)
			// The answer waits for the requests to end: the page's clock stands still.
			for end := time.Now().Add(time.Minute); s.Alive() > 0 && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
		}
		debug.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	defer func() {
		open(1, nil) // if the test failed before
		wg.Wait()
		tr.CloseIdleConnections()
		srv.Close()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()
	for range k {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + "/wait")
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		})
	}
	require.Eventually(t, func() bool { return s.Stats().Suspended == k }, time.Minute, time.Millisecond)

	url := srv.URL + "/debug/suspend/?n=5"
	dom := runChromium(t, chromium, url, 2500)
	require.Equal(t, strconv.Itoa(k), figure(t, dom, "s-suspended"), "suspended, in\n%s", dom)
	require.Equal(t, strconv.Itoa(k), figure(t, dom, "s-alive"))
	require.Equal(t, "0", figure(t, dom, "s-running"))
	require.Equal(t, "0", figure(t, dom, "s-completed"))
	require.Equal(t, "1", figure(t, dom, "p-workers"))
	require.Contains(t, dom, ">GET /wait<", "the route and the oldest are listed")
	require.Regexp(t, `id="status" class="status ok"`, dom, "no refresh failed")
	require.GreaterOrEqual(t, updates(t, dom), 2, "drawn from the page's JSON, then refreshed")

	releasing.Store(true)
	dom = runChromium(t, chromium, url, 5000)
	require.GreaterOrEqual(t, refreshes.Load(), int32(3), "refreshed after the requests ended")
	require.Equal(t, "0", figure(t, dom, "s-suspended"), "suspended, in\n%s", dom)
	require.Equal(t, "0", figure(t, dom, "s-alive"))
	require.Equal(t, strconv.Itoa(k), figure(t, dom, "s-completed"))
	require.Equal(t, strconv.Itoa(k), figure(t, dom, "l-suspension-count"), "their suspensions ended")
	require.Regexp(t, `id="status" class="status ok"`, dom)
	require.GreaterOrEqual(t, updates(t, dom), 3)
	require.Equal(t, int32(2), pages.Load(), "one load of the page each time: it refreshes without reloading")
}

// chromiumPath returns the path of the chromium binary, or skips the test if there is
// none, unless CI=true: CI installs it, or says in SUSPEND_NO_CHROMIUM why it could not.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if why := os.Getenv("SUSPEND_NO_CHROMIUM"); why != "" {
		t.Skip("chromium not available: " + why)
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not installed, with CI=true: .ci/run installs it (apt-get install chromium), " +
				"or sets SUSPEND_NO_CHROMIUM to the reason it could not")
		}
		t.Skip("chromium not installed: apt-get install chromium")
	}
	return path
}

// runChromium loads url in headless Chromium for budget ms of virtual time and returns
// the DOM then. It fails the test if the page logged anything to its console (an
// uncaught exception, a refused load, a console.error). Chromium's files go to a
// temporary directory, and every process it started is killed before it returns.
func runChromium(t *testing.T, chromium, url string, budget int) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // for a hang, not a slow machine
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--disable-gpu", "--no-sandbox",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-crash-reporter", "--enable-logging=stderr", "--v=0",
		"--dump-dom", "--virtual-time-budget="+strconv.Itoa(budget), url)
	cmd.Env = append(os.Environ(), "HOME="+dir, "TMPDIR="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	// Chromium starts processes of its own: they get its process group, killed as one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // any it left behind
	}
	require.NoError(t, err, "chromium: %s", stderr.String())
	var console []string
	for line := range strings.Lines(stderr.String()) {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	require.Empty(t, console, "the page's console")
	require.Contains(t, stdout.String(), "</html>", "a DOM was dumped; chromium said: %s", stderr.String())
	return stdout.String()
}

// figure returns the text of the element of the DOM whose id is id.
func figure(t *testing.T, dom, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(dom)
	require.NotNil(t, m, "no element %q in\n%s", id, dom)
	return m[1]
}

// updates returns how many times the page has drawn the view.
func updates(t *testing.T, dom string) int {
	t.Helper()
	m := regexp.MustCompile(`data-updates="(\d+)"`).FindStringSubmatch(dom)
	require.NotNil(t, m, "no data-updates in\n%s", dom)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}
