package future

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// collectUntil runs the collector until f settles, and returns its result. Detection takes
// a few collections, and the failing settle runs on a goroutine of its own: the loop gives
// it time, with a bound far beyond what a busy machine needs.
func collectUntil[T any](t *testing.T, f *Future[T]) (T, error) {
	t.Helper()
	for range 200 {
		runtime.GC()
		select {
		case <-f.Done():
			return f.Await(context.Background())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("the future did not settle in 200 collections")
	panic("unreachable")
}

// collectProbe drops the resolver of a watched future and collects until it fails: after
// it, the collector has run the cleanups of every resolver dropped before.
func collectProbe(t *testing.T) {
	t.Helper()
	was := DetectAbandoned(true)
	probe, _ := New[int]()
	DetectAbandoned(was)
	_, err := collectUntil(t, probe)
	require.ErrorIs(t, err, ErrAbandoned)
}

// detect turns the detection of abandoned futures on for the test.
func detect(t *testing.T) {
	was := DetectAbandoned(true)
	t.Cleanup(func() { DetectAbandoned(was) })
}

// TestAbandoned: a pending future whose resolver is dropped fails with ErrAbandoned, is
// counted, and wakes what waits on it: an Await, a callback, a combinator.
func TestAbandoned(t *testing.T) {
	detect(t)
	before := Abandoned()
	f, _ := New[int]() // the resolver, dropped: nothing can settle f
	joined := Join(f)
	called := make(chan error, 1)
	f.OnDone(func(_ int, err error) { called <- err })
	v, err := collectUntil(t, f)
	require.ErrorIs(t, err, ErrAbandoned)
	require.Zero(t, v)
	require.ErrorIs(t, <-called, ErrAbandoned)
	_, err = joined.Await(context.Background())
	require.ErrorIs(t, err, ErrAbandoned, "Join sees the input fail")
	require.GreaterOrEqual(t, Abandoned()-before, int64(1))
}

// TestNotAbandoned: a resolver that stays reachable is never taken for abandoned, however
// many collections pass while its future is pending; nor is a future settled before its
// resolver was dropped, nor one without a resolver (the zero value).
func TestNotAbandoned(t *testing.T) {
	detect(t)
	held, resolve := New[int]()
	settled := func() *Future[int] { // its resolver is dropped once it has settled it
		f, resolve := New[int]()
		resolve(7, nil)
		return f
	}()
	zero := new(Future[int])
	collectProbe(t)
	for range 5 {
		runtime.GC()
	}
	_, ok := held.Peek()
	require.False(t, ok, "a reachable resolver: still pending")
	_, ok = zero.Peek()
	require.False(t, ok, "the zero value is not watched")
	require.True(t, resolve(1, nil), "the resolver still settles it")
	v, err := held.Await(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, v)
	v, err = settled.Await(context.Background())
	require.NoError(t, err)
	require.Equal(t, 7, v)
}

// TestAbandonedAfterCancel: a future cancelled before its resolver is collected stays
// cancelled.
func TestAbandonedAfterCancel(t *testing.T) {
	detect(t)
	f, _ := New[int]()
	require.True(t, f.Cancel())
	collectProbe(t)
	_, err := f.Await(context.Background())
	require.ErrorIs(t, err, context.Canceled)
}

// TestDetectionOff: with detection off (the default), a dropped resolver's future stays
// pending, as a future no one settles does.
func TestDetectionOff(t *testing.T) {
	require.False(t, DetectAbandoned(false), "off by default")
	f, _ := New[int]()
	collectProbe(t)
	for range 3 {
		runtime.GC()
	}
	_, ok := f.Peek()
	require.False(t, ok, "not watched: still pending")
}
