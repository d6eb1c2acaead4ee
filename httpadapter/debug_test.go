package httpadapter

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// debugGot is DebugHandler's JSON as a test reads it: continuations as maps, so that a
// key absent is told from a zero.
type debugGot struct {
	Time           time.Time          `json:"time"`
	N              int                `json:"n"`
	Scheduler      continuation.Stats `json:"scheduler"`
	Pool           *pool.Stats        `json:"pool"`
	Latencies      debugLatencies     `json:"latencies"`
	Routes         []debugRoute       `json:"routes"`
	Oldest         []map[string]any   `json:"oldest"`
	LongestRunning []map[string]any   `json:"longest_running"`
	Warnings       struct {
		OverBudget   int              `json:"over_budget"`
		PastDeadline int              `json:"past_deadline"`
		Cancelled    int              `json:"cancelled"`
		Oldest       []map[string]any `json:"oldest"`
	} `json:"warnings"`
	Continuations []map[string]any `json:"continuations"`
}

// serveDebug serves one request to h and returns the response.
func serveDebug(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestDebugHandlerJSON checks every figure of the JSON with continuations suspended (one
// with a deadline), running (past the step budget), queued, ended and refused, at known
// times.
func TestDebugHandlerJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(4),
			continuation.WithStepBudget(500*time.Millisecond), continuation.WithLogger(slog.New(slog.DiscardHandler)))
		h := DebugHandler(s, p)
		gate, open := future.New[int]()
		var fs []*future.Future[int]
		spawn := func(ctx context.Context, label string, body func(*continuation.C) (int, error), opts ...continuation.SpawnOption) {
			fs = append(fs, continuation.Spawn(s, ctx, body, append(opts, continuation.WithLabel(label))...))
		}
		wait := func(c *continuation.C) (int, error) { return continuation.Await(c, gate) }

		// At 0: two suspended on the gate, one with a deadline in 10 s; two that end at 2 s.
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		spawn(dctx, "GET /a", wait, continuation.WithPriority(pool.High))
		spawn(context.Background(), "GET /b", wait)
		timer, fire := future.New[int]()
		time.AfterFunc(2*time.Second, func() { fire(1, nil) })
		spawn(context.Background(), "GET /t", func(c *continuation.C) (int, error) { return continuation.Await(c, timer) })
		spawn(context.Background(), "GET /t", func(c *continuation.C) (int, error) {
			_, err := continuation.Await(c, timer)
			return 0, errors.Join(err, errors.New("failed"))
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()

		// At 2 s: one that holds the only slot, one queued behind it.
		hold := make(chan struct{})
		defer func() { // also when the test fails: the bubble must end with nothing blocked
			close(hold)
			open(1, nil)
			for _, f := range fs {
				f.Await(context.Background())
			}
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		}()
		spawn(context.Background(), "POST /hog", func(c *continuation.C) (int, error) { <-hold; return 0, nil })
		synctest.Wait()
		time.Sleep(time.Millisecond)
		spawn(context.Background(), "GET /q", wait)
		synctest.Wait()
		// Refused: the alive bound (4), a deadline passed, a context cancelled.
		continuation.Spawn(s, context.Background(), wait)
		late, cancelLate := context.WithDeadline(context.Background(), time.Now())
		defer cancelLate()
		continuation.Spawn(s, late, wait)
		gone, cancelGone := context.WithCancel(context.Background())
		cancelGone()
		continuation.Spawn(s, gone, wait)
		time.Sleep(2*time.Second - time.Millisecond)

		// At 4 s.
		w := serveDebug(h, "GET", "/debug/suspend/?n=2&format=json")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		body := w.Body.String()
		requireSnakeCaseKeys(t, body)
		var keys map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(body), &keys))
		var names []string
		for k := range keys {
			names = append(names, k)
		}
		require.ElementsMatch(t, []string{"time", "n", "scheduler", "pool", "latencies", "routes", "oldest",
			"longest_running", "warnings"}, names, "the keys DebugHandler's doc shows")

		var got debugGot
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		require.True(t, got.Time.Equal(time.Now()), "time: got %v, want %v", got.Time, time.Now())
		require.Equal(t, 2, got.N)
		require.Equal(t, continuation.Stats{Alive: 4, Running: 1, Suspended: 2, Queued: 1,
			Completed: 1, Failed: 1, Cancelled: 1, Overloaded: 1, Late: 1, StepOverruns: 1}, got.Scheduler)
		require.NotNil(t, got.Pool)
		require.Equal(t, p.Stats(), *got.Pool)

		// The two suspended since 0 are the oldest, tied on age: by label.
		require.Equal(t, []map[string]any{
			{"label": "GET /a", "priority": "high", "state": "suspended", "in_state_ns": 4e9, "age_ns": 4e9,
				"steps": 1.0, "busy_ns": 0.0, "queued_ns": 0.0, "suspended_ns": 0.0, "deadline_left_ns": 6e9},
			{"label": "GET /b", "priority": "normal", "state": "suspended", "in_state_ns": 4e9, "age_ns": 4e9,
				"steps": 1.0, "busy_ns": 0.0, "queued_ns": 0.0, "suspended_ns": 0.0},
		}, got.Oldest)
		hog := map[string]any{"label": "POST /hog", "priority": "normal", "state": "running",
			"in_state_ns": 2e9, "age_ns": 2e9, "steps": 0.0, "busy_ns": 0.0, "queued_ns": 0.0, "suspended_ns": 0.0}
		require.Equal(t, []map[string]any{hog}, got.LongestRunning)
		require.Equal(t, 1, got.Warnings.OverBudget)
		require.Zero(t, got.Warnings.PastDeadline)
		require.Zero(t, got.Warnings.Cancelled)
		warned := maps.Clone(hog)
		warned["warning"] = "over_budget" // in warnings only
		require.Equal(t, []map[string]any{warned}, got.Warnings.Oldest)

		// The two that ended were suspended 2 s each; every route's figures sum to the totals.
		sus := got.Latencies.Suspension
		require.Equal(t, uint64(2), sus.Count)
		require.Equal(t, 4*time.Second, sus.Sum)
		require.InEpsilon(t, float64(2*time.Second), float64(sus.P50), 0.25, "p50 %v", sus.P50)
		require.InEpsilon(t, float64(2*time.Second), float64(sus.P99), 0.25, "p99 %v", sus.P99)
		want := summarizeAll(s.Latencies())
		require.Equal(t, want, got.Latencies)
		var labels []string
		var sum debugLatencies
		alive := map[string][3]int{}
		for _, r := range got.Routes {
			labels = append(labels, r.Label)
			alive[r.Label] = [3]int{r.Running, r.Suspended, r.Queued}
			for _, l := range [][2]*debugSummary{{&sum.SlotWait, &r.SlotWait}, {&sum.Step, &r.Step}, {&sum.Suspension, &r.Suspension}} {
				l[0].Count += l[1].Count
				l[0].Sum += l[1].Sum
			}
		}
		require.Equal(t, []string{"GET /a", "GET /b", "GET /q", "GET /t", "POST /hog"}, labels)
		require.Equal(t, map[string][3]int{"GET /a": {0, 1, 0}, "GET /b": {0, 1, 0}, "GET /q": {0, 0, 1},
			"GET /t": {0, 0, 0}, "POST /hog": {1, 0, 0}}, alive, "running, suspended, queued")
		for _, l := range [][2]debugSummary{{sum.SlotWait, want.SlotWait}, {sum.Step, want.Step}, {sum.Suspension, want.Suspension}} {
			require.Equal(t, l[1].Count, l[0].Count)
			require.Equal(t, l[1].Sum, l[0].Sum)
		}
		require.Equal(t, debugSummary{Count: 2, Sum: 4 * time.Second, P50: sus.P50, P99: sus.P99},
			got.Routes[3].Suspension, "GET /t's")

		// ?all=1 adds every one alive, oldest first.
		w = serveDebug(h, "GET", "/debug/suspend/?format=json&all=1")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		got = debugGot{}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, 20, got.N, "the default")
		labels = nil
		for _, c := range got.Continuations {
			labels = append(labels, c["label"].(string))
		}
		require.Len(t, labels, 4)
		require.ElementsMatch(t, []string{"GET /a", "GET /b"}, labels[:2], "tied on age: in any order")
		require.Equal(t, []string{"POST /hog", "GET /q"}, labels[2:], "the hog came first")
		require.Equal(t, hog, got.Continuations[2])

		// A passed deadline: left is negative.
		time.Sleep(7 * time.Second)
		got = debugGot{}
		require.NoError(t, json.Unmarshal(serveDebug(h, "GET", "/?format=json&n=2").Body.Bytes(), &got))
		require.Equal(t, "GET /a", got.Oldest[0]["label"])
		require.Equal(t, -1e9, got.Oldest[0]["deadline_left_ns"])
		require.Equal(t, 1, got.Warnings.PastDeadline)

		// Without a pool, and with n=0: no pool, empty lists.
		got = debugGot{}
		w = serveDebug(DebugHandler(s, nil), "GET", "/?format=json&n=0")
		require.NotContains(t, w.Body.String(), `"pool"`)
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Equal(t, []map[string]any{}, got.Oldest)
		require.Equal(t, []map[string]any{}, got.LongestRunning)
		require.Equal(t, []map[string]any{}, got.Warnings.Oldest)
		require.Equal(t, 4, got.Scheduler.Alive)
		require.NotContains(t, w.Body.String(), `"continuations"`, "only for all=1")
	})
}

