package pool_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/pool"
)

// newCodel returns a pool of w slots with the queue-delay control at its usual values.
func newCodel(w int) *pool.Pool {
	return pool.New(w, pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
}

// acquirers starts goroutines that each Acquire a slot of p at a given time, hold it for
// a while and release it, recording when each got its slot or its error. Each is started
// and queued before the next (synctest.Wait), so their order in the queue is the order of
// the calls.
type acquirers struct {
	t     *testing.T
	p     *pool.Pool
	start time.Time
	log   recorder
}

// acquire starts one named acquirer with ctx and priority pr, holding its slot for hold.
func (a *acquirers) acquire(ctx context.Context, name string, pr pool.Priority, hold time.Duration) {
	go func() {
		err := a.p.AcquireAt(ctx, pr)
		at := time.Since(a.start).Milliseconds()
		if err != nil {
			what := "error"
			switch {
			case errors.Is(err, pool.ErrShed):
				what = "shed"
			case errors.Is(err, context.DeadlineExceeded):
				what = "late"
			}
			a.log.add(fmt.Sprintf("%s %s at %d", name, what, at))
			return
		}
		a.log.add(fmt.Sprintf("%s runs at %d", name, at))
		time.Sleep(hold)
		a.p.Release()
	}()
	synctest.Wait()
}

// overload makes p, a pool of one slot whose caller holds it, overloaded by the control at
// its usual values: four acquirers queued at once, holding 30 ms each, are served at 30, 60, 90,
// 120 ms, and the pop at 150 ms, past the first interval whose shortest wait was 30 ms,
// finds the queue standing. It returns at 150 ms, with E (queued at 0) running.
func overload(t *testing.T) *acquirers {
	a := &acquirers{t: t, p: newCodel(1), start: time.Now()}
	require.NoError(t, a.p.Acquire(context.Background()))
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		a.acquire(context.Background(), name, pool.Normal, 30*time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	a.p.Release()
	time.Sleep(120 * time.Millisecond)
	synctest.Wait()
	return a
}

// TestQueueDelaySheds: once the queue stands, a waiter that has waited more than twice
// the target is refused when a slot frees, and new work that would queue behind a full
// round is refused at once; once the load is gone, new work is served in order again.
func TestQueueDelaySheds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := overload(t)
		require.Equal(t, []string{"A runs at 30", "B runs at 60", "C runs at 90", "D runs at 120", "E runs at 150"}, a.log.list())

		a.acquire(context.Background(), "F", pool.Normal, 30*time.Millisecond) // queued at 150
		time.Sleep(10 * time.Millisecond)
		a.acquire(context.Background(), "G", pool.Normal, 30*time.Millisecond) // at 160, behind a full round
		time.Sleep(25 * time.Millisecond)                                      // E releases at 180
		synctest.Wait()
		require.Equal(t, []string{"G shed at 160", "F shed at 180"}, a.log.list()[5:],
			"G refused at once; F refused when a slot freed, having waited 30 ms > 2 × 5 ms")
		st := a.p.Stats()
		require.Equal(t, uint64(2), st.Shed)
		require.Zero(t, st.Busy)

		// Long after, the control has seen no standing queue: a burst is served in order.
		time.Sleep(time.Second)
		require.NoError(t, a.p.Acquire(context.Background()))
		for _, name := range []string{"H", "I", "J"} {
			a.acquire(context.Background(), name, pool.Normal, time.Millisecond)
		}
		a.p.Release()
		time.Sleep(10 * time.Millisecond)
		require.Equal(t, []string{"H runs at 1185", "I runs at 1186", "J runs at 1187"}, a.log.list()[7:])
		shutdown(t, a.p)
	})
}

