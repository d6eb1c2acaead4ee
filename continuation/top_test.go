package continuation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestTop: the bounded view keeps the n oldest, the n running longest, and counts and
// shows the continuations that call for a look: a step past the budget, a deadline
// passed, a client gone.
func TestTop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(2)
		s := NewScheduler(p, WithStepBudget(time.Second), WithLogger(slog.New(slog.DiscardHandler)))
		gate, open := future.New[int]()
		wait := func(c *C) (int, error) { return Await(c, gate) }
		var fs []*future.Future[int]
		for i := range 4 { // suspended, admitted 1 s apart: s0 is the oldest
			fs = append(fs, Spawn(s, context.Background(), wait, WithLabel(fmt.Sprint("s", i))))
			time.Sleep(time.Second)
		}
		// A step that holds its slot for 3 s, past the budget.
		fs = append(fs, Spawn(s, context.Background(), func(c *C) (int, error) {
			time.Sleep(3 * time.Second)
			return Await(c, gate)
		}, WithLabel("hog")))
		time.Sleep(10 * time.Millisecond)
		// Blocking calls that outlive their context: one past its deadline, one cancelled.
		dctx, dcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		// (their Blocking ignores the context, as a call to a library without one does)
		defer dcancel()
		cctx, ccancel := context.WithCancel(context.Background())
		for _, tc := range []struct {
			ctx   context.Context
			label string
		}{{dctx, "late"}, {cctx, "gone"}} {
			fs = append(fs, Spawn(s, tc.ctx, func(c *C) (int, error) {
				return Blocking(c, func() (int, error) { <-gate.Done(); return 0, nil })
			}, WithLabel(tc.label)))
			time.Sleep(time.Millisecond) // late is the older
		}
		synctest.Wait() // both in their Blocking call
		ccancel()
		time.Sleep(2 * time.Second)
		synctest.Wait()

		top := s.Top(2)
		require.Equal(t, 7, top.Alive)
		labels := func(infos []Info) (out []string) {
			for _, i := range infos {
				out = append(out, i.Label)
			}
			return out
		}
		require.Equal(t, []string{"s0", "s1"}, labels(top.Oldest))
		require.Equal(t, 6*time.Second+12*time.Millisecond, top.Oldest[0].Age)
		require.Equal(t, []string{"hog"}, labels(top.LongestRunning))
		require.Equal(t, 2*time.Second+12*time.Millisecond, top.LongestRunning[0].InState)
		require.Equal(t, 1, top.OverBudget)
		require.Equal(t, 1, top.PastDeadline)
		require.Equal(t, 1, top.Cancelled)
		require.Equal(t, []string{"hog", "late"}, labels(top.Warnings), "the 2 oldest of 3")
		require.Equal(t, "over_budget", top.Warnings[0].Warning)
		require.Equal(t, "past_deadline", top.Warnings[1].Warning)
		require.Equal(t, "cancelled", s.Top(3).Warnings[2].Warning)
		require.Empty(t, top.Oldest[0].Warning, "only in Warnings")
		require.Equal(t, Top{Alive: 7, Oldest: []Info{}, LongestRunning: []Info{}, Warnings: []Info{},
			OverBudget: 1, PastDeadline: 1, Cancelled: 1}, s.Top(0))
		require.PanicsWithValue(t, "continuation: Top called with a negative n", func() { s.Top(-1) })

		open(1, nil)
		for _, f := range fs {
			f.Await(context.Background())
		}
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
}

// TestEachChunked: a walk that lets each shard's lock go between chunks visits every
// continuation that stays alive exactly once, while others come and go in the same
// shards.
func TestEachChunked(t *testing.T) {
	p := pool.New(2)
	s := NewScheduler(p)
	gate, open := future.New[int]()
	const static = 20 * eachChunk // several chunks a shard
	var fs []*future.Future[int]
	for range static {
		fs = append(fs, Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) }, WithLabel("static")))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 { // churn
		wg.Go(func() {
			for !stop.Load() {
				Run(s, context.Background(), func(c *C) (int, error) { return 0, nil }, WithLabel("churn"))
			}
		})
	}
	for range 20 {
		n := 0
		for _, info := range s.Snapshot() {
			if info.Label == "static" {
				n++
			}
		}
		require.Equal(t, static, n)
	}
	stop.Store(true)
	wg.Wait()
	open(1, nil)
	for _, f := range fs {
		_, err := f.Await(context.Background())
		require.NoError(t, err)
	}
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
}
