package httpadapter

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
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
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

var discardLogger = slog.New(slog.DiscardHandler)

// forever is a future that never settles, for handlers that wait until their client goes.
var forever = func() *future.Future[int] { f, _ := future.New[int](); return f }()

// records is a slog.Handler that keeps the records it handles, at every level.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// take returns the records of this package handled so far, each as its level, message
// and attributes, and forgets them all (a scheduler's warnings about a step slowed by a
// busy machine among them).
func (h *records) take() []logged {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logged
	for _, r := range h.recs {
		if !strings.HasPrefix(r.Message, "httpadapter: ") {
			continue
		}
		l := logged{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
		r.Attrs(func(a slog.Attr) bool {
			l.Attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, l)
	}
	h.recs = nil
	return out
}

type logged struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// serveOnce runs h for one request to path on an httptest.ResponseRecorder.
func serveOnce(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// TestCutResponseNeverLooksWhole: a handler that fails after part of its body went out
// leaves every client with an error, never a body that ends normally, whatever the
// protocol and the framing: HTTP/1.1 with a Content-Length or chunked, close-delimited
// bodies (HTTP/1.0, and HTTP/1.1 with Transfer-Encoding: identity, over TCP and TLS), and
// HTTP/2.
func TestCutResponseNeverLooksWhole(t *testing.T) {
	handler := func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			switch r.URL.Path {
			case "/length":
				w.Header().Set("Content-Length", "100")
			case "/identity":
				w.Header().Set("Transfer-Encoding", "identity")
			}
			io.WriteString(w, "partial ")
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			return errors.New("mid-stream failure")
		}, WithLogger(discardLogger))
	}
	// raw sends req on a connection of its own and reads the response's body.
	raw := func(t *testing.T, conn net.Conn, req string) error {
		defer conn.Close()
		_, err := io.WriteString(conn, req)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, err = io.ReadAll(resp.Body)
		return err
	}
	t.Run("HTTP/1.1", func(t *testing.T) {
		e := newEnv(t, 1, nil, handler)
		for _, path := range []string{"/length", "/chunked", "/identity"} {
			resp, err := e.client.Get(e.srv.URL + path)
			require.NoError(t, err, "%s: the header went out before the failure", path)
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Error(t, err, "%s: the body must not look whole", path)
		}
	})
	t.Run("HTTP/1.0", func(t *testing.T) {
		e := newEnv(t, 1, nil, handler)
		for _, path := range []string{"/length", "/close"} {
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			require.NoError(t, err)
			require.Error(t, raw(t, conn, "GET "+path+" HTTP/1.0\r\n\r\n"), "%s: the body must not look whole", path)
		}
	})
	t.Run("HTTP/1.0-TLS", func(t *testing.T) {
		_, s := newScheduler(t, 1)
		srv := httptest.NewTLSServer(handler(s))
		defer srv.Close()
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		require.NoError(t, err)
		require.Error(t, raw(t, conn, "GET /close HTTP/1.0\r\n\r\n"), "the body must not look whole")
	})
	t.Run("HTTP/2", func(t *testing.T) {
		e := newEnvHTTP2(t, 1, handler)
		for _, path := range []string{"/length", "/stream"} {
			resp, err := e.client.Get(e.srv.URL + path)
			require.NoError(t, err)
			require.Equal(t, 2, resp.ProtoMajor)
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			require.ErrorContains(t, err, "INTERNAL_ERROR", "%s: the stream is reset, not ended", path)
		}
	})
}

// sseHandler streams a first event, then waits for its client to go, and returns the
// error it gets; with ?write it writes until a write fails instead.
func sseHandler(ready chan<- struct{}) HandlerFunc {
	return func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			return err
		}
		ready <- struct{}{}
		if r.URL.Query().Has("write") {
			for {
				if _, err := io.WriteString(w, "data: more\n\n"); err != nil {
					return err
				}
				if err := http.NewResponseController(w).Flush(); err != nil {
					return err
				}
			}
		}
		return c.Await(forever)
	}
}

