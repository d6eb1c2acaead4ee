package future

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// chanAwaitable is an Awaitable that is not a *Future: a channel closed to settle it.
type chanAwaitable struct {
	f *Future[int] // does the callbacks' bookkeeping
}

func newChanAwaitable() (chanAwaitable, func()) {
	f, resolve := New[int]()
	return chanAwaitable{f}, func() { resolve(0, errBoom) } // the error is not seen through Awaitable
}

func (a chanAwaitable) Done() <-chan struct{}                  { return a.f.Done() }
func (a chanAwaitable) AfterDone(fn func()) (stop func() bool) { return a.f.AfterDone(fn) }

func TestJoinOfNoneIsReady(t *testing.T) {
	_, err := await(t, Join())
	require.NoError(t, err)
}

func TestJoinAllSucceed(t *testing.T) {
	a, ra := New[string]()
	b, rb := New[[]int]()
	c, rc := New[int]()
	g := Join(a, b, c)
	ra("x", nil)
	isPending(t, g)
	rc(3, nil)
	isPending(t, g)
	rb([]int{1}, nil)
	_, err := await(t, g)
	require.NoError(t, err)
	for i, f := range []Awaitable{a, b, c} {
		select {
		case <-f.Done():
		default:
			t.Fatalf("input %d: got pending, want settled once Join has", i)
		}
	}
}

func TestJoinFailsFastAndReleases(t *testing.T) {
	a, _ := New[string]()
	b, rb := New[int]()
	c, _ := New[bool]()
	g := Join(a, b, c)
	rb(0, errBoom)
	_, err := await(t, g)
	require.ErrorIs(t, err, errBoom, "the first error, without waiting for the others")
	for i, n := range []int{len0(a), len0(c)} {
		require.Zero(t, n, "pending input %d keeps no callback of Join", i)
	}
}

func len0[T any](f *Future[T]) int {
	n, _ := liveCallbacks(f)
	return n
}

func TestJoinFirstErrorWins(t *testing.T) {
	errOther := errors.New("other")
	a, ra := New[int]()
	b, rb := New[int]()
	g := Join(a, b)
	rb(0, errOther)
	ra(0, errBoom)
	_, err := await(t, g)
	require.ErrorIs(t, err, errOther)
	require.NotErrorIs(t, err, errBoom)
}

// TestJoinOrderIndependent: every order of settling three inputs settles Join once the
// last has, whichever it is.
func TestJoinOrderIndependent(t *testing.T) {
	orders := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, order := range orders {
		fs, rs := pendings(3)
		g := Join(fs[0], fs[1], fs[2])
		for k, i := range order {
			isPending(t, g)
			rs[i](k, nil)
		}
		_, err := await(t, g)
		require.NoError(t, err, "order %v", order)
	}
}

func TestJoinSettledInputs(t *testing.T) {
	_, err := await(t, Join(Ready(1), Ready("a")))
	require.NoError(t, err)

	quit, _ := New[int]()
	_, err = await(t, Join(quit, Failed[string](errBoom), quit))
	require.ErrorIs(t, err, errBoom)
	require.Zero(t, len0(quit), "the registration made before the failed input is taken back")
}

func TestJoinSameFutureTwice(t *testing.T) {
	f, resolve := New[int]()
	g := Join(f, f)
	resolve(1, nil)
	_, err := await(t, g)
	require.NoError(t, err, "settles once both registrations have run")
}

func TestJoinOtherAwaitable(t *testing.T) {
	a, settle := newChanAwaitable()
	f, resolve := New[int]()
	g := Join(a, f)
	settle()
	isPending(t, g)
	resolve(1, nil)
	_, err := await(t, g)
	require.NoError(t, err, "an Awaitable that is not a *Future counts as a success")

	b, _ := newChanAwaitable()
	f, resolve = New[int]()
	g = Join(b, f)
	resolve(0, errBoom)
	_, err = await(t, g)
	require.ErrorIs(t, err, errBoom)
	require.Zero(t, len0(b.f), "the other Awaitable's registration is stopped")
}

func TestJoinNilPanics(t *testing.T) {
	require.PanicsWithValue(t, "future: Join called with a nil Awaitable at index 1", func() {
		Join(Ready(1), nil)
	})
}

// TestJoinSurvivesPanickingCallback: a callback registered before Join's panics; Join's
// still runs, and the panic goes on up the settling goroutine.
func TestJoinSurvivesPanickingCallback(t *testing.T) {
	a, ra := New[int]()
	a.OnDone(func(int, error) { panic("a callback's bug") })
	b, rb := New[int]()
	g := Join(a, b)
	require.PanicsWithValue(t, "a callback's bug", func() { ra(1, nil) })
	isPending(t, g)
	rb(2, nil)
	_, err := await(t, g)
	require.NoError(t, err)

	c, rc := New[int]()
	c.OnDone(func(int, error) { panic("again") })
	d, _ := New[int]()
	g = Join(d, c)
	require.PanicsWithValue(t, "again", func() { rc(0, errBoom) })
	_, err = await(t, g)
	require.ErrorIs(t, err, errBoom)
	require.Zero(t, len0(d))
}

