package pool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/pool"
)

// gate returns a task that blocks until open is called.
func gate() (task func(), open func()) {
	ch := make(chan struct{})
	return func() { <-ch }, func() { close(ch) }
}

// recorder collects labels in the order things happened.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *recorder) task(s string) func() { return func() { r.add(s) } }

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func shutdown(t *testing.T, p *pool.Pool) {
	t.Helper()
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestNewPanicsWithoutWorkers(t *testing.T) {
	assert.PanicsWithValue(t, "pool: New called with 0 workers; want at least 1", func() { pool.New(0) })
	assert.PanicsWithValue(t, "pool: New called with -3 workers; want at least 1", func() { pool.New(-3) })
	assert.PanicsWithValue(t, "pool: New called with 16777216 workers; want at most 16777215", func() { pool.New(1 << 24) })
}

func TestOptionsPanicOnBadValues(t *testing.T) {
	assert.PanicsWithValue(t, "pool: WithQueueSize called with a negative size", func() { pool.WithQueueSize(-1) })
	assert.PanicsWithValue(t, "pool: WithPanicHandler called with a nil handler", func() { pool.WithPanicHandler(nil) })
	assert.PanicsWithValue(t, "pool: WithLogger called with a nil logger", func() { pool.WithLogger(nil) })
}

func TestNilTaskPanics(t *testing.T) {
	p := pool.New(1)
	defer shutdown(t, p)
	assert.PanicsWithValue(t, "pool: Submit called with a nil task", func() { _ = p.Submit(nil) })
	assert.PanicsWithValue(t, "pool: SubmitAt called with a nil task", func() { _ = p.SubmitAt(pool.Low, nil) })
	assert.PanicsWithValue(t, "pool: Resume called with a nil task", func() { p.Resume(nil) })
}

func TestReleaseWithoutHeldSlotPanics(t *testing.T) {
	p := pool.New(2)
	defer shutdown(t, p)
	assert.PanicsWithValue(t, "pool: Release without a held slot", p.Release)

	require.NoError(t, p.Acquire(context.Background()))
	p.Release()
	assert.PanicsWithValue(t, "pool: Release without a held slot", p.Release, "released twice")

	// A slot of a worker is not a slot held inline.
	run, open := gate()
	require.NoError(t, p.Submit(run))
	assert.PanicsWithValue(t, "pool: Release without a held slot", p.Release, "with a worker busy")
	open()
}

func TestAfterShutdownFinished(t *testing.T) {
	p := pool.New(2)
	shutdown(t, p)

	assert.ErrorIs(t, p.Submit(func() {}), pool.ErrClosed)
	assert.ErrorIs(t, p.Acquire(context.Background()), pool.ErrClosed)
	// Work coming back has no worker left: it is refused, not lost in a queue, and the
	// caller holds no slot after a refused Reacquire.
	assert.ErrorIs(t, p.Resume(func() { t.Error("a task resumed after the drain ran") }), pool.ErrClosed)
	assert.ErrorIs(t, p.Reacquire(), pool.ErrClosed)
	assert.PanicsWithValue(t, "pool: Release without a held slot", p.Release)
	assert.NoError(t, p.Shutdown(context.Background()), "second Shutdown")
	assert.Equal(t, pool.Stats{Workers: 2}, p.Stats(), "ErrClosed is not counted as refused")
}

func TestBurstOfAThousandOnOneWorker(t *testing.T) {
	p := pool.New(1)
	run, open := gate()
	require.NoError(t, p.Submit(run))
	var ran atomic.Int64
	for i := range 1000 {
		require.NoError(t, p.Submit(func() { ran.Add(1) }), "submission %d", i)
	}
	assert.Equal(t, 1000, p.Stats().QueuedNew)
	open()
	shutdown(t, p)
	assert.Equal(t, int64(1000), ran.Load())
	s := p.Stats()
	assert.Equal(t, uint64(1001), s.Completed)
	assert.Zero(t, s.Refused)
}

// TestOrder checks which entry a freed slot goes to: resumed work, tasks and Reacquire
// waiters alike, in FIFO order, before new work, tasks and Acquire waiters alike, in FIFO
// order.
func TestOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		var r recorder
		run, open := gate()
		require.NoError(t, p.Submit(run))
		synctest.Wait()

		inline := func(label string, take func()) {
			go func() {
				take()
				r.add(label)
				p.Release()
			}()
			synctest.Wait() // queued
		}
		acquire := func() {
			if err := p.Acquire(context.Background()); err != nil {
				panic(err)
			}
		}
		require.NoError(t, p.Submit(r.task("new 1")))
		p.Resume(r.task("resumed 1"))
		inline("acquire 1", acquire)
		reacquire := func() {
			if err := p.Reacquire(); err != nil {
				panic(err)
			}
		}
		inline("reacquire 1", reacquire)
		require.NoError(t, p.Submit(r.task("new 2")))
		p.Resume(r.task("resumed 2"))
		inline("acquire 2", acquire)
		inline("reacquire 2", reacquire)
		require.NoError(t, p.Submit(r.task("new 3")))

		s := p.Stats()
		assert.Equal(t, 3, s.QueuedNew)
		assert.Equal(t, 2, s.QueuedResumed)
		assert.Equal(t, 2, s.WaitingNew)
		assert.Equal(t, 2, s.WaitingResumed)

		open()
		shutdown(t, p)
		assert.Equal(t, []string{
			"resumed 1", "reacquire 1", "resumed 2", "reacquire 2",
			"new 1", "acquire 1", "new 2", "acquire 2", "new 3",
		}, r.list())
	})
}

