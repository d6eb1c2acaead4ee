package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGatewaySmoke runs the gateway scenario on a tiny load: every variant answers, and
// the hedged one makes more upstream calls a request than three.
func TestGatewaySmoke(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseFlags([]string{"-scenario", "gateway", "-conns", "4", "-duration", "700ms", "-warmup", "100ms",
		"-json", filepath.Join(dir, "rows.json")}, io.Discard)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), cfg, &out, io.Discard))
	for _, v := range gatewayVariants {
		require.Contains(t, out.String(), "| "+v+" | 4 |")
	}
	var rows []map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "rows.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rows))
	require.Len(t, rows, len(gatewayVariants))
	for _, r := range rows {
		require.Equal(t, "gateway", r["scenario"])
		require.Positive(t, r["requests"], "%s served", r["variant"])
		require.GreaterOrEqual(t, r["upstream_calls"], 3.0, "%s: three calls a request at least", r["variant"])
	}
	_, err = parseFlags([]string{"-scenario", "gateway", "-variants", "throttle"}, io.Discard)
	require.EqualError(t, err, `-variants: "throttle": the gateway scenario has net/http, suspend, suspend+hedge`)
}

// TestScrapeVariant: suspend+scrape serves, and its metrics are scraped while it does.
func TestScrapeVariant(t *testing.T) {
	cfg, err := parseFlags([]string{"-scenario", "hello", "-variants", "suspend,suspend+scrape", "-conns", "2",
		"-duration", "1200ms", "-warmup", "0s", "-workers", "1"}, io.Discard)
	require.NoError(t, err)
	before := scrapes.Load()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), cfg, &out, io.Discard))
	require.Contains(t, out.String(), "| suspend+scrape | 2 |")
	require.Positive(t, scrapes.Load()-before, "scraped at least once")
}

// TestHarnessSmoke runs the harness end to end on a tiny load, for every scenario: the
// table, the JSON and the plot come out whole. It checks that the harness works, not how
// fast anything is. The scenarios run in parallel, to keep the test short.
func TestHarnessSmoke(t *testing.T) {
	for _, scenario := range scenarios {
		if scenario == "slowdown" || scenario == "gateway" {
			continue // TestSlowdownSmoke, TestGatewaySmoke: variants of their own
		}
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg, err := parseFlags([]string{
				"-scenario", scenario, "-conns", "2,4", "-duration", "200ms", "-warmup", "50ms",
				"-delay", "5ms", "-cpu", "100us", "-workers", "1", "-repeat", "2",
				"-loads", "0.5,2", "-timeout", "100ms",
				"-json", filepath.Join(dir, "rows.json"), "-plot", filepath.Join(dir, "plot.svg"),
			}, io.Discard)
			require.NoError(t, err)
			var out, progress bytes.Buffer
			require.NoError(t, run(context.Background(), cfg, &out, &progress))

			table := out.String()
			if scenario == "overload" {
				checkOverload(t, table, filepath.Join(dir, "rows.json"))
				return
			}
			slowclients := scenario == "slowclients"
			if slowclients {
				require.Contains(t, table, "| slow done | slow KB/s |")
			}
			for _, v := range variantNames {
				require.Contains(t, table, "| "+v+" | 2 |")
				require.Contains(t, table, "| "+v+" | 4 |")
				require.Contains(t, progress.String(), v)
			}
			var rows []map[string]any
			b, err := os.ReadFile(filepath.Join(dir, "rows.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &rows))
			require.Len(t, rows, 2*len(variantNames))
			// How much each row served depends on the machine: a loaded one may serve
			// nothing in a row's 200 ms. That the harness measures is checked over all
			// the rows of the scenario.
			var served, light float64
			for _, r := range rows {
				for _, k := range []string{"scenario", "variant", "workers", "conns", "rps", "p50_ms", "p99_ms", "p999_ms", "errors", "ratio"} {
					require.Contains(t, r, k)
				}
				require.Equal(t, scenario, r["scenario"])
				// throttle answers 429 to requests beyond W; with slow clients about, only
				// net/http is sure to serve the fast ones.
				if r["variant"] == "net/http" || !slowclients && r["variant"] != "throttle" {
					require.Zero(t, r["errors"], "%v", r)
				}
				if r["variant"] == "net/http" || !slowclients {
					served += r["rps"].(float64)
				}
				if slowclients {
					require.Equal(t, 2.0, r["slow_clients"], "2×W by default")
					require.Contains(t, r, "slow_completions")
					require.Contains(t, r, "slow_kbps")
				} else {
					require.NotContains(t, r, "slow_clients")
				}
				if r["variant"] == "net/http" && r["rps"].(float64) > 0 {
					require.Equal(t, 1.0, r["ratio"])
				}
				if v, ok := r["light_p99_ms"].(float64); ok {
					light += v
				}
			}
			require.Positive(t, served, "the rows served something: %v", rows)
			if scenario == "mixed" {
				require.Positive(t, light, "the light requests were timed apart: %v", rows)
			}
			svg, err := os.ReadFile(filepath.Join(dir, "plot.svg"))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(svg), "<?xml"), "an SVG file")
			require.Contains(t, string(svg), "requests/s")
		})
	}
}

func TestFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "slow", cfg.scenario)
	require.Equal(t, []int{50, 200, 1000, 4000}, cfg.conns)
	require.Equal(t, variantNames, cfg.variants)
	require.Equal(t, 3*time.Second, cfg.duration)
	require.Equal(t, 50*time.Millisecond, cfg.delay)
	require.Equal(t, 2*cfg.workers, cfg.slow)

	cfg, err = parseFlags([]string{"-scenario", "slowdown"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"net/http", "throttle", "adaptive", "suspend"}, cfg.variants)
	cfg, err = parseFlags([]string{"-scenario", "slowdown", "-variants", "blocking-pool"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []string{"blocking-pool"}, cfg.variants)

	cfg, err = parseFlags([]string{"-scenario", "slowclients", "-workers", "3"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{50, 200}, cfg.conns)
	require.Equal(t, 6, cfg.slow)
	cfg, err = parseFlags([]string{"-scenario", "slowclients", "-conns", "7", "-slow", "5"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, []int{7}, cfg.conns)
	require.Equal(t, 5, cfg.slow)
	cfg, err = parseFlags([]string{"-scenario", "overload", "-workers", "4"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 5, cfg.procs, "a processor beside the W CPU-bound slots")
	cfg, err = parseFlags([]string{"-scenario", "hello"}, io.Discard)
	require.NoError(t, err)
	require.Zero(t, cfg.procs)

	for args, want := range map[string]string{
		"-scenario fast":                    `-scenario "fast": want one of slow, hello, mixed, slowclients, overload, slowdown, gateway`,
		"-loads 1,0":                        `-loads: "0" is not a positive number`,
		"-timeout 0s":                       "-timeout 0s: want more than zero",
		"-loader wrk -scenario overload":    "-loader wrk: the overload scenario's open-loop load comes from the builtin loader; use it",
		"-conns 10,x":                       `-conns: "x" is not a positive number`,
		"-variants suspend,gevent":          `-variants: "gevent": want some of net/http, throttle, adaptive, blocking-pool, suspend, suspend+scrape`,
		"-loader wrk -scenario slowdown":    "-loader wrk: the slowdown scenario's open-loop load comes from the builtin loader; use it",
		"-scenario slowdown -plot x.svg":    "-plot: the slowdown scenario has no plot; its rows are in the table and -json",
		"-workers 0":                        "-workers 0: want at least 1",
		"-loader ab":                        `-loader "ab": want builtin or wrk`,
		"-loader wrk -scenario mixed":       "-loader wrk cannot tell the mixed scenario's two kinds of request apart; use the builtin loader",
		"-loader wrk -scenario slowclients": "-loader wrk: the slowclients scenario's slow clients are timed with the builtin loader; use it",
		"-slow -1":                          "-slow -1: cannot be negative",
		"-procs -2":                         "-procs -2: cannot be negative",
		"-loader wrk -scenario gateway":     "-loader wrk: the gateway scenario counts its 504s in the latencies with the builtin loader; use it",
		"-deadline -1s":                     "-deadline -1s: want zero (none) or more",
		"-hedge -1ms":                       "-hedge -1ms: want zero or more",
	} {
		_, err := parseFlags(strings.Fields(args), io.Discard)
		require.EqualError(t, err, want, args)
	}
}

// TestWrkLoader drives the servers with the wrk binary, as -loader wrk does. CI installs
// wrk; elsewhere the test needs it installed.
func TestWrkLoader(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wrk is not installed; .ci/run installs it")
		}
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	cfg, err := parseFlags([]string{"-loader", "wrk", "-conns", "4", "-duration", "1s", "-warmup", "0s",
		"-delay", "5ms", "-workers", "1", "-variants", "net/http,suspend"}, io.Discard)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), cfg, &out, io.Discard))
	require.Contains(t, out.String(), "| net/http | 4 |")
	require.Contains(t, out.String(), "| suspend | 4 |")
	require.NotContains(t, out.String(), "| 0 | 0.0 |", "wrk measured requests")
}

