package future

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The combinators below never cancel the futures they are given: those may be shared with
// other waiters. Cancel them, or the context that feeds them, to stop the work behind them.
//
// Each registers a chained callback on its inputs (see dispatch): the output settles
// without running its callbacks, and the dispatcher runs them in its loop, so that chains
// of any length take a flat stack. A combinator whose output can settle before all its
// inputs have keeps its registrations in claims, and takes them back once it has.

// Then returns a future that settles with fn(v) once f succeeds with v, or with f's error
// if f fails (fn is then not called). fn runs on the goroutine that settles f; a panic in
// fn fails the returned future with a [*PanicError].
func Then[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	mustFuture(f, "Then")
	if fn == nil {
		panic("future: Then called with a nil function")
	}
	g := new(Future[U])
	f.chain(func(v T, err error) queued {
		if err != nil {
			var zero U
			return g.settleQueued(zero, err)
		}
		return g.settleQueued(protect(func() (U, error) { return fn(v) }))
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
	f.chain(func(v T, err error) queued {
		if err == nil {
			return g.settleQueued(v, nil)
		}
		return g.settleQueued(protect(func() (T, error) { return fn(err) }))
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

// claims holds what a combinator registered on its inputs, so that it can take it back
// once its output has settled: an input that lives on, such as a shutdown signal raced
// against many others, must not keep every output reachable, nor a callback for each.
//
// The combinator registers on its inputs in order, recording each registration unless
// the output has settled meanwhile (on this goroutine, if an input had settled already,
// or on another): then it stops the registration it just made and registers no more.
// Whoever settles the output first calls release, which marks it done and stops every
// registration recorded. The lock orders the two, so nothing is left behind.
type claims struct {
	left atomic.Int64 // inputs yet to settle, for All, Any and Join

	mu     sync.Mutex
	done   bool            // the output has settled; under mu
	regs   []registration  // what to take back; under mu
	inline [2]registration // backs regs for two inputs, as in Race(work, quit)
}

// registration is one callback a combinator registered: a chained one on a *Future of any
// type, or one made through another Awaitable's AfterDone (f a stopFunc). id 0: the input
// had settled, and there is nothing to take back.
type registration struct {
	f  interface{ stop(id uint64) bool }
	id uint64
}

// stopFunc is the stop that AfterDone returns, as a registration's f.
type stopFunc func() bool

func (s stopFunc) stop(uint64) bool { return s() }

func (r registration) take() {
	if r.id != 0 {
		r.f.stop(r.id) // false if r.f has settled: its callback is bound to run, and finds the output settled
	}
}

func newClaims(inputs int) *claims {
	c := new(claims)
	if inputs <= len(c.inline) {
		c.regs = c.inline[:0]
	} else {
		c.regs = make([]registration, 0, inputs)
	}
	return c
}

// claim registers fn on f and records the registration (see record).
func claim[T any](c *claims, f *Future[T], fn chained[T]) bool {
	return c.record(registration{f: f, id: f.chain(fn)})
}

// record records r, unless the output has settled: then it takes r back. It reports
// whether to go on with the next input.
func (c *claims) record(r registration) bool {
	c.mu.Lock()
	done := c.done
	if !done && r.id != 0 {
		c.regs = append(c.regs, r)
	}
	c.mu.Unlock()
	if done {
		r.take()
	}
	return !done
}

// release takes back every registration recorded, and makes record take back any later
// one. It is called once, by whoever settled the output first, on that goroutine.
func (c *claims) release() {
	c.mu.Lock()
	regs := c.regs
	c.done, c.regs = true, nil
	c.mu.Unlock()
	for _, r := range regs {
		r.take()
	}
	clear(regs)
}

// settleFirst settles g, a combinator's output, for a chained callback, and if it did so
// it takes back the combinator's registrations on its inputs.
func settleFirst[U any](c *claims, g *Future[U], v U, err error) queued {
	ok, _, w := g.complete(v, err, false)
	if !ok {
		return nil
	}
	c.release()
	if w&stateMask == settled {
		return g
	}
	return nil
}

// All returns a future that settles with the values of fs, in argument order, once all of
// them have succeeded, or fails with the error of the first of them to fail, and then
// removes its callbacks from those still pending. All of no futures is ready with an empty
// slice.
func All[T any](fs ...*Future[T]) *Future[[]T] {
	mustFutures(fs, "All")
	if len(fs) == 0 {
		return Ready([]T{})
	}
	g := new(Future[[]T])
	vals := make([]T, len(fs))
	c := newClaims(len(fs))
	c.left.Store(int64(len(fs)))
	for i, f := range fs {
		if !claim(c, f, func(v T, err error) queued {
			if err != nil {
				return settleFirst(c, g, nil, err)
			}
			vals[i] = v
			if c.left.Add(-1) == 0 { // every input has settled: nothing to take back
				return g.settleQueued(vals, nil)
			}
			return nil
		}) {
			break
		}
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
	// g settles only once every input has: nothing is ever left to take back.
	var left atomic.Int64
	left.Store(int64(len(fs)))
	for i, f := range fs {
		f.chain(func(v T, err error) queued {
			rs[i] = Result[T]{v, err}
			if left.Add(-1) == 0 {
				return g.settleQueued(rs, nil)
			}
			return nil
		})
	}
	return g
}

// Any returns a future that settles with the value of the first of fs to succeed, and then
// removes its callbacks from those still pending. If all of them fail, it fails with an
// error that joins theirs in argument order ([errors.Is] and [errors.As] see each). Any of
// no futures fails at once.
func Any[T any](fs ...*Future[T]) *Future[T] {
	mustFutures(fs, "Any")
	if len(fs) == 0 {
		return Failed[T](errors.New("future: Any of no futures"))
	}
	g := new(Future[T])
	errs := make([]error, len(fs))
	c := newClaims(len(fs))
	c.left.Store(int64(len(fs)))
	for i, f := range fs {
		if !claim(c, f, func(v T, err error) queued {
			if err == nil {
				return settleFirst(c, g, v, nil)
			}
			errs[i] = err
			if c.left.Add(-1) == 0 { // every input has settled: nothing to take back
				var zero T
				return g.settleQueued(zero, &anyError{errs})
			}
			return nil
		}) {
			break
		}
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
// or failed, and then removes its callbacks from the others: racing many futures against
// one that lives long, such as a shutdown signal, leaves nothing on it. Race of no futures
// fails at once, since nothing could ever settle it.
func Race[T any](fs ...*Future[T]) *Future[T] {
	mustFutures(fs, "Race")
	if len(fs) == 0 {
		return Failed[T](errors.New("future: Race of no futures"))
	}
	g := new(Future[T])
	c := newClaims(len(fs))
	fn := chained[T](func(v T, err error) queued { return settleFirst(c, g, v, err) })
	for _, f := range fs {
		if !claim(c, f, fn) {
			break
		}
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
	id := f.chain(func(v T, err error) queued {
		q := g.settleQueued(v, err)
		if t := timer.Load(); t != nil {
			t.Stop()
		}
		return q
	})
	if id == 0 {
		return g // f has settled: so has g, or it will from the callback, bound to run
	}
	timer.Store(time.AfterFunc(d, func() {
		if f.stop(id) {
			var zero T
			g.settle(zero, &timeoutError{d})
		}
	}))
	if g.state() != pending {
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