// TestResumedWorkGoesFirstUnderLoad checks that work resumed while new work is queued
// runs before it, even from a task that is running.
// TestPriorityOrder checks that a freed slot goes to resumed work, then to new work of
// priority High, then Normal, then Low, each in FIFO order, tasks and waiting goroutines
// alike.
func TestPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		var r recorder
		run, open := gate()
		require.NoError(t, p.Submit(run))
		synctest.Wait()

		acquireAt := func(label string, pr pool.Priority) {
			go func() {
				if err := p.AcquireAt(context.Background(), pr); err != nil {
					panic(err)
				}
				r.add(label)
				p.Release()
			}()
			synctest.Wait() // queued
		}
		require.NoError(t, p.SubmitAt(pool.Low, r.task("low 1")))
		require.NoError(t, p.SubmitAt(pool.Normal, r.task("normal 1")))
		require.NoError(t, p.SubmitAt(pool.High, r.task("high 1")))
		acquireAt("acquire low 2", pool.Low)
		acquireAt("acquire normal 2", pool.Normal)
		acquireAt("acquire high 2", pool.High)
		p.Resume(r.task("resumed"))
		require.NoError(t, p.Submit(r.task("normal 3")))
		require.NoError(t, p.SubmitAt(pool.High, r.task("high 3")))
		require.NoError(t, p.SubmitAt(pool.Low, r.task("low 3")))

		s := p.Stats()
		assert.Equal(t, 6, s.QueuedNew)
		assert.Equal(t, 3, s.WaitingNew)
		assert.Equal(t, 1, s.QueuedResumed)

		open()
		shutdown(t, p)
		assert.Equal(t, []string{
			"resumed", "high 1", "acquire high 2", "high 3",
			"normal 1", "acquire normal 2", "normal 3",
			"low 1", "acquire low 2", "low 3",
		}, r.list())
	})
}

// TestPriorityShareTheBound checks that new work of every priority counts against one
// bound, and that a High waiter that gives up leaves the others in order.
func TestPriorityShareTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1, pool.WithQueueSize(3))
		var r recorder
		run, open := gate()
		require.NoError(t, p.Submit(run))
		require.NoError(t, p.SubmitAt(pool.High, r.task("high 1")))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			if err := p.AcquireAt(ctx, pool.High); err != nil {
				r.add("gave up")
				return
			}
			r.add("acquire high")
			p.Release()
		}()
		synctest.Wait()
		require.NoError(t, p.Submit(r.task("normal 1")))

		assert.ErrorIs(t, p.SubmitAt(pool.High, func() {}), pool.ErrFull)
		assert.ErrorIs(t, p.AcquireAt(context.Background(), pool.High), pool.ErrFull)
		assert.ErrorIs(t, p.Submit(func() {}), pool.ErrFull)
		assert.ErrorIs(t, p.SubmitAt(pool.Low, func() {}), pool.ErrFull)
		assert.Equal(t, uint64(4), p.Stats().Refused)

		cancel()
		synctest.Wait()
		require.NoError(t, p.Submit(r.task("normal 2"))) // the waiter's place is free again
		assert.Equal(t, 0, p.Stats().WaitingNew)

		open()
		shutdown(t, p)
		assert.Equal(t, []string{"gave up", "high 1", "normal 1", "normal 2"}, r.list())
	})
}

