package continuation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

var errFuzz = errors.New("fuzz: failed future")
var errEnd = errors.New("fuzz: body returned an error")

// FuzzScheduler runs programs, one byte an instruction, as the bodies of several
// continuations at once (with Spawn or Run, at every priority), and checks every
// continuation's result against what its program calls for, then the scheduler's and
// pool's counts, and that nothing is left behind. Bodies check with assert, not require:
// they run on other goroutines. Instructions: await a future another goroutine settles with a
// value or an error; await one already settled; cancel the continuation's context and
// await a future that never settles; panic; return an error; spawn a child continuation
// and await it.
func FuzzScheduler(f *testing.F) {
	f.Add(true, uint8(1), []byte{0, 1, 2, 3, 7, 0})
	f.Add(false, uint8(2), []byte{0, 0, 7, 1, 4, 0, 2})
	f.Add(true, uint8(2), []byte{2, 2, 0, 5})
	f.Add(false, uint8(1), []byte{0, 6, 0})
	f.Add(true, uint8(3), []byte{7, 7, 4, 7, 0, 1})
	f.Fuzz(func(t *testing.T, spawn bool, workers uint8, prog []byte) {
		if len(prog) > 64 {
			prog = prog[:64]
		}
		p := pool.New(int(workers%3) + 1)
		s := NewScheduler(p)
		settle := make(chan func(), 64)
		var settler sync.WaitGroup
		settler.Go(func() {
			for fn := range settle {
				fn()
			}
		})

		// want runs prog in the model: the value the body returns, or the error it ends
		// with and whether that is a panic.
		type outcome struct {
			v        int
			err      error
			panicked bool
		}
		want := func(k int) outcome {
			sum, cancelled := 0, false
			for i, op := range prog {
				v := k*100 + i
				switch op % 8 {
				case 0, 7:
					if !cancelled {
						sum += v
					}
				case 2:
					sum += v
				case 4:
					cancelled = true
				case 5:
					return outcome{panicked: true}
				case 6:
					return outcome{v: sum, err: errEnd}
				}
			}
			return outcome{v: sum}
		}
		body := func(k int, cancel context.CancelFunc) func(*C) (int, error) {
			return func(c *C) (int, error) {
				sum, cancelled := 0, false
				for i, op := range prog {
					v := k*100 + i
					switch op % 8 {
					case 0, 1: // a future settled by another goroutine
						fut, resolve := future.New[int]()
						if op%8 == 0 {
							settle <- func() { resolve(v, nil) }
						} else {
							settle <- func() { resolve(0, errFuzz) }
						}
						got, err := Await(c, fut)
						switch {
						case cancelled && err != nil:
							// The ended context may win the race with the settling.
							if !errors.Is(err, errFuzz) {
								assert.ErrorIs(t, err, context.Canceled)
							}
						case op%8 == 0:
							assert.NoError(t, err)
							assert.Equal(t, v, got)
						default:
							assert.ErrorIs(t, err, errFuzz)
						}
						if op%8 == 0 && !cancelled {
							sum += got
						}
					case 2:
						got, err := Await(c, future.Ready(v))
						assert.NoError(t, err, "a settled future wins over anything")
						sum += got
					case 3:
						_, err := Await(c, future.Failed[int](errFuzz))
						assert.ErrorIs(t, err, errFuzz)
					case 4:
						cancel()
						cancelled = true
						never, _ := future.New[int]()
						assert.ErrorIs(t, c.Await(never), context.Canceled)
					case 5:
						panic(fmt.Sprintf("program panics at %d", i))
					case 6:
						return sum, errEnd
					case 7:
						if cancelled {
							continue // an ended context would race the child
						}
						child := Spawn(s, context.Background(), func(*C) (int, error) { return v, nil })
						got, err := Await(c, child)
						assert.NoError(t, err)
						sum += got
					}
				}
				return sum, nil
			}
		}

		const n = 4
		results := make([]*future.Future[int], n)
		for k := range n {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr := WithPriority(pool.Priority(k % 3)) // Normal, High, Low, Normal
			if spawn {
				results[k] = Spawn(s, ctx, body(k, cancel), pr)
			} else {
				results[k] = future.Go(context.Background(), func(context.Context) (int, error) {
					return Run(s, ctx, body(k, cancel), pr)
				})
			}
		}
		panics := 0
		for k, r := range results {
			v, err := r.Await(context.Background())
			w := want(k)
			switch {
			case w.panicked:
				panics++
				var pe *future.PanicError
				require.ErrorAs(t, err, &pe, "continuation %d", k)
			case w.err != nil:
				require.ErrorIs(t, err, w.err, "continuation %d", k)
			default:
				require.NoError(t, err, "continuation %d", k)
				require.Equal(t, w.v, v, "continuation %d", k)
			}
		}
		require.NoError(t, s.Shutdown(context.Background()))
		close(settle)
		settler.Wait()
		require.NoError(t, p.Shutdown(context.Background()))

		st := s.Stats()
		require.Zero(t, st.Alive)
		require.Equal(t, int64(panics), st.Panicked)
		require.GreaterOrEqual(t, st.Ended(), int64(n), "children count too")
		require.Zero(t, st.Overloaded+st.Shed+st.Late+st.Closed, "nothing is refused: %+v", st)
		ps := p.Stats()
		require.Zero(t, ps.Busy)
		require.Equal(t, ps.Submitted+ps.Resumed, ps.Completed)
	})
}
