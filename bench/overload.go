package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The overload scenario offers open-loop load, Poisson arrivals at a fixed rate whatever
// happens to earlier requests, at multiples of the handler's measured capacity. Each
// request burns -cpu of CPU and answers; each client gives up after -timeout. It shows
// what a bound does under sustained overload: the goodput kept, the latency of what is
// admitted, how fast the excess is refused, and how much slot time goes to requests
// whose client has already left.

// maxLoaderConns bounds the connections the loader keeps open: the machine's descriptors
// (20,000 here) must hold both ends of each. An arrival beyond it waits for a connection,
// which counts against its timeout, as a backlog in the network would.
const maxLoaderConns = 4000

// OverloadStats is what a row of the overload scenario measures.
type OverloadStats struct {
	Load        float64 `json:"load"`            // offered, as a multiple of capacity
	OfferedRPS  float64 `json:"offered_rps"`     // arrivals per second
	GoodputRPS  float64 `json:"goodput_rps"`     // answers within the client's timeout, per second
	AdmittedP50 float64 `json:"admitted_p50_ms"` // latency of those answers
	AdmittedP99 float64 `json:"admitted_p99_ms"`
	RefusalP99  float64 `json:"refusal_p99_ms"` // latency of the refusals (503 or 429)
	Refused     int64   `json:"refused"`
	TimedOut    int64   `json:"timed_out"` // requests whose client gave up
	// The share of the time spent burning CPU for requests whose client had left by the
	// end of it: work nobody receives.
	Wasted float64 `json:"wasted"`
	// The cores the loader process used (of GOMAXPROCS), a check that the load, not its
	// generation, was measured.
	LoaderCPU float64 `json:"loader_cpu"`
}

// waste counts the CPU work of the overload scenario's requests, in nanoseconds: all of
// it, and that done for clients who had left by its end.
type waste struct{ busy, wasted atomic.Int64 }

// burn does one request's work for r and counts it.
func (ws *waste) burn(r *http.Request, heavy func()) {
	start := time.Now()
	heavy()
	el := int64(time.Since(start))
	ws.busy.Add(el)
	if r.Context().Err() != nil {
		ws.wasted.Add(el)
	}
}

// measureCapacity returns the requests per second that net/http serves with the
// overload scenario's handler under a closed loop of 4×W connections: the scenario's 1×.
func measureCapacity(ctx context.Context, cfg config, heavy func()) (float64, error) {
	c := cfg
	c.scenario, c.duration, c.warmup = "overload", time.Second, 300*time.Millisecond
	wk := &work{cpuOnly: true, heavy: heavy, waste: &waste{}}
	srv, err := startVariant("net/http", c.workers, wk)
	if err != nil {
		return 0, err
	}
	defer srv.close()
	var r row
	if err := runBuiltin(ctx, c, srv.url, 4*c.workers, time.Now(), &r); err != nil {
		return 0, err
	}
	if r.RPS == 0 {
		return 0, fmt.Errorf("capacity: net/http served nothing")
	}
	return r.RPS, nil
}