// TestDebugHandlerNegotiation: the page unless JSON is asked for, by ?format= or by an
// Accept header that ranks application/json above text/html.
func TestDebugHandlerNegotiation(t *testing.T) {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	defer p.Shutdown(context.Background())
	defer s.Shutdown(context.Background())
	h := DebugHandler(s, p)
	const page, js = "text/html; charset=utf-8", "application/json"
	for _, tc := range []struct{ target, accept, want string }{
		{"/", "", page},
		{"/", "*/*", page},
		{"/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", page}, // a browser's
		{"/", "application/json", js},
		{"/", "Application/JSON; charset=utf-8", js},
		{"/", "application/*", js},
		{"/", "application/json, text/html;q=0.5", js},
		{"/", "text/html, application/json;q=0.9", page},
		{"/", "text/*;q=0.5, application/json;q=0.6", js},
		{"/", "application/json;q=0, */*", page},
		{"/", "application/json;q=2, text/html;q=0.1", page}, // a bad q is skipped
		{"/", "garbage;;, application/json", js},
		{"/?format=json", "text/html", js},
		{"/?format=html", "application/json", page},
	} {
		w := serveDebug(h, "GET", tc.target, "Accept", tc.accept)
		require.Equal(t, http.StatusOK, w.Code, "%s Accept %q", tc.target, tc.accept)
		require.Equal(t, tc.want, w.Header().Get("Content-Type"), "%s Accept %q", tc.target, tc.accept)
		require.Equal(t, "Accept", w.Header().Get("Vary"))
		require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		if tc.want == js {
			requireSnakeCaseKeys(t, w.Body.String())
		} else {
			require.True(t, strings.HasPrefix(w.Body.String(), "<!DOCTYPE html>"))
		}
	}

	w := serveDebug(h, "HEAD", "/?format=json")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, js, w.Header().Get("Content-Type"))
	w = serveDebug(h, "POST", "/")
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
}

