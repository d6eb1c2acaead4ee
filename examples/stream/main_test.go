package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// controlled is a source whose futures the test settles, one at a time.
func controlled() (source, []func(string, error) bool, []*future.Future[string]) {
	const n = 3
	fs := make([]*future.Future[string], n+1)
	rs := make([]func(string, error) bool, n+1)
	for i := 1; i <= n; i++ {
		fs[i], rs[i] = future.New[string]()
	}
	return func(_ context.Context, i int) *future.Future[string] { return fs[i] }, rs, fs
}

// readEvent reads one event (up to its blank line).
func readEvent(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err)
		if line == "\n" {
			return strings.Join(lines, "")
		}
		lines = append(lines, line)
	}
}

func testServer(t *testing.T, next source) *httptest.Server {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	srv := httptest.NewServer(handler(s, next))
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	return srv
}

// TestStreamWithCurl drives the example with curl --no-buffer: each event reaches curl's
// output while the next one's future is still pending.
func TestStreamWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed; .ci/run installs it")
		}
		t.Skip("curl is not installed")
	}
	next, resolve, fs := controlled()
	srv := testServer(t, next)

	cmd := exec.Command(curl, "--no-buffer", "--silent", "--show-error", srv.URL+"/events?n=3")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	rd := bufio.NewReader(out)
	for i := 1; i <= 3; i++ {
		if i < 3 {
			_, settled := fs[i+1].Peek()
			require.False(t, settled)
		}
		resolve[i](fmt.Sprintf("event %d", i), nil)
		require.Equal(t, fmt.Sprintf("id: %d\ndata: event %d\n", i, i), readEvent(t, rd),
			"event %d arrives before event %d is settled", i, i+1)
	}
	rest, err := io.ReadAll(rd)
	require.NoError(t, err)
	require.Empty(t, rest)
	require.NoError(t, cmd.Wait())
}

func TestStreamTicks(t *testing.T) {
	srv := testServer(t, ticks(0))
	resp, err := srv.Client().Get(srv.URL + "/events?n=2")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	rd := bufio.NewReader(resp.Body)
	require.Contains(t, readEvent(t, rd), "data: tick 1 at ")
	require.Contains(t, readEvent(t, rd), "data: tick 2 at ")
	srv.Client().CloseIdleConnections()
}

// TestShutdownEndsStreams runs the example as main does and shuts it down, as SIGTERM
// does, while a stream waits for its next event: the stream ends at once with its
// "shutdown" event, its client reads a whole response, and the shutdown finishes without
// waiting out its grace period.
func TestShutdownEndsStreams(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, signal := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, time.Hour, time.Hour) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/events?n=100")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	signal()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the stream ended cleanly")
	require.Equal(t, "event: shutdown\ndata: the server is shutting down\n\n", string(body))
	require.NoError(t, <-served, "the shutdown finished well before its grace period")
	http.DefaultClient.CloseIdleConnections()
}