func TestUnknownPriorityPanics(t *testing.T) {
	p := pool.New(1)
	defer shutdown(t, p)
	const msg = "pool: unknown Priority 3; want pool.Normal, pool.High or pool.Low"
	assert.PanicsWithValue(t, msg, func() { p.SubmitAt(pool.Low+1, func() {}) })
	assert.PanicsWithValue(t, msg, func() { p.AcquireAt(context.Background(), pool.Low+1) })
	assert.Equal(t, 0, p.Stats().Busy) // nothing was taken
}

func TestResumedWorkGoesFirstUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		var r recorder
		require.NoError(t, p.Submit(func() {
			r.add("first")
			p.Resume(r.task("resumed by first"))
		}))
		require.NoError(t, p.Submit(r.task("second")))
		shutdown(t, p)
		assert.Equal(t, []string{"first", "resumed by first", "second"}, r.list())
	})
}

func TestSubmitRefusedAtTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1, pool.WithQueueSize(2))
		run, open := gate()
		require.NoError(t, p.Submit(run))
		require.NoError(t, p.Submit(func() {}))
		go func() {
			if err := p.Acquire(context.Background()); err != nil {
				panic(err)
			}
			p.Release()
		}()
		synctest.Wait()

		assert.ErrorIs(t, p.Submit(func() {}), pool.ErrFull)
		assert.ErrorIs(t, p.Acquire(context.Background()), pool.ErrFull)
		var resumed atomic.Bool
		p.Resume(func() { resumed.Store(true) }) // resumed work has no bound

		s := p.Stats()
		assert.Equal(t, uint64(2), s.Refused)
		assert.Equal(t, 1, s.QueuedNew)
		assert.Equal(t, 1, s.WaitingNew)
		assert.Equal(t, 1, s.QueuedResumed)

		open()
		shutdown(t, p)
		assert.True(t, resumed.Load())
	})
}

func TestQueueSizeZeroTakesOnlyWhatASlotIsFreeFor(t *testing.T) {
	p := pool.New(1, pool.WithQueueSize(0))
	defer shutdown(t, p)
	run, open := gate()
	require.NoError(t, p.Submit(run))
	assert.ErrorIs(t, p.Submit(func() {}), pool.ErrFull)
	assert.ErrorIs(t, p.Acquire(context.Background()), pool.ErrFull)
	open()
}

func TestSubmitAndAcquireRefusedDuringDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		require.NoError(t, p.Acquire(context.Background()))
		shut := make(chan error)
		go func() { shut <- p.Shutdown(context.Background()) }()
		synctest.Wait()

		assert.ErrorIs(t, p.Submit(func() {}), pool.ErrClosed)
		assert.ErrorIs(t, p.Acquire(context.Background()), pool.ErrClosed)
		p.Release()
		assert.NoError(t, <-shut)
	})
}

// TestDrain checks that Shutdown runs everything admitted: queued tasks of both kinds,
// queued Acquire and Reacquire waiters, and work resumed during the drain.
func TestDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		var r recorder
		run, open := gate()
		require.NoError(t, p.Submit(run))
		require.NoError(t, p.Submit(func() {
			r.add("new")
			p.Resume(r.task("resumed during the drain"))
		}))
		go func() {
			if err := p.Acquire(context.Background()); err != nil {
				panic(err)
			}
			r.add("acquire")
			p.Release()
		}()
		synctest.Wait()
		go func() {
			p.Reacquire()
			r.add("reacquire")
			p.Release()
		}()
		synctest.Wait()

		shut := make(chan error)
		go func() { shut <- p.Shutdown(context.Background()) }()
		synctest.Wait()
		assert.ErrorIs(t, p.Submit(func() {}), pool.ErrClosed)
		p.Resume(r.task("resumed after Shutdown began"))
		select {
		case <-shut:
			t.Fatal("Shutdown returned before the drain")
		default:
		}

		open()
		require.NoError(t, <-shut)
		assert.Equal(t, []string{
			"reacquire", "resumed after Shutdown began",
			"new", "resumed during the drain", "acquire",
		}, r.list())
		assert.Equal(t, uint64(4), p.Stats().Completed)
	})
}

