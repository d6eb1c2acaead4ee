package future

import (
	"context"
	"errors"
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
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

func TestNewFirstResolveWins(t *testing.T) {
	f, resolve := New[int]()
	_, ok := f.Peek()
	require.False(t, ok, "a new future is pending")

	require.True(t, resolve(1, nil), "first resolve settles")
	require.False(t, resolve(2, nil), "second resolve reports false")
	require.False(t, resolve(0, errBoom), "a later failure reports false")
	require.False(t, f.Cancel(), "Cancel after resolve reports false")

	v, err := f.Await(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, v, "the first value stays")
}

func TestNewConcurrentResolversOneWins(t *testing.T) {
	for range 100 {
		f, resolve := New[int]()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if i == 7 {
					if f.Cancel() {
						wins.Add(1)
					}
					return
				}
				if resolve(i, nil) {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "exactly one settle reports true")
		_, ok := f.Peek()
		require.True(t, ok)
	}
}

func TestReadyAndFailed(t *testing.T) {
	v, err := Ready("x").Await(context.Background())
	require.NoError(t, err)
	require.Equal(t, "x", v)

	_, err = Failed[string](errBoom).Await(context.Background())
	require.ErrorIs(t, err, errBoom)

	require.PanicsWithValue(t, "future: Failed called with a nil error", func() { Failed[int](nil) })
}

func TestGoValueAndError(t *testing.T) {
	ctx := context.Background()
	v, err := Go(ctx, func(context.Context) (int, error) { return 42, nil }).Await(ctx)
	require.NoError(t, err)
	require.Equal(t, 42, v)

	_, err = Go(ctx, func(context.Context) (int, error) { return 0, errBoom }).Await(ctx)
	require.ErrorIs(t, err, errBoom)
}

func panicker(v any) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { panic(v) }
}

func TestGoPanic(t *testing.T) {
	ctx := context.Background()
	_, err := Go(ctx, panicker("kaboom")).Await(ctx)
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "kaboom", pe.Value)
	require.Equal(t, "panic: kaboom", pe.Error())
	require.Contains(t, string(pe.Stack), ".panicker.", "the stack shows where the panic came from")
	require.NoError(t, pe.Unwrap(), "a non-error value unwraps to nil")

	_, err = Go(ctx, panicker(errBoom)).Await(ctx)
	require.ErrorIs(t, err, errBoom, "a panic with an error value is errors.Is that error")
	require.ErrorAs(t, err, &pe)
}

func TestGoGoexit(t *testing.T) {
	ctx := context.Background()
	_, err := Go(ctx, func(context.Context) (int, error) {
		runtime.Goexit()
		return 0, nil
	}).Await(ctx)
	require.ErrorIs(t, err, errGoexit, "a Goexit in fn still settles the future")
}

func TestGoContext(t *testing.T) {
	t.Run("parent ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := Go(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		cancel()
		_, err := f.Await(context.Background())
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("Cancel ends fn's context", func(t *testing.T) {
		exited := make(chan error)
		f := Go(context.Background(), func(ctx context.Context) (int, error) {
			<-ctx.Done()
			exited <- ctx.Err()
			return 7, nil
		})
		require.True(t, f.Cancel())
		require.ErrorIs(t, <-exited, context.Canceled)
		_, err := f.Await(context.Background())
		require.ErrorIs(t, err, context.Canceled, "Cancel's error stands, fn's later result is ignored")
	})
	t.Run("fn's context ends once fn returned", func(t *testing.T) {
		var inner context.Context
		f := Go(context.Background(), func(ctx context.Context) (int, error) {
			inner = ctx
			return 1, nil
		})
		_, err := f.Await(context.Background())
		require.NoError(t, err)
		require.ErrorIs(t, inner.Err(), context.Canceled, "the derived context is released")
	})
}

func TestAwaitContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, resolve := New[int]()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := f.Await(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		_, ok := f.Peek()
		require.False(t, ok, "the future stays pending")

		resolve(5, nil)
		v, err := f.Await(ctx)
		require.NoError(t, err, "a settled future's result wins over an ended context")
		require.Equal(t, 5, v)
	})
}

func TestAwaitBlocksUntilSettled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, resolve := New[string]()
		go func() {
			time.Sleep(time.Second)
			resolve("late", nil)
		}()
		start := time.Now()
		v, err := f.Await(context.Background())
		require.NoError(t, err)
		require.Equal(t, "late", v)
		require.Equal(t, time.Second, time.Since(start))
	})
}

func TestDone(t *testing.T) {
	f, resolve := New[int]()
	d := f.Done()
	require.Equal(t, d, f.Done(), "Done returns the same channel each time")
	select {
	case <-d:
		t.Fatal("Done is closed before the future settled")
	default:
	}
	resolve(1, nil)
	select {
	case <-d:
	default:
		t.Fatal("Done is not closed after the future settled")
	}
	_, ok := <-Ready(1).Done()
	require.False(t, ok, "a settled future's Done is closed")
}

