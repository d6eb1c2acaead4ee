package continuation

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestRunAwaitFromCallback: a Run called from a future's callback awaits a future that has
// settled but whose callbacks that same goroutine has yet to dispatch. Await returns at
// once: a wake-up queued behind the running callback would never come.
func TestRunAwaitFromCallback(t *testing.T) {
	s, _ := setup(t, 2)
	f, resolve := future.New[int]()
	g := future.Then(f, func(v int) (int, error) { return v + 1, nil })
	g.OnDone(func(int, error) {}) // g settles with a callback left to run: settled, not quiet
	got := make(chan int, 1)
	f.OnDone(func(int, error) {
		v, err := Run(s, context.Background(), func(c *C) (int, error) { return Await(c, g) })
		require.NoError(t, err)
		got <- v
	})
	settled := future.Go(context.Background(), func(context.Context) (bool, error) { return resolve(1, nil), nil })
	ok, _ := get(t, settled)
	require.True(t, ok, "resolve returned: the callback's Run did not wait for itself")
	require.Equal(t, 2, <-got)
}

// lazy is an Awaitable that embeds a *future.Future and starts its work in its own
// AfterDone and Done: Await must call them, not the embedded future's.
type lazy struct {
	*future.Future[int]
	once    sync.Once
	resolve func(int, error) bool
}

func (l *lazy) start()                          { l.once.Do(func() { go l.resolve(42, nil) }) }
func (l *lazy) AfterDone(fn func()) func() bool { l.start(); return l.Future.AfterDone(fn) }
func (l *lazy) Done() <-chan struct{}           { l.start(); return l.Future.Done() }

func TestAwaitEmbeddingAwaitable(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		f, resolve := future.New[int]()
		l := &lazy{Future: f, resolve: resolve}
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			if err := c.Await(l); err != nil {
				return 0, err
			}
			r, _ := l.Peek()
			return r.Value, r.Err
		}))
		require.NoError(t, err)
		require.Equal(t, 42, v)
	})
}

// panicky is an Awaitable whose AfterDone panics.
type panicky struct{ *future.Future[int] }

func (panicky) AfterDone(func()) func() bool { panic("AfterDone failed") }
func (panicky) Done() <-chan struct{}        { return make(chan struct{}) }

// TestAwaitablePanics: a panic from what Await calls reaches the body, which may recover
// and go on: its next Await and Blocking work as usual.
func TestAwaitablePanics(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			func() {
				defer func() { require.Equal(t, "AfterDone failed", recover()) }()
				_ = c.Await(panicky{new(future.Future[int])})
			}()
			x, err := Await(c, future.Go(c.Context(), func(context.Context) (int, error) { return 20, nil }))
			if err != nil {
				return 0, err
			}
			y, err := Blocking(c, func() (int, error) { return 22, nil })
			return x + y, err
		}))
		require.NoError(t, err)
		require.Equal(t, 42, v)
	})
}

// TestAwaitNilFuture: a nil *future.Future in the Awaitable panics with a message that
// names it.
func TestAwaitNilFuture(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 1)
		_, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			var f *future.Future[int]
			return 0, c.Await(f)
		}))
		var pe *future.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "future: Done called on a nil *Future", pe.Value)
	})
}

// TestRefusedSpawnNotAbandoned: a Spawn that the pool refuses settles its future with the
// refusal; it does not drop its resolver, which detection would count as abandoned.
func TestRefusedSpawnNotAbandoned(t *testing.T) {
	was := future.DetectAbandoned(true)
	defer future.DetectAbandoned(was)
	p := pool.New(1, pool.WithQueueSize(0))
	s := NewScheduler(p)
	defer func() {
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()
	release := occupy(t, p)
	defer release()
	before := future.Abandoned()
	const n = 100
	for range n {
		_, err := get(t, Spawn(s, context.Background(), func(*C) (int, error) { return 0, nil }))
		require.ErrorIs(t, err, pool.ErrFull)
	}
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	// Futures of other tests may be found meanwhile; these 100 would all be.
	require.Less(t, future.Abandoned()-before, int64(n/2))
}
