package continuation

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
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

// setup returns a scheduler on a pool of the given size, shut down when the test ends.
func setup(t *testing.T, workers int, opts ...Option) (*Scheduler, *pool.Pool) {
	t.Helper()
	p := pool.New(workers)
	s := NewScheduler(p, opts...)
	t.Cleanup(func() {
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	return s, p
}

// occupy holds one of p's slots with a task until release is called.
func occupy(t *testing.T, p *pool.Pool) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	busy := make(chan struct{})
	require.NoError(t, p.Submit(func() { close(busy); <-gate }))
	<-busy
	return func() { close(gate) }
}

// mode runs a test once with Spawn and once with Run.
type mode struct {
	name string
	// start begins body as a continuation and returns a future of its result.
	start func(s *Scheduler, ctx context.Context, body func(*C) (int, error), opts ...SpawnOption) *future.Future[int]
}

var modes = []mode{
	{"Spawn", Spawn[int]},
	{"Run", func(s *Scheduler, ctx context.Context, body func(*C) (int, error), opts ...SpawnOption) *future.Future[int] {
		return future.Go(context.Background(), func(context.Context) (int, error) {
			return Run(s, ctx, body, opts...)
		})
	}},
}

func forModes(t *testing.T, test func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { test(t, m) })
	}
}

func get[T any](t *testing.T, f *future.Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the continuation did not end")
	return v, err
}

// allEnded waits until no continuation is alive: a spawned one ends after its future has
// settled, once the future's callbacks have run.
func allEnded(t *testing.T, s *Scheduler) {
	t.Helper()
	waitFor(t, "every continuation ended", func() bool { return s.Stats().Alive == 0 })
}

// waitFor polls cond; it is for states reached by other goroutines, outside synctest.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
}

func TestResult(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 2)
		v, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return 7, nil }))
		require.NoError(t, err)
		require.Equal(t, 7, v)

		_, err = get(t, m.start(s, context.Background(), func(*C) (int, error) { return 0, errBoom }))
		require.ErrorIs(t, err, errBoom)

		allEnded(t, s)
		st := s.Stats()
		require.Equal(t, int64(1), st.Completed)
		require.Equal(t, int64(1), st.Failed)
		require.Zero(t, st.Alive)
	})
}

func TestRunDirect(t *testing.T) {
	s, p := setup(t, 1)
	v, err := Run(s, context.Background(), func(c *C) (string, error) {
		require.Equal(t, 1, p.Stats().BusyInline, "the caller holds the slot while the body runs")
		return "inline", nil
	})
	require.NoError(t, err)
	require.Equal(t, "inline", v)
	require.Zero(t, p.Stats().BusyInline, "and gives it back")
}

// TestSuspendFreesTheSlot: on a pool of one worker, a suspended body lets others run.
func TestSuspendFreesTheSlot(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		gate, open := future.New[string]()
		waiting := m.start(s, context.Background(), func(c *C) (int, error) {
			v, err := Await(c, gate)
			return len(v), err
		})
		waitFor(t, "the first body suspends", func() bool { return s.Stats().Suspended == 1 })
		for i := range 5 {
			v, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return i, nil }))
			require.NoError(t, err)
			require.Equal(t, i, v, "others run while the first waits")
		}
		open("hello", nil)
		v, err := get(t, waiting)
		require.NoError(t, err)
		require.Equal(t, 5, v, "the first is resumed with the value")
	})
}

func TestAwaitSettledDoesNotSuspend(t *testing.T) {
	s, p := setup(t, 1)
	_, err := get(t, Spawn(s, context.Background(), func(c *C) (int, error) {
		for i := range 100 {
			if err := c.Await(future.Ready(i)); err != nil {
				return 0, err
			}
		}
		_, err := Await(c, future.Failed[int](errBoom))
		require.ErrorIs(t, err, errBoom)
		return 0, nil
	}))
	require.NoError(t, err)
	// The future settles inside the step; the worker counts the step just after.
	waitFor(t, "the step ends", func() bool { return p.Stats().Completed > 0 })
	st := p.Stats()
	require.Equal(t, uint64(1), st.Completed, "the body ran in a single step")
	require.Zero(t, st.QueuedResumed+st.Busy, "and nothing is left to run")
}