// TestClientGoneNoAbort: when the client of an event stream goes away, the handler's
// error (the context's, or a failed write's) goes through no middleware as a panic, over
// HTTP/1.1 and HTTP/2, and is logged at Debug; a handler that fails mid-stream while its
// client is there still aborts the response, which the middleware sees.
func TestClientGoneNoAbort(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		for _, query := range []string{"", "?write"} {
			t.Run(proto+query, func(t *testing.T) {
				var panics atomic.Int32
				ready := make(chan struct{}, 1)
				served := make(chan struct{}, 1)
				logs := &records{}
				mk := func(s *continuation.Scheduler) http.Handler {
					h := recordPanics(&panics, New(s, sseHandler(ready), WithLogger(slog.New(logs))))
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						defer func() { served <- struct{}{} }()
						h.ServeHTTP(w, r)
					})
				}
				var e *env
				if proto == "HTTP/2" {
					e = newEnvHTTP2(t, 1, mk)
				} else {
					e = newEnv(t, 1, nil, mk)
				}
				ctx, cancel := context.WithCancel(context.Background())
				req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/events"+query, nil)
				resp, err := e.client.Do(req)
				require.NoError(t, err)
				line, err := bufio.NewReader(resp.Body).ReadString('\n')
				require.NoError(t, err)
				require.Equal(t, "data: first\n", line)
				<-ready
				cancel()
				resp.Body.Close()
				e.client.CloseIdleConnections()
				<-served
				require.Zero(t, panics.Load(), "no abort went through the middleware")
				for _, l := range logs.take() {
					require.Equal(t, slog.LevelDebug, l.Level, "%+v", l)
					require.Equal(t, "httpadapter: client went away", l.Msg)
				}
			})
		}
	}
	t.Run("client-there", func(t *testing.T) {
		var panics atomic.Int32
		e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
			return recordPanics(&panics, New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
				io.WriteString(w, "partial")
				http.NewResponseController(w).Flush()
				return errors.New("mid-stream failure")
			}, WithLogger(discardLogger)))
		})
		resp, err := e.client.Get(e.srv.URL)
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Error(t, err)
		require.Equal(t, int32(1), panics.Load(), "the abort went through the middleware")
	})
}

// TestErrorResponseDropsRepresentation: an error response carries none of the headers
// the handler set for the response it meant to send, keeps the others, and keeps those a
// middleware set before the handler ran, unless they describe the body.
func TestErrorResponseDropsRepresentation(t *testing.T) {
	dropped := map[string]string{
		"Cache-Control":       "public, max-age=3600",
		"Cdn-Cache-Control":   "max-age=3600",
		"Surrogate-Control":   "max-age=3600",
		"Expires":             "Thu, 01 Dec 2094 16:00:00 GMT",
		"Etag":                `"v1"`,
		"Last-Modified":       "Tue, 15 Nov 1994 12:45:26 GMT",
		"Content-Encoding":    "gzip",
		"Content-Language":    "fr",
		"Content-Disposition": `attachment; filename="report.pdf"`,
		"Content-Location":    "/report.pdf",
		"Content-Range":       "bytes 0-99/1000",
		"Content-Length":      "100",
		"Content-Digest":      "sha-256=:abc=:",
		"Repr-Digest":         "sha-256=:abc=:",
		"Trailer":             "X-Checksum",
		"X-Checksum":          "early",
		"Trailer:X-Late":      "late",
	}
	kept := map[string]string{
		"Vary":                        "Origin, Accept-Encoding",
		"Set-Cookie":                  "session=abc",
		"Access-Control-Allow-Origin": "https://example.com",
		"Strict-Transport-Security":   "max-age=63072000",
		"Location":                    "/reports/1",
		"X-Request-Id":                "42",
	}
	_, s := newScheduler(t, 1)
	failing := New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		for k, v := range dropped {
			h[k] = []string{v}
		}
		for k, v := range kept {
			h[k] = []string{v}
		}
		h.Set("Content-Type", "application/pdf")
		return errors.New("rendering failed")
	}, WithLogger(discardLogger))

	rec := serveOnce(failing, "/")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "Internal Server Error\n", rec.Body.String())
	for k := range dropped {
		require.NotContains(t, rec.Header(), k)
	}
	for k, v := range kept {
		require.Equal(t, v, rec.Header().Get(k), k)
	}
	require.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))

	// A middleware's headers, set before the handler ran, stay, but for the body's own.
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Language", "en")
		w.Header().Set("Content-Length", "5")
		failing.ServeHTTP(w, r)
	})
	rec = serveOnce(outer, "/")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "the middleware's, though the handler changed it")
	require.Equal(t, "en", rec.Header().Get("Content-Language"))
	require.Empty(t, rec.Header().Get("Content-Length"), "it describes a body that is not this one")

	// So does it with WithErrorHandler, which writes its own answer.
	custom := New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Content-Type", "application/pdf")
		return errors.New("rendering failed")
	}, WithLogger(discardLogger), WithErrorHandler(func(w http.ResponseWriter, r *http.Request, code int, err error) {
		assert.Empty(t, w.Header().Get("Etag"))
		assert.Empty(t, w.Header().Get("Content-Type"))
		w.WriteHeader(code)
	}))
	require.Equal(t, http.StatusInternalServerError, serveOnce(custom, "/").Code)
}

