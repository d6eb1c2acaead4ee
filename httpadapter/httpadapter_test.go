package httpadapter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a scheduler on a pool, and a real loopback server serving a handler on it, with
// a client of its own; all of it stops when the test ends.
type env struct {
	p      *pool.Pool
	s      *continuation.Scheduler
	srv    *httptest.Server
	client *http.Client
}

func newEnv(t *testing.T, workers int, sopts []continuation.Option, mk func(s *continuation.Scheduler) http.Handler) *env {
	t.Helper()
	e := &env{p: pool.New(workers)}
	e.s = continuation.NewScheduler(e.p, sopts...)
	e.srv = httptest.NewServer(mk(e.s))
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	e.client = &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		e.srv.Close()
		require.NoError(t, e.s.Shutdown(context.Background()))
		require.NoError(t, e.p.Shutdown(context.Background()))
	})
	return e
}

func (e *env) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := e.client.Get(e.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestStatusMapping(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	never, _ := future.New[int]()
	routes := map[string]HandlerFunc{
		"/ok": func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			v, err := continuation.Await(c, future.Go(r.Context(), func(context.Context) (string, error) {
				return "hello", nil
			}))
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, v)
			return err
		},
		"/teapot": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return &StatusError{Code: http.StatusTeapot, Err: errors.New("secret detail")}
		},
		"/internal": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return errors.New("db password is hunter2")
		},
		"/panic": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			panic("handler bug")
		},
		"/deadline": func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			return c.Await(never) // WithTimeout ends it
		},
		"/upstream-deadline": func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			return fmt.Errorf("calling upstream: %w", context.DeadlineExceeded)
		},
		"/overloaded": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("downstream: %w", continuation.ErrOverloaded)
		},
	}
	e := newEnv(t, 2, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			return routes[r.URL.Path](c, w, r)
		}, WithTimeout(50*time.Millisecond), WithLogger(logger))
	})

	for _, tc := range []struct {
		path, body string
		code       int
	}{
		{"/ok", "hello", 200},
		{"/teapot", "I'm a teapot\n", 418},
		{"/internal", "Internal Server Error\n", 500},
		{"/panic", "Internal Server Error\n", 500},
		{"/deadline", "Gateway Timeout\n", 504},
		{"/upstream-deadline", "Gateway Timeout\n", 504},
		{"/overloaded", "Service Unavailable\n", 503},
	} {
		resp, body := e.get(t, tc.path)
		assert.Equal(t, tc.code, resp.StatusCode, tc.path)
		assert.Equal(t, tc.body, body, tc.path)
		if tc.code >= 400 {
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"), tc.path)
		}
		if tc.code == 503 {
			assertRetryAfter(t, resp.Header.Get("Retry-After"))
		}
	}
	require.Contains(t, logs.String(), "handler panicked")
	require.Contains(t, logs.String(), "panic=\"handler bug\"")
	require.Contains(t, logs.String(), "httpadapter_test.go", "the stack is logged")
	require.Contains(t, logs.String(), `error="db password is hunter2"`, "errors answered 5xx are logged (the log is the server's)")
}

func TestErrorAfterWriteAborts(t *testing.T) {
	for _, fail := range []string{"error", "panic"} {
		t.Run(fail, func(t *testing.T) {
			e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
				return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
					io.WriteString(w, "partial ")
					http.NewResponseController(w).Flush()
					if fail == "panic" {
						panic("mid-stream bug")
					}
					return errors.New("mid-stream failure")
				}, WithLogger(slog.New(slog.DiscardHandler)))
			})
			resp, err := e.client.Get(e.srv.URL)
			require.NoError(t, err, "the header went out before the failure")
			defer resp.Body.Close()
			require.Equal(t, 200, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.Error(t, err, "the client must see a broken response, not a whole one")
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.Equal(t, "partial ", string(body))
		})
	}
}

func TestClientDisconnectWhileSuspended(t *testing.T) {
	never, _ := future.New[int]()
	seen := make(chan error, 1)
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			err := c.Await(never)
			seen <- err
			return err
		})
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL, nil)
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return e.s.Stats().Suspended == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.ErrorIs(t, <-seen, context.Canceled, "the handler was resumed with the context's error")
	require.Eventually(t, func() bool { return e.s.Stats().Alive == 0 }, 10*time.Second, time.Millisecond)
	st := e.s.Stats()
	require.Equal(t, int64(1), st.Cancelled, "a client gone is counted as such: %+v", st)
	require.Equal(t, int64(1), st.Ended())
}