// TestShutdownContextEndsFirst checks that Shutdown gives up waiting when its context
// ends, that the drain goes on, and that a second Shutdown waits for it.
func TestShutdownContextEndsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(2)
		require.NoError(t, p.Acquire(context.Background()))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := p.Shutdown(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "1 slot held", "what it gave up on is counted")
		assert.Equal(t, time.Second, time.Since(start))

		var ran atomic.Bool
		assert.NoError(t, p.Resume(func() { ran.Store(true) })) // the pool still drains
		go func() {
			time.Sleep(time.Minute)
			p.Release()
		}()
		assert.NoError(t, p.Shutdown(context.Background()))
		assert.Equal(t, time.Second+time.Minute, time.Since(start))
		assert.True(t, ran.Load())
	})
}

func TestShutdownWithDoneContextOnDrainedPool(t *testing.T) {
	p := pool.New(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	shutdown(t, p)
	assert.NoError(t, p.Shutdown(ctx), "a drained pool reports nil even to a done context")
}

func TestPanicHandlerGetsValueAndStack(t *testing.T) {
	type call struct {
		value any
		stack string
	}
	calls := make(chan call, 1)
	p := pool.New(1, pool.WithPanicHandler(func(value any, stack []byte) {
		calls <- call{value, string(stack)}
	}))
	boom := errors.New("boom")
	require.NoError(t, p.Submit(panicking(boom)))
	c := <-calls
	assert.Equal(t, boom, c.value)
	assert.Contains(t, c.stack, "panicking", "the stack shows where the task panicked")

	var ran atomic.Bool
	require.NoError(t, p.Submit(func() { ran.Store(true) }))
	shutdown(t, p)
	assert.True(t, ran.Load(), "the worker survived the panic")
	s := p.Stats()
	assert.Equal(t, uint64(1), s.Panicked)
	assert.Equal(t, uint64(2), s.Completed)
}

// panicking returns a task that panics with v, from a frame of its own to find in stacks.
func panicking(v any) func() {
	return func() { panic(v) }
}

func TestDefaultPanicHandlerLogs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	p := pool.New(1, pool.WithLogger(logger))
	require.NoError(t, p.Submit(panicking("kaboom")))
	shutdown(t, p)

	out := buf.String()
	assert.Contains(t, out, "level=ERROR")
	assert.Contains(t, out, `msg="pool: task panicked"`)
	assert.Contains(t, out, "panic=kaboom")
	assert.Contains(t, out, "panicking")
	assert.Equal(t, uint64(1), p.Stats().Panicked)
}

func TestPanicOfNilIsCaught(t *testing.T) {
	values := make(chan any, 1)
	p := pool.New(1, pool.WithPanicHandler(func(value any, _ []byte) { values <- value }))
	require.NoError(t, p.Submit(panicking(nil)))
	var pe *runtime.PanicNilError
	assert.ErrorAs(t, (<-values).(error), &pe)
	shutdown(t, p)
}

func TestGoexitInTaskKeepsTheWorker(t *testing.T) {
	p := pool.New(1)
	exited := make(chan struct{})
	require.NoError(t, p.Submit(func() {
		defer close(exited)
		runtime.Goexit()
	}))
	<-exited
	var ran atomic.Bool
	require.NoError(t, p.Submit(func() { ran.Store(true) }))
	shutdown(t, p)
	assert.True(t, ran.Load())
	s := p.Stats()
	assert.Equal(t, uint64(2), s.Completed)
	assert.Zero(t, s.Panicked)
}