// measureOverload offers rate requests per second to variant name for the warm-up and
// the measurement, and returns its row.
func measureOverload(ctx context.Context, cfg config, name string, load, rate float64, heavy func()) (row, error) {
	runtime.GC()
	wk := &work{cpuOnly: true, heavy: heavy, waste: &waste{}}
	srv, err := startVariant(name, cfg.workers, wk)
	if err != nil {
		return row{}, err
	}
	defer srv.close()
	var busy0, wasted0 int64
	var snap sync.WaitGroup
	res, err := runOpenLoop(ctx, openLoopSpec{URL: srv.url + "/", Rate: rate, Warmup: cfg.warmup,
		Duration: cfg.duration, Timeout: cfg.timeout, MaxConns: maxLoaderConns, Seed: uint64(load * 1000)},
		func(begin time.Time) {
			// When the measurement begins, what was burned in the warm-up is not its.
			snap.Go(func() {
				time.Sleep(time.Until(begin.Add(cfg.warmup)))
				busy0, wasted0 = wk.waste.busy.Load(), wk.waste.wasted.Load()
			})
		})
	snap.Wait()
	if err != nil {
		return row{}, err
	}
	busy, wasted := wk.waste.busy.Load()-busy0, wk.waste.wasted.Load()-wasted0

	st := &OverloadStats{
		Load:        load,
		OfferedRPS:  float64(res.Offered) / cfg.duration.Seconds(),
		GoodputRPS:  float64(res.Good) / cfg.duration.Seconds(),
		AdmittedP50: res.GoodP50,
		AdmittedP99: res.GoodP99,
		RefusalP99:  res.RefusalP99,
		Refused:     res.Refused,
		TimedOut:    res.TimedOut,
		LoaderCPU:   res.LoaderCPU,
	}
	if busy > 0 {
		st.Wasted = float64(wasted) / float64(busy)
	}
	r := row{Scenario: cfg.scenario, Variant: name, Workers: cfg.workers,
		Requests: res.Good, RPS: st.GoodputRPS, P50: st.AdmittedP50, P99: st.AdmittedP99,
		P999: res.GoodP999, Errors: res.Other, OverloadStats: st}
	return r, nil
}

// runOverload measures every variant at every load and returns the rows, in the order
// of the loads.
func runOverload(ctx context.Context, cfg config, heavy func(), stderr io.Writer) ([]row, error) {
	capacity, err := measureCapacity(ctx, cfg, heavy)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "capacity (net/http, closed loop, %d connections): %.0f req/s\n", 4*cfg.workers, capacity)
	var rows []row
	for _, load := range cfg.loads {
		runs := make(map[string][]row)
		for rep := range cfg.repeat {
			for _, name := range cfg.variants {
				fmt.Fprintf(stderr, "  %-13s %5.1f× ", name, load)
				if cfg.repeat > 1 {
					fmt.Fprintf(stderr, "(%d/%d) ", rep+1, cfg.repeat)
				}
				r, err := measureOverload(ctx, cfg, name, load, load*capacity, heavy)
				if err != nil {
					fmt.Fprintln(stderr, "failed")
					return nil, fmt.Errorf("%s at %.1f×: %w", name, load, err)
				}
				st := r.OverloadStats
				fmt.Fprintf(stderr, "offered %6.0f/s, goodput %6.0f/s, p99 %7.1f ms, refused %6d (p99 %6.1f ms), timed out %6d, wasted %4.1f%%, loader %.2f cores\n",
					st.OfferedRPS, st.GoodputRPS, st.AdmittedP99, st.Refused, st.RefusalP99, st.TimedOut, 100*st.Wasted, st.LoaderCPU)
				runs[name] = append(runs[name], r)
			}
		}
		rows = append(rows, summarize(runs, cfg.variants)...)
	}
	return rows, nil
}

func writeOverloadTable(w io.Writer, cfg config, rows []row) {
	fmt.Fprintf(w, "scenario `overload`, %v of CPU per request, W=%d, GOMAXPROCS=%d, Poisson arrivals, clients give up after %v, %v per row",
		cfg.cpu, cfg.workers, runtime.GOMAXPROCS(0), cfg.timeout, cfg.duration)
	if cfg.repeat > 1 {
		fmt.Fprintf(w, ", median goodput of %d", cfg.repeat)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintln(w, "| variant | load | offered/s | goodput/s | admitted p50 ms | admitted p99 ms | refused | refusal p99 ms | timed out | wasted | loader cores |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		st := r.OverloadStats
		fmt.Fprintf(w, "| %s | %.1f× | %.0f | %.0f | %.1f | %.1f | %d | %.1f | %d | %.1f%% | %.2f |\n", r.Variant, st.Load,
			st.OfferedRPS, st.GoodputRPS, st.AdmittedP50, st.AdmittedP99, st.Refused, st.RefusalP99, st.TimedOut, 100*st.Wasted, st.LoaderCPU)
	}
}