func TestMedianRow(t *testing.T) {
	runs := []row{{RPS: 30, P99: 3}, {RPS: 10, P99: 1}, {RPS: 20, P99: 2}}
	require.Equal(t, row{RPS: 20, P99: 2}, medianRow(runs), "the whole row of median requests/s")
	require.Equal(t, row{RPS: 10, P99: 1}, medianRow(runs[:2]), "of two, the lower")
}

// TestSlowClients: the slow clients keep a handler busy in its reads of the upload and in
// its writes of the download, and stop closes every connection they opened, which ends
// those handlers.
func TestSlowClients(t *testing.T) {
	wk := &work{transfers: true}
	var uploading, downloading, open atomic.Int64
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n := map[string]*atomic.Int64{"/upload": &uploading, "/download": &downloading}[r.URL.Path]
		n.Add(1)
		defer n.Add(-1)
		wk.transfer(rw, r)
	})
	lc := net.ListenConfig{Control: smallBuffers}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ConnState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed:
			open.Add(-1)
		}
	}}
	go srv.Serve(ln)
	defer srv.Close()

	now := time.Now()
	sc := startSlowClients(context.Background(), ln.Addr().String(), 1, 1, now, now.Add(time.Minute))
	both := func() bool { return uploading.Load() == 1 && downloading.Load() == 1 }
	require.Eventually(t, both, 5*time.Second, time.Millisecond, "a handler for each")
	// A download that fit in the socket buffers would have left its handler by now.
	time.Sleep(300 * time.Millisecond)
	require.True(t, both(), "each handler still moving its body: %d up, %d down", uploading.Load(), downloading.Load())
	require.EqualValues(t, 2, sc.conns.Load())

	st := sc.stop()
	require.Equal(t, 2, st.Clients)
	require.Zero(t, st.Errors)
	require.Zero(t, sc.conns.Load(), "the slow clients' connections are closed")
	require.Eventually(t, func() bool { return open.Load() == 0 && uploading.Load() == 0 && downloading.Load() == 0 },
		5*time.Second, time.Millisecond, "the server's end of them closed, its handlers ended")
	require.Equal(t, st, sc.stop(), "stop again: the same")
}

func TestTableRatio(t *testing.T) {
	runs := map[string][]row{
		"net/http": {{RPS: 100}, {RPS: 50}, {RPS: 200}},
		"suspend":  {{RPS: 90}, {RPS: 50}, {RPS: 210}},
		"throttle": {{}, {}, {}},
	}
	require.Equal(t, 1.0, pairedRatio(runs, "suspend"), "the median of 0.9, 1.0 and 1.05")
	require.Zero(t, pairedRatio(runs, "throttle"))
	require.Zero(t, pairedRatio(map[string][]row{"suspend": {{RPS: 50}}}, "suspend"), "no net/http")

	rows := []row{
		{Variant: "net/http", Conns: 1, RPS: 100, Ratio: 1}, {Variant: "throttle", Conns: 1},
		{Variant: "suspend", Conns: 2, RPS: 50},
	}
	var out bytes.Buffer
	writeTable(&out, config{scenario: "hello"}, rows)
	require.Contains(t, out.String(), "| throttle | 1 | 0 | 0.0 | 0.0 | 0.0 | 0 | 0.00 |", "served nothing")
	require.Contains(t, out.String(), "| suspend | 2 | 50 | 0.0 | 0.0 | 0.0 | 0 | - |", "no net/http row to compare with")
}

// checkOverload checks the overload scenario's table and JSON rows: a row per variant and
// load, with the keys the scenario promises.
func checkOverload(t *testing.T, table, jsonPath string) {
	t.Helper()
	require.Contains(t, table, "| goodput/s |")
	for _, v := range variantNames {
		require.Contains(t, table, "| "+v+" | 0.5× |")
		require.Contains(t, table, "| "+v+" | 2.0× |")
	}
	var rows []map[string]any
	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rows))
	require.Len(t, rows, 2*len(variantNames))
	var goodput float64
	for _, r := range rows {
		for _, k := range []string{"scenario", "variant", "load", "offered_rps", "goodput_rps", "admitted_p50_ms",
			"admitted_p99_ms", "refusal_p99_ms", "refused", "timed_out", "wasted"} {
			require.Contains(t, r, k)
		}
		require.Equal(t, "overload", r["scenario"])
		require.Positive(t, r["offered_rps"], "%v", r)
		goodput += r["goodput_rps"].(float64)
	}
	require.Positive(t, goodput, "the rows served something (how much depends on the machine): %v", rows)
}