// gzipWriter compresses what is written to it, as a middleware around the adapter does.
type gzipWriter struct {
	http.ResponseWriter
	zw *gzip.Writer
}

func (w *gzipWriter) Write(b []byte) (int, error) { return w.zw.Write(b) }

// TestErrorResponseAndCompression: the error response is readable whether a compressing
// middleware is around the adapter (it set Content-Encoding and compresses everything,
// the error response too) or inside the handler, which set Content-Encoding for the body
// it meant to send.
func TestErrorResponseAndCompression(t *testing.T) {
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		fail := New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if r.URL.Path == "/precompressed" {
				w.Header().Set("Content-Encoding", "gzip") // for the body it would have sent
			}
			return errors.New("failed")
		}, WithLogger(discardLogger))
		mux := http.NewServeMux()
		mux.Handle("/precompressed", fail)
		mux.HandleFunc("/outer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			fail.ServeHTTP(&gzipWriter{ResponseWriter: w, zw: zw}, r)
		})
		return mux
	})
	for _, path := range []string{"/precompressed", "/outer"} {
		resp, body := e.get(t, path) // the client asks for gzip and decompresses
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, path)
		require.Equal(t, "Internal Server Error\n", body, path)
		require.Equal(t, path == "/outer", resp.Uncompressed, path)
	}
}

// TestRetryAfter: a 503's Retry-After is the setting rounded up to whole seconds, never 0
// for a positive one; zero sends none.
func TestRetryAfter(t *testing.T) {
	_, s := newScheduler(t, 1)
	overloaded := func(*continuation.C, http.ResponseWriter, *http.Request) error {
		return fmt.Errorf("downstream: %w", continuation.ErrOverloaded)
	}
	for _, tc := range []struct {
		opts []Option
		want []string
	}{
		{[]Option{WithRetryAfter(500 * time.Millisecond)}, []string{"1"}},
		{[]Option{WithRetryAfter(time.Millisecond)}, []string{"1"}},
		{[]Option{WithRetryAfter(time.Second)}, []string{"1"}},
		{[]Option{WithRetryAfter(1500 * time.Millisecond)}, []string{"2"}},
		{[]Option{WithRetryAfter(2 * time.Minute)}, []string{"120"}},
		{[]Option{WithRetryAfter(0)}, nil},
	} {
		rec := serveOnce(New(s, overloaded, tc.opts...), "/")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, tc.want, rec.Header()["Retry-After"])
	}
	require.PanicsWithValue(t, "httpadapter: WithRetryAfter called with a negative duration", func() { WithRetryAfter(-1) })

	rec := serveOnce(New(s, overloaded), "/")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assertRetryAfter(t, rec.Header().Get("Retry-After"))
}