func TestLastOptionWins(t *testing.T) {
	p := pool.New(1, pool.WithQueueSize(0), pool.WithQueueSize(1))
	defer shutdown(t, p)
	run, open := gate()
	require.NoError(t, p.Submit(run))
	assert.NoError(t, p.Submit(func() {}))
	assert.ErrorIs(t, p.Submit(func() {}), pool.ErrFull)
	open()
}

// TestStatsUnderLoad takes snapshots while goroutines submit, resume, and take and give
// back slots, and checks the documented identities in each.
func TestStatsUnderLoad(t *testing.T) {
	const workers, producers, each = 3, 4, 500
	p := pool.New(workers, pool.WithQueueSize(64))
	stop := make(chan struct{})
	checked := make(chan int)
	go func() {
		n := 0
		defer func() { checked <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := p.Stats()
			n++
			if !assert.Equal(t, s.Submitted+s.Resumed, s.Completed+uint64(s.QueuedNew+s.QueuedResumed+s.BusyWorkers), "%+v", s) ||
				!assert.Equal(t, s.Busy, s.BusyWorkers+s.BusyInline, "%+v", s) ||
				!assert.LessOrEqual(t, s.Busy, workers, "%+v", s) ||
				!assert.LessOrEqual(t, s.QueuedNew+s.WaitingNew, 64, "%+v", s) {
				return
			}
		}
	}()

	var accepted atomic.Uint64
	var wg sync.WaitGroup
	for i := range producers {
		wg.Go(func() {
			for j := range each {
				switch (i + j) % 4 {
				case 0:
					if p.Submit(runtime.Gosched) == nil {
						accepted.Add(1)
					}
				case 1:
					p.Resume(runtime.Gosched)
					accepted.Add(1)
				case 2:
					if p.Acquire(context.Background()) == nil {
						runtime.Gosched()
						p.Release()
					}
				case 3:
					p.Reacquire()
					p.Release()
				}
			}
		})
	}
	wg.Wait()
	shutdown(t, p)
	close(stop)
	assert.Positive(t, <-checked)

	s := p.Stats()
	assert.Equal(t, accepted.Load(), s.Completed)
	assert.Equal(t, s.Submitted+s.Resumed, s.Completed)
	assert.Zero(t, s.Busy)
}

// TestNeverMoreThanWAtOnce runs tasks and inline holders of both priorities at once and
// checks that no more than W of them ever run together.
func TestNeverMoreThanWAtOnce(t *testing.T) {
	const workers = 3
	p := pool.New(workers)
	var running, most atomic.Int64
	enter := func() {
		n := running.Add(1)
		for m := most.Load(); n > m; m = most.Load() {
			if most.CompareAndSwap(m, n) {
				break
			}
		}
		runtime.Gosched()
		running.Add(-1)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 300 {
				switch (i + j) % 4 {
				case 0:
					for p.Submit(enter) != nil {
						runtime.Gosched()
					}
				case 1:
					p.Resume(enter)
				case 2:
					if err := p.Acquire(context.Background()); err != nil {
						panic(err)
					}
					enter()
					p.Release()
				case 3:
					p.Reacquire()
					enter()
					p.Release()
				}
			}
		})
	}
	wg.Wait()
	shutdown(t, p)
	assert.LessOrEqual(t, most.Load(), int64(workers))
	assert.Positive(t, most.Load())
	assert.Zero(t, running.Load())
}

func TestAcquireGivesUpWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		require.NoError(t, p.Acquire(context.Background()))

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, p.Acquire(ctx), context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))

		s := p.Stats()
		assert.Zero(t, s.WaitingNew, "the waiter left the queue")
		assert.Equal(t, 1, s.BusyInline, "only the first holder holds a slot")

		p.Release()
		require.NoError(t, p.Acquire(context.Background()), "no slot was lost")
		p.Release()
		shutdown(t, p)
	})
}

