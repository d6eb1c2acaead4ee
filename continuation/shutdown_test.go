package continuation

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/pooltest"
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

// TestEndsCountedByCause ends one continuation by each cause, refusals included, under
// Spawn and Run: each is counted once, under its cause, and the counts sum to the calls
// made. A body that returns a refusal's error failed: it was not refused.
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

			nested := fmt.Errorf("nested: %w", ErrOverloaded)
			start(bg, func(*C) (int, error) { return 1, nil })                  // completed
			start(bg, func(*C) (int, error) { return 0, errors.New("failed") }) // failed
			start(bg, func(*C) (int, error) { return 0, nested })               // failed: a refusal's error, not its own
			start(bg, func(*C) (int, error) { panic("panicked") })              // panicked
			gone, cancel := context.WithCancel(bg)
			start(gone, await) // cancelled: the client goes away while it waits
			cancel()
			start(gone, await) // cancelled: the client was gone before it arrived
			soon, cancel2 := context.WithTimeout(bg, time.Second)
			defer cancel2()
			start(soon, await) // deadline: it ran, and ran out of time
			time.Sleep(time.Second)
			past, cancel4 := context.WithDeadline(bg, time.Now())
			defer cancel4()
			start(past, await) // late: refused, its deadline had passed before it arrived
			start(bg, await)   // stopped, by the Shutdown below
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
				Completed: 1, Failed: 2, Panicked: 1, Cancelled: 2, Deadline: 1, Stopped: 4,
				Overloaded: 1, Late: 1, Closed: 1,
			}, st)
			require.Equal(t, int64(len(calls)), st.Ended())
			require.NoError(t, p.Shutdown(bg))
		})
	})
}

