package httpadapter

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

var chaosDuration = flag.Duration("chaos.duration", 5*time.Second, "how long TestChaos runs")

// The faults a chaos request asks for, in its query: what the upstream does, and what
// the handler does.
var (
	upstreamFaults = []string{"ok", "late", "fail", "hang", "reset"}
	handlerModes   = []string{"upstream", "upstream", "upstream", "stream", "panic", "error"}
)

// chaosUpstream answers as the request's fault says.
func chaosUpstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("fault") {
		case "late":
			select {
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		case "fail":
			http.Error(w, "upstream failed", http.StatusInternalServerError)
			return
		case "hang":
			<-r.Context().Done()
			return
		case "reset":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return
		}
		io.WriteString(w, "upstream ok")
	}))
}

// chaosHandler calls the upstream, or streams, or fails, as the request asks.
func chaosHandler(client *http.Client, upstreamURL string) HandlerFunc {
	call := func(r *http.Request) *future.Future[string] {
		return future.Go(r.Context(), func(ctx context.Context) (string, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstreamURL+"?fault="+r.URL.Query().Get("fault"), nil)
			resp, err := client.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("upstream: %s", resp.Status)
			}
			return string(b), err
		})
	}
	bad := func(r *http.Request, err error) error {
		if r.Context().Err() != nil {
			return r.Context().Err() // the deadline (504) or the client going away
		}
		return &StatusError{Code: http.StatusBadGateway, Err: err}
	}
	return func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		switch r.URL.Query().Get("mode") {
		case "panic":
			panic("chaos")
		case "error":
			return errors.New("chaos")
		case "stream":
			io.WriteString(w, "first\n")
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			v, err := continuation.Await(c, call(r))
			if err != nil {
				return bad(r, err) // after writing: the connection is aborted
			}
			_, err = io.WriteString(w, v+"\n")
			return err
		}
		v, err := continuation.Await(c, call(r))
		if err != nil {
			return bad(r, err)
		}
		_, err = io.WriteString(w, v)
		return err
	}
}

// want is what a whole response to a request must be: its status and body.
func want(mode, fault string) (int, string) {
	switch mode {
	case "panic", "error":
		return http.StatusInternalServerError, "Internal Server Error\n"
	}
	status, body := http.StatusOK, "upstream ok"
	switch fault {
	case "fail", "reset":
		status, body = http.StatusBadGateway, "Bad Gateway\n"
	case "hang":
		status, body = http.StatusGatewayTimeout, "Gateway Timeout\n"
	}
	if mode == "stream" {
		if status != http.StatusOK {
			return -1, "" // the stream began: the client must see it broken
		}
		return status, "first\nupstream ok\n"
	}
	return status, body
}