// TestSlowdownSmoke runs the slowdown scenario end to end on a tiny load: a row per
// variant and phase in the table and the JSON, phase by phase, with the keys the scenario
// promises. It checks that the harness works, not how fast anything is.
func TestSlowdownSmoke(t *testing.T) {
	t.Parallel()
	jsonPath := filepath.Join(t.TempDir(), "rows.json")
	cfg, err := parseFlags([]string{"-scenario", "slowdown", "-duration", "100ms", "-warmup", "50ms",
		"-delay", "5ms", "-cpu", "100us", "-workers", "1", "-repeat", "2", "-json", jsonPath}, io.Discard)
	require.NoError(t, err)
	var out, progress bytes.Buffer
	require.NoError(t, run(context.Background(), cfg, &out, &progress))

	table := out.String()
	require.Contains(t, table, "upstream delay 5ms → 50ms → 5ms")
	require.Contains(t, table, "| variant | phase | offered/s | req/s |")
	require.Contains(t, progress.String(), "capacity")
	phases := []string{"5ms", "50ms", "5ms again"}
	for _, v := range cfg.variants {
		for _, ph := range phases {
			require.Contains(t, table, "| "+v+" | "+ph+" |")
		}
	}
	var rows []map[string]any
	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rows))
	require.Len(t, rows, len(phases)*len(cfg.variants))
	// How much a row served depends on the machine: that the harness measures is checked
	// over all the rows.
	var offered, served float64
	for i, r := range rows {
		for _, k := range []string{"scenario", "variant", "workers", "phase", "upstream_delay_ms", "offered_rps",
			"rps", "p50_ms", "p99_ms", "refused", "timed_out", "errors"} {
			require.Contains(t, r, k)
		}
		require.Equal(t, "slowdown", r["scenario"])
		require.Equal(t, cfg.variants[i%len(cfg.variants)], r["variant"], "the variants side by side in each phase")
		ph := i / len(cfg.variants)
		require.Equal(t, phases[ph], r["phase"])
		require.Equal(t, []float64{5, 50, 5}[ph], r["upstream_delay_ms"])
		offered += r["offered_rps"].(float64)
		served += r["rps"].(float64)
	}
	require.Positive(t, offered, "%v", rows)
	require.Positive(t, served, "the rows served something: %v", rows)
}

// TestAdaptiveRefusals: the adaptive variant admits requests up to failsafe-go's initial
// limit and answers the next 429 at once, which the overload and slowdown scenarios count
// as refused. The admitted ones wait at the upstream until it is released: no request
// completes before the refusal, so the limit cannot have moved.
func TestAdaptiveRefusals(t *testing.T) {
	arrivals, release := make(chan struct{}, 1000), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrivals <- struct{}{}
		select {
		case <-release:
			w.Write([]byte("upstream says hello\n"))
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	upTr := newTransport(1000)
	defer upTr.CloseIdleConnections()
	srv, err := startVariant("adaptive", 1, &work{client: &http.Client{Transport: upTr}, upstream: up.URL})
	require.NoError(t, err)
	defer srv.close()
	tr := newTransport(1000)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	answers := make(chan int, 1000) // status codes; 0 for an error
	get := func() {
		code := 0
		if resp, err := client.Get(srv.url + "/"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		}
		answers <- code
	}
	admitted, refusal := 0, -1
	for refusal < 0 && admitted < 1000 {
		go get()
		// An admitted request reaches the upstream; a refused one is answered.
		select {
		case <-arrivals:
			admitted++
		case refusal = <-answers:
		case <-time.After(time.Minute):
			t.Fatalf("no arrival at the upstream nor answer after %d admitted", admitted)
		}
	}
	require.Equal(t, http.StatusTooManyRequests, refusal)
	require.Equal(t, 20, admitted, "failsafe-go's initial limit")
	close(release)
	for range admitted {
		require.Equal(t, http.StatusOK, <-answers)
	}
}
