package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// The open-loop load of the overload scenario comes from a process of its own: this
// program, run again with loaderEnv set. The kernel then shares the cores between loader
// and server as it would with a remote client, rather than the Go scheduler queueing the
// loader's goroutines among the server's, behind CPU-bound handlers, which delays the
// arrivals and their timestamps. Its client is fasthttp's, whose cost per request is a
// fraction of net/http's: at 10× capacity, 10,000s of requests a second, a net/http
// loader took the cores the server needs to refuse them.

// loaderEnv, set in the environment, makes this program an open-loop loader: it reads an
// openLoopSpec on stdin, writes "started" on stdout when its clock starts, then the
// openLoopResult in JSON, and exits.
const loaderEnv = "SUSPEND_BENCH_OPENLOOP"

func init() {
	if os.Getenv(loaderEnv) != "" {
		if err := openLoopMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "open-loop loader:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// openLoopSpec is what the loader offers: Poisson arrivals at Rate a second to URL, for
// Warmup and then Duration, each giving up after Timeout, over at most MaxConns
// connections (an arrival that finds them all busy waits for one, within its timeout).
type openLoopSpec struct {
	URL      string        `json:"url"`
	Rate     float64       `json:"rate"`
	Warmup   time.Duration `json:"warmup"`
	Duration time.Duration `json:"duration"`
	Timeout  time.Duration `json:"timeout"`
	MaxConns int           `json:"max_conns"`
	Seed     uint64        `json:"seed"`
}

// openLoopResult is what the loader measured, of the arrivals in the measurement. Each
// latency is from the arrival's time in the schedule, so that a loader running late
// counts against it, to the end of its answer; in milliseconds.
type openLoopResult struct {
	Offered  int64 `json:"offered"`
	Good     int64 `json:"good"` // 200 within the timeout
	Refused  int64 `json:"refused"`
	TimedOut int64 `json:"timed_out"`
	Other    int64 `json:"other"` // other statuses and errors

	GoodP50    float64 `json:"good_p50_ms"`
	GoodP99    float64 `json:"good_p99_ms"`
	GoodP999   float64 `json:"good_p999_ms"`
	RefusalP99 float64 `json:"refusal_p99_ms"`
	LastError  string  `json:"last_error,omitempty"`

	// The loader's CPU time over its run's, in cores: what the machine's cores gave the
	// loader rather than the server. Filled in by runOpenLoop.
	LoaderCPU float64 `json:"loader_cpu"`
}

// runOpenLoop runs the loader process with spec. It calls started once the loader's clock
// has started, and returns what the loader measured.
func runOpenLoop(ctx context.Context, spec openLoopSpec, started func(time.Time)) (openLoopResult, error) {
	var res openLoopResult
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), loaderEnv+"=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer // read after Wait, which waits for its copying
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err == nil && line == "started\n" {
		started(time.Now())
		err = json.NewDecoder(r).Decode(&res)
	} else if err == nil {
		err = fmt.Errorf("unexpected output %q", line)
	}
	io.Copy(io.Discard, r)
	if werr := cmd.Wait(); werr != nil || err != nil {
		return res, fmt.Errorf("open-loop loader: %w", errors.Join(werr, err, errors.New(stderr.String())))
	}
	ps := cmd.ProcessState
	res.LoaderCPU = (ps.UserTime() + ps.SystemTime()).Seconds() / (spec.Warmup + spec.Duration).Seconds()
	return res, nil
}

// openLoopMain is the loader process: see loaderEnv.
func openLoopMain(stdin io.Reader, stdout io.Writer) error {
	var spec openLoopSpec
	if err := json.NewDecoder(stdin).Decode(&spec); err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	if spec.Rate <= 0 || spec.Timeout <= 0 || spec.MaxConns <= 0 {
		return fmt.Errorf("spec %+v: rate, timeout and max_conns must be positive", spec)
	}
	u, err := parseHostURL(spec.URL)
	if err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: spec.Timeout}
	hc := &fasthttp.HostClient{
		Addr:                     u,
		MaxConns:                 spec.MaxConns,
		MaxConnWaitTimeout:       spec.Timeout,
		NoDefaultUserAgentHeader: true,
		Dial: func(addr string) (net.Conn, error) {
			c, err := dialer.Dial("tcp", addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // no TIME_WAIT: see newTransport
			}
			return c, err
		},
	}
	defer hc.CloseIdleConnections()

	var (
		mu             sync.Mutex
		res            openLoopResult
		good, refusals = newHist(), newHist()
		wg             sync.WaitGroup
	)
	begin := time.Now()
	fmt.Fprintln(stdout, "started")
	from, to := begin.Add(spec.Warmup), begin.Add(spec.Warmup+spec.Duration)
	rng := rand.New(rand.NewPCG(spec.Seed, uint64(begin.UnixNano())))
	for next := begin; next.Before(to); next = next.Add(time.Duration(rng.ExpFloat64() / spec.Rate * float64(time.Second))) {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		at := next
		measured := !at.Before(from)
		if measured {
			res.Offered++
		}
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(spec.URL)
			err := hc.DoDeadline(req, resp, at.Add(spec.Timeout))
			el := time.Since(at)
			if !measured {
				return
			}
			code := resp.StatusCode()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && code == http.StatusOK && el <= spec.Timeout:
				res.Good++
				good.RecordValue(el.Microseconds())
			case err == nil && (code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests):
				res.Refused++
				refusals.RecordValue(el.Microseconds())
			case errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) || el > spec.Timeout:
				res.TimedOut++
			default:
				res.Other++
				if err != nil {
					res.LastError = err.Error()
				} else {
					res.LastError = fmt.Sprintf("status %d", code)
				}
			}
		})
	}
	// The last requests may run up to their timeout past the measurement: they count.
	wg.Wait()
	res.GoodP50, res.GoodP99, res.GoodP999 = ms(good, 50), ms(good, 99), ms(good, 99.9)
	res.RefusalP99 = ms(refusals, 99)
	return json.NewEncoder(stdout).Encode(res)
}

// parseHostURL returns the host:port of an http:// URL.
func parseHostURL(u string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if req.URL.Scheme != "http" || req.URL.Host == "" {
		return "", fmt.Errorf("url %q: want http://host:port/…", u)
	}
	return req.URL.Host, nil
}