func TestFailedFutureResumesWithError(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		f, resolve := future.New[int]()
		done := m.start(s, context.Background(), func(c *C) (int, error) {
			_, err := Await(c, f)
			return 0, err
		})
		waitFor(t, "suspended", func() bool { return s.Stats().Suspended == 1 })
		resolve(0, errBoom)
		_, err := get(t, done)
		require.ErrorIs(t, err, errBoom)
	})
}

func TestPanic(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		f, resolve := future.New[int]()
		done := m.start(s, context.Background(), func(c *C) (int, error) {
			_ = c.Await(f)
			panic("body bug")
		})
		resolve(1, nil)
		_, err := get(t, done)
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "body bug", pe.Value)
		require.Contains(t, string(pe.Stack), "continuation_test.go")

		v, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return 1, nil }))
		require.NoError(t, err, "the worker is healthy after a panic")
		require.Equal(t, 1, v)
		allEnded(t, s)
		require.Equal(t, int64(1), s.Stats().Panicked)
	})
}

func TestContextEndResumes(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		never, _ := future.New[int]()
		ctx, cancel := context.WithCancel(context.Background())
		var awaits []error
		done := m.start(s, ctx, func(c *C) (int, error) {
			awaits = append(awaits, c.Await(never))
			// A body that ignores its context: later Awaits return at once.
			awaits = append(awaits, c.Await(never))
			awaits = append(awaits, c.Await(future.Ready(1)))
			return 42, nil
		})
		waitFor(t, "suspended", func() bool { return s.Stats().Suspended == 1 })
		cancel()
		v, err := get(t, done)
		require.NoError(t, err)
		require.Equal(t, 42, v, "the body decides what to do")
		require.ErrorIs(t, awaits[0], context.Canceled)
		require.ErrorIs(t, awaits[1], context.Canceled)
		require.NoError(t, awaits[2], "a settled future still wins")
	})
}

// TestWakeRaces races each wake-up of a suspended body against the others: its future's
// settling, its context's end and the scheduler giving up. Every Await must end, once,
// with nil exactly when its future settled first or alone (a settled future wins), and no
// waker may be left blocked: a second wake-up of one suspension would block Run's waker.
func TestWakeRaces(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		for i := range 300 {
			p := pool.New(1)
			s := NewScheduler(p)
			f, resolve := future.New[int]()
			ctx, cancel := context.WithCancel(context.Background())
			suspended := make(chan struct{})
			var got error
			done := m.start(s, ctx, func(c *C) (int, error) {
				close(suspended) // Await follows at once; the racers may beat it
				got = c.Await(f)
				return 0, nil
			})
			<-suspended
			var racers sync.WaitGroup
			racers.Go(func() { resolve(1, nil) })
			if i%2 == 0 {
				racers.Go(cancel)
			}
			if i%3 == 0 {
				racers.Go(func() {
					ctx, stop := context.WithCancel(context.Background())
					stop() // give up at once
					_ = s.Shutdown(ctx)
				})
			}
			racers.Wait() // a waker blocked on a second token would hang here
			_, err := get(t, done)
			require.NoError(t, err)
			if got != nil {
				require.True(t, errors.Is(got, context.Canceled) || errors.Is(got, ErrStopped), "round %d: %v", i, got)
			}
			_, settled := f.Peek()
			require.True(t, settled)
			cancel()
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		}
	})
}

