package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
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
// its usual values: A, B and C, queued at once and holding 30 ms each, are served at 30,
// 60 and 90 ms; D comes at 118 ms; the pop at 120 ms, past the first interval, whose
// shortest wait was 30 ms, finds the queue standing and serves D. It returns at 120 ms,
// with D running until 150.
func overload(t *testing.T) *acquirers {
	a := &acquirers{t: t, p: newCodel(1), start: time.Now()}
	require.NoError(t, a.p.Acquire(context.Background()))
	for _, name := range []string{"A", "B", "C"} {
		a.acquire(context.Background(), name, pool.Normal, 30*time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	a.p.Release()
	time.Sleep(88 * time.Millisecond)
	a.acquire(context.Background(), "D", pool.Normal, 30*time.Millisecond)
	time.Sleep(2 * time.Millisecond)
	synctest.Wait()
	require.Equal(t, []string{"A runs at 30", "B runs at 60", "C runs at 90", "D runs at 120"}, a.log.list())
	return a
}

// TestQueueDelaySheds: once the queue stands, new work that finds a full round queued in
// its lane refuses the oldest entry and takes its place, and a waiter that has waited past
// the target is refused when a slot frees; once the load is gone, new work is served in
// order again.
func TestQueueDelaySheds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := overload(t)
		time.Sleep(25 * time.Millisecond)
		a.acquire(context.Background(), "F", pool.Normal, 30*time.Millisecond) // queued at 145
		time.Sleep(2 * time.Millisecond)
		a.acquire(context.Background(), "G", pool.Normal, 30*time.Millisecond) // at 147: a full round (W=1) is queued
		time.Sleep(4 * time.Millisecond)                                       // D releases at 150, to G
		a.acquire(context.Background(), "H", pool.Normal, 30*time.Millisecond) // queued at 151
		time.Sleep(9 * time.Millisecond)
		a.acquire(context.Background(), "I", pool.Normal, 30*time.Millisecond) // at 160
		time.Sleep(25 * time.Millisecond)                                      // G releases at 180
		synctest.Wait()
		require.Equal(t, []string{"F shed at 147", "G runs at 150", "H shed at 160", "I shed at 180"}, a.log.list()[4:],
			"F and H refused as newer work came; I refused when a slot freed, having waited 20 ms > 5 ms")
		st := a.p.Stats()
		require.Equal(t, uint64(3), st.Shed)
		require.Zero(t, st.Busy)

		// Long after, the control has seen no standing queue: a burst is served in order.
		time.Sleep(time.Second)
		require.NoError(t, a.p.Acquire(context.Background()))
		for _, name := range []string{"J", "K", "L"} {
			a.acquire(context.Background(), name, pool.Normal, time.Millisecond)
		}
		a.p.Release()
		time.Sleep(10 * time.Millisecond)
		require.Equal(t, []string{"J runs at 1185", "K runs at 1186", "L runs at 1187"}, a.log.list()[8:])
		shutdown(t, a.p)
	})
}

// TestQueueDelayRecovers: the overload ends after an interval in which the control
// refused nothing, even while work keeps queueing: new work is served in order again.
// (LIFO hides the queue's delay from the waits, so they cannot tell.)
func TestQueueDelayRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := overload(t) // standing from 120; the interval runs to 220
		time.Sleep(30 * time.Millisecond)
		// From 150, one waiter at a time, each served in 2 ms: the queue never holds a
		// full round, and nothing is refused.
		for i := range 4 {
			require.NoError(t, a.p.Acquire(context.Background()))
			a.acquire(context.Background(), fmt.Sprint("w", i), pool.Normal, 0)
			time.Sleep(2 * time.Millisecond)
			a.p.Release()
			time.Sleep(18 * time.Millisecond)
		}
		// At 230, in the next interval: a burst is served in order.
		require.NoError(t, a.p.Acquire(context.Background()))
		for _, name := range []string{"X", "Y", "Z"} {
			a.acquire(context.Background(), name, pool.Normal, time.Millisecond)
		}
		a.p.Release()
		time.Sleep(10 * time.Millisecond)
		require.Equal(t, []string{"X runs at 230", "Y runs at 231", "Z runs at 232"}, a.log.list()[8:])
		require.Zero(t, a.p.Stats().Shed)
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
		time.Sleep(27 * time.Millisecond)                                   // D releases at 150: what queues now waits 3 ms
		a.acquire(context.Background(), "low1", pool.Low, time.Millisecond) // queued: its lane was empty
		a.acquire(context.Background(), "low2", pool.Low, time.Millisecond) // finds a full round of Low
		a.acquire(context.Background(), "high", pool.High, time.Millisecond)
		a.acquire(context.Background(), "normal", pool.Normal, time.Millisecond)
		time.Sleep(15 * time.Millisecond)
		require.Equal(t, []string{"low1 shed at 147", "high runs at 150", "normal runs at 151", "low2 runs at 152"},
			a.log.list()[4:])
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
		require.Equal(t, []string{"soon late at 145", "later runs at 150"}, a.log.list()[4:])
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

// TestQueueDelaySteadyOverload offers Poisson arrivals at multiples of the capacity of 2
// slots held 5 ms each (400 a second), each waiting up to a second, for 2.5 s after a
// warm-up of 0.5 s, and checks what the control promises: below capacity it refuses
// nothing; above, it serves at capacity (no slot idles for want of work), the admitted
// wait less than the target, and refuses the rest soon, not after a client's patience.
func TestQueueDelaySteadyOverload(t *testing.T) {
	const (
		w      = 2
		hold   = 5 * time.Millisecond
		warmup = 500 * time.Millisecond
		span   = 2500 * time.Millisecond
	)
	for _, load := range []float64{0.5, 2, 5, 10} {
		t.Run(fmt.Sprint(load, "x"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newCodel(w)
				rate := load * w / hold.Seconds()
				rng := rand.New(rand.NewPCG(1, uint64(load*10)))
				var (
					mu                sync.Mutex
					admitted, refused []time.Duration
					wg                sync.WaitGroup
					start             = time.Now()
				)
				for time.Since(start) < warmup+span {
					time.Sleep(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
					wg.Go(func() {
						ctx, cancel := context.WithTimeout(context.Background(), time.Second)
						defer cancel()
						at := time.Now()
						err := p.Acquire(ctx)
						wait := time.Since(at)
						if at.Sub(start) >= warmup {
							mu.Lock()
							if err == nil {
								admitted = append(admitted, wait)
							} else {
								assert.ErrorIs(t, err, pool.ErrShed)
								refused = append(refused, wait)
							}
							mu.Unlock()
						}
						if err == nil {
							time.Sleep(hold)
							p.Release()
						}
					})
				}
				wg.Wait()
				shutdown(t, p)

				capacity := int(span / hold * w)
				if load < 1 {
					require.Empty(t, refused, "below capacity, nothing is refused")
					return
				}
				require.GreaterOrEqual(t, len(admitted), capacity*98/100, "served at capacity")
				assert.LessOrEqual(t, quantile(admitted, 0.99), pool.DefaultQueueDelayTarget, "admitted wait p99")
				assert.LessOrEqual(t, quantile(refused, 0.99), 2*pool.DefaultQueueDelayTarget, "refusal p99")
				t.Logf("admitted %d (capacity %d), wait p99 %v; refused %d, p99 %v",
					len(admitted), capacity, quantile(admitted, 0.99), len(refused), quantile(refused, 0.99))
			})
		})
	}
}

// quantile returns the q-quantile of d, sorting it.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)-1))]
}
