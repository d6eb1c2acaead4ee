package future

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// The combinators below never cancel the futures they are given: those may be shared with
// other waiters. Cancel them, or the context that feeds them, to stop the work behind them.

// Then returns a future that settles with fn(v) once f succeeds with v, or with f's error
// if f fails (fn is then not called). fn runs on the goroutine that settles f; a panic in
// fn fails the returned future with a [*PanicError].
func Then[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	mustFuture(f, "Then")
	if fn == nil {
		panic("future: Then called with a nil function")
	}
	g := new(Future[U])
	f.OnDone(func(v T, err error) {
		if err != nil {
			var zero U
			g.settle(zero, err)
			return
		}
		g.settle(protect(func() (U, error) { return fn(v) }))
	})
	return g
}

// Catch returns a future that settles with f's value if f succeeds, or with fn(err) if f
// fails with err: fn may recover with a value or return another error. fn runs on the
// goroutine that settles f; a panic in fn fails the returned future with a [*PanicError].
func Catch[T any](f *Future[T], fn func(error) (T, error)) *Future[T] {
	mustFuture(f, "Catch")
	if fn == nil {
		panic("future: Catch called with a nil function")
	}
	g := new(Future[T])
	f.OnDone(func(v T, err error) {
		if err == nil {
			g.settle(v, nil)
			return
		}
		g.settle(protect(func() (T, error) { return fn(err) }))
	})
	return g
}

// protect calls fn, turning a panic into a *PanicError.
func protect[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// All returns a future that settles with the values of fs, in argument order, once all of
// them have succeeded, or fails with the error of the first of them to fail. All of no
// futures is ready with an empty slice.
func All[T any](fs ...*Future[T]) *Future[[]T] {
	mustFutures(fs, "All")
	if len(fs) == 0 {
		return Ready([]T{})
	}
	g := new(Future[[]T])
	vals := make([]T, len(fs))
	var left atomic.Int64
	left.Store(int64(len(fs)))
	for i, f := range fs {
		f.OnDone(func(v T, err error) {
			if err != nil {
				g.settle(nil, err)
				return
			}
			vals[i] = v
			if left.Add(-1) == 0 {
				g.settle(vals, nil)
			}
		})
	}
	return g
}

// AllSettled returns a future that settles, once every one of fs has, with their results in
// argument order. It never fails. AllSettled of no futures is ready with an empty slice.
func AllSettled[T any](fs ...*Future[T]) *Future[[]Result[T]] {
	mustFutures(fs, "AllSettled")
	g := new(Future[[]Result[T]])
	rs := make([]Result[T], len(fs))
	if len(fs) == 0 {
		g.settle(rs, nil)
		return g
	}
	var left atomic.Int64
	left.Store(int64(len(fs)))
	for i, f := range fs {
		f.OnDone(func(v T, err error) {
			rs[i] = Result[T]{v, err}
			if left.Add(-1) == 0 {
				g.settle(rs, nil)
			}
		})
	}
	return g
}

// Any returns a future that settles with the value of the first of fs to succeed. If all of
// them fail, it fails with an error that joins theirs in argument order ([errors.Is] and
// [errors.As] see each). Any of no futures fails at once.
func Any[T any](fs ...*Future[T]) *Future[T] {
	mustFutures(fs, "Any")
	if len(fs) == 0 {
		return Failed[T](errors.New("future: Any of no futures"))
	}
	g := new(Future[T])
	errs := make([]error, len(fs))
	var left atomic.Int64
	left.Store(int64(len(fs)))
	for i, f := range fs {
		f.OnDone(func(v T, err error) {
			if err == nil {
				g.settle(v, nil)
				return
			}
			errs[i] = err
			if left.Add(-1) == 0 {
				var zero T
				g.settle(zero, &anyError{errs})
			}
		})
	}
	return g
}

// anyError is Any's error when every future failed.
type anyError struct{ errs []error }

func (e *anyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "future: all %d futures failed: ", len(e.errs))
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *anyError) Unwrap() []error { return e.errs }

// Race returns a future that settles like the first of fs to settle, whether it succeeded
// or failed. Race of no futures fails at once, since nothing could ever settle it.
func Race[T any](fs ...*Future[T]) *Future[T] {
	mustFutures(fs, "Race")
	if len(fs) == 0 {
		return Failed[T](errors.New("future: Race of no futures"))
	}
	g := new(Future[T])
	for _, f := range fs {
		f.OnDone(func(v T, err error) { g.settle(v, err) })
	}
	return g
}

// Timeout returns a future that settles like f if f settles within d, and otherwise fails
// after d with an error for which errors.Is(err, context.DeadlineExceeded) is true. It does
// not cancel f; to bound the work itself, give the work a context with a deadline.
func Timeout[T any](f *Future[T], d time.Duration) *Future[T] {
	mustFuture(f, "Timeout")
	g := new(Future[T])
	// The timer and the callback each stop the other, whichever comes first; the timer
	// pointer is published after the callback is registered, hence the atomic.
	var timer atomic.Pointer[time.Timer]
	stop := f.AfterDone(func() {
		g.settle(f.val, f.err)
		if t := timer.Load(); t != nil {
			t.Stop()
		}
	})
	if g.state.Load() == settled {
		return g
	}
	timer.Store(time.AfterFunc(d, func() {
		if stop() {
			var zero T
			g.settle(zero, &timeoutError{d})
		}
	}))
	if g.state.Load() == settled {
		timer.Load().Stop() // f settled before the timer was published
	}
	return g
}

// timeoutError is Timeout's error: it is context.DeadlineExceeded, with the duration said.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("future: timed out after %v", e.d) }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// Completed returns an iterator over fs in the order they settle, like Python's
// as_completed: it yields each future's index in fs and its result. If ctx ends first, the
// futures still pending are yielded next, in argument order, each with ctx's error, so
// that every index is yielded exactly once. Breaking out of the loop early is safe: the
// iterator removes what it registered on the futures and leaves nothing running. The
// iterator may be ranged over more than once; each range starts afresh.
func Completed[T any](ctx context.Context, fs ...*Future[T]) iter.Seq2[int, Result[T]] {
	if ctx == nil {
		panic("future: Completed called with a nil Context")
	}
	mustFutures(fs, "Completed")
	return func(yield func(int, Result[T]) bool) {
		// The buffer holds every index, so callbacks never block the settling goroutine.
		ready := make(chan int, len(fs))
		stops := make([]func() bool, len(fs))
		defer func() {
			for _, stop := range stops {
				if stop != nil {
					stop()
				}
			}
		}()
		for i, f := range fs {
			stops[i] = f.AfterDone(func() { ready <- i })
		}
		yielded := make([]bool, len(fs))
		for range len(fs) {
			var i int
			select {
			case i = <-ready:
			case <-ctx.Done():
				for i, f := range fs {
					if yielded[i] {
						continue
					}
					r, ok := f.Peek()
					if !ok {
						r.Err = ctx.Err()
					}
					if !yield(i, r) {
						return
					}
				}
				return
			}
			yielded[i] = true
			r, _ := fs[i].Peek()
			if !yield(i, r) {
				return
			}
		}
	}
}

func mustFutures[T any](fs []*Future[T], fn string) {
	for i, f := range fs {
		if f == nil {
			panic(fmt.Sprintf("future: %s called with a nil *Future at index %d", fn, i))
		}
	}
}
