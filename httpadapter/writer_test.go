package httpadapter

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// interfacesOf names the optional interfaces of w, sorted.
func interfacesOf(w http.ResponseWriter) []string {
	var names []string
	if _, ok := w.(http.Flusher); ok {
		names = append(names, "Flusher")
	}
	if _, ok := w.(io.ReaderFrom); ok {
		names = append(names, "ReaderFrom")
	}
	if _, ok := w.(http.Hijacker); ok {
		names = append(names, "Hijacker")
	}
	if _, ok := w.(http.Pusher); ok {
		names = append(names, "Pusher")
	}
	if _, ok := w.(io.StringWriter); ok {
		names = append(names, "StringWriter")
	}
	if _, ok := w.(interface{ CloseNotify() <-chan bool }); ok {
		names = append(names, "CloseNotifier")
	}
	slices.Sort(names)
	return names
}

// newScheduler is a scheduler on a pool of workers, both shut down when the test ends, for
// tests that call ServeHTTP themselves.
func newScheduler(t *testing.T, workers int, opts ...continuation.Option) (*pool.Pool, *continuation.Scheduler) {
	t.Helper()
	p := pool.New(workers)
	s := continuation.NewScheduler(p, opts...)
	t.Cleanup(func() {
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	return p, s
}

// TestWriterInterfaces: over HTTP/1.1, HTTP/2, behind http.TimeoutHandler and on an
// httptest.ResponseRecorder, the writer a handler gets has exactly the optional
// interfaces that a plain net/http handler's writer has there.
func TestWriterInterfaces(t *testing.T) {
	want := map[string][]string{
		"HTTP/1.1":       {"CloseNotifier", "Flusher", "Hijacker", "ReaderFrom", "StringWriter"},
		"HTTP/2":         {"CloseNotifier", "Flusher", "Pusher", "StringWriter"},
		"TimeoutHandler": {"Pusher"},
	}
	for _, kind := range []string{"HTTP/1.1", "HTTP/2", "TimeoutHandler"} {
		t.Run(kind, func(t *testing.T) {
			seen := make(chan []string, 1)
			mk := func(s *continuation.Scheduler) http.Handler {
				mux := http.NewServeMux()
				mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { seen <- interfacesOf(w) })
				mux.Handle("/adapted", New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
					seen <- interfacesOf(w)
					return nil
				}))
				if kind == "TimeoutHandler" {
					return http.TimeoutHandler(mux, time.Minute, "timeout")
				}
				return mux
			}
			var e *env
			if kind == "HTTP/2" {
				e = newEnvHTTP2(t, 1, mk)
			} else {
				e = newEnv(t, 1, nil, mk)
			}
			e.get(t, "/plain")
			plain := <-seen
			e.get(t, "/adapted")
			adapted := <-seen
			require.Equal(t, want[kind], plain, "net/http's own writer")
			require.Equal(t, plain, adapted, "the adapter's writer offers what the server's does")
		})
	}
	t.Run("ResponseRecorder", func(t *testing.T) {
		_, s := newScheduler(t, 1)
		var got []string
		New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
			got = interfacesOf(w)
			return nil
		}).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		require.Equal(t, interfacesOf(httptest.NewRecorder()), got)
	})
}

// TestWriterOffersNoMore: for every set of optional interfaces a server's writer may
// have, the writer a handler gets offers none that the set lacks, and exactly the set for
// each set the package lists (net/http's and the common wrappers').
func TestWriterOffersNoMore(t *testing.T) {
	names := []string{"Flusher", "ReaderFrom", "Hijacker", "Pusher", "StringWriter", "CloseNotifier"}
	listed := map[optional]bool{}
	for _, w := range writers {
		listed[w.offers] = true
	}
	for has := range optional(1 << allOptional) {
		var set []string
		for i, name := range names {
			if has&(1<<i) != 0 {
				set = append(set, name)
			}
		}
		slices.Sort(set)
		got := interfacesOf(writerFor[has]().self)
		for _, name := range got {
			require.Contains(t, set, name, "the writer for %v offers %s", set, name)
		}
		if listed[has] {
			require.Equal(t, set, got)
		}
	}
}

