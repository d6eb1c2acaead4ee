// Package future provides Future, a typed value or error that becomes available once: the
// result of work that finishes later, like a one-shot [sync.WaitGroup] that carries a result.
//
// # Making futures
//
// [New] returns a pending future and the function that settles it; [Go] runs a function on a
// new goroutine and settles the future with what it returns (or with a [*PanicError] if it
// panics); [Ready] and [Failed] return futures that are already settled.
//
// # Waiting
//
// A goroutine waits with [Future.Await], [Future.Done] or [Future.Peek]. Code that must not
// block, such as a scheduler, registers a callback with [Future.OnDone] or
// [Future.AfterDone]; every callback runs exactly once, on the goroutine that settles the
// future, or at once on the registering goroutine if the future has already settled.
//
// # Combining
//
// [Then] and [Catch] chain work on a result, [All], [AllSettled], [Any] and [Race] combine
// several futures, [Timeout] bounds a wait, and [Completed] iterates over futures in the
// order they settle.
//
// # Rules
//
// A future settles at most once: the first settle wins and every later one is ignored and
// reported false. Every method is safe to call from any goroutine. Passing a nil *Future to
// any function or method of this package panics with a message that names the function.
// Nothing in this package starts a goroutine except [Go].
package future

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
)

// Future is a value of type T, or an error, that becomes available once.
//
// Create futures with [New], [Go], [Ready], [Failed] or a combinator; the zero value is a
// pending future that only [Future.Cancel] can settle. A Future must not be copied after
// first use.
//
// Settling a future happens before every Await, Peek, Done receive or callback that
// observes it settled.
type Future[T any] struct {
	state atomic.Uint32 // pending or settled; set under mu, read without it
	mu    sync.Mutex
	last  uint64 // id of the last callback registered; ids never repeat

	// val and err are written once, under mu, before state becomes settled; after that
	// they are read without a lock.
	val T
	err error

	done   chan struct{}  // made on first need, under mu; closed on settling
	cbs    []callback[T]  // registered callbacks in order, with tombstones; nil once settled
	inline [1]callback[T] // backing store for the first callback: one allocation less
}

const (
	pending uint32 = iota
	settled
)

// callback is one registration: exactly one of onDone and after is set, or neither for a
// callback that was stopped (a tombstone). ids grow in order of registration.
type callback[T any] struct {
	id     uint64
	onDone func(T, error)
	after  func()
}

// Result is the outcome of a future: its value, or the error it failed with.
type Result[T any] struct {
	Value T
	Err   error
}

// PanicError is the error a future fails with when the function that was to settle it
// panicked: the panic is recovered, and its value and the goroutine's stack at the panic
// are kept here. If the value is an error, [errors.Is] and [errors.As] see through to it.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack, as [runtime/debug.Stack] formats it
}

// Error returns "panic: " and the panic value; the stack is left to those who ask for it.
func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Unwrap returns the panic value if it is an error, and nil otherwise.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Awaitable is something that settles once and can report it: it is all that a scheduler
// needs of a future. [*Future] implements it for every T.
type Awaitable interface {
	// Done returns a channel that is closed once the Awaitable has settled.
	Done() <-chan struct{}

	// AfterDone arranges for fn to run once the Awaitable has settled: on the goroutine
	// that settles it, or at once on the calling goroutine if it already has. Calling the
	// returned stop prevents fn from running if it has not started yet; stop reports
	// whether it did so, and once stop or fn has won every later call to stop returns false.
	AfterDone(fn func()) (stop func() bool)
}

// New returns a pending future and the function that settles it with a value or an error.
// The first call to resolve settles the future and reports true; later calls change nothing
// and report false. resolve may be called from any goroutine; the callbacks registered on
// the future run on the goroutine that makes the first call, before it returns.
func New[T any]() (f *Future[T], resolve func(v T, err error) bool) {
	f = new(Future[T])
	return f, f.settle
}

// Ready returns a future already settled with v.
func Ready[T any](v T) *Future[T] {
	f := new(Future[T])
	f.val = v
	f.state.Store(settled)
	return f
}