func TestOverloadRefusedAtOnce(t *testing.T) {
	gate, open := future.New[int]()
	var admitted atomic.Int32
	e := newEnv(t, 1, []continuation.Option{continuation.WithMaxAlive(2)}, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			admitted.Add(1)
			_, err := continuation.Await(c, gate)
			return err
		})
	})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			resp, body := e.get(t, "/")
			assert.Equal(t, 200, resp.StatusCode, body)
		})
	}
	require.Eventually(t, func() bool { return e.s.Stats().Suspended == 2 }, 10*time.Second, time.Millisecond)

	for range 20 {
		resp, body := e.get(t, "/")
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Equal(t, "Service Unavailable\n", body)
		assertRetryAfter(t, resp.Header.Get("Retry-After"))
	}
	require.Equal(t, int32(2), admitted.Load(), "refused requests never reach the handler")
	require.Equal(t, int64(20), e.s.Stats().Overloaded)

	open(1, nil)
	wg.Wait()
	resp, _ := e.get(t, "/")
	require.Equal(t, 200, resp.StatusCode, "the server serves normally once the load is gone")
}

// streamHandler writes one line per future of next, flushing each at once.
func streamHandler(next <-chan *future.Future[string]) HandlerFunc {
	return func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain")
		for f := range next {
			v, err := continuation.Await(c, f)
			if err != nil {
				return err
			}
			io.WriteString(w, v+"\n")
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
		}
		return nil
	}
}

func testStreaming(t *testing.T, e *env, next chan *future.Future[string], wantProto int) {
	first, resolveFirst := future.New[string]()
	second, resolveSecond := future.New[string]()
	next <- first
	resolveFirst("one", nil)
	resp, err := e.client.Get(e.srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, wantProto, resp.ProtoMajor)
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "one\n", line, "the first chunk arrives while the second future is pending")

	next <- second
	_, ok := second.Peek()
	require.False(t, ok)
	resolveSecond("two", nil)
	line, err = rd.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "two\n", line)
	close(next)
	_, err = rd.ReadString('\n')
	require.ErrorIs(t, err, io.EOF)
}

func TestStreaming(t *testing.T) {
	next := make(chan *future.Future[string], 1)
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler { return New(s, streamHandler(next)) })
	testStreaming(t, e, next, 1)
}

// newEnvHTTP2 is newEnv over TLS, where the server and its client speak HTTP/2.
func newEnvHTTP2(t *testing.T, workers int, mk func(s *continuation.Scheduler) http.Handler) *env {
	t.Helper()
	e := &env{p: pool.New(workers)}
	e.s = continuation.NewScheduler(e.p)
	e.srv = httptest.NewUnstartedServer(mk(e.s))
	e.srv.EnableHTTP2 = true
	e.srv.StartTLS()
	e.client = e.srv.Client()
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		e.srv.Close()
		require.NoError(t, e.s.Shutdown(context.Background()))
		require.NoError(t, e.p.Shutdown(context.Background()))
	})
	return e
}

func TestHTTP2(t *testing.T) {
	next := make(chan *future.Future[string], 1)
	e := newEnvHTTP2(t, 1, func(s *continuation.Scheduler) http.Handler { return New(s, streamHandler(next)) })
	testStreaming(t, e, next, 2)
}

func TestWrap(t *testing.T) {
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Plain", "yes")
			fmt.Fprintf(w, "hello %s", r.URL.Query().Get("name"))
		})
		mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "half")
			panic(http.ErrAbortHandler)
		})
		return Wrap(s, mux)
	})
	resp, body := e.get(t, "/hello?name=gopher")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "hello gopher", body)
	require.Equal(t, "yes", resp.Header.Get("X-Plain"))

	resp, body = e.get(t, "/nowhere")
	require.Equal(t, 404, resp.StatusCode, "the mux's own answers pass through")
	require.Equal(t, "404 page not found\n", body)

	resp, err := e.client.Get(e.srv.URL + "/abort")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	require.Error(t, err, "a handler's ErrAbortHandler still aborts")
}