// TestAbandonedWakes: with future.DetectAbandoned on, a body suspended on a future whose
// resolver is dropped is woken, once the collector finds it, with future.ErrAbandoned,
// instead of waiting for ever.
func TestAbandonedWakes(t *testing.T) {
	was := future.DetectAbandoned(true)
	t.Cleanup(func() { future.DetectAbandoned(was) })
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		suspended := make(chan struct{})
		done := m.start(s, context.Background(), func(c *C) (int, error) {
			f, _ := future.New[int]() // a lost resolver: the bug this catches
			close(suspended)
			return Await(c, f)
		})
		<-suspended
		for range 200 {
			runtime.GC()
			if _, ok := done.Peek(); ok {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		_, err := get(t, done)
		require.ErrorIs(t, err, future.ErrAbandoned)
	})
}

func TestMisuse(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 2)
		var leaked *C
		_, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			leaked = c
			return 0, nil
		}))
		require.NoError(t, err)
		require.PanicsWithValue(t, "continuation: Await called after the body returned", func() {
			leaked.Await(future.Ready(1))
		})

		never, _ := future.New[int]()
		started := make(chan *C)
		second := make(chan any)
		done := m.start(s, context.Background(), func(c *C) (int, error) {
			started <- c
			return Await(c, never)
		})
		c := <-started
		waitFor(t, "suspended", func() bool { return s.Stats().Suspended == 1 })
		go func() {
			defer func() { second <- recover() }()
			c.Await(future.Ready(1))
		}()
		require.Equal(t, "continuation: Await called while the continuation is already waiting "+
			"(in Await or Blocking, or its *C was shared with another goroutine)", <-second)
		never.Cancel()
		_, err = get(t, done)
		require.ErrorIs(t, err, context.Canceled, "the first Await goes on unharmed")
	})
	s, _ := setup(t, 1)
	ctx := context.Background()
	require.PanicsWithValue(t, "continuation: Spawn called with a nil body", func() { Spawn[int](s, ctx, nil) })
	require.PanicsWithValue(t, "continuation: Run called with a nil body", func() { Run[int](s, ctx, nil) })
	require.PanicsWithValue(t, "continuation: NewScheduler called with a nil *pool.Pool", func() { NewScheduler(nil) })
	_, err := Run(s, ctx, func(c *C) (int, error) {
		require.PanicsWithValue(t, "continuation: Await called with a nil Awaitable", func() { c.Await(nil) })
		require.PanicsWithValue(t, "continuation: Await called with a nil *future.Future", func() { Await[int](c, nil) })
		return 0, nil
	})
	require.NoError(t, err)
}

func TestAdmission(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1, WithMaxAlive(2))
		gate, open := future.New[int]()
		wait := func(c *C) (int, error) { return Await(c, gate) }
		a := m.start(s, context.Background(), wait)
		b := m.start(s, context.Background(), wait)
		waitFor(t, "two suspended", func() bool { return s.Stats().Suspended == 2 })

		_, err := get(t, m.start(s, context.Background(), wait))
		require.ErrorIs(t, err, ErrOverloaded)
		require.EqualError(t, err, "continuation: overloaded: the limit of 2 alive continuations is reached")
		require.Equal(t, int64(1), s.Stats().Overloaded)

		open(3, nil)
		for _, f := range []*future.Future[int]{a, b} {
			v, err := get(t, f)
			require.NoError(t, err)
			require.Equal(t, 3, v)
		}
	})
}