// TestDebugHandlerParameters: bad values of n, format and all are answered 400 with a
// message that names the parameter.
func TestDebugHandlerParameters(t *testing.T) {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	defer p.Shutdown(context.Background())
	defer s.Shutdown(context.Background())
	h := DebugHandler(s, p)
	for _, tc := range []struct{ query, param string }{
		{"n=abc", "n"}, {"n=-1", "n"}, {"n=101", "n"}, {"n=1.5", "n"}, {"n=", "n"}, {"n=1e2", "n"},
		{"format=xml", "format"}, {"format=", "format"},
		{"all=yes", "all"}, {"all=", "all"}, {"format=json&all=2", "all"},
		{"all=1", "all"}, {"format=html&all=1", "all"}, // the full list is in the JSON only
	} {
		w := serveDebug(h, "GET", "/?"+tc.query, "Accept", "application/json;q=0.5, text/html")
		require.Equal(t, http.StatusBadRequest, w.Code, tc.query)
		require.Contains(t, w.Body.String(), "parameter "+tc.param+"=", tc.query)
		require.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	}
	for _, q := range []string{"n=0", "n=100", "n=007", "format=json&all=0", "format=json&all=true", "all=false"} {
		w := serveDebug(h, "GET", "/?"+q)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", q, w.Body.String())
	}
	w := serveDebug(h, "GET", "/?format=json&all=1")
	require.Contains(t, w.Body.String(), `"continuations":[]`, "asked for, and none alive")
}

