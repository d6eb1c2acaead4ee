package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The slowdown scenario offers the same open-loop load throughout, Poisson arrivals at
// half the handler's CPU capacity, while the upstream slows down tenfold and recovers.
// Each request burns -cpu of CPU and then calls the upstream, so the CPU asked for is the
// same in every phase: only the requests' waits grow, and with them the number of requests
// under way. It shows which bounds take that for overload: a bound on requests under way
// (throttle, adaptive) refuses what the machine could serve; a bound on the work that
// executes (suspend) is not moved by the waits.

// slowdownPhase is one phase of the scenario: the upstream's delay during it.
type slowdownPhase struct {
	name  string
	delay time.Duration
}

// slowdownPhases returns the scenario's phases for a fast upstream delay d: d, 10×d, d.
func slowdownPhases(d time.Duration) []slowdownPhase {
	return []slowdownPhase{{d.String(), d}, {(10 * d).String(), 10 * d}, {d.String() + " again", d}}
}

// slowdownRow is what the scenario measures of a variant in a phase. Each request counts
// in the phase in which it arrived.
type slowdownRow struct {
	Scenario        string  `json:"scenario"`
	Variant         string  `json:"variant"`
	Workers         int     `json:"workers"`
	Phase           string  `json:"phase"`
	UpstreamDelayMs float64 `json:"upstream_delay_ms"`
	OfferedRPS      float64 `json:"offered_rps"` // arrivals per second
	RPS             float64 `json:"rps"`         // answers 200 within the client's timeout, per second
	P50             float64 `json:"p50_ms"`      // latency of those answers, from the arrival
	P99             float64 `json:"p99_ms"`
	Refused         int64   `json:"refused"`   // answered 503 or 429
	TimedOut        int64   `json:"timed_out"` // the client gave up
	Errors          int64   `json:"errors"`    // any other answer or failure
}