// TestRetryAfterFromDrainRate: without WithRetryAfter, a refusal's Retry-After is the time
// the scheduler takes to drain what is alive at the rate it ends continuations, jittered
// up by up to half, never under 1 s nor over 60 s.
func TestRetryAfterFromDrainRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := continuation.NewScheduler(p)
		h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if r.URL.Path == "/refuse" {
				return continuation.ErrOverloaded
			}
			return nil
		}, WithOverloadStatus(http.StatusTooManyRequests))
		time.Sleep(time.Second)
		s.DrainRate() // the window starts
		for range 10 {
			serveOnce(h, "/") // 10 ends in 2 s: 5 a second
		}
		time.Sleep(2 * time.Second)
		require.InDelta(t, 5, s.DrainRate(), 1e-9)

		never, _ := future.New[int]()
		for range 40 { // 40 alive: 8 s to drain
			go continuation.Run(s, context.Background(), func(c *continuation.C) (int, error) {
				return continuation.Await(c, never)
			})
		}
		synctest.Wait()
		seen := map[string]bool{}
		for range 200 {
			rec := serveOnce(h, "/refuse")
			require.Equal(t, http.StatusTooManyRequests, rec.Code, "WithOverloadStatus")
			v := rec.Header().Get("Retry-After")
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			require.True(t, n >= 8 && n <= 12, "Retry-After %d: from 8 s to 8 × 1.5", n)
			seen[v] = true
		}
		require.Greater(t, len(seen), 1, "jittered")
		gone, cancel := context.WithCancel(context.Background())
		cancel()
		require.Error(t, s.Shutdown(gone), "gives up on the 40")
		synctest.Wait()
		require.NoError(t, p.Shutdown(context.Background()))
	})
	require.PanicsWithValue(t, "httpadapter: WithOverloadStatus called with 500; want 503 or 429", func() { WithOverloadStatus(500) })
}

// TestErrorsLogged: errors answered 5xx are logged with the method, path, status and
// error, at WithErrorLogLevel's level; panics at Error with their stack; refusals at
// Debug; 4xx not at all.
func TestErrorsLogged(t *testing.T) {
	_, s := newScheduler(t, 1)
	routes := map[string]HandlerFunc{
		"/internal": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return errors.New("db: constraint violated")
		},
		"/bad-gateway": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return &StatusError{Code: http.StatusBadGateway, Err: errors.New("upstream reset")}
		},
		"/not-found": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return &StatusError{Code: http.StatusNotFound}
		},
		"/refused": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("nested: %w", continuation.ErrOverloaded)
		},
		"/unavailable": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			return &StatusError{Code: http.StatusServiceUnavailable, Err: errors.New("maintenance")}
		},
		"/panic": func(*continuation.C, http.ResponseWriter, *http.Request) error {
			panic("handler bug")
		},
	}
	route := func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		return routes[r.URL.Path](c, w, r)
	}
	for _, level := range []slog.Level{slog.LevelError, slog.LevelWarn} {
		logs := &records{}
		opts := []Option{WithLogger(slog.New(logs))}
		if level != slog.LevelError {
			opts = append(opts, WithErrorLogLevel(level))
		}
		h := New(s, route, opts...)
		for path := range routes {
			serveOnce(h, path)
		}
		got := map[string]logged{}
		for _, l := range logs.take() {
			got[l.Attrs["path"]] = l
			assert.Equal(t, "GET", l.Attrs["method"])
		}
		require.Equal(t, logged{level, "httpadapter: request failed", map[string]string{
			"method": "GET", "path": "/internal", "status": "500", "error": "db: constraint violated",
		}}, got["/internal"])
		require.Equal(t, logged{level, "httpadapter: request failed", map[string]string{
			"method": "GET", "path": "/bad-gateway", "status": "502", "error": "http status 502: upstream reset",
		}}, got["/bad-gateway"])
		require.Equal(t, level, got["/unavailable"].Level, "a handler's own 503 is no refusal")
		require.Equal(t, slog.LevelDebug, got["/refused"].Level)
		require.Equal(t, "httpadapter: request refused", got["/refused"].Msg)
		require.Equal(t, slog.LevelError, got["/panic"].Level, "a panic is a bug, whatever the level")
		require.Equal(t, "handler bug", got["/panic"].Attrs["panic"])
		require.Contains(t, got["/panic"].Attrs["stack"], "errors_test.go")
		require.Equal(t, "500", got["/panic"].Attrs["status"])
		require.NotContains(t, got, "/not-found")
		require.Len(t, got, 5)
	}

	// A response aborted after it began is logged too.
	logs := &records{}
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			return errors.New("mid-stream failure")
		}, WithLogger(slog.New(logs)))
	})
	resp, err := e.client.Get(e.srv.URL + "/stream")
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, []logged{{slog.LevelError, "httpadapter: response aborted", map[string]string{
		"method": "GET", "path": "/stream", "error": "mid-stream failure",
	}}}, logs.take())
}