// TestJoinConcurrent: inputs settle on other goroutines while Join registers on them, a
// long-lived future passed twice among them. Run it with -race.
func TestJoinConcurrent(t *testing.T) {
	const rounds, workers = 2000, 4
	quit, _ := New[int]()
	for round := range rounds {
		works, resolves := pendings(workers)
		fail := round%2 == 0
		// Failing, quit is there twice; succeeding, it cannot be, or Join could not settle.
		other := Awaitable(quit)
		if !fail {
			other = works[1]
		}
		inputs := []Awaitable{works[0], other}
		for _, w := range works {
			inputs = append(inputs, w)
		}
		inputs = append(inputs, other)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, resolve := range resolves {
			wg.Go(func() {
				<-start
				if fail && i == 1 {
					resolve(0, errBoom)
				} else {
					resolve(i, nil)
				}
			})
		}
		close(start)
		out := Join(inputs...)
		wg.Wait()
		_, err := await(t, out)
		if fail {
			require.ErrorIs(t, err, errBoom)
		} else {
			require.NoError(t, err)
		}
		require.Zero(t, len0(quit), "nothing stays registered on the long-lived future")
		for i, w := range works {
			require.Zero(t, len0(w), "work %d has settled and keeps no callback", i)
		}
	}
}

func TestFirstNEdges(t *testing.T) {
	require.PanicsWithValue(t, "future: FirstN called with a negative n", func() { FirstN[int](-1) })
	require.PanicsWithValue(t, "future: FirstN called with a nil *Future at index 0", func() { FirstN[int](1, nil) })

	v, err := await(t, FirstN[int](0))
	require.NoError(t, err)
	require.Equal(t, []int{}, v)

	f, _ := New[int]()
	_, err = await(t, FirstN(2, f))
	require.EqualError(t, err, "future: FirstN wants 2 successes of only 1 futures")
	require.Zero(t, len0(f), "nothing registered")
}

func TestFirstNSettleOrder(t *testing.T) {
	fs, rs := pendings(4)
	g := FirstN(2, fs...)
	rs[2](20, nil)
	isPending(t, g)
	rs[3](0, errBoom) // one failure: 2 of the 3 left can still succeed
	isPending(t, g)
	rs[0](0, nil)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, []int{20, 0}, v, "in the order they succeeded")
	require.Zero(t, len0(fs[1]), "the pending input keeps no callback")
	rs[1](10, nil)
	v, _ = await(t, g)
	require.Equal(t, []int{20, 0}, v, "a late success changes nothing")
}

func TestFirstNFailsOnceUnreachable(t *testing.T) {
	errOther := errors.New("other")
	fs, rs := pendings(3)
	g := FirstN(2, fs...)
	rs[1](0, errOther)
	isPending(t, g)
	rs[2](0, errBoom)
	_, err := await(t, g)
	require.ErrorIs(t, err, errBoom)
	require.ErrorIs(t, err, errOther)
	require.EqualError(t, err, "future: FirstN wants 2 successes, but 2 of 3 futures failed: other\nboom")
	require.Zero(t, len0(fs[0]))
}

func TestFirstNSettledInputs(t *testing.T) {
	quit, _ := New[int]()
	v, err := await(t, FirstN(2, Ready(1), quit, Ready(2), quit))
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, v)
	require.Zero(t, len0(quit))

	isPending(t, FirstN(2, quit, Failed[int](errBoom), quit)) // quit, twice, could still do
	_, err = await(t, FirstN(2, quit, Failed[int](errBoom), Failed[int](errBoom)))
	require.ErrorIs(t, err, errBoom)
	require.Equal(t, 2, len0(quit), "the pending FirstN above keeps its two; this one none")

	f, r := New[int]()
	g := FirstN(2, f, f) // the same future twice counts twice
	r(5, nil)
	v, err = await(t, g)
	require.NoError(t, err)
	require.Equal(t, []int{5, 5}, v)
}

// TestFirstNConcurrent: replicas settle on other goroutines while FirstN registers on
// them. Run it with -race.
func TestFirstNConcurrent(t *testing.T) {
	const rounds, workers = 2000, 5
	quit, _ := New[int]()
	for round := range rounds {
		works, resolves := pendings(workers)
		inputs := append([]*Future[int]{quit}, works...)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, resolve := range resolves {
			wg.Go(func() {
				<-start
				if i < round%3 {
					resolve(0, errBoom)
				} else {
					resolve(i, nil)
				}
			})
		}
		close(start)
		out := FirstN(3, inputs...)
		wg.Wait()
		v, err := await(t, out)
		require.NoError(t, err, "at most 2 of 5 fail")
		require.Len(t, v, 3)
		require.Zero(t, len0(quit))
	}
}

func TestFirstNSurvivesPanickingCallback(t *testing.T) {
	a, ra := New[int]()
	a.OnDone(func(int, error) { panic("bug") })
	b, _ := New[int]()
	g := FirstN(1, b, a)
	require.PanicsWithValue(t, "bug", func() { ra(1, nil) })
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, []int{1}, v)
	require.Zero(t, len0(b))
}
