package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// The gateway scenario: each request fans out to three upstreams of different types
// (20, 50 and 30 ms; the second takes 1 s in 1% of its calls) and merges their answers
// under a deadline (-deadline, 300 ms by default), answering 504 when it passes. Variants:
//   - net/http: the handler Go users write, with errgroup;
//   - suspend: httpadapter, the three calls as futures awaited with future.Join;
//   - suspend+hedge: the same, the slow upstream's call hedged (future.HedgeWithin, 2
//     attempts) after -hedge (100 ms by default, about its p95 under this load), within a
//     budget of 5% more calls to it.
// Every answer counts in the latencies, 504s included: the tail is the point.

var gatewayVariants = []string{"net/http", "suspend", "suspend+hedge"}

// gatewayUpstreams serves /a, /b and /c after their delays, and counts the calls.
type gatewayUpstreams struct {
	url   string
	srv   *http.Server
	calls atomic.Int64
}

func startGatewayUpstreams() (*gatewayUpstreams, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &gatewayUpstreams{url: "http://" + ln.Addr().String()}
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		d := map[string]time.Duration{"/a": 20 * time.Millisecond, "/b": 50 * time.Millisecond, "/c": 30 * time.Millisecond}[r.URL.Path]
		if r.URL.Path == "/b" && rand.N(100) == 0 {
			d = time.Second
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			io.WriteString(w, r.URL.Path[1:]+"42")
		case <-r.Context().Done():
		}
	})}
	go u.srv.Serve(ln)
	return u, nil
}

// The three calls return different types, as a gateway's do.
func (u *gatewayUpstreams) get(ctx context.Context, client *http.Client, path string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.url+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (u *gatewayUpstreams) user(ctx context.Context, c *http.Client) (string, error) {
	return u.get(ctx, c, "/a")
}

func (u *gatewayUpstreams) orders(ctx context.Context, c *http.Client) ([]byte, error) {
	s, err := u.get(ctx, c, "/b")
	return []byte(s), err
}

func (u *gatewayUpstreams) stock(ctx context.Context, c *http.Client) (int, error) {
	s, err := u.get(ctx, c, "/c")
	if err != nil {
		return 0, err
	}
	return len(s), nil
}

func merge(user string, orders []byte, stock int) []byte {
	return []byte(user + " " + string(orders) + " " + strconv.Itoa(stock) + "\n")
}

// startGateway starts variant name of the gateway on W slots.
func startGateway(cfg config, name string, u *gatewayUpstreams, client *http.Client) (*server, error) {
	workers := cfg.workers
	withDeadline := func(ctx context.Context) (context.Context, context.CancelFunc) {
		if cfg.deadline <= 0 {
			return context.WithCancel(ctx)
		}
		return context.WithTimeout(ctx, cfg.deadline)
	}
	var h http.Handler
	stop := func() {}
	switch name {
	case "net/http":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := withDeadline(r.Context())
			defer cancel()
			g, gctx := errgroup.WithContext(ctx)
			var user string
			var orders []byte
			var stock int
			g.Go(func() (err error) { user, err = u.user(gctx, client); return err })
			g.Go(func() (err error) { orders, err = u.orders(gctx, client); return err })
			g.Go(func() (err error) { stock, err = u.stock(gctx, client); return err })
			if err := g.Wait(); err != nil {
				code := http.StatusBadGateway
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					code = http.StatusGatewayTimeout
				}
				http.Error(w, http.StatusText(code), code)
				return
			}
			w.Write(merge(user, orders, stock))
		})
	case "suspend", "suspend+hedge":
		p := pool.New(workers)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(1<<20))
		hedge := name == "suspend+hedge"
		budget := future.NewHedgeBudget(0.05, 100) // shared by the calls to the slow upstream
		var opts []httpadapter.Option
		if cfg.deadline > 0 {
			opts = append(opts, httpadapter.WithTimeout(cfg.deadline))
		}
		opts = append(opts, httpadapter.WithErrorLogLevel(slog.LevelDebug))
		h = httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
			ctx := c.Context()
			user := future.Go(ctx, func(ctx context.Context) (string, error) { return u.user(ctx, client) })
			call := func(ctx context.Context) ([]byte, error) { return u.orders(ctx, client) }
			var orders *future.Future[[]byte]
			if hedge {
				orders = future.HedgeWithin(ctx, budget, cfg.hedge, 2, call)
			} else {
				orders = future.Go(ctx, call)
			}
			stock := future.Go(ctx, func(ctx context.Context) (int, error) { return u.stock(ctx, client) })
			if _, err := continuation.Await(c, future.Join(user, orders, stock)); err != nil {
				return err // a deadline is answered 504
			}
			uv, _ := user.Peek()
			ov, _ := orders.Peek()
			sv, _ := stock.Peek()
			_, err := w.Write(merge(uv.Value, ov.Value, sv.Value))
			return err
		}, opts...)
		stop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.Shutdown(ctx)
			p.Shutdown(ctx)
		}
	default:
		return nil, fmt.Errorf("gateway: unknown variant %q", name)
	}
	return serve(h, stop)
}

