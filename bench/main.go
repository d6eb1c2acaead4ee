// Command bench is the side-by-side load harness of suspend: it serves the same handler
// five ways, drives each with the same closed-loop load, and prints a markdown table of
// requests/s and latency percentiles, with each variant's requests/s as a ratio of plain
// net/http's at the same number of connections.
//
//	cd bench && go run .                       # the slow-upstream scenario, about a minute
//	go run . -scenario hello -conns 50,1000    # raw overhead, no upstream
//	go run . -scenario mixed -json out.json -plot out.svg
//	go run . -scenario slowclients             # slow clients' uploads and downloads
//	go run . -scenario overload                # open-loop load at 0.5× to 10× capacity
//	go run . -scenario slowdown                # half capacity while the upstream slows 10×
//
// Variants (all call the upstream with one shared http.Client and answer its body):
//
//   - net/http: a plain handler, a goroutine per request, no bound: the reference.
//   - throttle: the same handler behind go-chi's middleware.Throttle(W), what a Go service
//     uses today to bound its concurrency. It queues nothing: a request beyond the W
//     under way is answered 429 at once, counted in the errors column.
//   - adaptive: the same handler behind failsafe-go's adaptive concurrency limiter with its
//     defaults, as its HTTP middleware (failsafehttp.NewHandler): the limit starts at 20
//     and moves between 1 and 200 as the handler's latency trends up or down. It queues
//     nothing: a request beyond the limit is answered 429 at once.
//   - blocking-pool: W workers (alitto/pond) that run the whole handler, holding their
//     slot across the upstream wait and the request's I/O, as gunicorn's threaded
//     worker does.
//   - suspend: httpadapter.New on a pool of W workers; the handler makes the upstream
//     call in continuation.Blocking, holding no slot while it waits. In the mixed
//     scenario it gives the CPU-bound requests priority pool.Low
//     (httpadapter.WithPriority), as a service that knows its expensive routes would.
//
// The slowclients scenario has no upstream: fast clients ask for the hello body while S
// slow clients (-slow, 2×W by default) upload or download 1 MB at about 10 KB/s, a
// request of about 100 s spent in the handler's I/O. The slow clients start before the
// warm-up and are stopped after each row; the table gives the fast clients' numbers and
// adds what the slow clients completed and moved during the measurement. Their sockets
// and the server's have small buffers, so that a download waits in the handler's writes
// as it would across a network rather than land whole in loopback's buffers.
//
// The overload scenario has no upstream and no fixed connections: each request burns -cpu
// of CPU, and Poisson arrivals come at -loads multiples of the capacity measured first
// (net/http's requests/s under a closed loop of 4×W connections), open-loop, whatever
// happens to the earlier requests; each client gives up after -timeout. A row gives the
// offered rate, the goodput (answers within the timeout), the latency of those and of the
// refusals, and the share of CPU time wasted on requests whose client had left by the end
// of their work. The loader keeps at most 4,000 connections open; an arrival beyond them
// waits for one, which counts against its timeout.
//
// The slowdown scenario offers open-loop Poisson load, as overload does, at half the
// capacity overload measures, to a proxy handler: each request burns -cpu of CPU, then
// calls the upstream. After the warm-up come three phases of -duration, in which the
// upstream's delay is -delay, 10×-delay, then -delay again (50 ms, 500 ms, 50 ms by
// default): the CPU asked for stays the same, only the waits grow. A row gives a variant's
// answers within -timeout per second in a phase, their latency, and the requests refused
// (503 or 429) or timed out, each counted in the phase it arrived in. Its default variants
// are net/http, throttle, adaptive and suspend.
//
// Everything runs in this process on loopback: the upstream, the server under test and the
// loader (unless -loader wrk), so they share the machine's cores alike for every variant.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config is what the flags set.
type config struct {
	scenario string
	conns    []int
	duration time.Duration
	warmup   time.Duration
	delay    time.Duration
	cpu      time.Duration
	workers  int
	procs    int // GOMAXPROCS of the run; 0: as it is
	variants []string
	jsonOut  string
	plotOut  string
	loader   string
	cpuProf  string
	repeat   int
	slow     int           // slow clients of the slowclients scenario
	loads    []float64     // the overload scenario's offered loads, as multiples of capacity
	timeout  time.Duration // when the overload scenario's clients give up
	deadline time.Duration // the gateway's deadline; 0: none
	hedge    time.Duration // when the gateway hedges its slow upstream's call
}