// TestChaos serves requests on a real loopback server while the upstream randomly answers
// late, fails, hangs or resets, handlers randomly panic, fail or stream, requests come at
// random priorities to a pool under the queue-delay control, and clients randomly go away
// mid-request or mid-stream. Every
// response a client reads whole has the status its faults call for; every broken one was
// a stream whose upstream failed or a request cut by its client; the counts add up; no
// goroutine is left (TestMain's goleak) and memory returns near where it began.
// -chaos.duration runs it longer.
func TestChaos(t *testing.T) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const timeout = 300 * time.Millisecond
	upstream := chaosUpstream()
	defer upstream.Close()
	upTransport := &http.Transport{MaxIdleConnsPerHost: 100}
	defer upTransport.CloseIdleConnections()

	p := pool.New(2, pool.WithLogger(slog.New(slog.DiscardHandler)),
		pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
	s := continuation.NewScheduler(p, continuation.WithMaxAlive(24))
	var arrived atomic.Int64
	h := New(s, chaosHandler(&http.Client{Transport: upTransport}, upstream.URL),
		WithTimeout(timeout), WithLogger(slog.New(slog.DiscardHandler)),
		WithPriority(func(*http.Request) pool.Priority { return pool.Priority(rand.N(3)) }))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = nil
	srv.Start()
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	client := &http.Client{Transport: tr}

	var whole, refused, late, broken, cut atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	end := time.Now().Add(*chaosDuration)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for time.Now().Before(end) {
				mode := handlerModes[rng.IntN(len(handlerModes))]
				fault := upstreamFaults[rng.IntN(len(upstreamFaults))]
				ctx, cancel := context.WithCancel(context.Background())
				leave := rng.IntN(8) == 0 // the client goes away early
				if leave {
					time.AfterFunc(time.Duration(rng.IntN(30))*time.Millisecond, cancel)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
					srv.URL+"?mode="+mode+"&fault="+fault, nil)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					if !leave {
						fail("%s/%s: %v", mode, fault, err)
					}
					cut.Add(1)
					continue
				}
				var body strings.Builder
				_, err = io.Copy(&body, bufio.NewReader(resp.Body))
				resp.Body.Close()
				cancel()
				code, text := want(mode, fault)
				if time.Since(start) >= timeout && mode != "panic" && mode != "error" &&
					(err != nil || resp.StatusCode == http.StatusGatewayTimeout) {
					// On a loaded machine even a quick upstream may miss the deadline:
					// then the deadline's answer is the right one too.
					code, text = want(mode, "hang")
				}
				switch {
				case err != nil && leave:
					cut.Add(1)
				case err == nil && resp.StatusCode == http.StatusGatewayTimeout && time.Since(start) < timeout:
					// Before its deadline: refused for a deadline the queue would pass.
					late.Add(1)
					if resp.Header.Get("Retry-After") != "" || body.String() != "Gateway Timeout\n" {
						fail("%s/%s: an early 504 with Retry-After or with body %q", mode, fault, body.String())
					}
				case resp.StatusCode == http.StatusServiceUnavailable && err == nil:
					refused.Add(1)
					if resp.Header.Get("Retry-After") == "" || body.String() != "Service Unavailable\n" {
						fail("%s/%s: a 503 without Retry-After or with body %q", mode, fault, body.String())
					}
					time.Sleep(10 * time.Millisecond) // a client backs off, if not for Retry-After's second
				case err != nil:
					broken.Add(1)
					if code != -1 {
						fail("%s/%s: broken response (%v), want %d", mode, fault, err, code)
					}
				case code == -1:
					fail("%s/%s: a stream whose upstream failed looked whole: %d %q", mode, fault, resp.StatusCode, body.String())
				case resp.StatusCode != code || body.String() != text:
					if !leave {
						fail("%s/%s: got %d %q, want %d %q", mode, fault, resp.StatusCode, body.String(), code, text)
					}
				default:
					whole.Add(1)
				}
			}
		})
	}
	wg.Wait()
	tr.CloseIdleConnections()
	srv.Close()
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
	require.Empty(t, failures)
	t.Logf("%d requests arrived: %d whole, %d refused (%d for their deadline), %d broken streams, %d cut by their client",
		arrived.Load(), whole.Load(), refused.Load()+late.Load(), late.Load(), broken.Load(), cut.Load())
	require.Positive(t, whole.Load())
	require.Positive(t, broken.Load(), "streams whose upstream failed were aborted")

	st, ps := s.Stats(), p.Stats()
	require.Zero(t, st.Alive)
	require.Equal(t, arrived.Load(), st.Ended(), "every arrival is counted once: %+v", st)
	require.LessOrEqual(t, refused.Load(), st.Overloaded+st.Shed+st.Closed,
		"every 503 read is a refusal, counted as one: %+v", st)
	require.LessOrEqual(t, late.Load(), st.Late, "every early 504 read is a refusal for a deadline: %+v", st)
	require.Positive(t, st.Panicked)
	require.Zero(t, ps.Busy)
	require.Equal(t, ps.Submitted+ps.Resumed, ps.Completed)

	upTransport.CloseIdleConnections()
	upstream.Close()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(16<<20),
		"memory returns near where it began")
}
