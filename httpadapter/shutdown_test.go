package httpadapter

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestPoolShutDownFirstOverHTTP shuts the pool down first, the wrong order, while
// requests are suspended: the process does not crash, nothing is answered 500, and each
// request ends as it would have had the scheduler given up: those whose upstream answers
// are served, the others are answered 503.
func TestPoolShutDownFirstOverHTTP(t *testing.T) {
	const n = 500
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	slow, resolve := future.New[string]()
	never, _ := future.New[string]()
	h := New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		f := never
		if r.URL.Query().Has("slow") {
			f = slow
		}
		v, err := continuation.Await(c, f)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, v)
		return err
	})
	srv, url, served, client := serveForShutdown(t, h, n)
	var wg sync.WaitGroup
	codes := map[bool]chan int{true: make(chan int, n), false: make(chan int, n)}
	for i := range n {
		slow := i%2 == 0
		wg.Go(func() {
			u := url
			if slow {
				u += "?slow"
			}
			resp, err := client.Get(u)
			if !assert.NoError(t, err) {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[slow] <- resp.StatusCode
		})
	}
	require.Eventually(t, func() bool { return s.Stats().Suspended == n }, 30*time.Second, time.Millisecond)

	require.NoError(t, p.Shutdown(context.Background()), "no slot is held: the pool's drain finishes")
	resolve("done", nil) // the first to wake finds the pool gone; the scheduler gives up
	wg.Wait()
	for slow, want := range map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable} {
		close(codes[slow])
		got := 0
		for code := range codes[slow] {
			require.Equal(t, want, code)
			got++
		}
		require.Equal(t, n/2, got)
	}
	require.NoError(t, Shutdown(context.Background(), srv, s, p), "then the right order finds all done")
	require.ErrorIs(t, <-served, http.ErrServerClosed)
	st := s.Stats()
	require.Zero(t, st.Alive)
	require.Equal(t, int64(n/2), st.Completed)
	require.Equal(t, int64(n/2), st.Stopped)
}

func TestShutdownMisuse(t *testing.T) {
	p := pool.New(1)
	defer p.Shutdown(context.Background())
	s := continuation.NewScheduler(p)
	srv := &http.Server{}
	//lint:ignore SA1012 the nil context is the misuse under test
	require.PanicsWithValue(t, "httpadapter: Shutdown called with a nil Context", func() { Shutdown(nil, srv, s, p) })
	require.PanicsWithValue(t, "httpadapter: Shutdown called with a nil *http.Server", func() { Shutdown(context.Background(), nil, s, p) })
	require.PanicsWithValue(t, "httpadapter: Shutdown called with a nil *continuation.Scheduler", func() { Shutdown(context.Background(), srv, nil, p) })
}