func TestAcquireWithDoneContextAndNoFreeSlot(t *testing.T) {
	p := pool.New(1)
	require.NoError(t, p.Acquire(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Acquire(ctx), context.Canceled)
	assert.Zero(t, p.Stats().WaitingNew)
	p.Release()
	// A done context never takes a slot, even a free one.
	assert.ErrorIs(t, p.Acquire(ctx), context.Canceled)
	assert.ErrorIs(t, p.AcquireAt(ctx, pool.High), context.Canceled)
	assert.ErrorIs(t, p.AcquireAt(ctx, pool.Low), context.Canceled)
	assert.Zero(t, p.Stats().Busy)
	shutdown(t, p)
}

// TestNilContextPanicsBeforeLocking: a nil context is named, and leaves the pool usable.
func TestNilContextPanicsBeforeLocking(t *testing.T) {
	p := pool.New(1)
	require.NoError(t, p.Acquire(context.Background())) // busy: Acquire would queue
	//lint:ignore SA1012 the nil context is the misuse under test
	require.PanicsWithValue(t, "pool: Acquire called with a nil Context", func() { p.Acquire(nil) })
	//lint:ignore SA1012 the nil context is the misuse under test
	require.PanicsWithValue(t, "pool: AcquireAt called with a nil Context", func() { p.AcquireAt(nil, pool.High) })
	//lint:ignore SA1012 the nil context is the misuse under test
	require.PanicsWithValue(t, "pool: Shutdown called with a nil Context", func() { p.Shutdown(nil) })
	p.Release()
	require.NoError(t, p.Submit(func() {}))
	require.Zero(t, p.Stats().WaitingNew)
	shutdown(t, p)
}

func TestTryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		require.True(t, p.TryAcquire(), "a free slot is taken")
		require.False(t, p.TryAcquire(), "no slot is free: TryAcquire does not wait")

		release := make(chan struct{})
		require.NoError(t, p.Submit(func() { <-release }))
		require.Equal(t, 1, p.Stats().QueuedNew)
		p.Release()
		synctest.Wait()
		require.False(t, p.TryAcquire(), "the freed slot went to the queued task")
		require.Equal(t, 1, p.Stats().BusyWorkers)

		close(release)
		synctest.Wait()
		require.True(t, p.TryAcquire(), "free again once the task ended")
		p.Release()

		require.NoError(t, p.Shutdown(context.Background()))
		require.False(t, p.TryAcquire(), "refused once Shutdown began")
	})
}

// TestAcquireGivingUpKeepsTheOrder checks that waiters that give up leave the queue
// without disturbing the order of the others.
func TestAcquireGivingUpKeepsTheOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		require.NoError(t, p.Acquire(context.Background()))
		var r recorder
		var cancels []context.CancelFunc
		for i := range 40 {
			ctx, cancel := context.WithCancel(context.Background())
			cancels = append(cancels, cancel)
			if i%2 == 0 {
				require.NoError(t, p.Submit(r.task(fmt.Sprint("task ", i))))
			}
			go func() {
				if err := p.Acquire(ctx); err != nil {
					r.add(fmt.Sprint("gave up ", i))
					return
				}
				r.add(fmt.Sprint("acquire ", i))
				p.Release()
			}()
			synctest.Wait()
		}
		var want []string
		for i, cancel := range cancels {
			if i%4 != 0 {
				cancel()
				synctest.Wait()
				want = append(want, fmt.Sprint("gave up ", i))
			}
		}
		for i := range 40 {
			if i%2 == 0 {
				want = append(want, fmt.Sprint("task ", i))
			}
			if i%4 == 0 {
				want = append(want, fmt.Sprint("acquire ", i))
			}
		}
		s := p.Stats()
		assert.Equal(t, 10, s.WaitingNew)
		assert.Equal(t, 20, s.QueuedNew)

		p.Release()
		shutdown(t, p)
		assert.Equal(t, want, r.list())
	})
}

// TestAcquireRacingItsContext ends a waiter's context about when the slot is handed to
// it: either Acquire returns nil and the caller holds the slot, or it returns the
// context's error and holds nothing. Both are seen over the rounds.
func TestAcquireRacingItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		var got, gaveUp int
		for round := range 200 {
			require.NoError(t, p.Acquire(context.Background()))
			ctx, cancel := context.WithCancel(context.Background())
			errs := make(chan error)
			go func() { errs <- p.Acquire(ctx) }()
			synctest.Wait()
			if round%2 == 0 {
				cancel()
				p.Release()
			} else {
				p.Release()
				cancel()
			}
			if err := <-errs; err != nil {
				require.ErrorIs(t, err, context.Canceled)
				require.Zero(t, p.Stats().Busy)
				gaveUp++
				continue
			}
			require.Equal(t, 1, p.Stats().BusyInline)
			p.Release()
			got++
		}
		shutdown(t, p)
		assert.Positive(t, got)
		assert.Positive(t, gaveUp)
	})
}