// stringRecorder is a server's writer that counts its WriteString calls, and blocks those
// of more than inlineBytes until released.
type stringRecorder struct {
	*httptest.ResponseRecorder
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (r *stringRecorder) WriteString(s string) (int, error) {
	r.calls.Add(1)
	if len(s) > inlineBytes {
		r.entered <- struct{}{}
		<-r.release
	}
	return r.ResponseRecorder.WriteString(s)
}

// TestWriteStringReachesServer: io.WriteString reaches the server's WriteString, and past
// the inline bytes it gives the slot back while it runs.
func TestWriteStringReachesServer(t *testing.T) {
	p, s := newScheduler(t, 1)
	rec := &stringRecorder{ResponseRecorder: httptest.NewRecorder(), entered: make(chan struct{}), release: make(chan struct{})}
	big := strings.Repeat("x", inlineBytes+1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if _, err := io.WriteString(w, "small "); err != nil {
				return err
			}
			_, err := io.WriteString(w, big)
			return err
		}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	select {
	case <-rec.entered:
	case <-done:
		t.Fatal("io.WriteString did not reach the server's WriteString")
	}
	st, ps := s.Stats(), p.Stats()
	assert.Equal(t, 1, st.Suspended, "the handler waits on the server's WriteString without its slot")
	assert.Zero(t, ps.Busy, "no slot is held")
	close(rec.release)
	<-done
	require.Equal(t, int32(2), rec.calls.Load(), "both writes went to the server's WriteString")
	require.Equal(t, "small "+big, rec.Body.String())
}

// TestResponseControllerThroughWrapper: what http.ResponseController does through the
// adapter's writer, it does as on the server's: deadlines, full duplex, Push, and a Flush
// that fails returns the server's error.
func TestResponseControllerThroughWrapper(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		t.Run(proto, func(t *testing.T) {
			type result struct {
				read, write, duplex, push, flush error
			}
			seen := make(chan result, 1)
			try := func(w http.ResponseWriter) {
				rc := http.NewResponseController(w)
				var res result
				res.read = rc.SetReadDeadline(time.Now().Add(time.Minute))
				res.duplex = rc.EnableFullDuplex()
				if p, ok := w.(http.Pusher); ok {
					res.push = p.Push("/pushed", nil)
				}
				io.WriteString(w, "some body")
				res.write = rc.SetWriteDeadline(time.Now().Add(-time.Second)) // past: the flush fails
				res.flush = rc.Flush()
				seen <- res
			}
			mk := func(s *continuation.Scheduler) http.Handler {
				mux := http.NewServeMux()
				mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { try(w) })
				mux.Handle("/adapted", New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
					try(w)
					return nil
				}))
				return mux
			}
			var e *env
			if proto == "HTTP/2" {
				e = newEnvHTTP2(t, 1, mk)
			} else {
				e = newEnv(t, 1, nil, mk)
				e.client.Transport.(*http.Transport).DisableKeepAlives = true // never a retry
			}
			get := func(path string) result {
				resp, err := e.client.Get(e.srv.URL + path)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				return <-seen
			}
			plain, adapted := get("/plain"), get("/adapted")
			require.Error(t, plain.flush, "the server's Flush fails past the write deadline")
			for name, pair := range map[string][2]error{
				"SetReadDeadline":  {plain.read, adapted.read},
				"SetWriteDeadline": {plain.write, adapted.write},
				"EnableFullDuplex": {plain.duplex, adapted.duplex},
				"Push":             {plain.push, adapted.push},
				"Flush":            {plain.flush, adapted.flush},
			} {
				want, got := pair[0], pair[1]
				require.Equal(t, want == nil, got == nil, "%s: got %v, want %v", name, got, want)
				for _, target := range []error{http.ErrNotSupported, os.ErrDeadlineExceeded, context.Canceled} {
					require.Equal(t, errors.Is(want, target), errors.Is(got, target), "%s: got %v, want %v", name, got, want)
				}
			}
		})
	}
}

