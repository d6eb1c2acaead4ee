package continuation

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestShutdownReturnsWhenContextEnds: Shutdown returns when its context ends, as
// http.Server.Shutdown does, even while a body runs code it cannot interrupt, and counts
// what it gave up on; a later Shutdown waits for that body.
func TestShutdownReturnsWhenContextEnds(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := NewScheduler(p)
			gate := make(chan struct{})
			done := m.start(s, context.Background(), func(c *C) (int, error) {
				_, err := Blocking(c, func() (int, error) { <-gate; return 0, nil })
				if err != nil {
					return 0, err
				}
				return 0, c.Await(future.Ready(1)) // after the give-up: ErrStopped
			})
			synctest.Wait()

			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := s.Shutdown(ctx)
			require.Equal(t, 100*time.Millisecond, time.Since(start), "Shutdown returned when its context ended")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.ErrorContains(t, err, "gave up on 1 alive continuation:")
			require.Equal(t, 1, s.Stats().Alive, "the body still runs")

			close(gate)
			_, err = done.Await(context.Background())
			require.ErrorIs(t, err, ErrStopped)
			require.NoError(t, s.Shutdown(context.Background()), "a later Shutdown waits for it")
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

// TestPoolShutDownFirst: shutting the pool down before the scheduler (the wrong order)
// crashes nothing and loses nothing. The pool's drain finishes while continuations are
// suspended or in Blocking; when they wake they find no slot, and end as the scheduler's
// give-up ends them: their Awaits return ErrStopped, and every one ends.
func TestPoolShutDownFirst(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(2)
			s := NewScheduler(p)
			slow, resolve := future.New[int]()
			never, _ := future.New[int]()
			gate := make(chan struct{})
			var results []*future.Future[int]
			for range 5 {
				results = append(results, m.start(s, context.Background(), func(c *C) (int, error) {
					return Await(c, slow)
				}))
				results = append(results, m.start(s, context.Background(), func(c *C) (int, error) {
					return Await(c, never) // woken only by the give-up
				}))
				results = append(results, m.start(s, context.Background(), func(c *C) (int, error) {
					v, err := Blocking(c, func() (int, error) { <-gate; return 7, nil })
					if err != nil {
						return 0, err
					}
					if err := c.Await(future.Ready(1)); err != nil {
						return v, err
					}
					return v, nil
				}))
			}
			synctest.Wait()
			require.Equal(t, 15, s.Stats().Suspended)

			require.NoError(t, p.Shutdown(context.Background()), "no slot is held: the drain finishes")
			resolve(1, nil) // the first of them wakes and finds the pool gone
			close(gate)
			for i, f := range results {
				v, err := f.Await(context.Background())
				switch i % 3 {
				case 0: // what it awaited settled: that wins, and the body goes on without a slot
					require.NoError(t, err, "result %d", i)
					require.Equal(t, 1, v)
				default:
					require.ErrorIs(t, err, ErrStopped, "result %d", i)
				}
			}
			synctest.Wait()
			require.Zero(t, s.Stats().Alive)
			_, err := m.start(s, context.Background(), func(*C) (int, error) {
				t.Error("a body started after the pool finished")
				return 0, nil
			}).Await(context.Background())
			require.ErrorIs(t, err, ErrClosed)
			require.NoError(t, s.Shutdown(context.Background()))
		})
	})
}

// TestClosing: Closing's channel is closed when Shutdown begins, and a body that selects on
// it (within Blocking, holding no slot) finishes early, which Shutdown waits for.
func TestClosing(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := NewScheduler(p)
			events := 0
			done := m.start(s, context.Background(), func(c *C) (int, error) {
				for {
					closing, _ := Blocking(c, func() (bool, error) {
						select {
						case <-time.After(time.Second): // stands for the next event
							return false, nil
						case <-s.Closing():
							return true, nil
						}
					})
					if closing {
						return events, nil
					}
					events++
				}
			})
			time.Sleep(3500 * time.Millisecond)
			select {
			case <-s.Closing():
				t.Fatal("Closing is closed before Shutdown")
			default:
			}
			start := time.Now()
			require.NoError(t, s.Shutdown(context.Background()))
			require.Zero(t, time.Since(start), "the stream finished at once")
			v, err := done.Await(context.Background())
			require.NoError(t, err)
			require.Equal(t, 3, v)
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}

// TestEndsCountedByCause ends one continuation by each cause, under Spawn and Run: each
// is counted once, under its cause, and the counts sum to the calls made.
func TestEndsCountedByCause(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1)
			s := NewScheduler(p, WithMaxAlive(4))
			bg := context.Background()
			never, _ := future.New[int]()
			await := func(c *C) (int, error) { return Await(c, never) }
			var calls []*future.Future[int]
			start := func(ctx context.Context, body func(*C) (int, error)) {
				calls = append(calls, m.start(s, ctx, body))
				synctest.Wait()
			}

			start(bg, func(*C) (int, error) { return 1, nil })                  // completed
			start(bg, func(*C) (int, error) { return 0, errors.New("failed") }) // failed
			start(bg, func(*C) (int, error) { panic("panicked") })              // panicked
			gone, cancel := context.WithCancel(bg)
			start(gone, await) // cancelled: the client goes away while it waits
			cancel()
			start(gone, await) // cancelled: the client was gone before it arrived
			soon, cancel2 := context.WithTimeout(bg, time.Second)
			defer cancel2()
			start(soon, await) // deadline
			time.Sleep(time.Second)
			start(bg, await) // stopped, by the Shutdown below
			start(bg, await)
			start(bg, await)
			start(bg, await)
			start(bg, await) // overloaded: four are alive
			shut, cancel3 := context.WithCancel(bg)
			cancel3()
			require.Error(t, s.Shutdown(shut)) // gives up on the four
			start(bg, await)                   // closed
			for _, f := range calls {
				f.Await(bg)
			}
			synctest.Wait()

			st := s.Stats()
			require.Equal(t, Stats{
				Completed: 1, Failed: 1, Panicked: 1, Cancelled: 2, Deadline: 1, Stopped: 4,
				Overloaded: 1, Closed: 1,
			}, st)
			require.Equal(t, int64(len(calls)), st.Ended())
			require.NoError(t, p.Shutdown(bg))
		})
	})
}

// TestShedByQueueDelay: a continuation the pool refuses for its queueing delay fails with
// an error that is ErrOverloaded and pool.ErrShed, and is counted as Shed.
func TestShedByQueueDelay(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			p := pool.New(1, pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
			s := NewScheduler(p)
			require.NoError(t, p.Acquire(context.Background()))
			first := m.start(s, context.Background(), func(*C) (int, error) { return 1, nil })
			synctest.Wait()
			time.Sleep(150 * time.Millisecond) // the lane has not moved for an interval
			_, err := m.start(s, context.Background(), func(*C) (int, error) {
				t.Error("a shed body ran")
				return 0, nil
			}).Await(context.Background())
			require.ErrorIs(t, err, ErrOverloaded)
			require.ErrorIs(t, err, pool.ErrShed)
			p.Release()
			v, err := first.Await(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, v)
			synctest.Wait()
			st := s.Stats()
			require.Equal(t, int64(1), st.Shed)
			require.Equal(t, int64(1), st.Completed)
			require.Equal(t, int64(2), st.Ended())
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		})
	})
}