// TestDebugHandlerPage: the page loads nothing from elsewhere, its Content-Security-Policy
// allows its own inline style and script and nothing else, it holds the view as JSON,
// and a label cannot break out of it.
func TestDebugHandlerPage(t *testing.T) {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	defer p.Shutdown(context.Background())
	defer s.Shutdown(context.Background())
	gate, open := future.New[int]()
	const evil = `</script><script>alert("x")</script><img src=http://evil.example/>`
	f := continuation.Spawn(s, context.Background(), func(c *continuation.C) (int, error) {
		return continuation.Await(c, gate)
	}, continuation.WithLabel(evil))
	defer f.Await(context.Background())
	defer open(1, nil)
	require.Eventually(t, func() bool { return s.Stats().Suspended == 1 }, time.Minute, time.Millisecond)

	w := serveDebug(DebugHandler(s, p), "GET", "/debug/suspend/")
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	dataRE := regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`)
	data := dataRE.FindStringSubmatch(page)
	require.NotNil(t, data)
	code := dataRE.ReplaceAllString(page, "") // the page without its data, labels included
	for _, re := range []string{`(?i)https?:`, `(?i)\bsrc\s*=`, `//[a-z0-9.-]+[/:]`, `(?i)@import`,
		`[^A-Za-z]url\(`, `(?i)<(link|iframe|img|object|embed|base|form)\b`, `(?i)<script[^>]*\bsrc`} {
		m := regexp.MustCompile(re).FindString(code)
		require.Empty(t, m, "a reference to elsewhere, matching %s", re)
	}
	for _, m := range regexp.MustCompile(`(?i)href="([^"]*)"`).FindAllStringSubmatch(code, -1) {
		require.True(t, strings.HasPrefix(m[1], "?"), "href %q: only to this page's own JSON", m[1])
	}
	require.Contains(t, page, "<noscript>")

	// The policy names the hashes of what the page has inline.
	csp := w.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "connect-src 'self'")
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	require.Len(t, scripts, 1, "one script runs")
	require.Contains(t, csp, "script-src "+hash(scripts[0][1])+";")
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
	require.Len(t, styles, 1)
	require.Contains(t, csp, "style-src "+hash(styles[0][1])+";")

	// The data: the view as JSON, which the label cannot end early.
	requireSnakeCaseKeys(t, data[1])
	var got debugGot
	require.NoError(t, json.Unmarshal([]byte(data[1]), &got))
	require.Equal(t, 1, got.Scheduler.Suspended)
	require.Equal(t, evil, got.Oldest[0]["label"])
	require.Equal(t, 2, strings.Count(page, "<script"), "the data's and the code's")
	require.Equal(t, fmt.Sprint(len(page)), w.Header().Get("Content-Length"))
}