// TestAcquireAfterWaitYields checks that a goroutine handed a slot after waiting in
// Acquire does not run ahead of a goroutine that was already runnable: Go's scheduler
// would run it next, on the releaser's time slice, and CPU-bound work passed from slot
// holder to slot holder would keep everything else off the processor. It does so on one
// processor, where the order is the scheduler's: Reacquire is the control, which does run
// first. The race detector randomizes that order, hence the counts.
// TestReleaseHandsOverAtOnce: on one processor, a goroutine waiting in Reacquire that is
// handed the slot runs before the releaser goes on.
func TestReleaseHandsOverAtOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.New(1)
	defer shutdown(t, p)
	const trials = 40
	waiterFirst := 0
	for range trials {
		require.NoError(t, p.Acquire(context.Background()))
		var r recorder
		done := make(chan struct{})
		go func() {
			p.Reacquire()
			r.add("waiter")
			p.Release()
			close(done)
		}()
		for p.Stats().WaitingResumed == 0 {
			runtime.Gosched()
		}
		p.Release()
		r.add("releaser")
		<-done
		if r.list()[0] == "waiter" {
			waiterFirst++
		}
	}
	t.Logf("the waiter ran first in %d of %d trials", waiterFirst, trials)
	if !raceEnabled { // the race detector randomizes scheduling
		require.GreaterOrEqual(t, waiterFirst, trials*85/100, "the slot ran at once")
	}
}

func TestAcquireAfterWaitYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.New(1)
	defer shutdown(t, p)
	trial := func(take func()) (outsideFirst bool) {
		require.NoError(t, p.Acquire(context.Background()))
		var r recorder
		acquired := make(chan struct{})
		go func() {
			take()
			r.add("slot")
			p.Release()
			close(acquired)
		}()
		for s := p.Stats(); s.WaitingNew+s.WaitingResumed == 0; s = p.Stats() {
			runtime.Gosched()
		}
		outside := make(chan struct{})
		go func() { r.add("outside"); close(outside) }() // runnable, not yet run
		p.Release()                                      // wakes the waiter
		<-acquired
		<-outside
		return r.list()[0] == "outside"
	}
	// free runs take on a free slot, with a goroutine made runnable just before.
	free := func(take func()) (outsideFirst bool) {
		var r recorder
		outside := make(chan struct{})
		go func() { r.add("outside"); close(outside) }()
		take()
		r.add("slot")
		p.Release()
		<-outside
		return r.list()[0] == "outside"
	}
	const trials = 40
	var afterAcquire, afterReacquire, lowFree, normalFree int
	for range trials {
		if trial(func() { require.NoError(t, p.Acquire(context.Background())) }) {
			afterAcquire++
		}
		if trial(func() { require.NoError(t, p.Reacquire()) }) {
			afterReacquire++
		}
		if free(func() { require.NoError(t, p.AcquireAt(context.Background(), pool.Low)) }) {
			lowFree++
		}
		if free(func() { require.NoError(t, p.Acquire(context.Background())) }) {
			normalFree++
		}
	}
	t.Logf("the outside goroutine ran first in %d of %d trials after a wait in Acquire, %d after "+
		"a wait in Reacquire, %d on a free slot at Low, %d on a free slot at Normal",
		afterAcquire, trials, afterReacquire, lowFree, normalFree)
	require.GreaterOrEqual(t, afterAcquire, trials*85/100, "new work handed a slot ran ahead")
	require.GreaterOrEqual(t, lowFree, trials*85/100, "Low work on a free slot ran ahead")
	if !raceEnabled {
		require.LessOrEqual(t, afterReacquire, trials*15/100, "the control: resumed work runs first")
		require.LessOrEqual(t, normalFree, trials*15/100, "the control: Normal work on a free slot runs at once")
	}
}

