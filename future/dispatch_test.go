package future

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valueErr is an error that carries the value along a chain of Catch.
type valueErr struct{ v int }

func (e valueErr) Error() string { return fmt.Sprintf("value %d", e.v) }

func inc(v int) (int, error) { return v + 1, nil }

func catchInc(err error) (int, error) {
	var ve valueErr
	if !errors.As(err, &ve) {
		return 0, err
	}
	return ve.v + 1, nil
}

// buildChain builds n links on root and returns the last future and the value it will
// settle with once root settles with 0 (or, for kind "Catch", fails with valueErr{0}).
// The kinds: "Then", each link a Then; "Catch", each link a Catch that fails again with the
// value plus one; "mixed", Then and Catch with, every tenth link, one of All, Race, Any,
// AllSettled and Timeout in turn. never is a future that stays pending, raced against. visit
// sees every future made.
func buildChain(root, never *Future[int], n int, kind string, visit func(*Future[int])) (*Future[int], int) {
	f, want := root, 0
	for i := range n {
		switch {
		case kind == "Then":
			f, want = Then(f, inc), want+1
		case kind == "Catch":
			f, want = Catch(f, func(err error) (int, error) {
				v, _ := catchInc(err)
				return 0, valueErr{v}
			}), want+1
		case i%10 != 0 && i%2 == 0:
			f, want = Then(f, inc), want+1
		case i%10 != 0:
			// Fail, then catch: the value goes through the error path.
			f = Then(f, func(v int) (int, error) { return 0, valueErr{v} })
			visit(f)
			f, want = Catch(f, catchInc), want+1
		default:
			switch i / 10 % 5 {
			case 0:
				f = Then(All(f, Ready(1)), func(vs []int) (int, error) { return vs[0] + vs[1], nil })
				want++
			case 1:
				f = Race(f, never)
			case 2:
				f = Any(never, f, Failed[int](errBoom))
			case 3:
				f = Then(AllSettled(Ready(1), f), func(rs []Result[int]) (int, error) {
					return rs[0].Value + rs[1].Value, nil
				})
				want++
			case 4:
				f = Timeout(f, time.Hour)
			}
		}
		visit(f)
	}
	return f, want
}

// chainDepth builds a chain of n links, settles its root, and returns the deepest stack
// seen by a callback on any future of the chain, in frames.
func chainDepth(t *testing.T, n int, kind string) int {
	t.Helper()
	never, _ := New[int]()
	root, resolve := New[int]()
	pcs := make([]uintptr, 1024) // enough to tell a flat stack from a growing one
	deepest := 0
	record := func(int, error) { deepest = max(deepest, runtime.Callers(0, pcs)) }
	root.OnDone(record)
	last, want := buildChain(root, never, n, kind, func(f *Future[int]) { f.OnDone(record) })
	settleRoot(resolve, kind)
	checkEnd(t, last, want, kind)
	return deepest
}

func settleRoot(resolve func(int, error) bool, kind string) {
	if kind == "Catch" {
		resolve(0, valueErr{0})
	} else {
		resolve(0, nil)
	}
}

func checkEnd(t *testing.T, last *Future[int], want int, kind string) {
	t.Helper()
	v, err := await(t, last)
	if kind == "Catch" {
		require.Equal(t, valueErr{want}, err)
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, v)
}

// TestChainStackDepthFlat: the callbacks of a chain of 10,000 futures run at the same
// stack depth as those of a chain of 10.
func TestChainStackDepthFlat(t *testing.T) {
	for _, kind := range []string{"Then", "Catch", "mixed"} {
		t.Run(kind, func(t *testing.T) {
			short, long := chainDepth(t, 10, kind), chainDepth(t, 10_000, kind)
			require.Equal(t, short, long, "deepest stack in a callback, in frames: chain of 10 vs 10,000")
		})
	}
}

// TestLongChain settles the root of chains of 200,000 futures with the goroutine's stack
// limited to 1 MiB: a depth that grew with the chain would overflow it (at a few hundred
// bytes a link, it would take tens of MiB), which is a fatal error, so the test binary
// would crash rather than report a failure. -long.chain sets another length.
func TestLongChain(t *testing.T) {
	n := *longChain
	for _, kind := range []string{"Then", "Catch", "mixed"} {
		t.Run(kind, func(t *testing.T) {
			never, _ := New[int]()
			root, resolve := New[int]()
			last, want := buildChain(root, never, n, kind, func(*Future[int]) {})
			ran := false
			last.OnDone(func(int, error) { ran = true })
			func() {
				defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
				settleRoot(resolve, kind)
			}()
			require.True(t, ran, "the last future's callback ran before resolve returned")
			checkEnd(t, last, want, kind)
			n, _ := liveCallbacks(never)
			require.Zero(t, n, "the Race and Any outputs took back their registrations on never")
		})
	}
}

