package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
	"github.com/gosuspend/suspend/suspendprom"
)

var variantNames = []string{"net/http", "throttle", "adaptive", "blocking-pool", "suspend"}

// extraVariants may be asked for with -variants, and are not run by default:
// suspend+scrape is suspend whose metrics (suspendprom's collector, with its routes) are
// scraped every second, as Prometheus would, to show what that costs.
var extraVariants = []string{"suspend+scrape"}

// upstream is the slow service every variant calls: it answers after a delay, which the
// slowdown scenario changes while requests are under way.
type upstream struct {
	url   string
	srv   *http.Server
	delay atomic.Int64 // a time.Duration, read as each request arrives
}

func startUpstream(delay time.Duration) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{url: "http://" + ln.Addr().String() + "/"}
	u.setDelay(delay)
	body := []byte("upstream says hello\n")
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(time.Duration(u.delay.Load()))
		defer t.Stop()
		select {
		case <-t.C:
			w.Write(body)
		case <-r.Context().Done():
		}
	})}
	go u.srv.Serve(ln)
	return u, nil
}

// setDelay sets the delay of the requests that arrive from now on.
func (u *upstream) setDelay(d time.Duration) { u.delay.Store(int64(d)) }

func (u *upstream) close() { u.srv.Close() }

// server is a variant being measured.
type server struct {
	url   string // http://addr
	addr  string
	close func()
}

// work is what a request does, the same in every variant: call the upstream, or burn
// CPU, or both (proxy), or neither (hello), then answer; or move a large body (see
// transfer).
type work struct {
	client    *http.Client
	upstream  string
	hello     bool
	mixed     bool   // half the requests are heavy (see heavyRequest)
	heavy     func() // burns the mixed scenario's CPU time
	transfers bool   // the slowclients scenario: /upload and /download
	cpuOnly   bool   // the overload scenario: every request burns CPU, counted in waste
	proxy     bool   // the slowdown scenario: every request burns CPU, then calls the upstream
	waste     *waste
}

var helloBody = []byte("Hello, world!\n")

// heavyRequest reports whether r asks for the CPU-bound work of the mixed scenario.
func heavyRequest(r *http.Request) bool { return r.URL.Path == "/cpu" }

// callUpstream fetches the upstream's answer.
func (w *work) callUpstream(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.upstream, nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("upstream: %s", resp.Status)
	}
	return b, err
}

