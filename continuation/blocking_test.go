package continuation

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestBlockingFreesTheSlot: on a pool of one slot, a body blocked in fn lets others run,
// is counted as suspended meanwhile, and gets fn's result.
func TestBlockingFreesTheSlot(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 1)
		gate := make(chan int)
		blocked := m.start(s, context.Background(), func(c *C) (int, error) {
			return Blocking(c, func() (int, error) {
				return <-gate, errBoom // a blocking call that holds no slot
			})
		})
		// fn holds no slot: the test hangs here if it did.
		waitFor(t, "the body blocks, holding no slot", func() bool {
			return s.Stats().Suspended == 1 && p.Stats().Busy == 0
		})
		require.Equal(t, Suspended, s.Snapshot()[0].State)
		for i := range 5 {
			v, err := get(t, m.start(s, context.Background(), func(*C) (int, error) { return i, nil }))
			require.NoError(t, err)
			require.Equal(t, i, v, "others run while fn blocks")
		}
		gate <- 42
		v, err := get(t, blocked)
		require.ErrorIs(t, err, errBoom, "fn's error is returned")
		require.Equal(t, 42, v, "and its value")
	})
}

// TestBlockingRetakesTheSlot: the body goes on holding a slot after Blocking, and can
// await and block again.
func TestBlockingRetakesTheSlot(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 1)
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			sum := 0
			for i := range 3 {
				n, err := Blocking(c, func() (int, error) {
					// Under Spawn, fn's goroutine starts as the step ends: the worker gives
					// the slot back a moment later. Held by fn, it would never come back.
					for deadline := time.Now().Add(10 * time.Second); p.Stats().Busy != 0; runtime.Gosched() {
						if time.Now().After(deadline) {
							return 0, errBoom
						}
					}
					return i, nil
				})
				if err != nil {
					return 0, err
				}
				if p.Stats().Busy != 1 {
					return 0, errBoom
				}
				sum += n
				x, err := Await(c, future.Go(c.Context(), func(context.Context) (int, error) { return 10, nil }))
				if err != nil {
					return 0, err
				}
				sum += x
			}
			return sum, nil
		}))
		require.NoError(t, err, "fn ran without a slot, and the body went on with one")
		require.Equal(t, 33, v)
	})
}

// TestBlockingPanic: a panic in fn is the body's: its deferred calls run holding a slot,
// it can recover, and if it does not the continuation fails with a *future.PanicError.
func TestBlockingPanic(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 1)
		busyInDefer := -1
		_, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			defer func() { busyInDefer = p.Stats().Busy }()
			return Blocking(c, func() (int, error) { panic("fn broke") })
		}))
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "fn broke", pe.Value)
		require.Contains(t, string(pe.Stack), "blocking_test.go", "the stack shows where fn panicked")
		require.Equal(t, 1, busyInDefer, "the body's deferred calls hold a slot")
		allEnded(t, s)
		require.Equal(t, int64(1), s.Stats().Panicked)

		v, err := get(t, m.start(s, context.Background(), func(c *C) (v int, err error) {
			defer func() {
				if recover() != nil {
					v, err = 7, nil
				}
			}()
			return Blocking(c, func() (int, error) { panic("fn broke") })
		}))
		require.NoError(t, err, "the body recovered fn's panic")
		require.Equal(t, 7, v)
		waitFor(t, "the slot is given back", func() bool { return p.Stats().Busy == 0 })
	})
}

// TestBlockingContextEnd: fn is the body's code, so the context's end does not interrupt
// Blocking (fn sees it through c.Context()); the body goes on once fn returns.
func TestBlockingContextEnd(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		ctx, cancel := context.WithCancel(context.Background())
		inFn := make(chan struct{})
		f := m.start(s, ctx, func(c *C) (int, error) {
			return Blocking(c, func() (int, error) {
				close(inFn)
				<-c.Context().Done()
				return 3, nil
			})
		})
		<-inFn
		cancel()
		v, err := get(t, f)
		require.NoError(t, err)
		require.Equal(t, 3, v)
	})
}

// TestBlockingNotStepTime: the time fn blocks is not step time.
func TestBlockingNotStepTime(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := NewScheduler(p, WithStepBudget(time.Second), WithLogger(slog.New(slog.DiscardHandler)))
			_, err := m.start(s, context.Background(), func(c *C) (int, error) {
				return Blocking(c, func() (int, error) {
					time.Sleep(time.Hour)
					return 0, nil
				})
			}).Await(context.Background())
			require.NoError(t, err)
			require.Zero(t, s.Stats().StepOverruns)
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

func TestBlockingMisuse(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		var leaked *C
		_, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			require.PanicsWithValue(t, "continuation: Blocking called with a nil function", func() {
				Blocking[int](c, nil)
			})
			_, err := Blocking(c, func() (int, error) {
				require.PanicsWithValue(t, "continuation: Await called while the continuation is already waiting "+
					"(in Await or Blocking, or its *C was shared with another goroutine)", func() {
					c.Await(future.Ready(1))
				})
				// c already waits and holds no slot: a Blocking within just calls its fn.
				return Blocking(c, func() (int, error) { return 0, nil })
			})
			leaked = c
			return 0, err
		}))
		require.NoError(t, err)
		require.PanicsWithValue(t, "continuation: Blocking called after the body returned", func() {
			Blocking(leaked, func() (int, error) { return 0, nil })
		})
	})
}

// TestBlockingAllocatesNothing: under Run, Blocking costs no allocation, even for an fn
// that captures variables.
func TestBlockingAllocatesNothing(t *testing.T) {
	s, _ := setup(t, 1)
	_, err := Run(s, context.Background(), func(c *C) (int, error) {
		x := 1
		allocs := testing.AllocsPerRun(100, func() {
			v, _ := Blocking(c, func() (int, error) { return x, nil })
			x += v
		})
		require.Zero(t, allocs)
		return x, nil
	})
	require.NoError(t, err)
}