// TestQueueDelayLIFO: while the queue stands, new work is served newest first; resumed
// work still goes before it.
func TestQueueDelayLIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &acquirers{t: t, p: newCodel(3), start: time.Now()}
		p := a.p
		for range 3 {
			require.NoError(t, p.Acquire(context.Background()))
		}
		// Stand the queue: a waiter each 30 ms, served 30 ms after it came, for more than
		// an interval.
		for i := range 6 {
			a.acquire(context.Background(), fmt.Sprint("w", i), pool.Normal, 0)
			time.Sleep(30 * time.Millisecond)
			p.Release()
			synctest.Wait()
			require.NoError(t, p.Acquire(context.Background()))
		}
		// Overloaded now. Two waiters, 2 ms apart, then a Reacquire.
		n := len(a.log.list())
		a.acquire(context.Background(), "old", pool.Normal, time.Millisecond)
		time.Sleep(2 * time.Millisecond)
		a.acquire(context.Background(), "new", pool.Normal, time.Millisecond)
		resumed := make(chan struct{})
		go func() {
			require.NoError(t, p.Reacquire())
			a.log.add("resumed")
			p.Release() // to the newest waiter
			close(resumed)
		}()
		synctest.Wait()
		p.Release() // to the Reacquire: resumed work goes first
		<-resumed
		synctest.Wait() // "new" has its slot, and holds it
		p.Release()     // to "old"
		synctest.Wait()
		p.Release()
		time.Sleep(5 * time.Millisecond)
		require.Equal(t, []string{"resumed", "new runs at 182", "old runs at 182"}, a.log.list()[n:])
		shutdown(t, p)
	})
}

// TestQueueDelayPriority: under the same overload, work of a lower priority, whose lane
// stands first, is refused before work of a higher one, which is admitted.
func TestQueueDelayPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := overload(t)
		time.Sleep(25 * time.Millisecond)                                   // E releases at 180: what queues now waits 5 ms
		a.acquire(context.Background(), "low1", pool.Low, time.Millisecond) // queued: its lane was empty
		a.acquire(context.Background(), "low2", pool.Low, time.Millisecond) // behind a full round of Low
		a.acquire(context.Background(), "high", pool.High, time.Millisecond)
		a.acquire(context.Background(), "normal", pool.Normal, time.Millisecond)
		time.Sleep(15 * time.Millisecond)
		require.Equal(t, []string{"low2 shed at 175", "high runs at 180", "normal runs at 181", "low1 runs at 182"},
			a.log.list()[5:])
		shutdown(t, a.p)
	})
}

// TestQueueDelayDeadline: while the queue stands, an Acquire whose deadline is nearer
// than the shortest wait of the last interval is refused at once, with an error that is
// context.DeadlineExceeded; one with time enough waits.
func TestQueueDelayDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := overload(t) // the last interval's shortest wait: 30 ms
		time.Sleep(25 * time.Millisecond)
		soon, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		a.acquire(soon, "soon", pool.High, time.Millisecond)
		later, cancel2 := context.WithTimeout(context.Background(), time.Second)
		defer cancel2()
		a.acquire(later, "later", pool.High, time.Millisecond)
		time.Sleep(15 * time.Millisecond)
		require.Equal(t, []string{"soon late at 175", "later runs at 180"}, a.log.list()[5:])
		require.Equal(t, uint64(1), a.p.Stats().Late)
		shutdown(t, a.p)
	})
}

// TestQueueDelayLaneNotMoving: new work whose lane has not moved for an interval is
// refused at once, even before any pop has shown the queue standing.
func TestQueueDelayLaneNotMoving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &acquirers{t: t, p: newCodel(1), start: time.Now()}
		require.NoError(t, a.p.Acquire(context.Background()))
		a.acquire(context.Background(), "A", pool.Normal, 0)
		time.Sleep(150 * time.Millisecond)
		a.acquire(context.Background(), "B", pool.Normal, 0)
		assert.ErrorIs(t, a.p.Submit(func() {}), pool.ErrShed, "Submit too")
		a.p.Release()
		synctest.Wait()
		require.Equal(t, []string{"B shed at 150", "A runs at 150"}, a.log.list())
		shutdown(t, a.p)
	})
}

// TestQueueDelayOff: with the control off, nothing is shed, whatever the waits.
func TestQueueDelayOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &acquirers{t: t, p: pool.New(1, pool.WithQueueDelay(0, 0)), start: time.Now()}
		require.NoError(t, a.p.Acquire(context.Background()))
		for i := range 10 {
			a.acquire(context.Background(), fmt.Sprint(i), pool.Normal, 50*time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		a.p.Release()
		time.Sleep(time.Second)
		for i, s := range a.log.list() {
			require.Equal(t, fmt.Sprintf("%d runs at %d", i, 50*(i+1)), s)
		}
		require.Zero(t, a.p.Stats().Shed)
		shutdown(t, a.p)
	})
}

func TestWithQueueDelayPanics(t *testing.T) {
	assert.PanicsWithValue(t, "pool: WithQueueDelay called with a negative target", func() { pool.WithQueueDelay(-1, time.Second) })
	assert.PanicsWithValue(t, "pool: WithQueueDelay called with an interval that is not positive",
		func() { pool.WithQueueDelay(time.Millisecond, 0) })
}
