package httpadapter

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/pooltest"
	"github.com/gosuspend/suspend/pool"
)

// burn spends about d of CPU.
func burn(d time.Duration) {
	var sum [32]byte
	for start := time.Now(); time.Since(start) < d; {
		for range 64 {
			sum = sha256.Sum256(sum[:])
		}
	}
	runtime.KeepAlive(sum)
}

// TestOverload offers ten times what the pool can execute, open-loop: CPU-bound requests
// arrive on a fixed schedule whatever happens to the earlier ones. It checks that the
// excess is refused with 503 and Retry-After, that every request is counted once, that
// memory stays bounded, and that the server serves normally once the load stops. It logs
// the latencies, which depend on the machine.
func TestOverload(t *testing.T) {
	const (
		work     = 4 * time.Millisecond // CPU per request
		maxAlive = 4                    // admitted at once: 1 running, 3 waiting
		rate     = 2500                 // offered per second: 10 times 1/work
		duration = time.Second
	)
	p := pool.New(1) // one slot: the other core stays free for the refusals
	s := continuation.NewScheduler(p, continuation.WithMaxAlive(maxAlive))
	srv := httptest.NewServer(New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		burn(work)
		_, err := io.WriteString(w, "done")
		return err
	}))
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	client := &http.Client{Transport: tr}
	defer func() {
		tr.CloseIdleConnections()
		srv.Close()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	type result struct {
		code       int
		retryAfter string
		latency    time.Duration
		err        error
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	// Requests go out on schedule, several per tick when the ticker falls behind, so that
	// the offered rate holds whatever the server does.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for sent := 0; ; {
		now := <-tick.C
		if now.Sub(start) > duration {
			break
		}
		for due := int(now.Sub(start).Seconds() * rate); sent < due; sent++ {
			wg.Go(func() {
				start := time.Now()
				resp, err := client.Get(srv.URL)
				r := result{err: err}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					r.code, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
				}
				r.latency = time.Since(start)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			})
		}
	}
	wg.Wait()

	var refused, served []time.Duration
	for _, r := range results {
		require.NoError(t, r.err)
		switch r.code {
		case http.StatusServiceUnavailable:
			assertRetryAfter(t, r.retryAfter)
			refused = append(refused, r.latency)
		case http.StatusOK:
			served = append(served, r.latency)
		default:
			t.Fatalf("unexpected status %d", r.code)
		}
	}
	p99 := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)*99/100]
	}
	t.Logf("offered %d, served %d (p99 %v), refused %d (p99 %v)",
		len(results), len(served), p99(served), len(refused), p99(refused))
	// The latencies depend on the machine's speed and load: they are logged above, not
	// asserted (a test must pass on a busy machine).
	require.NotEmpty(t, served, "admitted requests are served")
	require.NotEmpty(t, refused, "the excess is refused")

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(64<<20), "memory stays bounded")

	st := s.Stats()
	require.Zero(t, st.Alive)
	require.Equal(t, int64(len(refused)), st.Overloaded)
	require.Equal(t, int64(len(served)+len(refused)), st.Ended(), "each request is counted once: %+v", st)
	require.Equal(t, int64(len(served)), st.Completed)

	// Once the load stops, the server serves normally.
	for range 10 {
		resp, err := client.Get(srv.URL)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

// TestRefusalsByReason: a request refused for each reason never reaches the handler, is
// answered with the reason's status, with Retry-After for 503 and 429 and none for 504,
// and is counted under that reason alone. WithOverloadStatus(429) changes the status of
// the overload refusals (bound and queue delay), and of no other.
func TestRefusalsByReason(t *testing.T) {
	bg := context.Background()
	codel := pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval)
	// serve serves a request for path, with the timeout header if not empty.
	type serve func(path, timeout string) *httptest.ResponseRecorder
	cases := []struct {
		name  string
		popts []pool.Option
		sopts []continuation.Option
		opts  []Option
		// refuse starts what the case needs, serves a request to /refused, which must be
		// refused, and ends what it started.
		refuse   func(t *testing.T, p *pool.Pool, s *continuation.Scheduler, serve serve, open func()) *httptest.ResponseRecorder
		code     int
		overload bool // WithOverloadStatus applies
		want     continuation.Stats
	}{
		{"alive bound", nil, []continuation.Option{continuation.WithMaxAlive(1)}, nil,
			func(t *testing.T, _ *pool.Pool, _ *continuation.Scheduler, serve serve, open func()) *httptest.ResponseRecorder {
				done := make(chan struct{})
				go func() { serve("/wait", ""); close(done) }()
				synctest.Wait()
				rec := serve("/refused", "")
				open()
				<-done
				return rec
			}, http.StatusServiceUnavailable, true, continuation.Stats{Completed: 1, Overloaded: 1}},
		{"queue delay", []pool.Option{codel}, nil, nil,
			func(t *testing.T, p *pool.Pool, _ *continuation.Scheduler, serve serve, _ func()) *httptest.ResponseRecorder {
				require.NoError(t, p.Acquire(bg))
				done := make(chan struct{})
				go func() { serve("/", ""); close(done) }()
				synctest.Wait()
				time.Sleep(150 * time.Millisecond) // the lane has not moved for an interval
				rec := serve("/refused", "")
				p.Release()
				<-done
				return rec
			}, http.StatusServiceUnavailable, true, continuation.Stats{Completed: 1, Shed: 1}},
		{"deadline passed in the queue", nil, nil, []Option{WithTimeout(time.Second)},
			func(t *testing.T, p *pool.Pool, _ *continuation.Scheduler, serve serve, _ func()) *httptest.ResponseRecorder {
				require.NoError(t, p.Acquire(bg))
				defer p.Release()
				return serve("/refused", "")
			}, http.StatusGatewayTimeout, false, continuation.Stats{Late: 1}},
		{"deadline the queue delay would pass", []pool.Option{codel}, nil, []Option{WithTimeoutHeader("X-Timeout")},
			func(t *testing.T, p *pool.Pool, _ *continuation.Scheduler, serve serve, _ func()) *httptest.ResponseRecorder {
				pooltest.Standing(t, p)
				start := time.Now()
				rec := serve("/refused", "20m") // < 30 ms
				require.Zero(t, time.Since(start), "refused at once")
				return rec
			}, http.StatusGatewayTimeout, false, continuation.Stats{Late: 1}},
		{"closed", nil, nil, nil,
			func(t *testing.T, _ *pool.Pool, s *continuation.Scheduler, serve serve, _ func()) *httptest.ResponseRecorder {
				require.NoError(t, s.Shutdown(bg))
				return serve("/refused", "")
			}, http.StatusServiceUnavailable, false, continuation.Stats{Closed: 1}},
	}
	for _, tc := range cases {
		for _, status := range []int{0, http.StatusTooManyRequests} { // 0: no WithOverloadStatus
			t.Run(fmt.Sprintf("%s/%d", tc.name, status), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := pool.New(1, tc.popts...)
					s := continuation.NewScheduler(p, tc.sopts...)
					gate, open := future.New[int]()
					logs := &records{}
					opts := append(slices.Clip(tc.opts), WithLogger(slog.New(logs)))
					if status != 0 {
						opts = append(slices.Clip(opts), WithOverloadStatus(status))
					}
					h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
						switch r.URL.Path {
						case "/refused":
							t.Error("a refused request reached the handler")
						case "/wait":
							_, err := continuation.Await(c, gate)
							return err
						}
						return nil
					}, opts...)
					serve := func(path, timeout string) *httptest.ResponseRecorder {
						req := httptest.NewRequest("GET", path, nil)
						if timeout != "" {
							req.Header.Set("X-Timeout", timeout)
						}
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						return rec
					}
					rec := tc.refuse(t, p, s, serve, func() { open(1, nil) })

					code := tc.code
					if tc.overload && status != 0 {
						code = status
					}
					require.Equal(t, code, rec.Code)
					require.Equal(t, http.StatusText(code)+"\n", rec.Body.String())
					if code == http.StatusGatewayTimeout {
						require.Empty(t, rec.Header().Values("Retry-After"))
					} else {
						assertRetryAfter(t, rec.Header().Get("Retry-After"))
					}
					var refusals []logged
					for _, l := range logs.take() {
						if l.Attrs["path"] == "/refused" {
							refusals = append(refusals, l)
						}
					}
					require.Len(t, refusals, 1, "the refusal is logged")
					require.Equal(t, slog.LevelDebug, refusals[0].Level, "a refusal is logged at Debug")
					require.Equal(t, "httpadapter: request refused", refusals[0].Msg)
					synctest.Wait()
					require.Equal(t, tc.want, s.Stats())
					require.NoError(t, s.Shutdown(bg))
					require.NoError(t, p.Shutdown(bg))
				})
			})
		}
	}
}
