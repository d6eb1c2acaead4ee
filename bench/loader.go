package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// measure starts variant name, drives it with n connections, and returns its row. Each
// measurement starts from the same state: a new client for the upstream (shared by the
// variant's requests), a collected heap, and no connection left from the one before.
func measure(ctx context.Context, cfg config, name string, n int, upstreamURL string, heavy func()) (row, error) {
	runtime.GC()
	tr := newTransport(2 * n)
	defer tr.CloseIdleConnections()
	wk := &work{
		client:    &http.Client{Transport: tr},
		upstream:  upstreamURL,
		hello:     cfg.scenario == "hello" || cfg.scenario == "slowclients",
		mixed:     cfg.scenario == "mixed",
		heavy:     heavy,
		transfers: cfg.scenario == "slowclients",
	}
	srv, err := startVariant(name, cfg.workers, wk)
	if err != nil {
		return row{}, err
	}
	defer srv.close()

	r := row{Scenario: cfg.scenario, Variant: name, Workers: cfg.workers, Conns: n}
	if cfg.loader == "wrk" {
		return r, runWrk(ctx, cfg, srv.url+"/", n, &r)
	}
	begin := time.Now()
	var sc *slowClients
	if wk.transfers {
		// Under way before the fast clients start, and through the warm-up, so that they
		// hold what slots they can get by the measurement.
		sc = startSlowClients(ctx, srv.addr, cfg.slow/2, cfg.slow-cfg.slow/2,
			begin.Add(cfg.warmup), begin.Add(cfg.warmup+cfg.duration))
		defer sc.stop() // before the server closes
	}
	err = runBuiltin(ctx, cfg, srv.url, n, begin, &r)
	if sc != nil {
		st := sc.stop()
		r.SlowStats = &st
	}
	return r, err
}

// newTransport returns a keep-alive transport for up to n connections to one host, whose
// connections close with a reset rather than linger in TIME_WAIT: a run opens thousands
// of loopback connections, and thousands of sockets in TIME_WAIT slow every later dial.
func newTransport(n int) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second}
	return &http.Transport{
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			return c, err
		},
	}
}

// newHist records latencies from 1 µs to 2 minutes, in microseconds, to 3 digits.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 120_000_000, 3) }

func ms(h *hdrhistogram.Histogram, q float64) float64 {
	return float64(h.ValueAtQuantile(q)) / 1000
}

// runBuiltin is a closed loop: each of n goroutines sends a request on its keep-alive
// connection, reads the answer, and sends the next, for the warm-up from begin and then
// the measurement. Only requests that end within the measurement count; the latency of
// each is from just before it is sent to the end of its body.
func runBuiltin(ctx context.Context, cfg config, url string, n int, begin time.Time, r *row) error {
	tr := newTransport(n)
	tr.MaxConnsPerHost = n
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	from, to := begin.Add(cfg.warmup), begin.Add(cfg.warmup+cfg.duration)
	// Each goroutine keeps its latencies in a slice, merged into histograms at the end:
	// a histogram of this range takes about 300 KB, too much to keep one per connection.
	type result struct {
		light, heavy []int64 // microseconds
		errors       int64
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var res result
			defer func() { results[i] = res }()
			for seq := i; ; seq++ {
				path := "/"
				isHeavy := cfg.scenario == "mixed" && seq%2 == 1
				if isHeavy {
					path = "/cpu"
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
				start := time.Now()
				if !start.Before(to) {
					return
				}
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				end := time.Now()
				if ctx.Err() != nil {
					return // the measurement is over; this request is not counted
				}
				if end.Before(from) || end.After(to) {
					continue
				}
				if err != nil {
					res.errors++
					time.Sleep(time.Millisecond) // a refused connection must not spin
					continue
				}
				if us := end.Sub(start).Microseconds(); isHeavy {
					res.heavy = append(res.heavy, us)
				} else {
					res.light = append(res.light, us)
				}
			}
		})
	}
	// Requests under way when the measurement ends are cut off, not waited for: a
	// blocking pool may have thousands queued.
	time.Sleep(time.Until(to))
	cancel()
	wg.Wait()

	all, light, heavyH := newHist(), newHist(), newHist()
	for _, res := range results {
		for _, us := range res.light {
			all.RecordValue(us)
			light.RecordValue(us)
		}
		for _, us := range res.heavy {
			all.RecordValue(us)
			heavyH.RecordValue(us)
		}
		r.Errors += res.errors
	}
	r.Requests = all.TotalCount()
	r.RPS = float64(r.Requests) / cfg.duration.Seconds()
	r.P50, r.P99, r.P999 = ms(all, 50), ms(all, 99), ms(all, 99.9)
	if cfg.scenario == "mixed" {
		r.LightP99, r.HeavyP99 = ms(light, 99), ms(heavyH, 99)
	}
	return nil
}

// wrkScript makes wrk print the percentiles the table needs, in microseconds.
const wrkScript = `done = function(summary, latency, requests)
  io.write(string.format("suspend-bench %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
  io.write(string.format("suspend-bench-p999 %d\n", latency:percentile(99.9)))
end
`

var (
	wrkLine = regexp.MustCompile(`suspend-bench (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)`)
	wrkP999 = regexp.MustCompile(`suspend-bench-p999 (\d+)`)
)

// runWrk drives url with the wrk binary: n connections over 2 threads, for the warm-up
// (a run whose results are dropped) and then the measurement.
func runWrk(ctx context.Context, cfg config, url string, n int, r *row) error {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("-loader wrk: the wrk binary is not installed (apt-get install wrk)")
	}
	script, err := os.CreateTemp("", "suspend-bench-*.lua")
	if err != nil {
		return err
	}
	defer os.Remove(script.Name())
	if _, err := script.WriteString(wrkScript); err != nil {
		return err
	}
	script.Close()
	threads := strconv.Itoa(min(2, n))
	seconds := func(d time.Duration) string { return strconv.Itoa(max(1, int(d.Round(time.Second).Seconds()))) + "s" }
	if cfg.warmup > 0 {
		if out, err := exec.CommandContext(ctx, bin, "-t", threads, "-c", strconv.Itoa(n), "-d", seconds(cfg.warmup), url).CombinedOutput(); err != nil {
			return fmt.Errorf("wrk warm-up: %v: %s", err, out)
		}
	}
	out, err := exec.CommandContext(ctx, bin, "-t", threads, "-c", strconv.Itoa(n), "-d", seconds(cfg.duration),
		"--timeout", "60s", "-s", script.Name(), url).CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %v: %s", err, out)
	}
	m, p := wrkLine.FindSubmatch(out), wrkP999.FindSubmatch(out)
	if m == nil || p == nil {
		return fmt.Errorf("wrk: no results in its output: %s", out)
	}
	num := func(b []byte) int64 { v, _ := strconv.ParseInt(string(b), 10, 64); return v }
	r.Requests = num(m[1])
	for _, e := range m[2:7] {
		r.Errors += num(e)
	}
	r.RPS = float64(r.Requests) / cfg.duration.Round(time.Second).Seconds()
	r.P50, r.P99, r.P999 = float64(num(m[7]))/1000, float64(num(m[8]))/1000, float64(num(p[1]))/1000
	return nil
}