// TestLowTaskYields checks that a task submitted at priority Low lets a goroutine that
// was runnable before it run first, on one processor; a Normal task is the control.
func TestLowTaskYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.New(1)
	defer shutdown(t, p)
	trial := func(pr pool.Priority) (outsideFirst bool) {
		var r recorder
		ran := make(chan struct{})
		task := func() {
			r.add("task")
			close(ran)
		}
		outside := make(chan struct{})
		go func() { r.add("outside"); close(outside) }()
		require.NoError(t, p.SubmitAt(pr, task)) // the worker's wake-up runs next
		<-ran
		<-outside
		return r.list()[0] == "outside"
	}
	const trials = 40
	var low, normal int
	for range trials {
		if trial(pool.Low) {
			low++
		}
		if trial(pool.Normal) {
			normal++
		}
	}
	t.Logf("the outside goroutine ran first in %d of %d Low trials, %d Normal", low, trials, normal)
	require.GreaterOrEqual(t, low, trials*85/100, "a Low task ran ahead")
	if !raceEnabled {
		require.LessOrEqual(t, normal, trials*15/100, "the control: a Normal task runs at once")
	}
}

func TestReacquireNeverRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(2, pool.WithQueueSize(0))
		require.NoError(t, p.Acquire(context.Background()))
		require.NoError(t, p.Acquire(context.Background()))
		reacquired, release := make(chan struct{}), make(chan struct{})
		go func() {
			p.Reacquire() // queued, past a new-work bound of 0
			close(reacquired)
			<-release
			p.Release()
		}()
		synctest.Wait()
		assert.Equal(t, 1, p.Stats().WaitingResumed)

		shut := make(chan error)
		go func() { shut <- p.Shutdown(context.Background()) }()
		synctest.Wait()
		p.Release() // the slot goes to the waiter, during the drain
		<-reacquired
		close(release)
		synctest.Wait()

		p.Reacquire() // a free slot, during the drain: not refused
		assert.Equal(t, 2, p.Stats().BusyInline)
		p.Release()
		synctest.Wait()
		select {
		case <-shut:
			t.Fatal("Shutdown returned while a slot was held")
		default:
		}
		p.Release()
		require.NoError(t, <-shut)
	})
}

// TestAcquireHammer has many goroutines take and give back slots, with contexts that end,
// under -race: every slot must be back at the end.
func TestAcquireHammer(t *testing.T) {
	const workers = 2
	p := pool.New(workers, pool.WithQueueSize(1<<10))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if (i+j)%3 == 0 {
					ctx, cancel = context.WithCancel(ctx)
					go cancel()
				}
				if p.Acquire(ctx) == nil {
					runtime.Gosched()
					p.Release()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	assert.Zero(t, s.Busy)
	assert.Zero(t, s.WaitingNew)
	for range workers {
		require.NoError(t, p.Acquire(context.Background()))
	}
	assert.Equal(t, workers, p.Stats().BusyInline)
	for range workers {
		p.Release()
	}
	shutdown(t, p)
}

func TestReleaseByAnotherGoroutine(t *testing.T) {
	p := pool.New(1)
	require.NoError(t, p.Acquire(context.Background()))
	done := make(chan struct{})
	go func() {
		p.Release()
		close(done)
	}()
	<-done
	assert.Zero(t, p.Stats().Busy)
	shutdown(t, p)
}

func TestReleasedSlotGoesToQueuedTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(2)
		require.NoError(t, p.Acquire(context.Background()))
		require.NoError(t, p.Acquire(context.Background()))
		var ran atomic.Int64
		for range 3 {
			require.NoError(t, p.Submit(func() { ran.Add(1) }))
		}
		synctest.Wait()
		assert.Zero(t, ran.Load(), "no slot is free")
		p.Release()
		synctest.Wait()
		assert.Equal(t, int64(3), ran.Load(), "a worker took the freed slot and ran the queue")
		s := p.Stats()
		assert.Equal(t, 1, s.BusyInline)
		assert.Zero(t, s.BusyWorkers)
		p.Release()
		shutdown(t, p)
	})
}

func TestErrorsText(t *testing.T) {
	assert.Equal(t, "pool: full", pool.ErrFull.Error())
	assert.Equal(t, "pool: closed", pool.ErrClosed.Error())
	assert.True(t, strings.HasPrefix(pool.ErrFull.Error(), "pool: "))
}
