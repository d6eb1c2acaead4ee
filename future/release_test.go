package future

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"
)

// longLivedCases are the combinators whose output can settle before all their inputs
// have: each is raced against a future that stays pending, and the work decides it.
var longLivedCases = []struct {
	name    string
	combine func(work, quit *Future[int]) any // the output, a *Future of some type
	decide  func(resolve func(int, error) bool)
}{
	{"Race", func(w, q *Future[int]) any { return Race(w, q) }, func(r func(int, error) bool) { r(1, nil) }},
	{"Any", func(w, q *Future[int]) any { return Any(w, q) }, func(r func(int, error) bool) { r(1, nil) }},
	{"All", func(w, q *Future[int]) any { return All(w, q) }, func(r func(int, error) bool) { r(0, errBoom) }},
	{"Join", func(w, q *Future[int]) any { return Join(w, q) }, func(r func(int, error) bool) { r(0, errBoom) }},
	{"FirstN", func(w, q *Future[int]) any { return FirstN(1, w, q) }, func(r func(int, error) bool) { r(1, nil) }},
}

// settledOutput reports whether out, a *Future of some type, has settled.
func settledOutput(out any) bool {
	switch g := out.(type) {
	case *Future[int]:
		return g.state() != pending
	case *Future[[]int]:
		return g.state() != pending
	case *Future[struct{}]:
		return g.state() != pending
	}
	panic("settledOutput: unexpected output type")
}

// liveCallbacks returns the length and capacity of f's list of callbacks.
func liveCallbacks[T any](f *Future[T]) (n, c int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cbs), cap(f.cbs)
}

// TestCombinatorsReleaseLongLivedInput: 50,000 combinators against one pending future
// leave its list of callbacks empty, and their settled outputs unreachable.
func TestCombinatorsReleaseLongLivedInput(t *testing.T) {
	const calls, sampleEvery = 50_000, 250
	for _, tc := range longLivedCases {
		t.Run(tc.name, func(t *testing.T) {
			quit, _ := New[int]()
			// The loop runs in its own function so that no output stays on the stack.
			outputs := func() []func() bool {
				var ws []func() bool
				for i := range calls {
					work, resolve := New[int]()
					out := tc.combine(work, quit)
					tc.decide(resolve)
					if !settledOutput(out) {
						t.Fatalf("call %d: the output did not settle with the work", i)
					}
					if i%sampleEvery == 0 {
						ws = append(ws, weakOutput(out))
					}
				}
				return ws
			}()
			n, c := liveCallbacks(quit)
			require.Zero(t, n, "the long-lived future keeps no callback of the settled outputs")
			require.LessOrEqual(t, c, 4, "its list never grew")

			runtime.GC()
			runtime.GC()
			kept := 0
			for _, alive := range outputs {
				if alive() {
					kept++
				}
			}
			require.Zero(t, kept, "of %d sampled settled outputs, %d are still reachable", len(outputs), kept)
			runtime.KeepAlive(quit)
		})
	}
}

// weakOutput returns a function that reports whether out, a *Future of some type, is
// still reachable; it holds out only weakly.
func weakOutput(out any) (alive func() bool) {
	switch g := out.(type) {
	case *Future[int]:
		w := weak.Make(g)
		return func() bool { return w.Value() != nil }
	case *Future[[]int]:
		w := weak.Make(g)
		return func() bool { return w.Value() != nil }
	case *Future[struct{}]:
		w := weak.Make(g)
		return func() bool { return w.Value() != nil }
	}
	panic("weakOutput: unexpected output type")
}

// TestCombinatorsHeapFlat: the heap does not grow with the number of combinators raced
// against one long-lived future (it grew by about 35 MB per 200,000 Race calls when each
// left its callback behind).
func TestCombinatorsHeapFlat(t *testing.T) {
	const calls = 200_000
	for _, tc := range longLivedCases {
		t.Run(tc.name, func(t *testing.T) {
			quit, _ := New[int]()
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			before := heap()
			for range calls {
				work, resolve := New[int]()
				tc.combine(work, quit)
				tc.decide(resolve)
			}
			after := heap()
			runtime.KeepAlive(quit)
			growth := int64(after) - int64(before)
			t.Logf("heap growth after %d calls: %d bytes", calls, growth)
			require.Less(t, growth, int64(2<<20), "the heap grew by %d bytes", growth)
		})
	}
}