func TestPeek(t *testing.T) {
	f, resolve := New[int]()
	r, ok := f.Peek()
	require.False(t, ok)
	require.Equal(t, Result[int]{}, r)
	resolve(0, errBoom)
	r, ok = f.Peek()
	require.True(t, ok)
	require.ErrorIs(t, r.Err, errBoom)
}

func TestCancel(t *testing.T) {
	f, resolve := New[int]()
	require.True(t, f.Cancel())
	require.False(t, f.Cancel(), "a second Cancel reports false")
	require.False(t, resolve(1, nil))
	_, err := f.Await(context.Background())
	require.ErrorIs(t, err, context.Canceled)

	var zero Future[int]
	require.True(t, zero.Cancel(), "the zero Future is pending and Cancel settles it")
}

func TestOnDoneOrderAndGoroutine(t *testing.T) {
	f, resolve := New[int]()
	var got []string
	f.OnDone(func(v int, err error) { got = append(got, "a") })
	f.AfterDone(func() { got = append(got, "b") })
	f.OnDone(func(v int, err error) { got = append(got, "c") })
	require.Empty(t, got, "callbacks wait for the future")

	resolve(3, nil)
	require.Equal(t, []string{"a", "b", "c"}, got, "callbacks ran in order before resolve returned")

	f.OnDone(func(v int, err error) {
		require.Equal(t, 3, v)
		got = append(got, "d")
	})
	require.Equal(t, []string{"a", "b", "c", "d"}, got, "a callback on a settled future runs at once")
}

func TestOnDoneGetsError(t *testing.T) {
	f, resolve := New[int]()
	var gotErr error
	f.OnDone(func(_ int, err error) { gotErr = err })
	resolve(0, errBoom)
	require.ErrorIs(t, gotErr, errBoom)
}

func TestPanickingCallback(t *testing.T) {
	f, resolve := New[int]()
	var ran []int
	f.OnDone(func(int, error) { ran = append(ran, 1) })
	f.OnDone(func(int, error) { panic("callback bug") })
	f.AfterDone(func() { ran = append(ran, 3) })
	f.OnDone(func(int, error) { panic("second bug") })
	f.OnDone(func(int, error) { ran = append(ran, 5) })

	require.Panics(t, func() { resolve(9, nil) }, "the panic reaches the settling goroutine")
	require.Equal(t, []int{1, 3, 5}, ran, "the other callbacks all ran")

	v, err := f.Await(context.Background())
	require.NoError(t, err)
	require.Equal(t, 9, v, "the future is fully settled")
	select {
	case <-f.Done():
	default:
		t.Fatal("Done is not closed")
	}
}

func TestAfterDoneStop(t *testing.T) {
	f, resolve := New[int]()
	ran := 0
	stop := f.AfterDone(func() { ran++ })
	keep := f.AfterDone(func() { ran += 10 })
	require.True(t, stop(), "stop before settling prevents the call")
	require.False(t, stop(), "a second stop reports false")
	resolve(1, nil)
	require.Equal(t, 10, ran, "only the callback not stopped ran")
	require.False(t, keep(), "stop after the callback ran reports false")

	ran = 0
	stop = f.AfterDone(func() { ran++ })
	require.Equal(t, 1, ran, "AfterDone on a settled future runs fn at once")
	require.False(t, stop(), "and its stop reports false")
}

func TestAfterDoneStopRace(t *testing.T) {
	for range 1000 {
		f, resolve := New[int]()
		var ran atomic.Int32
		stop := f.AfterDone(func() { ran.Add(1) })
		var stopped atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() { resolve(1, nil) })
		wg.Go(func() { stopped.Store(stop()) })
		wg.Wait()
		if stopped.Load() {
			require.Zero(t, ran.Load(), "stop reported true but fn ran")
		} else {
			require.Equal(t, int32(1), ran.Load(), "stop reported false but fn did not run")
		}
	}
}

func TestStopCompacts(t *testing.T) {
	f, _ := New[int]()
	keep := 0
	f.OnDone(func(int, error) { keep++ })
	for range 10_000 {
		stop := f.AfterDone(func() { t.Error("stopped callback ran") })
		require.True(t, stop())
	}
	for range 100 {
		f.AfterDone(func() {})()
	}
	f.mu.Lock()
	n := len(f.cbs)
	f.mu.Unlock()
	require.LessOrEqual(t, n, 3, "register/stop pairs must not grow a pending future's list")

	// Stops out of order leave tombstones inside the list; they must not pile up either.
	for range 100 {
		f.OnDone(func(int, error) { keep++ })
	}
	prev := f.AfterDone(func() { t.Error("stopped callback ran") })
	for range 10_000 {
		next := f.AfterDone(func() { t.Error("stopped callback ran") })
		require.True(t, prev())
		prev = next
	}
	require.True(t, prev())
	f.mu.Lock()
	n, c := len(f.cbs), cap(f.cbs)
	f.mu.Unlock()
	require.LessOrEqual(t, n, 2*101, "tombstones are dropped")
	require.LessOrEqual(t, c, 4*101, "the list stays about twice its live callbacks")
	f.Cancel()
	require.Equal(t, 101, keep, "every live callback ran once")
}