// Failed returns a future already failed with err. A nil err is a programming error and
// panics, since a future that failed with no error would look like a success.
func Failed[T any](err error) *Future[T] {
	if err == nil {
		panic("future: Failed called with a nil error")
	}
	f := new(Future[T])
	f.err = err
	f.state.Store(settled)
	return f
}

// Go runs fn on a new goroutine and returns a future that settles with fn's result.
//
// fn's context is derived from ctx and ends when ctx ends, when the future is cancelled
// with [Future.Cancel], or once fn has returned. If fn panics, the future fails with a
// [*PanicError] holding the panic value and stack, and the panic goes no further. If fn
// calls [runtime.Goexit], the future fails with an error that says so. The goroutine exits
// when fn returns; it is fn's job to return once its context ends.
//
// Callbacks registered on the future run on the goroutine Go started; a panic in one of
// them is not recovered and ends the program, as any goroutine's panic does.
func Go[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	if ctx == nil {
		panic("future: Go called with a nil Context")
	}
	if fn == nil {
		panic("future: Go called with a nil function")
	}
	ctx, cancel := context.WithCancel(ctx)
	f := new(Future[T])
	f.register(callback[T]{after: cancel})
	go func() {
		// The future settles in a deferred call so that it settles even if fn panics
		// or calls runtime.Goexit.
		var v T
		var err error
		returned := false
		defer func() {
			if !returned {
				if r := recover(); r != nil {
					err = &PanicError{Value: r, Stack: debug.Stack()}
				} else {
					err = errGoexit
				}
			}
			cancel() // before settling: whoever sees the result sees fn's context ended
			f.settle(v, err)
		}()
		v, err = fn(ctx)
		returned = true
	}()
	return f
}

var errGoexit = errors.New("future: function called runtime.Goexit")

// settle is the resolver New returns.
func (f *Future[T]) settle(v T, err error) bool {
	if f.state.Load() != pending {
		return false
	}
	f.mu.Lock()
	if f.state.Load() != pending {
		f.mu.Unlock()
		return false
	}
	f.val, f.err = v, err
	f.state.Store(settled)
	cbs := f.cbs
	f.cbs = nil
	if f.done != nil {
		close(f.done)
	}
	f.mu.Unlock()
	dispatch(cbs, v, err)
	return true
}

// dispatch runs cbs in order. If one panics, the rest still run before the panic goes on
// up the settling goroutine's stack: a callback's bug is not hidden, and does not cost the
// other callbacks their call.
func dispatch[T any](cbs []callback[T], v T, err error) {
	i := 0
	defer func() {
		if i < len(cbs) {
			dispatch(cbs[i+1:], v, err)
		}
	}()
	for ; i < len(cbs); i++ {
		switch cb := &cbs[i]; {
		case cb.onDone != nil:
			cb.onDone(v, err)
		case cb.after != nil:
			cb.after()
		}
	}
}

// Cancel fails the future with [context.Canceled] if it is still pending, and reports
// whether it did. For a future made by [Go], it also ends the context given to fn (fn is
// not waited for). Callbacks run on the calling goroutine, before Cancel returns.
func (f *Future[T]) Cancel() bool {
	mustFuture(f, "Cancel")
	var zero T
	return f.settle(zero, context.Canceled)
}

// Await blocks until the future has settled and returns its value and error, or until
// ctx ends and returns ctx's error (the future stays as it was). If the future has
// settled, its result is returned even when ctx has ended too. Await on a settled future
// neither blocks nor allocates.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	mustFuture(f, "Await")
	if f.state.Load() == settled {
		return f.val, f.err
	}
	if ctx == nil {
		panic("future: Await called with a nil Context")
	}
	done := f.Done()
	if cd := ctx.Done(); cd == nil {
		<-done
	} else {
		select {
		case <-done:
		case <-cd:
			if f.state.Load() != settled {
				var zero T
				return zero, ctx.Err()
			}
		}
	}
	return f.val, f.err
}