// TestRefusalsCountedByReason refuses a continuation for each reason, under Spawn and
// Run: its body never runs, its error says why, and it is counted under that reason
// alone, each refusal once; what the case admitted is counted as it ended.
func TestRefusalsCountedByReason(t *testing.T) {
	bg := context.Background()
	codel := pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval)
	type start func(ctx context.Context) *future.Future[int] // a continuation bound to be refused
	cases := []struct {
		name  string
		popts []pool.Option
		sopts []Option
		// refuse starts what the case needs, then calls try, which must be refused, then
		// ends what it started.
		refuse func(t *testing.T, p *pool.Pool, s *Scheduler, m mode, try start) error
		is     []error // what the refusal's error is
		want   Stats
	}{
		{"alive bound", nil, []Option{WithMaxAlive(1)},
			func(t *testing.T, _ *pool.Pool, s *Scheduler, m mode, try start) error {
				gate, open := future.New[int]()
				first := m.start(s, bg, func(c *C) (int, error) { return Await(c, gate) })
				synctest.Wait()
				_, err := try(bg).Await(bg)
				open(1, nil)
				first.Await(bg)
				return err
			}, []error{ErrOverloaded}, Stats{Completed: 1, Overloaded: 1}},
		{"queue full", []pool.Option{pool.WithQueueSize(0)}, nil,
			func(t *testing.T, p *pool.Pool, _ *Scheduler, _ mode, try start) error {
				require.NoError(t, p.Acquire(bg))
				defer p.Release()
				_, err := try(bg).Await(bg)
				return err
			}, []error{ErrOverloaded, pool.ErrFull}, Stats{Overloaded: 1}},
		{"queue delay", []pool.Option{codel}, nil,
			func(t *testing.T, p *pool.Pool, s *Scheduler, m mode, try start) error {
				require.NoError(t, p.Acquire(bg))
				first := m.start(s, bg, func(*C) (int, error) { return 1, nil })
				synctest.Wait()
				time.Sleep(150 * time.Millisecond) // the lane has not moved for an interval
				_, err := try(bg).Await(bg)
				p.Release()
				first.Await(bg)
				return err
			}, []error{ErrOverloaded, pool.ErrShed}, Stats{Completed: 1, Shed: 1}},
		{"deadline passed before the call", nil, nil,
			func(t *testing.T, _ *pool.Pool, _ *Scheduler, _ mode, try start) error {
				ctx, cancel := context.WithDeadline(bg, time.Now())
				defer cancel()
				_, err := try(ctx).Await(bg)
				return err
			}, []error{context.DeadlineExceeded}, Stats{Late: 1}},
		{"deadline passed in the queue", nil, nil,
			func(t *testing.T, p *pool.Pool, _ *Scheduler, _ mode, try start) error {
				require.NoError(t, p.Acquire(bg))
				ctx, cancel := context.WithTimeout(bg, time.Second)
				defer cancel()
				f := try(ctx)
				time.Sleep(2 * time.Second)
				p.Release() // Spawn: a worker takes it now, and finds its deadline passed
				_, err := f.Await(bg)
				return err
			}, []error{context.DeadlineExceeded}, Stats{Late: 1}},
		{"deadline the queue delay would pass", []pool.Option{codel}, nil,
			func(t *testing.T, p *pool.Pool, _ *Scheduler, m mode, try start) error {
				pooltest.Standing(t, p)
				ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond) // < 30 ms
				defer cancel()
				f := try(ctx)
				synctest.Wait()
				_, done := f.Peek()
				require.Equal(t, m.name == "Run", done,
					"Run is refused at once; Spawn queues, and is refused once a worker takes it")
				_, err := f.Await(bg)
				return err
			}, []error{context.DeadlineExceeded}, Stats{Late: 1}},
		{"scheduler closed", nil, nil,
			func(t *testing.T, _ *pool.Pool, s *Scheduler, _ mode, try start) error {
				require.NoError(t, s.Shutdown(bg))
				_, err := try(bg).Await(bg)
				return err
			}, []error{ErrClosed}, Stats{Closed: 1}},
		{"pool closed", nil, nil,
			func(t *testing.T, p *pool.Pool, _ *Scheduler, _ mode, try start) error {
				require.NoError(t, p.Shutdown(bg))
				_, err := try(bg).Await(bg)
				return err
			}, []error{ErrClosed, pool.ErrClosed}, Stats{Closed: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forModes(t, func(t *testing.T, m mode) {
				synctest.Test(t, func(t *testing.T) {
					p := pool.New(1, tc.popts...)
					s := NewScheduler(p, tc.sopts...)
					try := func(ctx context.Context) *future.Future[int] {
						return m.start(s, ctx, func(*C) (int, error) {
							t.Error("a refused body ran")
							return 0, nil
						})
					}
					err := tc.refuse(t, p, s, m, try)
					for _, want := range tc.is {
						require.ErrorIs(t, err, want)
					}
					synctest.Wait() // a spawned continuation is counted out after its future's callbacks
					st := s.Stats()
					require.Equal(t, tc.want, st)
					require.Equal(t, tc.want.Ended(), st.Ended())
					require.NoError(t, s.Shutdown(bg))
					require.NoError(t, p.Shutdown(bg))
				})
			})
		})
	}
}

// TestDrainRateCountsNoRefusal: DrainRate counts the ends of bodies that ran, not the
// refusals, those made after a wait in the pool's queue included.
func TestDrainRateCountsNoRefusal(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		synctest.Test(t, func(t *testing.T) {
			bg := context.Background()
			p := pool.New(1, pool.WithQueueSize(1))
			s := NewScheduler(p)
			refused := func(*C) (int, error) {
				t.Error("a refused body ran")
				return 0, nil
			}
			time.Sleep(time.Second)
			s.DrainRate() // the window starts
			for range 3 {
				_, err := m.start(s, bg, func(*C) (int, error) { return 1, nil }).Await(bg)
				require.NoError(t, err)
			}
			require.NoError(t, p.Acquire(bg))
			soon, cancel := context.WithTimeout(bg, 100*time.Millisecond)
			defer cancel()
			late := m.start(s, soon, refused) // queued, until its deadline passes
			synctest.Wait()
			_, err := m.start(s, bg, refused).Await(bg)
			require.ErrorIs(t, err, pool.ErrFull)
			time.Sleep(200 * time.Millisecond)
			p.Release()
			_, err = late.Await(bg)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			time.Sleep(800 * time.Millisecond)
			synctest.Wait()
			require.InDelta(t, 3, s.DrainRate(), 1e-9, "3 ends in the window, and 2 refusals")
			require.Equal(t, Stats{Completed: 3, Overloaded: 1, Late: 1}, s.Stats())
			require.NoError(t, s.Shutdown(bg))
			require.NoError(t, p.Shutdown(bg))
		})
	})
}