func TestStopOutOfOrder(t *testing.T) {
	f, resolve := New[int]()
	var ran []int
	stops := make([]func() bool, 10)
	for i := range stops {
		stops[i] = f.AfterDone(func() { ran = append(ran, i) })
	}
	for _, i := range []int{7, 0, 3, 9, 4, 5} {
		require.True(t, stops[i](), "stop %d", i)
	}
	for _, i := range []int{7, 0, 3, 9, 4, 5} {
		require.False(t, stops[i](), "stop %d again", i)
	}
	resolve(0, nil)
	require.Equal(t, []int{1, 2, 6, 8}, ran)
}

func TestNilMisuse(t *testing.T) {
	var f *Future[int]
	ctx := context.Background()
	for name, call := range map[string]func(){
		"Await":     func() { f.Await(ctx) },
		"Done":      func() { f.Done() },
		"Peek":      func() { f.Peek() },
		"Cancel":    func() { f.Cancel() },
		"OnDone":    func() { f.OnDone(func(int, error) {}) },
		"AfterDone": func() { f.AfterDone(func() {}) },
		"Then":      func() { Then(f, func(int) (int, error) { return 0, nil }) },
		"Catch":     func() { Catch(f, func(error) (int, error) { return 0, nil }) },
		"Timeout":   func() { Timeout(f, time.Second) },
	} {
		assert.PanicsWithValue(t, "future: "+name+" called on a nil *Future", call, name)
	}
	ok := Ready(1)
	for name, call := range map[string]func(){
		"All":        func() { All(ok, f) },
		"AllSettled": func() { AllSettled(ok, f) },
		"Any":        func() { Any(ok, f) },
		"Race":       func() { Race(ok, f) },
		"Completed":  func() { Completed(ctx, ok, f) },
	} {
		assert.PanicsWithValue(t, "future: "+name+" called with a nil *Future at index 1", call, name)
	}
	g, _ := New[int]()
	assert.PanicsWithValue(t, "future: OnDone called with a nil function", func() { g.OnDone(nil) })
	assert.PanicsWithValue(t, "future: AfterDone called with a nil function", func() { g.AfterDone(nil) })
	assert.PanicsWithValue(t, "future: Go called with a nil function", func() { Go[int](ctx, nil) })
	//lint:ignore SA1012 the nil Context is the misuse under test
	assert.PanicsWithValue(t, "future: Go called with a nil Context", func() { Go(nil, panicker(1)) })
	//lint:ignore SA1012 the nil Context is the misuse under test
	assert.PanicsWithValue(t, "future: Await called with a nil Context", func() { g.Await(nil) })
	assert.PanicsWithValue(t, "future: Then called with a nil function", func() { Then[int, int](g, nil) })
	assert.PanicsWithValue(t, "future: Catch called with a nil function", func() { Catch(g, nil) })
}

// TestHammer races every operation on shared futures: run it with -race.
func TestHammer(t *testing.T) {
	const futures, goroutines = 200, 6
	for range futures {
		f, resolve := New[int]()
		var settles, callbacks, stopsTrue atomic.Int32
		registered := atomic.Int32{}
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				switch g % 6 {
				case 0:
					if resolve(g, nil) {
						settles.Add(1)
					}
				case 1:
					if f.Cancel() {
						settles.Add(1)
					}
				case 2:
					registered.Add(1)
					f.OnDone(func(int, error) { callbacks.Add(1) })
				case 3:
					registered.Add(1)
					stop := f.AfterDone(func() { callbacks.Add(1) })
					if stop() {
						stopsTrue.Add(1)
					}
				case 4:
					_, _ = f.Await(context.Background())
				case 5:
					<-f.Done()
					_, ok := f.Peek()
					assert.True(t, ok, "Peek after Done")
				}
			})
		}
		wg.Wait()
		require.Equal(t, int32(1), settles.Load(), "settled exactly once")
		require.Equal(t, registered.Load(), callbacks.Load()+stopsTrue.Load(),
			"every callback either ran once or was stopped")
	}
}

func TestPanicErrorMessage(t *testing.T) {
	pe := &PanicError{Value: errBoom, Stack: []byte("stack")}
	require.Equal(t, "panic: boom", pe.Error())
	require.False(t, strings.Contains(pe.Error(), "stack"), "the stack stays out of the message")
}