// TestPriority checks that continuations are admitted by priority, High before older
// Normal ones before older Low ones, and that an unknown priority is refused by name.
func TestPriority(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 1)
		release := occupy(t, p)

		var mu sync.Mutex
		var order []string
		body := func(name string) func(*C) (int, error) {
			return func(*C) (int, error) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return 0, nil
			}
		}
		queued := func(n int) func() bool {
			return func() bool { st := p.Stats(); return st.QueuedNew+st.WaitingNew == n }
		}
		low := m.start(s, context.Background(), body("low"), WithPriority(pool.Low))
		waitFor(t, "low queued", queued(1))
		normal := m.start(s, context.Background(), body("normal"))
		waitFor(t, "normal queued", queued(2))
		high := m.start(s, context.Background(), body("high"), WithPriority(pool.High))
		waitFor(t, "high queued", queued(3))
		release()
		for _, f := range []*future.Future[int]{low, normal, high} {
			_, err := get(t, f)
			require.NoError(t, err)
		}
		require.Equal(t, []string{"high", "normal", "low"}, order)

		// Low on a free slot: Run takes it through AcquireAt, which yields, not TryAcquire.
		v, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return 7, nil }, WithPriority(pool.Low)))
		require.NoError(t, err)
		require.Equal(t, 7, v)
	})
	require.PanicsWithValue(t, "continuation: WithPriority called with unknown pool.Priority 3",
		func() { WithPriority(pool.Low + 1) })
}

func TestQueueFull(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		p := pool.New(1, pool.WithQueueSize(0))
		s := NewScheduler(p)
		defer func() {
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		}()
		release := occupy(t, p)
		_, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return 0, nil }))
		require.ErrorIs(t, err, ErrOverloaded)
		require.ErrorIs(t, err, pool.ErrFull)
		release()
		st := s.Stats()
		require.Zero(t, st.Alive, "a refused continuation is not alive")
		require.Equal(t, int64(1), st.Overloaded)
		require.Equal(t, int64(1), st.Ended())
	})
}

func TestClosed(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		require.NoError(t, s.Shutdown(context.Background()))
		_, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return 0, nil }))
		require.ErrorIs(t, err, ErrClosed)
	})
}

// syncBuffer is a log sink that the watchdog's goroutine and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStepBudget: a step that holds its slot past the budget is reported while it still
// runs, within the budget and a tenth, with where it is stuck; it is counted once, and
// reported again at 2, 4... budgets while it goes on. Suspended time never counts.
func TestStepBudget(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			p := pool.New(1)
			s := NewScheduler(p, WithStepBudget(time.Second), WithLogger(logger))

			slow, resolve := future.New[int]()
			go func() {
				time.Sleep(time.Hour)
				resolve(1, nil)
			}()
			_, err := m.start(s, context.Background(), func(c *C) (int, error) {
				return Await(c, slow) // an hour suspended: never counts
			}, WithLabel("patient")).Await(context.Background())
			require.NoError(t, err)
			require.Zero(t, s.Stats().StepOverruns, "suspended time is not step time")

			gate := make(chan struct{})
			hog := m.start(s, context.Background(), func(c *C) (int, error) {
				<-gate // holds the slot while it waits: a step overrun
				return 0, nil
			}, WithLabel("hog"))
			time.Sleep(1150 * time.Millisecond)
			synctest.Wait()
			require.Equal(t, int64(1), s.Stats().StepOverruns, "counted while it runs")
			out := logs.String()
			require.Contains(t, out, "step running past its budget")
			require.Contains(t, out, "label=hog")
			require.Contains(t, out, "ran=1.1s")
			require.Contains(t, out, "continuation_test.go", "with the stack of the step")
			require.Contains(t, out, "the step is blocked while it holds its slot")
			require.NotContains(t, out, "patient")

			time.Sleep(time.Second)
			synctest.Wait()
			require.Contains(t, logs.String(), "step still running past its budget", "reported again")
			require.Contains(t, logs.String(), "ran=2s")
			close(gate)
			_, err = hog.Await(context.Background())
			require.NoError(t, err)
			require.Equal(t, int64(1), s.Stats().StepOverruns, "one step, counted once")

			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

// TestStepBudgetHints: a step that waits holding its slot is reported with what it waits
// on: a (*future.Future).Await instead of continuation.Await, or a Run inside the body
// with a context not the body's (not refused, so it waits for a slot while holding one,
// here until its context ends).
func TestStepBudgetHints(t *testing.T) {
	cases := []struct {
		name string
		body func(s *Scheduler) func(*C) (int, error)
		hint string
	}{
		{"future.Await", func(*Scheduler) func(*C) (int, error) {
			return func(c *C) (int, error) {
				slow := future.Go(context.Background(), func(context.Context) (int, error) {
					time.Sleep(5 * time.Second)
					return 1, nil
				})
				return slow.Await(c.Context()) // the mistake
			}
		}, "the step waits in (*future.Future).Await, which holds its slot"},
		{"nested Run", func(s *Scheduler) func(*C) (int, error) {
			return func(c *C) (int, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_, err := Run(s, ctx, func(*C) (int, error) { return 1, nil })
				if !errors.Is(err, context.DeadlineExceeded) {
					return 0, fmt.Errorf("got %v, want it to wait until its context ended", err)
				}
				return 1, nil
			}
		}, "the step waits for a slot in a Run inside the body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forModes(t, func(t *testing.T, m mode) {
				synctest.Test(t, func(t *testing.T) {
					var logs syncBuffer
					p := pool.New(1)
					s := NewScheduler(p, WithStepBudget(time.Second),
						WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
					_, err := m.start(s, context.Background(), tc.body(s)).Await(context.Background())
					require.NoError(t, err)
					require.Contains(t, logs.String(), tc.hint)
					require.NoError(t, s.Shutdown(context.Background()))
					require.NoError(t, p.Shutdown(context.Background()))
				})
			})
		})
	}
}

func TestSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := NewScheduler(p)
		gate, open := future.New[int]()
		a := Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) }, WithLabel("GET /a"))
		time.Sleep(time.Second)
		b := Spawn(s, context.Background(), func(c *C) (int, error) {
			time.Sleep(2 * time.Second)
			return Await(c, gate)
		}, WithLabel("GET /b"))
		time.Sleep(time.Second)
		synctest.Wait()

		snap := s.Snapshot()
		require.Len(t, snap, 2)
		require.Equal(t, Info{Label: "GET /a", State: Suspended, Age: 2 * time.Second, InState: 2 * time.Second, Steps: 1}, snap[0])
		require.Equal(t, Info{Label: "GET /b", State: Running, Age: time.Second, InState: time.Second}, snap[1])
		st := s.Stats()
		require.Equal(t, Stats{Alive: 2, Running: 1, Suspended: 1}, st)

		open(1, nil)
		_, err := a.Await(context.Background())
		require.NoError(t, err)
		_, err = b.Await(context.Background())
		require.NoError(t, err)
		synctest.Wait() // a spawned continuation is counted out after its future's callbacks
		require.Empty(t, s.Snapshot())
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
}

func TestShutdownWaits(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := NewScheduler(p)
			slow, resolve := future.New[int]()
			go func() {
				time.Sleep(time.Minute)
				resolve(5, nil)
			}()
			done := m.start(s, context.Background(), func(c *C) (int, error) { return Await(c, slow) })
			synctest.Wait()
			start := time.Now()
			require.NoError(t, s.Shutdown(context.Background()))
			require.Equal(t, time.Minute, time.Since(start), "Shutdown waited for the suspended body")
			v, err := done.Await(context.Background())
			require.NoError(t, err)
			require.Equal(t, 5, v)
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

func TestShutdownGivesUp(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(2)
			s := NewScheduler(p)
			never, _ := future.New[int]()
			var results []*future.Future[int]
			var afterStop atomic.Int32
			for range 50 {
				results = append(results, m.start(s, context.Background(), func(c *C) (int, error) {
					err := c.Await(never)
					if errors.Is(c.Await(future.Ready(1)), ErrStopped) {
						afterStop.Add(1) // every later Await returns ErrStopped at once
					}
					return 0, err
				}))
			}
			synctest.Wait()
			require.Equal(t, 50, s.Stats().Suspended)

			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			err := s.Shutdown(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.ErrorContains(t, err, "gave up on 50 alive continuations")
			require.Equal(t, time.Second, time.Since(start))
			for _, f := range results {
				_, err := f.Await(context.Background())
				require.ErrorIs(t, err, ErrStopped)
			}
			require.Equal(t, int32(50), afterStop.Load())
			synctest.Wait() // a spawned one is counted out after its future's callbacks
			require.Zero(t, s.Stats().Alive)
			require.NoError(t, s.Shutdown(context.Background()), "a second Shutdown waits again, and finds none")
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

// TestAwaitEachOther: a continuation's future is an Awaitable like any other.
func TestAwaitEachOther(t *testing.T) {
	s, _ := setup(t, 2)
	gate, open := future.New[int]()
	prev := Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) })
	for range 500 {
		before := prev
		prev = Spawn(s, context.Background(), func(c *C) (int, error) {
			v, err := Await(c, before)
			return v + 1, err
		})
	}
	open(0, nil)
	v, err := get(t, prev)
	require.NoError(t, err)
	require.Equal(t, 500, v)
}

