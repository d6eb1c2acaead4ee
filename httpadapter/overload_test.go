package httpadapter

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
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
