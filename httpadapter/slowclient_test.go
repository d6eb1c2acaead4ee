package httpadapter

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// bigResponse is more than any socket buffer or flow-control window takes: a client that
// does not read it keeps the handler's writes waiting.
const bigResponse = 64 << 20

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// slowRoutes serves the requests a slow client can hold up, each written as a plain handler
// that gets its errors back from the writer and the body (Wrap), and the fast /hello.
func slowRoutes() *http.ServeMux {
	chunk := make([]byte, 32<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		for range bigResponse / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/copy", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, io.LimitReader(zeros{}, bigResponse)) // through ReadFrom
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		for range bigResponse / 1024 {
			if _, err := w.Write(chunk[:1024]); err != nil {
				return
			}
			if http.NewResponseController(w).Flush() != nil {
				return
			}
		}
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	return mux
}

// slowAdapters runs the routes with Wrap, and with New around them.
var slowAdapters = map[string]func(s *continuation.Scheduler, h http.Handler) http.Handler{
	"Wrap": func(s *continuation.Scheduler, h http.Handler) http.Handler { return Wrap(s, h) },
	"New": func(s *continuation.Scheduler, h http.Handler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		})
	},
}

// TestSlowClientsHoldNoSlot: on a pool of 2 slots, 2×2 slow clients of each kind (that do
// not read a large response, written with Write, ReadFrom or Write and Flush, or that do not
// send the body they announced) hold no slot while the handlers wait on them, over
// HTTP/1.1 and HTTP/2, with New and Wrap: fast requests keep being answered.
func TestSlowClientsHoldNoSlot(t *testing.T) {
	const workers = 2
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		for name, adapt := range slowAdapters {
			for _, kind := range []string{"/download", "/copy", "/flush", "/upload"} {
				t.Run(proto+"/"+name+kind, func(t *testing.T) {
					p := pool.New(workers)
					s := continuation.NewScheduler(p)
					srv := httptest.NewUnstartedServer(adapt(s, slowRoutes()))
					if proto == "HTTP/2" {
						srv.EnableHTTP2 = true
						srv.StartTLS()
					} else {
						srv.Start()
					}
					stop := make(chan struct{})
					var slow sync.WaitGroup
					for range 2 * workers {
						slow.Go(func() { slowClient(t, srv, proto, kind, stop) })
					}
					defer func() {
						close(stop)
						slow.Wait()
						srv.Close()
						require.NoError(t, s.Shutdown(context.Background()))
						require.NoError(t, p.Shutdown(context.Background()))
					}()

					// Every slow request is under way and waits on its client, holding no slot.
					require.Eventually(t, func() bool {
						return s.Stats().Suspended == 2*workers && p.Stats().Busy == 0
					}, 30*time.Second, time.Millisecond, "the slow requests wait without a slot")

					fast := srv.Client() // connections of its own
					defer fast.CloseIdleConnections()
					fast.Timeout = time.Minute // fails the test rather than hang it
					for range 10 {
						resp, err := fast.Get(srv.URL + "/hello")
						require.NoError(t, err)
						b, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						require.NoError(t, err)
						require.Equal(t, "hello", string(b))
					}
					require.Equal(t, 2*workers, s.Stats().Alive, "the slow ones are still under way")
				})
			}
		}
	}
}

// slowClient makes one slow request of kind to srv and holds it until stop is closed.
func slowClient(t *testing.T, srv *httptest.Server, proto, kind string, stop <-chan struct{}) {
	if proto == "HTTP/1.1" {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		req := "GET " + kind + " HTTP/1.1\r\nHost: test\r\n\r\n"
		if kind == "/upload" {
			req = "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n\r\nx"
		}
		if _, err := io.WriteString(conn, req); err != nil {
			t.Error(err)
		}
		<-stop // reads nothing, sends nothing more
		return
	}
	// HTTP/2: a client of its own, so that its connection's flow-control window is not
	// the fast requests'.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	tr.ForceAttemptHTTP2 = true
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var body io.Reader
	method := http.MethodGet
	if kind == "/upload" {
		pr, pw := io.Pipe()
		defer pw.Close()
		go pw.Write([]byte("x")) // one byte of the million announced
		body, method = pr, http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+kind, body)
	if err != nil {
		t.Error(err)
		return
	}
	if kind == "/upload" {
		req.ContentLength = 1000000
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := tr.RoundTrip(req)
		if err == nil {
			if resp.ProtoMajor != 2 {
				t.Errorf("got %s, want HTTP/2", resp.Proto)
			}
			<-stop // reads nothing of the body
			resp.Body.Close()
		} else if !strings.Contains(err.Error(), "context canceled") {
			t.Error(err)
		}
	}()
	<-stop
	cancel()
	<-done
}

// TestNestedRun: on a pool of one slot, a handler that runs a continuation with c's
// context gets ErrNested at once instead of hanging, and within Blocking it runs.
func TestNestedRun(t *testing.T) {
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		inner := func(*continuation.C) (string, error) { return "inner", nil }
		mux := http.NewServeMux()
		mux.Handle("/direct", New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			_, err := continuation.Run(s, c.Context(), inner)
			return err
		}))
		mux.Handle("/blocking", New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			v, err := continuation.Blocking(c, func() (string, error) {
				return continuation.Run(s, r.Context(), inner)
			})
			if err == nil {
				_, err = io.WriteString(w, v)
			}
			return err
		}))
		return mux
	})
	resp, _ := e.get(t, "/direct")
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	resp, body := e.get(t, "/blocking")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "inner", body)
}

// TestIOFromAnotherGoroutine: a handler may hand its request body and writer to goroutines
// it awaits, which read and write while the handler's body still runs or has returned:
// their I/O holds no slot and gives none back, so none is lost.
func TestIOFromAnotherGoroutine(t *testing.T) {
	e := newEnv(t, 1, nil, func(s *continuation.Scheduler) http.Handler {
		return New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			in := future.Go(r.Context(), func(context.Context) ([]byte, error) { return io.ReadAll(r.Body) })
			for range 100 {
				runtime.Gosched() // the body runs on while the goroutine reads
			}
			b, err := continuation.Await(c, in)
			if err != nil {
				return err
			}
			out := future.Go(r.Context(), func(context.Context) (int, error) { return w.Write(bytes.Repeat(b, 8)) })
			_, err = continuation.Await(c, out)
			return err
		})
	})
	body := strings.Repeat("x", 100<<10)
	for range 20 {
		resp, err := e.client.Post(e.srv.URL, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, 8*len(body), len(got))
	}
	require.Eventually(t, func() bool { return e.p.Stats().Busy == 0 }, 10*time.Second, time.Millisecond,
		"every slot is given back")
}