// TestLongChain suspends one body 10,000 times, with futures settled by another goroutine
// at about the moment the body awaits them: the hand-off race, over and over.
func TestLongChain(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 2)
		resolvers := make(chan func(int, error) bool)
		go func() {
			for r := range resolvers {
				r(1, nil)
			}
		}()
		defer close(resolvers)
		var inside atomic.Int32
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			sum := 0
			for range 10_000 {
				require.Equal(t, int32(1), inside.Add(1), "the body runs on one goroutine at a time")
				f, resolve := future.New[int]()
				resolvers <- resolve
				inside.Add(-1)
				v, err := Await(c, f)
				if err != nil {
					return sum, err
				}
				sum += v
			}
			return sum, nil
		}))
		require.NoError(t, err)
		require.Equal(t, 10_000, v)
		require.LessOrEqual(t, p.Stats().BusyInline+p.Stats().BusyWorkers, 2)
	})
}

// TestOneWorkerManySuspended: one worker holds 10,000 suspended continuations.
func TestOneWorkerManySuspended(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		const n = 10_000
		s, _ := setup(t, 1, WithMaxAlive(n))
		gate, open := future.New[int]()
		results := make([]*future.Future[int], n)
		for i := range results {
			results[i] = m.start(s, context.Background(), func(c *C) (int, error) {
				v, err := Await(c, gate)
				return v + i, err
			})
		}
		waitFor(t, "all suspended", func() bool { return s.Stats().Suspended == n })
		open(1, nil)
		for i, f := range results {
			v, err := get(t, f)
			require.NoError(t, err)
			require.Equal(t, i+1, v)
		}
		allEnded(t, s)
		require.Equal(t, int64(n), s.Stats().Completed)
	})
}

// TestSlotBound runs Spawn and Run bodies together and checks that no more execute at
// once than the pool has slots.
func TestSlotBound(t *testing.T) {
	const workers = 3
	s, _ := setup(t, workers)
	var running, most atomic.Int32
	body := func(c *C) (int, error) {
		for range 20 {
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(10 * time.Microsecond)
			running.Add(-1)
			if err := c.Await(future.Go(context.Background(), func(context.Context) (int, error) {
				return 0, nil
			})); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = Run(s, context.Background(), body)
			} else {
				_, err = get(t, Spawn(s, context.Background(), body))
			}
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.LessOrEqual(t, most.Load(), int32(workers), "more bodies executed at once than slots")
	require.Greater(t, most.Load(), int32(1), "the load ran bodies in parallel")
}

func TestStateString(t *testing.T) {
	for st, want := range map[State]string{Queued: "queued", Running: "running", Suspended: "suspended", State(42): "State(42)"} {
		require.Equal(t, want, st.String())
	}
	b, err := Suspended.MarshalText()
	require.NoError(t, err)
	require.Equal(t, "suspended", string(b))
	require.True(t, strings.HasPrefix(ErrStopped.Error(), "continuation: "))
}