// runSlowdown measures the capacity, then every variant through the phases, and writes
// the table to stdout, progress to stderr, and the JSON file if asked.
func runSlowdown(ctx context.Context, cfg config, up *upstream, heavy func(), stdout, stderr io.Writer) error {
	defer up.setDelay(cfg.delay)
	capacity, err := measureCapacity(ctx, cfg, heavy)
	if err != nil {
		return err
	}
	rate := capacity / 2
	fmt.Fprintf(stderr, "capacity (net/http, CPU only, closed loop, %d connections): %.0f req/s; offering %.0f req/s\n",
		4*cfg.workers, capacity, rate)
	phases := slowdownPhases(cfg.delay)
	// runs[variant][phase] holds the variant's rows of that phase, one per repeat.
	runs := make(map[string][][]slowdownRow)
	for rep := range cfg.repeat {
		for _, name := range cfg.variants {
			rows, err := measureSlowdown(ctx, cfg, name, up, phases, rate, heavy)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if runs[name] == nil {
				runs[name] = make([][]slowdownRow, len(phases))
			}
			for i, r := range rows {
				fmt.Fprintf(stderr, "  %-13s %-12s ", name, r.Phase)
				if cfg.repeat > 1 {
					fmt.Fprintf(stderr, "(%d/%d) ", rep+1, cfg.repeat)
				}
				fmt.Fprintf(stderr, "offered %6.0f/s, served %6.0f/s, p99 %7.1f ms, refused %6d, timed out %6d, errors %d\n",
					r.OfferedRPS, r.RPS, r.P99, r.Refused, r.TimedOut, r.Errors)
				runs[name][i] = append(runs[name][i], r)
			}
		}
	}
	// A phase's rows side by side: the variants are compared within a phase.
	var rows []slowdownRow
	for i := range phases {
		for _, name := range cfg.variants {
			rs := runs[name][i]
			// The repeat of median requests/s, as summarize keeps (the lower middle one).
			slices.SortFunc(rs, func(a, b slowdownRow) int { return cmp.Compare(a.RPS, b.RPS) })
			rows = append(rows, rs[(len(rs)-1)/2])
		}
	}
	writeSlowdownTable(stdout, cfg, capacity, rate, rows)
	if cfg.jsonOut != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

// measureSlowdown offers rate requests per second to variant name for the warm-up and the
// phases, setting the upstream's delay at the start of each, and returns a row per phase.
func measureSlowdown(ctx context.Context, cfg config, name string, up *upstream, phases []slowdownPhase, rate float64, heavy func()) ([]slowdownRow, error) {
	runtime.GC()
	up.setDelay(phases[0].delay)
	upTr := newTransport(maxLoaderConns) // the upstream calls of up to every request at once
	defer upTr.CloseIdleConnections()
	wk := &work{client: &http.Client{Transport: upTr}, upstream: up.url, proxy: true, heavy: heavy}
	srv, err := startVariant(name, cfg.workers, wk)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	tr := newTransport(maxLoaderConns)
	tr.MaxConnsPerHost = maxLoaderConns
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	begin := time.Now()
	from := begin.Add(cfg.warmup)
	to := from.Add(time.Duration(len(phases)) * cfg.duration)
	for i, ph := range phases[1:] {
		t := time.AfterFunc(time.Until(from.Add(time.Duration(i+1)*cfg.duration)), func() { up.setDelay(ph.delay) })
		defer t.Stop()
	}
	type counts struct {
		good                       *hdrhistogram.Histogram
		offered, refused, timedOut int64
		errors                     int64
	}
	stats := make([]counts, len(phases))
	for i := range stats {
		stats[i].good = newHist()
	}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(uint64(begin.UnixNano()), 2))
	for next := begin; next.Before(to); {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		at := next
		next = next.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		phase := -1 // the warm-up's
		if !at.Before(from) {
			phase = int(at.Sub(from) / cfg.duration)
			stats[phase].offered++ // only this goroutine counts the arrivals
		}
		wg.Go(func() {
			rctx, rcancel := context.WithTimeout(ctx, cfg.timeout)
			defer rcancel()
			req, _ := http.NewRequestWithContext(rctx, http.MethodGet, srv.url+"/", nil)
			resp, err := client.Do(req)
			code := 0
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			el := time.Since(at) // from the arrival: a wait for a connection counts
			if phase < 0 || ctx.Err() != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			st := &stats[phase]
			switch {
			case err == nil && code == http.StatusOK && el <= cfg.timeout:
				st.good.RecordValue(el.Microseconds())
			case err == nil && (code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests):
				st.refused++
			case rctx.Err() != nil || el > cfg.timeout:
				st.timedOut++
			default:
				st.errors++
			}
		})
	}
	// The last requests may run up to their timeout past the last phase: they count.
	wg.Wait()

	rows := make([]slowdownRow, len(phases))
	for i, ph := range phases {
		st := &stats[i]
		rows[i] = slowdownRow{Scenario: cfg.scenario, Variant: name, Workers: cfg.workers,
			Phase: ph.name, UpstreamDelayMs: float64(ph.delay) / float64(time.Millisecond),
			OfferedRPS: float64(st.offered) / cfg.duration.Seconds(),
			RPS:        float64(st.good.TotalCount()) / cfg.duration.Seconds(),
			P50:        ms(st.good, 50), P99: ms(st.good, 99),
			Refused: st.refused, TimedOut: st.timedOut, Errors: st.errors}
	}
	return rows, nil
}

func writeSlowdownTable(w io.Writer, cfg config, capacity, rate float64, rows []slowdownRow) {
	phases := slowdownPhases(cfg.delay)
	fmt.Fprintf(w, "scenario `slowdown`, %v of CPU then an upstream call per request, W=%d, Poisson arrivals at %.0f/s "+
		"(half the capacity of %.0f/s), upstream delay %v → %v → %v, clients give up after %v, %v per phase",
		cfg.cpu, cfg.workers, rate, capacity, phases[0].delay, phases[1].delay, phases[2].delay, cfg.timeout, cfg.duration)
	if cfg.repeat > 1 {
		fmt.Fprintf(w, ", median req/s of %d", cfg.repeat)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintln(w, "| variant | phase | offered/s | req/s | p50 ms | p99 ms | refused | timed out | errors |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.1f | %.1f | %d | %d | %d |\n",
			r.Variant, r.Phase, r.OfferedRPS, r.RPS, r.P50, r.P99, r.Refused, r.TimedOut, r.Errors)
	}
}