// row is one measurement: a variant at a number of connections.
type row struct {
	Scenario string  `json:"scenario"`
	Variant  string  `json:"variant"`
	Workers  int     `json:"workers"`
	Conns    int     `json:"conns"`
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p999_ms"`
	Errors   int64   `json:"errors"`
	Ratio    float64 `json:"ratio"`
	// Mixed scenario only: the latency of the requests that wait on the upstream (light
	// on CPU), apart from those that burn CPU.
	LightP99 float64 `json:"light_p99_ms,omitempty"`
	HeavyP99 float64 `json:"heavy_p99_ms,omitempty"`
	// Slowclients scenario only.
	*SlowStats
	// Overload scenario only.
	*OverloadStats
	// Gateway scenario only.
	*GatewayStats
}

var scenarios = []string{"slow", "hello", "mixed", "slowclients", "overload", "slowdown", "gateway"}

// defaultConns are the -conns of each scenario.
var defaultConns = map[string]string{
	"slow":        "50,200,1000,4000",
	"hello":       "50,200,1000,4000",
	"mixed":       "50,200,1000,4000",
	"slowclients": "50,200",
	"overload":    "1", // unused: the loads set the rows
	"slowdown":    "1", // unused: the phases set the rows
	"gateway":     "200",
}

// slowdownVariants are the slowdown scenario's default -variants.
const slowdownVariants = "net/http,throttle,adaptive,suspend"

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var conns, variants, loads string
	fs.StringVar(&c.scenario, "scenario", "slow", "slow (upstream wait), hello (no upstream), mixed (half CPU, half upstream),\nslowclients (hello, beside slow uploads and downloads), overload (open-loop CPU-bound load)\nslowdown (open-loop load while the upstream slows down)\nor gateway (a fan-out to three upstreams under a deadline: errgroup, Join, Join with a hedge)")
	fs.StringVar(&conns, "conns", "", "comma-separated numbers of keep-alive connections (default 50,200,1000,4000;\n50,200 for slowclients)")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "measurement time per variant and connection count (per phase for slowdown)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "load before each measurement, not recorded")
	fs.DurationVar(&c.delay, "delay", 50*time.Millisecond, "upstream answer delay (slowdown: the fast one; the slow one is 10×)")
	fs.DurationVar(&c.cpu, "cpu", time.Millisecond, "CPU time of the heavy requests of the mixed scenario, and of every request of\noverload and slowdown")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "W: the bound of throttle, blocking-pool and suspend")
	fs.StringVar(&variants, "variants", "", "comma-separated subset of variants (default all; "+slowdownVariants+" for slowdown)")
	fs.StringVar(&c.jsonOut, "json", "", "write every row to this file as a JSON array")
	fs.StringVar(&c.plotOut, "plot", "", "draw requests/s and p99 against connections to this SVG file")
	fs.StringVar(&c.loader, "loader", "builtin", "builtin (in-process, the default) or wrk (the wrk binary)")
	fs.StringVar(&c.cpuProf, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.IntVar(&c.repeat, "repeat", 1, "measure each row this many times, round the variants, and keep the median")
	fs.IntVar(&c.slow, "slow", 0, "slow clients of the slowclients scenario, half uploading, half downloading (default 2×W)")
	fs.StringVar(&loads, "loads", "0.5,1,2,5,10", "the overload scenario's offered loads, as multiples of the measured capacity")
	fs.DurationVar(&c.timeout, "timeout", time.Second, "when the overload and slowdown scenarios' clients give up")
	fs.DurationVar(&c.deadline, "deadline", 300*time.Millisecond, "the gateway scenario's deadline on each request (0: none, to see the tail that hedging cuts)")
	fs.DurationVar(&c.hedge, "hedge", 100*time.Millisecond, "when the gateway scenario's suspend+hedge variant hedges its slow upstream's call")
	fs.IntVar(&c.procs, "procs", 0, "GOMAXPROCS of the servers (default W+1 for overload and slowdown, whose CPU-bound\nhandlers would otherwise hold every processor: see the README's Overload; else Go's)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if !slices.Contains(scenarios, c.scenario) {
		return c, fmt.Errorf("-scenario %q: want one of %s", c.scenario, strings.Join(scenarios, ", "))
	}
	if conns == "" {
		conns = defaultConns[c.scenario]
	}
	if variants == "" {
		variants = strings.Join(variantNames, ",")
		switch c.scenario {
		case "slowdown":
			variants = slowdownVariants
		case "gateway":
			variants = strings.Join(gatewayVariants, ",")
		}
	}
	if c.slow == 0 {
		c.slow = 2 * c.workers
	}
	if c.procs == 0 && (c.scenario == "overload" || c.scenario == "slowdown") {
		c.procs = c.workers + 1
	}
	for _, s := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-conns: %q is not a positive number", s)
		}
		c.conns = append(c.conns, n)
	}
	for _, s := range strings.Split(loads, ",") {
		l, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || l <= 0 {
			return c, fmt.Errorf("-loads: %q is not a positive number", s)
		}
		c.loads = append(c.loads, l)
	}
	for _, v := range strings.Split(variants, ",") {
		v = strings.TrimSpace(v)
		if c.scenario == "gateway" {
			if !slices.Contains(gatewayVariants, v) {
				return c, fmt.Errorf("-variants: %q: the gateway scenario has %s", v, strings.Join(gatewayVariants, ", "))
			}
		} else if !slices.Contains(variantNames, v) && !slices.Contains(extraVariants, v) {
			return c, fmt.Errorf("-variants: %q: want some of %s", v, strings.Join(slices.Concat(variantNames, extraVariants), ", "))
		}
		c.variants = append(c.variants, v)
	}
	switch {
	case c.workers < 1:
		return c, fmt.Errorf("-workers %d: want at least 1", c.workers)
	case c.procs < 0:
		return c, fmt.Errorf("-procs %d: cannot be negative", c.procs)
	case c.slow < 0:
		return c, fmt.Errorf("-slow %d: cannot be negative", c.slow)
	case c.repeat < 1:
		return c, fmt.Errorf("-repeat %d: want at least 1", c.repeat)
	case c.duration <= 0:
		return c, fmt.Errorf("-duration %v: want more than zero", c.duration)
	case c.warmup < 0 || c.delay < 0 || c.cpu < 0:
		return c, fmt.Errorf("-warmup, -delay and -cpu cannot be negative")
	case c.loader != "builtin" && c.loader != "wrk":
		return c, fmt.Errorf("-loader %q: want builtin or wrk", c.loader)
	case c.loader == "wrk" && c.scenario == "mixed":
		return c, fmt.Errorf("-loader wrk cannot tell the mixed scenario's two kinds of request apart; use the builtin loader")
	case c.loader == "wrk" && c.scenario == "overload":
		return c, fmt.Errorf("-loader wrk: the overload scenario's open-loop load comes from the builtin loader; use it")
	case c.loader == "wrk" && c.scenario == "slowdown":
		return c, fmt.Errorf("-loader wrk: the slowdown scenario's open-loop load comes from the builtin loader; use it")
	case c.plotOut != "" && c.scenario == "slowdown":
		return c, fmt.Errorf("-plot: the slowdown scenario has no plot; its rows are in the table and -json")
	case c.loader == "wrk" && c.scenario == "gateway":
		return c, fmt.Errorf("-loader wrk: the gateway scenario counts its 504s in the latencies with the builtin loader; use it")
	case c.timeout <= 0:
		return c, fmt.Errorf("-timeout %v: want more than zero", c.timeout)
	case c.deadline < 0:
		return c, fmt.Errorf("-deadline %v: want zero (none) or more", c.deadline)
	case c.hedge < 0:
		return c, fmt.Errorf("-hedge %v: want zero or more", c.hedge)
	case c.loader == "wrk" && c.scenario == "slowclients":
		return c, fmt.Errorf("-loader wrk: the slowclients scenario's slow clients are timed with the builtin loader; use it")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.cpuProf != "" {
		f, err := os.Create(cfg.cpuProf)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), cfg, os.Stdout, os.Stderr); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures every variant at every connection count and writes the table to stdout,