// transfer serves the slowclients scenario's uploads, whose whole body it reads, and
// downloads, whose 1 MB body it writes in parts. It reports false when r is neither.
func (w *work) transfer(rw http.ResponseWriter, r *http.Request) (bool, error) {
	if !w.transfers {
		return false, nil
	}
	switch r.URL.Path {
	case "/upload":
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return true, err
		}
		_, err := rw.Write(helloBody)
		return true, err
	case "/download":
		rw.Header().Set("Content-Length", strconv.Itoa(slowBody))
		for range slowBody / len(downloadChunk) {
			if _, err := rw.Write(downloadChunk); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return false, nil
}

// answer does the request's work synchronously: what the plain handler runs.
func (w *work) answer(r *http.Request) ([]byte, error) {
	switch {
	case w.hello:
		return helloBody, nil
	case w.cpuOnly:
		w.waste.burn(r, w.heavy)
		return helloBody, nil
	case heavyRequest(r):
		w.heavy()
		return helloBody, nil
	case w.proxy:
		w.heavy() // and then the upstream call, as every other request
	}
	return w.callUpstream(r.Context())
}

func startVariant(name string, workers int, wk *work) (*server, error) {
	var h http.Handler
	stop := func() {}
	plain := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if ok, _ := wk.transfer(rw, r); ok {
			return // a failed transfer's client is gone: nothing to answer
		}
		b, err := wk.answer(r)
		if err != nil {
			http.Error(rw, "upstream failed", http.StatusBadGateway)
			return
		}
		rw.Write(b)
	})
	switch name {
	case "net/http":
		h = plain
	case "throttle":
		// Throttle(W) lets W requests in at once and answers any more 429 at once: with no
		// backlog given, nothing waits for a slot.
		h = middleware.Throttle(workers)(plain)
	case "adaptive":
		// failsafe-go's adaptive concurrency limiter with its defaults, as its own
		// middleware (failsafehttp): a limit that starts at 20 and moves between 1 and 200
		// with the trend of the handler's latency, at most once a second. It queues
		// nothing either: a request beyond the limit is answered 429 at once.
		h = failsafehttp.NewHandler(plain, adaptivelimiter.NewWithDefaults[*http.Response]())
	case "blocking-pool":
		p := pond.NewPool(workers)
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			// The worker runs the whole handler, its waits and its I/O, as a thread of
			// gunicorn's does.
			p.Submit(func() { plain.ServeHTTP(rw, r) }).Wait()
		})
		stop = p.StopAndWait
	case "suspend", "suspend+scrape":
		var popts []pool.Option
		if wk.cpuOnly || wk.proxy {
			// The overload and slowdown scenarios measure the queue-delay control (CoDel,
			// adaptive LIFO), at its usual values. It watches only the waits for a slot
			// of new work: a request resumed after its upstream call is never refused.
			popts = append(popts, pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
		}
		p := pool.New(workers, popts...)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(1<<20))
		var opts []httpadapter.Option
		if wk.mixed {
			// What the bound is for: it holds the CPU-bound requests to W at once, and the
			// requests that only wait are admitted ahead of them rather than queued behind.
			opts = append(opts, httpadapter.WithPriority(func(r *http.Request) pool.Priority {
				if heavyRequest(r) {
					return pool.Low
				}
				return pool.Normal
			}))
		}
		h = httpadapter.New(s, func(c *continuation.C, rw http.ResponseWriter, r *http.Request) error {
			if ok, err := wk.transfer(rw, r); ok {
				return err
			}
			var b []byte
			switch {
			case wk.hello:
				b = helloBody
			case wk.cpuOnly:
				wk.waste.burn(r, wk.heavy) // holds its slot: the bound is for this
				b = helloBody
			case heavyRequest(r):
				wk.heavy() // holds its slot: the bound is for this
				b = helloBody
			default:
				if wk.proxy {
					wk.heavy() // holds its slot, then gives it back for the upstream call
				}
				var err error
				// One blocking call: Blocking gives the slot back while it runs, with no
				// goroutine or future to start, as Await(c, future.Go(...)) would.
				b, err = continuation.Blocking(c, func() ([]byte, error) { return wk.callUpstream(r.Context()) })
				if err != nil {
					return err
				}
			}
			_, err := rw.Write(b)
			return err
		}, opts...)
		stopScrape := func() {}
		if name == "suspend+scrape" {
			stopScrape = scrapeEverySecond(s, p)
		}
		stop = func() {
			stopScrape()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.Shutdown(ctx)
			p.Shutdown(ctx)
		}
	default:
		return nil, fmt.Errorf("unknown variant %q", name)
	}
	var lc net.ListenConfig
	if wk.transfers {
		lc.Control = smallBuffers // the slow downloads must fill the server's buffers
	}
	return serveOn(lc, h, stop)
}

// serve serves h on a loopback port until the server's close, which then calls stop.
func serve(h http.Handler, stop func()) (*server, error) { return serveOn(net.ListenConfig{}, h, stop) }

func serveOn(lc net.ListenConfig, h http.Handler, stop func()) (*server, error) {
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// Every connection's goroutine, and so every handler, is waited for at close: a handler
	// still under way would return its upstream connection to the client after the
	// client's idle connections were closed, and thousands of such leftovers exhaust the
	// process's file descriptors. Connections are counted rather than handlers, since
	// Serve counts a connection in before it returns, while a handler may start after.
	var conns sync.WaitGroup
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Done()
			}
		}}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return &server{
		url:  "http://" + ln.Addr().String(),
		addr: ln.Addr().String(),
		close: func() {
			srv.Close() // ends the requests' contexts: waits under way end at once
			<-served
			conns.Wait()
			stop()
		},
	}, nil
}

var sink atomic.Uint64 // keeps the burned hashes from being optimised away

// calibrate returns a function that burns about d of CPU time, measured once here.
func calibrate(d time.Duration) func() {
	if d <= 0 {
		return func() {}
	}
	burn := func(n int) {
		var sum [32]byte
		for range n {
			sum = sha256.Sum256(sum[:])
		}
		sink.Add(uint64(sum[0]))
	}
	n := 1000
	for {
		start := time.Now()
		burn(n)
		if el := time.Since(start); el > 20*time.Millisecond {
			n = int(float64(n) * float64(d) / float64(el))
			break
		}
		n *= 2
	}
	return func() { burn(max(n, 1)) }
}

// scrapes counts the scrapes of suspend+scrape answered 200, for the tests.
var scrapes atomic.Int64

// scrapeEverySecond serves the metrics of s and p, by suspendprom's collector with its
// routes, to a scrape every second until the returned func is called: what a Prometheus
// server does, less the network.
func scrapeEverySecond(s *continuation.Scheduler, p *pool.Pool) (stop func()) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(suspendprom.NewCollector(s, p, suspendprom.WithRoutes()))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code == http.StatusOK {
					scrapes.Add(1)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