// TestRegisteredFromCallbackRunsLast: a callback registered by a callback of the same
// future, while its callbacks are being dispatched, runs after all those registered
// before it, on the dispatching goroutine, and its stop reports false.
func TestRegisteredFromCallbackRunsLast(t *testing.T) {
	f, resolve := New[int]()
	var got []string
	f.OnDone(func(int, error) {
		got = append(got, "a")
		f.OnDone(func(int, error) {
			got = append(got, "d")
			f.AfterDone(func() { got = append(got, "f") })
		})
		stop := f.AfterDone(func() { got = append(got, "e") })
		require.False(t, stop(), "stop once the future has settled")
		got = append(got, "a'")
	})
	f.OnDone(func(int, error) { got = append(got, "b") })
	f.AfterDone(func() { got = append(got, "c") })
	resolve(1, nil)
	require.Equal(t, []string{"a", "a'", "b", "c", "d", "e", "f"}, got,
		"registration order, callbacks registered during the dispatch included")

	f.OnDone(func(int, error) { got = append(got, "g") })
	require.Equal(t, "g", got[len(got)-1], "once the dispatch is over, a callback runs at once")

	// The same on a future settled by a combinator, whose callbacks the loop dispatches.
	got = nil
	root, resolve := New[int]()
	g := Then(root, inc)
	g.OnDone(func(int, error) {
		got = append(got, "a")
		g.OnDone(func(int, error) { got = append(got, "c") })
	})
	g.OnDone(func(int, error) { got = append(got, "b") })
	resolve(1, nil)
	require.Equal(t, []string{"a", "b", "c"}, got)
}

// TestRegisteredFromOtherGoroutineDuringDispatch: a callback registered from another
// goroutine while the future's callbacks are being dispatched runs after all those
// registered before it, on the dispatching goroutine; OnDone returns before it runs.
func TestRegisteredFromOtherGoroutineDuringDispatch(t *testing.T) {
	for _, how := range []string{"OnDone", "AfterDone"} {
		t.Run(how, func(t *testing.T) {
			f, resolve := New[int]()
			inFirst, registered := make(chan struct{}), make(chan struct{})
			var got []string // written by the dispatcher, read by the other goroutine in between
			f.OnDone(func(int, error) {
				got = append(got, "a")
				close(inFirst)
				<-registered // the other goroutine registers now, during the dispatch
			})
			f.OnDone(func(int, error) { got = append(got, "b") })
			var wg sync.WaitGroup
			var seenAtReturn int
			var stopped bool
			wg.Go(func() {
				<-inFirst
				c := func() { got = append(got, "c") }
				if how == "OnDone" {
					f.OnDone(func(int, error) { c() })
				} else {
					stopped = f.AfterDone(c)()
				}
				seenAtReturn = len(got)
				close(registered)
			})
			resolve(1, nil)
			require.Equal(t, []string{"a", "b", "c"}, got, "in registration order, before resolve returned")
			wg.Wait()
			require.Equal(t, 1, seenAtReturn, "the callback had not run when %s returned", how)
			require.False(t, stopped, "stop reports false once the future has settled")
		})
	}
}

// TestRegisteredAfterDispatchRunsAtOnce: once the dispatch is over, a callback registered
// from any goroutine runs at once on that goroutine, before OnDone or AfterDone returns.
func TestRegisteredAfterDispatchRunsAtOnce(t *testing.T) {
	f, resolve := New[int]()
	f.OnDone(func(int, error) {})
	resolve(1, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		ran := false
		f.OnDone(func(int, error) { ran = true })
		assert.True(t, ran, "OnDone ran fn before returning")
		ran = false
		assert.False(t, f.AfterDone(func() { ran = true })())
		assert.True(t, ran, "AfterDone ran fn before returning")
	})
	wg.Wait()
}

// TestPanicAcrossChain: callbacks panic in the middle of a chain, one of them after
// registering another on its own future. The last panic reaches the goroutine that
// settled the root; every other callback of the chain ran once, in registration order for
// each future; every future has settled and runs a new callback at once.
func TestPanicAcrossChain(t *testing.T) {
	const n = 12
	root, resolve := New[int]()
	never, _ := New[int]()
	futures := []*Future[int]{root}
	buildChain(root, never, n, "mixed", func(f *Future[int]) { futures = append(futures, f) })
	order := make([][]string, len(futures)) // per future, the callbacks in the order they ran
	for i, f := range futures {
		f.OnDone(func(int, error) {
			order[i] = append(order[i], "first")
			if i == 3 || i == 9 {
				f.OnDone(func(int, error) { order[i] = append(order[i], "late") })
				panic(fmt.Sprint("callback bug ", i))
			}
		})
		f.AfterDone(func() {
			order[i] = append(order[i], "second")
			if i == 0 || i == 6 {
				panic(fmt.Sprint("callback bug ", i))
			}
		})
	}
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		resolve(0, nil)
	}()
	require.NotNil(t, recovered, "the panic reached the settling goroutine")
	require.Contains(t, []any{"callback bug 0", "callback bug 3", "callback bug 6", "callback bug 9"}, recovered)
	for i, f := range futures {
		want := []string{"first", "second"}
		if i == 3 || i == 9 {
			want = append(want, "late")
		}
		require.Equal(t, want, order[i], "future %d: every callback ran once, in registration order", i)
		_, ok := f.Peek()
		require.True(t, ok, "future %d settled", i)
		require.Equal(t, quiet, f.state(), "future %d is done dispatching", i)
		ran := false
		f.AfterDone(func() { ran = true })
		require.True(t, ran, "future %d runs a new callback at once", i)
	}
}

var longChain = flag.Int("long.chain", 200_000, "the length of TestLongChain's chains (1,000,000 is a good test)")