// progress to stderr, and the JSON and SVG files if asked.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	// Go raises the soft limit of open files to the hard one at start: 4,000 connections
	// take four times as many descriptors (loader, server, both ends of the upstream call).
	up, err := startUpstream(cfg.delay)
	if err != nil {
		return err
	}
	defer up.close()
	if cfg.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.procs))
	}
	heavy := calibrate(cfg.cpu)

	fmt.Fprintf(stderr, "scenario %s: upstream delay %v, W=%d, GOMAXPROCS=%d, %v per measurement after %v warm-up, loader %s\n",
		cfg.scenario, cfg.delay, cfg.workers, runtime.GOMAXPROCS(0), cfg.duration, cfg.warmup, cfg.loader)
	var rows []row
	if cfg.scenario == "overload" {
		if rows, err = runOverload(ctx, cfg, heavy, stderr); err != nil {
			return err
		}
		writeOverloadTable(stdout, cfg, rows)
		return writeOutputs(cfg, rows)
	}
	if cfg.scenario == "slowdown" {
		return runSlowdown(ctx, cfg, up, heavy, stdout, stderr)
	}
	if cfg.scenario == "gateway" {
		return runGateway(ctx, cfg, stdout, stderr)
	}
	for _, n := range cfg.conns {
		// Repeats go round the variants, so that a slow moment of the machine falls on
		// all of them alike; each variant's row is its repeat of median requests/s, and
		// its ratio the median of its ratios to net/http within each repeat.
		runs := make(map[string][]row)
		for rep := range cfg.repeat {
			for _, name := range cfg.variants {
				fmt.Fprintf(stderr, "  %-13s %5d conns ", name, n)
				if cfg.repeat > 1 {
					fmt.Fprintf(stderr, "(%d/%d) ", rep+1, cfg.repeat)
				}
				fmt.Fprint(stderr, "... ")
				r, err := measure(ctx, cfg, name, n, up.url, heavy)
				if err != nil {
					fmt.Fprintln(stderr, "failed")
					return fmt.Errorf("%s at %d connections: %w", name, n, err)
				}
				fmt.Fprintf(stderr, "%8.0f req/s, p99 %8.1f ms, %d errors", r.RPS, r.P99, r.Errors)
				if s := r.SlowStats; s != nil {
					fmt.Fprintf(stderr, "; slow clients: %d done, %.0f KB/s, %d errors", s.Completions, s.KBps, s.Errors)
				}
				fmt.Fprintln(stderr)
				runs[name] = append(runs[name], r)
			}
		}
		rows = append(rows, summarize(runs, cfg.variants)...)
	}
	writeTable(stdout, cfg, rows)
	return writeOutputs(cfg, rows)
}