// TestFailedHijackOverHTTP2: over HTTP/2 the writer is no Hijacker, and a Hijack through
// http.ResponseController fails without beginning the response: the handler's error is
// answered.
func TestFailedHijackOverHTTP2(t *testing.T) {
	e := newEnvHTTP2(t, 1, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if _, ok := w.(http.Hijacker); ok {
				return errors.New("the writer claims to be a Hijacker over HTTP/2")
			}
			if _, _, err := http.NewResponseController(w).Hijack(); err != nil {
				return &StatusError{Code: http.StatusHTTPVersionNotSupported, Err: err}
			}
			return nil
		})
	})
	resp, _ := e.get(t, "/")
	require.Equal(t, 2, resp.ProtoMajor)
	require.Equal(t, http.StatusHTTPVersionNotSupported, resp.StatusCode)
}

// plainWriter is a server's writer with no optional interface.
type plainWriter struct{ rec *httptest.ResponseRecorder }

func (w plainWriter) Header() http.Header         { return w.rec.Header() }
func (w plainWriter) Write(b []byte) (int, error) { return w.rec.Write(b) }
func (w plainWriter) WriteHeader(code int)        { w.rec.WriteHeader(code) }

// TestFlushNotSupportedDoesNotBegin: a Flush the server's writer does not support sends
// nothing, so the response has not begun: the handler's error is answered.
func TestFlushNotSupportedDoesNotBegin(t *testing.T) {
	_, s := newScheduler(t, 1)
	rec := httptest.NewRecorder()
	h := New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
		if err := http.NewResponseController(w).Flush(); err != nil {
			return &StatusError{Code: http.StatusNotImplemented, Err: err}
		}
		return nil
	})
	require.NotPanics(t, func() { h.ServeHTTP(plainWriter{rec}, httptest.NewRequest("GET", "/", nil)) }, "no abort")
	require.Equal(t, http.StatusNotImplemented, rec.Code)
}

// TestFailedFlushBegins: net/http writes the header before it flushes, so a Flush that
// fails has begun the response, on plain net/http as through the adapter: the client sees
// an error in both, not the handler's late answer, and nothing is aborted through the
// middleware (the write failed: nobody can be told).
func TestFailedFlushBegins(t *testing.T) {
	var panics atomic.Int32
	flushed := make(chan error, 2)
	try := func(w http.ResponseWriter) error {
		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Now().Add(-time.Second))
		err := rc.Flush()
		flushed <- err
		return err
	}
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { try(w) })
		mux.Handle("/adapted", recordPanics(&panics, New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
			if err := try(w); err != nil {
				return &StatusError{Code: http.StatusNotImplemented, Err: err}
			}
			return nil
		})))
		return mux
	})
	e.client.Transport.(*http.Transport).DisableKeepAlives = true // never a retry
	for _, path := range []string{"/plain", "/adapted"} {
		resp, err := e.client.Get(e.srv.URL + path)
		if err == nil {
			resp.Body.Close()
		}
		require.Error(t, err, "%s: the client sees no answer", path)
		require.ErrorIs(t, <-flushed, os.ErrDeadlineExceeded, path)
	}
	require.Zero(t, panics.Load())
}

// recordPanics is a middleware that counts the panics going through it, and lets them go
// on.
func recordPanics(n *atomic.Int32, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				n.Add(1)
				panic(v)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// TestHijackBeginsResponse: a successful Hijack over HTTP/1.1 hands the connection to the
// handler, whose error is then neither answered nor aborted on it.
func TestHijackBeginsResponse(t *testing.T) {
	var panics atomic.Int32
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return recordPanics(&panics, New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return err
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			brw.Flush()
			return errors.New("after the hijack")
		}, WithLogger(discardLogger)))
	})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Empty(t, rest, "nothing written on the handler's connection after it")
	require.Zero(t, panics.Load())
}