// TestLoggerIsLate: with no WithLogger, failures go to the scheduler's logger as it is
// when they are logged: slog.SetDefault after New takes effect, and so does a logger
// given to the scheduler, or to its pool.
func TestLoggerIsLate(t *testing.T) {
	fail := func(*continuation.C, http.ResponseWriter, *http.Request) error { return errors.New("boom") }
	_, s := newScheduler(t, 1)
	h := New(s, fail)
	logs := &records{}
	old := slog.Default()
	slog.SetDefault(slog.New(logs))
	t.Cleanup(func() { slog.SetDefault(old) })
	serveOnce(h, "/late")
	got := logs.take()
	require.Len(t, got, 1)
	require.Equal(t, "/late", got[0].Attrs["path"])

	mine := &records{}
	_, s2 := newScheduler(t, 1, continuation.WithLogger(slog.New(mine)))
	serveOnce(New(s2, fail), "/scheduler")
	require.Empty(t, logs.take())
	got = mine.take()
	require.Len(t, got, 1)
	require.Equal(t, "/scheduler", got[0].Attrs["path"])

	// One setting, on the pool, sets the whole stack.
	p3 := pool.New(1, pool.WithLogger(slog.New(mine)))
	s3 := continuation.NewScheduler(p3)
	defer func() {
		require.NoError(t, s3.Shutdown(context.Background()))
		require.NoError(t, p3.Shutdown(context.Background()))
	}()
	serveOnce(New(s3, fail), "/pool")
	require.Empty(t, logs.take())
	got = mine.take()
	require.Len(t, got, 1)
	require.Equal(t, "/pool", got[0].Attrs["path"])
}

// TestTimeoutHeader: WithTimeoutHeader takes the request's deadline from the header the
// user names, in grpc-timeout's format, as a Go duration or in seconds, bounded by
// WithTimeout; a missing or malformed value sets none.
func TestTimeoutHeader(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration // 0: no deadline
	}{
		{"50m", 50 * time.Millisecond}, {"2S", 2 * time.Second}, {"1H", time.Hour}, {"300u", 300 * time.Microsecond},
		{"1.5s", 1500 * time.Millisecond}, {"2.5", 2500 * time.Millisecond}, {"20", 20 * time.Second},
		{"", 0}, {"soon", 0}, {"-1s", 0}, {"0", 0}, {"0S", 0},
	} {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := continuation.NewScheduler(p)
			var got time.Duration
			h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
				if d, ok := r.Context().Deadline(); ok {
					got = time.Until(d)
				}
				return nil
			}, WithTimeoutHeader("x-request-timeout"), WithTimeout(time.Minute))
			req := httptest.NewRequest("GET", "/", nil)
			if tc.value != "" {
				req.Header.Set("X-Request-Timeout", tc.value)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			want := tc.want
			if want == 0 || want > time.Minute {
				want = time.Minute // WithTimeout's bound
			}
			require.Equal(t, want, got, "%q", tc.value)
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		})
	}
	require.PanicsWithValue(t, "httpadapter: WithTimeoutHeader called with an empty header name", func() { WithTimeoutHeader("") })
}