func TestErrorHandlerAndLabel(t *testing.T) {
	gate, open := future.New[int]()
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/debug/suspend", DebugHandler(s, nil))
		mux.Handle("/", New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if r.URL.Path == "/wait" {
				_, err := continuation.Await(c, gate)
				return err
			}
			return &StatusError{Code: http.StatusNotFound}
		}, WithErrorHandler(func(w http.ResponseWriter, r *http.Request, code int, err error) {
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"error":%d}`, code)
		}), WithLabel(func(r *http.Request) string { return "route " + r.URL.Path })))
		return mux
	})
	resp, body := e.get(t, "/missing")
	require.Equal(t, 404, resp.StatusCode)
	require.Equal(t, `{"error":404}`, body)

	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, _ := e.get(t, "/wait")
		assert.Equal(t, 200, resp.StatusCode)
	}()
	require.Eventually(t, func() bool { return e.s.Stats().Suspended == 1 }, 10*time.Second, time.Millisecond)

	resp, body = e.get(t, "/debug/suspend?format=json&all=1")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var dump struct {
		Scheduler     continuation.Stats
		Continuations []struct {
			Label string
			State string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &dump), body)
	require.Equal(t, 1, dump.Scheduler.Suspended)
	require.Len(t, dump.Continuations, 1)
	require.Equal(t, "route /wait", dump.Continuations[0].Label)
	require.Equal(t, "suspended", dump.Continuations[0].State)
	requireSnakeCaseKeys(t, body)
	rec := httptest.NewRecorder()
	DebugHandler(e.s, e.p).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/suspend?format=json", nil))
	requireSnakeCaseKeys(t, rec.Body.String())
	require.Contains(t, rec.Body.String(), `"busy_workers"`)

	open(1, nil)
	<-done
}

// TestPriority checks that requests are admitted by the priority WithPriority gives them,
// High before older Normal ones before older Low ones, while the only slot is held.
func TestPriority(t *testing.T) {
	hold := make(chan struct{})
	var mu sync.Mutex
	var order []string
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if r.URL.Path == "/hold" {
				<-hold // keeps the slot: the others queue
				return nil
			}
			mu.Lock()
			order = append(order, r.URL.Path)
			mu.Unlock()
			return nil
		}, WithPriority(func(r *http.Request) pool.Priority {
			switch r.URL.Path {
			case "/cpu":
				return pool.Low
			case "/health":
				return pool.High
			}
			return pool.Normal
		}))
	})
	var wg sync.WaitGroup
	get := func(path string) {
		wg.Go(func() {
			resp, _ := e.get(t, path)
			assert.Equal(t, 200, resp.StatusCode, path)
		})
	}
	waitFor := func(what string, cond func(pool.Stats) bool) {
		require.Eventually(t, func() bool { return cond(e.p.Stats()) }, 10*time.Second, time.Millisecond, what)
	}
	get("/hold")
	waitFor("slot held", func(s pool.Stats) bool { return s.BusyInline == 1 })
	for i, path := range []string{"/cpu", "/wait", "/health"} {
		get(path)
		waitFor(path+" queued", func(s pool.Stats) bool { return s.WaitingNew == i+1 })
	}
	close(hold)
	wg.Wait()
	require.Equal(t, []string{"/health", "/wait", "/cpu"}, order)

	bad := New(e.s, func(*continuation.C, http.ResponseWriter, *http.Request) error { return nil },
		WithPriority(func(*http.Request) pool.Priority { return 7 }))
	require.PanicsWithValue(t, "httpadapter: the WithPriority function returned unknown pool.Priority 7", func() {
		bad.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	})
	require.Zero(t, e.s.Stats().Alive, "nothing was admitted")
}

// TestOneWorkerManySlowRequests: one worker holds 1,000 requests suspended at once on a
// slow upstream, and serves them all once it answers. The upstream answers only when all
// 1,000 wait on it, which a pool that held a slot while waiting would never reach. (How
// long they take depends on the machine: the bench harness's slow scenario measures it.)
func TestOneWorkerManySlowRequests(t *testing.T) {
	const n = 1000
	slow, answer := future.New[string]()
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			v, err := continuation.Await(c, slow)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, v)
			return err
		})
	})
	e.client.Transport.(*http.Transport).MaxIdleConnsPerHost = n
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range n {
		wg.Go(func() {
			resp, err := e.client.Get(e.srv.URL)
			if !assert.NoError(t, err) {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "ok" {
				ok.Add(1)
			}
		})
	}
	require.Eventually(t, func() bool { return e.s.Stats().Suspended == n }, time.Minute, time.Millisecond,
		"one worker holds all the requests suspended at once")
	require.Equal(t, 1, e.p.Stats().Workers)
	answer("ok", nil)
	wg.Wait()
	require.Equal(t, int32(n), ok.Load())
}

// serveForShutdown serves h on a loopback http.Server that the test shuts down itself,
// and returns a client for n connections, closed when the test ends.
func serveForShutdown(t *testing.T, h http.Handler, n int) (*http.Server, string, <-chan error, *http.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, "http://" + ln.Addr().String(), served, &http.Client{Transport: tr}
}

// TestGracefulShutdownUnderLoad runs Shutdown while requests are suspended: it waits for
// them, every admitted request is answered, and nothing leaks.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	const n = 2000
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	release := make(chan struct{})
	h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		f := future.Go(r.Context(), func(ctx context.Context) (string, error) {
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
		v, err := continuation.Await(c, f)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, v)
		return err
	})
	srv, url, served, client := serveForShutdown(t, h, n)
	var wg sync.WaitGroup
	var answered atomic.Int32
	for range n {
		wg.Go(func() {
			resp, err := client.Get(url)
			if !assert.NoError(t, err) {
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "done", string(body))
			answered.Add(1)
		})
	}
	require.Eventually(t, func() bool { return s.Stats().Suspended == n }, 20*time.Second, time.Millisecond)

	shut := make(chan error, 1)
	go func() { shut <- Shutdown(context.Background(), srv, s, p) }()
	require.Eventually(t, func() bool {
		_, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
		return err != nil
	}, 10*time.Second, time.Millisecond, "the listener closes while the requests are suspended")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while requests were suspended", err)
	default:
	}
	close(release)
	require.NoError(t, <-shut)
	require.ErrorIs(t, <-served, http.ErrServerClosed)
	wg.Wait()
	require.Equal(t, int32(n), answered.Load(), "every admitted request was answered")
	st := s.Stats()
	require.Equal(t, int64(n), st.Completed)
	require.Zero(t, st.Alive)
}

func TestMisuse(t *testing.T) {
	p := pool.New(1)
	defer p.Shutdown(context.Background())
	s := continuation.NewScheduler(p)
	h := func(*continuation.C, http.ResponseWriter, *http.Request) error { return nil }
	require.PanicsWithValue(t, "httpadapter: New called with a nil *continuation.Scheduler", func() { New(nil, h) })
	require.PanicsWithValue(t, "httpadapter: New called with a nil HandlerFunc", func() { New(s, nil) })
	require.PanicsWithValue(t, "httpadapter: Wrap called with a nil http.Handler", func() { Wrap(s, nil) })
	require.PanicsWithValue(t, "httpadapter: WithTimeout called with a negative duration", func() { WithTimeout(-1) })
	require.PanicsWithValue(t, "httpadapter: WithPriority called with a nil function", func() { WithPriority(nil) })
	require.True(t, strings.HasPrefix((&StatusError{Code: 400}).Error(), "http status 400"))
}

// TestShutdownGivesUpUnderLoad runs Shutdown with a context that ends while thousands of
// requests wait on something that never comes: the scheduler gives up, and every request
// is answered 503 before Shutdown returns, as documented. Nothing leaks.
func TestShutdownGivesUpUnderLoad(t *testing.T) {
	const n = 2000
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	never, _ := future.New[int]()
	h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		_, err := continuation.Await(c, never)
		return err // ErrStopped once the scheduler gives up
	})
	srv, url, served, client := serveForShutdown(t, h, n)
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, err := client.Get(url)
			if !assert.NoError(t, err) {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assertRetryAfter(t, resp.Header.Get("Retry-After"))
			codes <- resp.StatusCode
		})
	}
	require.Eventually(t, func() bool { return s.Stats().Suspended == n }, 30*time.Second, time.Millisecond)

	// The signal comes (a cancel, with no deadline): the scheduler gives up at once, and
	// Shutdown waits for the answers. The time it allows for them is made long here, so
	// that a slow machine cannot fail the test; what is checked is that it waits for them.
	defer func(d time.Duration) { maxReserve = d }(maxReserve)
	maxReserve = 10 * time.Minute
	ctx, signal := context.WithCancel(context.Background())
	signal()
	err := Shutdown(ctx, srv, s, p)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, fmt.Sprintf("gave up on %d alive continuations", n))
	require.NotContains(t, err.Error(), "connections still active", "every request was answered in time")
	wg.Wait()
	close(codes)
	answered := 0
	for code := range codes {
		require.Equal(t, http.StatusServiceUnavailable, code)
		answered++
	}
	require.Equal(t, n, answered, "every request was answered")
	require.ErrorIs(t, <-served, http.ErrServerClosed)
	st := s.Stats()
	require.Zero(t, st.Alive)
	require.Equal(t, int64(n), st.Stopped)
}

// requireSnakeCaseKeys checks that every key of the JSON document is in one style,
// snake_case, as DebugHandler promises.
func requireSnakeCaseKeys(t *testing.T, doc string) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				require.Regexp(t, `^[a-z][a-z0-9_]*$`, k, "a key of %s", doc)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
}

// assertRetryAfter checks that a computed Retry-After is whole seconds, from 1 to 60.
func assertRetryAfter(t *testing.T, v string) {
	t.Helper()
	n, err := strconv.Atoi(v)
	if assert.NoError(t, err, "Retry-After %q", v) {
		assert.True(t, n >= 1 && n <= 60, "Retry-After %d", n)
	}
}