// GatewayStats is what a row of the gateway scenario adds.
type GatewayStats struct {
	Timeouts      int64   `json:"timeouts"`       // answered 504: the deadline passed
	UpstreamCalls float64 `json:"upstream_calls"` // per request
}

// measureGateway drives variant name with n connections in a closed loop, and returns its
// row: every answer's latency counts, a 504 too.
func measureGateway(ctx context.Context, cfg config, name string, n int, u *gatewayUpstreams) (row, error) {
	tr := newTransport(3 * n)
	defer tr.CloseIdleConnections()
	srv, err := startGateway(cfg, name, u, &http.Client{Transport: tr})
	if err != nil {
		return row{}, err
	}
	defer srv.close()
	ltr := newTransport(n)
	ltr.MaxConnsPerHost = n
	defer ltr.CloseIdleConnections()
	client := &http.Client{Transport: ltr}

	begin := time.Now()
	from, to := begin.Add(cfg.warmup), begin.Add(cfg.warmup+cfg.duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu              sync.Mutex
		all             = newHist()
		ok, timeouts    int64
		others          int64
		calls0, calls1  int64
		counted, closed sync.Once
	)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				start := time.Now()
				if !start.Before(to) {
					return
				}
				if !start.Before(from) {
					counted.Do(func() { calls0 = u.calls.Load() })
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/", nil)
				resp, err := client.Do(req)
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				end := time.Now()
				if ctx.Err() != nil || start.Before(from) || end.After(to) {
					continue
				}
				mu.Lock()
				switch code {
				case http.StatusOK:
					ok++
					all.RecordValue(end.Sub(start).Microseconds())
				case http.StatusGatewayTimeout:
					timeouts++
					all.RecordValue(end.Sub(start).Microseconds())
				default:
					others++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Until(to))
	closed.Do(func() { calls1 = u.calls.Load() })
	cancel()
	wg.Wait()
	r := row{Scenario: cfg.scenario, Variant: name, Workers: cfg.workers, Conns: n,
		Requests: ok, RPS: float64(ok) / cfg.duration.Seconds(),
		P50: ms(all, 50), P99: ms(all, 99), P999: ms(all, 99.9), Errors: others,
		GatewayStats: &GatewayStats{Timeouts: timeouts}}
	if done := ok + timeouts; done > 0 {
		r.GatewayStats.UpstreamCalls = float64(calls1-calls0) / float64(done)
	}
	return r, nil
}

// runGateway measures the gateway variants at each connection count.
func runGateway(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	u, err := startGatewayUpstreams()
	if err != nil {
		return err
	}
	defer u.srv.Close()
	var rows []row
	for _, n := range cfg.conns {
		runs := make(map[string][]row)
		for rep := range cfg.repeat {
			for _, name := range cfg.variants {
				r, err := measureGateway(ctx, cfg, name, n, u)
				if err != nil {
					return fmt.Errorf("%s at %d connections: %w", name, n, err)
				}
				fmt.Fprintf(stderr, "  %-13s %5d conns (%d/%d) %7.0f req/s, p99.9 %7.1f ms, %d timeouts, %.2f upstream calls a request\n",
					name, n, rep+1, cfg.repeat, r.RPS, r.P999, r.Timeouts, r.UpstreamCalls)
				runs[name] = append(runs[name], r)
			}
		}
		rows = append(rows, summarize(runs, cfg.variants)...)
	}
	deadline := "no deadline"
	if cfg.deadline > 0 {
		deadline = cfg.deadline.String() + " deadline"
	}
	fmt.Fprintf(stdout, "scenario `gateway`: 3 upstreams (20, 50 and 30 ms; the 50 ms one takes 1 s in 1%% of calls), %s, hedge after %v, W=%d, %v per row\n\n",
		deadline, cfg.hedge, cfg.workers, cfg.duration)
	fmt.Fprintln(stdout, "| variant | conns | req/s | p50 ms | p99 ms | p99.9 ms | 504s | upstream calls/request | vs net/http |")
	fmt.Fprintln(stdout, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(stdout, "| %s | %d | %.0f | %.1f | %.1f | %.1f | %d | %.3f | %.2f |\n", r.Variant, r.Conns, r.RPS,
			r.P50, r.P99, r.P999, r.Timeouts, r.UpstreamCalls, r.Ratio)
	}
	return writeOutputs(cfg, rows)
}