// TestCombinatorsReleaseConcurrent: inputs settle on other goroutines while the combinator
// registers on them (a long-lived future and a work future each passed twice among
// them); the output settles as the inputs call for, and once the settling goroutines are
// done nothing is left registered on the long-lived future. Run it with -race.
func TestCombinatorsReleaseConcurrent(t *testing.T) {
	const rounds, workers = 2000, 4
	errOther := errors.New("other")
	cases := []struct {
		name string
		// combine makes the output; outcome(i) is how work i settles; check checks the
		// output's result.
		combine func(fs []*Future[int]) any
		outcome func(i int) (int, error)
		check   func(t *testing.T, out any)
	}{
		{
			name:    "Race",
			combine: func(fs []*Future[int]) any { return Race(fs...) },
			outcome: func(i int) (int, error) { return i + 1, nil },
			check: func(t *testing.T, out any) {
				r, ok := out.(*Future[int]).Peek()
				require.True(t, ok)
				require.NoError(t, r.Err)
				require.True(t, r.Value >= 1 && r.Value <= workers, "the value of one of the work futures, got %d", r.Value)
			},
		},
		{
			name:    "Any",
			combine: func(fs []*Future[int]) any { return Any(fs...) },
			outcome: func(i int) (int, error) {
				if i == workers-1 {
					return 7, nil
				}
				return 0, errOther
			},
			check: func(t *testing.T, out any) {
				r, ok := out.(*Future[int]).Peek()
				require.True(t, ok)
				require.NoError(t, r.Err)
				require.Equal(t, 7, r.Value, "the one success")
			},
		},
		{
			name:    "All",
			combine: func(fs []*Future[int]) any { return All(fs...) },
			outcome: func(i int) (int, error) {
				if i == 1 {
					return 0, errBoom
				}
				return i, nil
			},
			check: func(t *testing.T, out any) {
				r, ok := out.(*Future[[]int]).Peek()
				require.True(t, ok)
				require.ErrorIs(t, r.Err, errBoom, "the one failure")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			quit, _ := New[int]()
			for range rounds {
				works, resolves := pendings(workers)
				inputs := []*Future[int]{works[0], quit}
				inputs = append(inputs, works...)
				inputs = append(inputs, quit)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, resolve := range resolves {
					wg.Go(func() {
						<-start
						resolve(tc.outcome(i))
					})
				}
				close(start)
				out := tc.combine(inputs)
				wg.Wait()
				tc.check(t, out)
				n, c := liveCallbacks(quit)
				require.Zero(t, n, "nothing stays registered on the long-lived future")
				require.LessOrEqual(t, c, 8)
				for i, w := range works {
					n, _ := liveCallbacks(w)
					require.Zero(t, n, "work %d has settled and keeps no callback", i)
				}
			}
		})
	}
}

// TestCombinatorSettledInputStopsRegistering: an input that settled already decides the
// output at once, and the inputs after it are not registered on at all.
func TestCombinatorSettledInputStopsRegistering(t *testing.T) {
	quit, _ := New[int]()
	g := Race(Ready(1), quit)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, 1, v)
	n, c := liveCallbacks(quit)
	require.Zero(t, n)
	require.Zero(t, c, "quit was never registered on")

	_, err = await(t, All(quit, Failed[int](errBoom), quit))
	require.ErrorIs(t, err, errBoom)
	n, _ = liveCallbacks(quit)
	require.Zero(t, n, "the registration made before the failed input is taken back")

	anyOut := Any(Failed[int](errBoom), quit)
	isPending(t, anyOut)
	n, _ = liveCallbacks(quit)
	require.Equal(t, 1, n, "Any waits for quit")
	quit.Cancel()
	_, err = await(t, anyOut)
	require.ErrorIs(t, err, errBoom)
	require.ErrorIs(t, err, context.Canceled)
}