// writeOutputs writes the JSON and SVG files, if asked.
func writeOutputs(cfg config, rows []row) error {
	if cfg.jsonOut != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if cfg.plotOut != "" {
		if err := drawPlot(cfg, rows, cfg.plotOut); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
	}
	return nil
}

// summarize returns a row per variant from its repeated runs: the run of median
// requests/s, with the median of its paired ratios to net/http (see pairedRatio).
func summarize(runs map[string][]row, variants []string) []row {
	ratios := make(map[string]float64)
	for _, name := range variants {
		ratios[name] = pairedRatio(runs, name)
	}
	rows := make([]row, 0, len(variants))
	for _, name := range variants {
		r := medianRow(runs[name])
		r.Ratio = ratios[name]
		rows = append(rows, r)
	}
	return rows
}

// medianRow returns the run of median requests/s (the lower middle one of an even count).
func medianRow(runs []row) row {
	slices.SortFunc(runs, func(a, b row) int { return cmp.Compare(a.RPS, b.RPS) })
	return runs[(len(runs)-1)/2]
}

// pairedRatio returns the median over the repeats of name's requests/s as a ratio of
// net/http's in the same repeat, or 0 if net/http served nothing. On a shared machine whose
// speed drifts between repeats, each ratio compares runs taken moments apart, which the
// ratio of the two medians does not: those may come from different repeats.
func pairedRatio(runs map[string][]row, name string) float64 {
	base := runs["net/http"]
	var rs []float64
	for i, r := range runs[name] {
		if i < len(base) && base[i].RPS > 0 {
			rs = append(rs, r.RPS/base[i].RPS)
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	return rs[(len(rs)-1)/2]
}

func writeTable(w io.Writer, cfg config, rows []row) {
	mixed, slow := cfg.scenario == "mixed", cfg.scenario == "slowclients"
	fmt.Fprintf(w, "scenario `%s`, upstream %v, W=%d, %v per row, loader %s", cfg.scenario, cfg.delay, cfg.workers, cfg.duration, cfg.loader)
	if slow {
		fmt.Fprintf(w, ", %d slow clients (%d up, %d down, %d KB at %d KB/s)", cfg.slow, cfg.slow/2, cfg.slow-cfg.slow/2, slowBody>>10, slowRate>>10)
	}
	if cfg.repeat > 1 {
		fmt.Fprintf(w, ", median of %d (vs net/http: the median of the ratios within each repeat)", cfg.repeat)
	}
	fmt.Fprint(w, "\n\n")
	head := "| variant | conns | req/s | p50 ms | p99 ms | p99.9 ms | errors | vs net/http |"
	sep := "|---|--:|--:|--:|--:|--:|--:|--:|"
	if mixed {
		head += " light p99 ms | heavy p99 ms |"
		sep += "--:|--:|"
	}
	if slow {
		head += " slow done | slow KB/s |"
		sep += "--:|--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	based := map[int]bool{} // the connection counts at which net/http served something
	for _, r := range rows {
		if r.Variant == "net/http" && r.RPS > 0 {
			based[r.Conns] = true
		}
	}
	for _, r := range rows {
		ratio := "-" // no net/http to compare with; a variant that served nothing has 0.00
		if based[r.Conns] {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.1f | %.1f | %d | %s |", r.Variant, r.Conns, r.RPS, r.P50, r.P99, r.P999, r.Errors, ratio)
		if mixed {
			fmt.Fprintf(w, " %.1f | %.1f |", r.LightP99, r.HeavyP99)
		}
		if slow && r.SlowStats != nil {
			fmt.Fprintf(w, " %d | %.0f |", r.Completions, r.KBps)
		}
		fmt.Fprintln(w)
	}
}