// closed is the channel Done returns for futures that settled before anyone asked for one.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done returns a channel that is closed once the future has settled, for use in select
// statements. The channel is made on the first call, so futures that nobody selects on
// never pay for one.
func (f *Future[T]) Done() <-chan struct{} {
	mustFuture(f, "Done")
	if f.state.Load() == settled {
		return closed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Load() == settled {
		return closed
	}
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

// Peek returns the future's result and true if it has settled, or a zero Result and false
// if it is still pending. It never blocks.
func (f *Future[T]) Peek() (Result[T], bool) {
	mustFuture(f, "Peek")
	if f.state.Load() != settled {
		return Result[T]{}, false
	}
	return Result[T]{f.val, f.err}, true
}

// OnDone arranges for fn to be called with the future's value and error once it settles.
// Callbacks registered before the future settles run in the order they were registered,
// on the goroutine that settles it, before that goroutine's settle call returns; if the
// future has already settled, fn runs at once on the calling goroutine. Each callback runs
// exactly once. A panicking callback does not stop the others: they run, then the panic
// continues on the settling goroutine. Callbacks should be short: the settling goroutine
// runs them all before it goes on.
func (f *Future[T]) OnDone(fn func(v T, err error)) {
	mustFuture(f, "OnDone")
	if fn == nil {
		panic("future: OnDone called with a nil function")
	}
	if _, ok := f.register(callback[T]{onDone: fn}); !ok {
		fn(f.val, f.err)
	}
}

// AfterDone arranges for fn to be called once the future settles, with the same rules as
// [Future.OnDone]. Calling stop prevents fn from running if it has not run yet and reports
// whether it did; if the future has settled, fn has been called or is being called, and
// stop reports false. stop may be called any number of times from any goroutine; at most
// one call reports true. AfterDone implements [Awaitable].
func (f *Future[T]) AfterDone(fn func()) (stop func() bool) {
	mustFuture(f, "AfterDone")
	if fn == nil {
		panic("future: AfterDone called with a nil function")
	}
	id, ok := f.register(callback[T]{after: fn})
	if !ok {
		fn()
		return noStop
	}
	return func() bool { return f.stop(id) }
}

func noStop() bool { return false }

// register appends cb and returns its id, or reports false if the future has settled and
// the caller must run cb itself.
func (f *Future[T]) register(cb callback[T]) (uint64, bool) {
	if f.state.Load() == settled {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Load() == settled {
		return 0, false
	}
	switch {
	case f.cbs == nil:
		f.cbs = f.inline[:0]
	case len(f.cbs) == cap(f.cbs):
		// Drop tombstones before growing, and grow unless that freed half the list: a
		// long-lived future that sees many register/stop pairs keeps a list at most
		// about twice its live callbacks, at an amortized constant cost per register.
		f.cbs = slices.DeleteFunc(f.cbs, callback[T].stopped)
		if 2*len(f.cbs) > cap(f.cbs) {
			f.cbs = slices.Grow(f.cbs, cap(f.cbs))
		}
	}
	f.last++
	cb.id = f.last
	f.cbs = append(f.cbs, cb)
	return cb.id, true
}

// stop removes the callback with the given id if the future is still pending and the
// callback is still there. It leaves a tombstone, so that ids stay sorted for the binary
// search, except at the end of the list, which the common register-then-stop pattern
// keeps short; register drops the other tombstones when the list is full.
func (f *Future[T]) stop(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Load() == settled {
		return false
	}
	i, found := slices.BinarySearchFunc(f.cbs, id, func(cb callback[T], id uint64) int {
		return cmp.Compare(cb.id, id)
	})
	if !found || f.cbs[i].stopped() {
		return false
	}
	f.cbs[i] = callback[T]{id: id}
	n := len(f.cbs)
	for n > 0 && f.cbs[n-1].stopped() {
		n--
	}
	clear(f.cbs[n:]) // drop the tombstones, and what the collector may have
	f.cbs = f.cbs[:n]
	return true
}

func (cb callback[T]) stopped() bool { return cb.onDone == nil && cb.after == nil }

func mustFuture[T any](f *Future[T], fn string) {
	if f == nil {
		panic("future: " + fn + " called on a nil *Future")
	}
}
