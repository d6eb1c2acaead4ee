// Package future provides Future, a typed value or error that becomes available once: the
// result of work that finishes later, like a one-shot [sync.WaitGroup] that carries a result.
//
// # Making futures
//
// [New] returns a pending future and the function that settles it; [Go] runs a function on a
// new goroutine and settles the future with what it returns (or with a [*PanicError] if it
// panics); [Ready] and [Failed] return futures that are already settled.
//
// A future whose resolver is dropped before it is called stays pending for ever, and so do
// its waiters. [DetectAbandoned] makes such futures fail with [ErrAbandoned], found by the
// garbage collector, at a cost to each New.
//
// # Waiting
//
// A goroutine waits with [Future.Await], [Future.Done] or [Future.Peek]. Code that must not
// block, such as a scheduler, registers a callback with [Future.OnDone] or
// [Future.AfterDone]. Every callback runs exactly once, and a future's callbacks run in the
// order they were registered: those registered before the future settles run on the
// goroutine that settles it, before its settle call returns; one registered while they run
// runs after them, on that same goroutine; one registered once they have all run runs at
// once on the registering goroutine.
//
// # Combining
//
// [Then] and [Catch] chain work on a result, [All], [AllSettled], [Any] and [Race] combine
// several futures, [Join] waits for futures of different types and fails fast (errgroup's
// Wait, without a goroutine), [FirstN] takes the first n successes (a quorum), [Timeout]
// bounds a wait and [After] is a timer, [Hedge] and [HedgeWithin] start a backup call when
// the first is slow ("The Tail at Scale"), and [Completed] iterates over futures in the
// order they settle. Once a combinator's future has settled, the combinator removes what it
// registered on the futures it was given: a future that lives long, such as a shutdown
// signal raced against each request, keeps nothing of the races that are over.
//
// # Chains
//
// A combinator's future settles from a callback on the futures it was given, and the
// futures made from it settle from its callbacks, and so on. However long such a chain,
// settling its first future takes the same stack depth: the settling goroutine runs the
// callbacks of the futures settled along the way in a loop, one future after another in
// the order they settled, all before its settle call returns. Only a callback of your own
// that settles another future (with its resolver or [Future.Cancel]) runs that future's
// callbacks within its own call, so a chain built that way deepens the stack at each link.
//
// # Rules
//
// A future settles at most once: the first settle wins and every later one is ignored and
// reported false. Every method is safe to call from any goroutine. Passing a nil *Future to
// any function or method of this package panics with a message that names the function.
// Nothing in this package starts a goroutine except [Go], and [Hedge], which runs its
// attempts with Go.
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
	// word holds the state (pending, settled or quiet) in its low two bits and, above
	// them, the id of the last callback registered: ids never repeat. It is read without
	// mu and changed under mu, except by the dispatcher's compare-and-swap from settled to
	// quiet, which fails if a callback was registered since the dispatcher last looked.
	// Packing both in one word keeps a Future in the 112-byte size class for small T.
	word atomic.Uint64
	mu   sync.Mutex

	// val and err are written once, under mu, before the state leaves pending; after that
	// they are read without a lock.
	val T
	err error

	done chan struct{} // made on first need, under mu; closed and dropped on settling
	// cbs holds, under mu, while pending: the callbacks in order, with tombstones; while
	// settled: those waiting for the dispatcher; once quiet: nil.
	cbs    []callback[T]
	inline [1]callback[T] // backing store for the first callback: one allocation less
	next   queued         // the dispatcher's queue, owned by the settling goroutine: see drain
}

// A future is pending, then settled, then quiet. Settled, its result is visible to all and
// its callbacks are being dispatched: a callback registered then is appended, for the
// dispatcher to run after the others. Quiet, every callback has run: one registered then
// runs at once on the caller.
const (
	pending uint64 = iota
	settled
	quiet

	stateMask = 3 // the bits of word that hold the state
	idUnit    = 4 // the id's unit in word
)

// callback is one registration. fn is a func(T, error) (OnDone), a func() (AfterDone) or
// a chained[T] (a combinator's), or nil for a callback that was stopped (a tombstone). One
// field of type any rather than three keeps the Future small; a func value is
// pointer-shaped, so storing it in an interface allocates nothing. ids grow in order of
// registration.
type callback[T any] struct {
	id uint64
	fn any
}

// chained is a combinator's callback: it settles the combinator's future with
// settleQueued, without running that future's callbacks, and returns it if they are to be
// run, so that the dispatcher runs them in its loop rather than deeper in the stack.
type chained[T any] func(T, error) queued

// queued is a settled future whose callbacks wait for the dispatcher: *Future[T] for
// every T. The queue is intrusive, linked through the futures' next fields, so that
// settling allocates nothing.
type queued interface {
	link() *queued              // the future's next field
	dispatchQueued(root queued) // runs its callbacks, queueing on root what they settle
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
	// that settles it, after the callbacks registered before fn, or at once on the
	// calling goroutine if those have all run. Calling the returned stop before the
	// Awaitable settles prevents fn from running; stop reports whether it did so, and once
	// stop or fn has won every later call to stop returns false.
	AfterDone(fn func()) (stop func() bool)
}

// New returns a pending future and the function that settles it with a value or an error.
// The first call to resolve settles the future and reports true; later calls change nothing
// and report false. resolve may be called from any goroutine; the callbacks registered on
// the future run on the goroutine that makes the first call, before it returns.
//
// With [DetectAbandoned] on, a future whose resolve became unreachable while it was pending
// fails with [ErrAbandoned]. A future that only Cancel settles needs no resolver:
// new(Future[T]) is one.
func New[T any]() (f *Future[T], resolve func(v T, err error) bool) {
	if detecting.Load() {
		return newWatched[T]()
	}
	f = new(Future[T])
	return f, f.settle
}

// Ready returns a future already settled with v.
func Ready[T any](v T) *Future[T] {
	f := new(Future[T])
	f.val = v
	f.word.Store(quiet)
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
	f.word.Store(quiet)
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
	f.register(callback[T]{fn: (func())(cancel)}) // a func(), which a CancelFunc is not to a type switch
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

// state is pending, settled or quiet.
func (f *Future[T]) state() uint64 { return f.word.Load() & stateMask }

// settle is the resolver New returns. It settles f, runs f's callbacks, then, in a loop,
// those of the futures they settled, as drain does.
func (f *Future[T]) settle(v T, err error) bool {
	ok, batch, w := f.complete(v, err, true)
	if len(batch) > 0 {
		// f is the root of its dispatch: the futures its callbacks settle are queued on
		// it, and drained here (or by dispatch, if a callback panics).
		f.dispatch(batch, w, f)
		if f.next != nil {
			drain(f)
		}
	}
	return ok
}

// settleQueued settles f for a chained callback: it runs none of f's callbacks, and
// returns f if they are to be run, for the dispatcher to queue.
func (f *Future[T]) settleQueued(v T, err error) queued {
	if _, _, w := f.complete(v, err, false); w&stateMask == settled {
		return f
	}
	return nil
}

// complete sets f's result if f is pending, and reports whether it did. If no callback is
// registered, f goes quiet at once. Otherwise f is settled, and either complete hands its
// callbacks over (take), with the word that dispatch needs, or it leaves them in f.cbs, for
// dispatchQueued to take. The word returned is 0 if f was not pending.
func (f *Future[T]) complete(v T, err error, take bool) (ok bool, batch []callback[T], w uint64) {
	if f.state() != pending {
		return false, nil, 0
	}
	f.mu.Lock()
	w = f.word.Load()
	if w&stateMask != pending {
		f.mu.Unlock()
		return false, nil, 0
	}
	f.val, f.err = v, err
	switch {
	case len(f.cbs) == 0: // stop leaves no tombstone at the end: no callback is live
		w |= quiet
		f.cbs = nil
	case take:
		w |= settled
		batch, f.cbs = f.cbs, nil
	default:
		w |= settled
	}
	f.word.Store(w)
	if f.done != nil {
		close(f.done)
		f.done = nil
	}
	f.mu.Unlock()
	return true, batch, w
}

// dispatch runs batch, the callbacks taken from f.cbs when f's word was w, then those
// registered since, until none is left and f goes quiet. The futures that chained
// callbacks settle are queued on root instead of being dispatched here, so the stack does
// not deepen; the caller drains them. If a callback panics, the rest still run, from a
// deferred call, before the panic goes on up the settling goroutine's stack: a callback's
// bug is not hidden, and does not cost the other callbacks their call, nor leave f
// half-dispatched. If f is the root, that deferred call drains the queue too; if not, the
// drain loop that called dispatch goes on from its own deferred call.
func (f *Future[T]) dispatch(batch []callback[T], w uint64, root queued) {
	i := 0
	defer func() {
		if i < len(batch) { // batch[i] panicked
			f.dispatch(batch[i+1:], w, root)
			if root == queued(f) && f.next != nil {
				drain(root)
			}
		}
	}()
	for {
		for ; i < len(batch); i++ {
			switch fn := batch[i].fn.(type) {
			case func(T, error):
				fn(f.val, f.err)
			case func():
				fn()
			case chained[T]:
				if g := fn(f.val, f.err); g != nil {
					push(root, g)
				}
			}
		}
		// Go quiet, unless a callback was registered since batch was taken: that changed
		// the word. (A queued future starts here with w = 0, which never matches.)
		if f.word.CompareAndSwap(w, w&^stateMask|quiet) {
			f.inline = [1]callback[T]{} // the first batch may have lived there
			return
		}
		f.mu.Lock()
		batch, i, w = f.cbs, 0, f.word.Load()
		f.cbs = nil
		f.mu.Unlock()
	}
}

func (f *Future[T]) link() *queued { return &f.next }

func (f *Future[T]) dispatchQueued(root queued) { f.dispatch(nil, 0, root) }

// drain dispatches the futures queued on root, and those their callbacks queue in turn,
// until the queue is empty: one loop, however long the chain. If a callback panics, the
// deferred call drains the rest before the panic goes on.
func drain(root queued) {
	defer func() {
		if *root.link() != nil { // a callback panicked
			drain(root)
		}
	}()
	for g := pop(root); g != nil; g = pop(root) {
		g.dispatchQueued(root)
	}
}

// push appends g to the queue on root. The queue is circular: root's next field holds the
// tail, whose next field holds the head, so that it takes one field of the root, which is
// on no queue itself.
func push(root, g queued) {
	tail := root.link()
	if *tail == nil {
		*g.link() = g
	} else {
		head := (*tail).link()
		*g.link() = *head
		*head = g
	}
	*tail = g
}

// pop removes the head of the queue on root and returns it, or nil if the queue is empty.
func pop(root queued) queued {
	tail := root.link()
	if *tail == nil {
		return nil
	}
	head := (*tail).link()
	g := *head
	if g == *tail {
		*tail = nil
	} else {
		*head = *g.link()
	}
	*g.link() = nil
	return g
}

// run dispatches g, a future that a chained callback settled outside any dispatch, as
// settle would. g may be nil.
func run(g queued) {
	if g == nil {
		return
	}
	g.dispatchQueued(g)
	if *g.link() != nil {
		drain(g)
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
	if f.state() != pending {
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
			if f.state() == pending {
				var zero T
				return zero, ctx.Err()
			}
		}
	}
	return f.val, f.err
}

// closed is the channel Done returns for futures that have settled.
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
	if f.state() != pending {
		return closed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state() != pending {
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
	if f.state() == pending {
		return Result[T]{}, false
	}
	return Result[T]{f.val, f.err}, true
}

// OnDone arranges for fn to be called with the future's value and error once it settles.
// Each callback runs exactly once, and a future's callbacks run in the order they were
// registered:
//
//   - registered while the future is pending, fn runs on the goroutine that settles it,
//     before that goroutine's settle call returns;
//   - registered once the future has settled but while its callbacks are still running
//     (from one of them, or from another goroutine), fn runs after them, on the goroutine
//     that runs them: OnDone returns at once, maybe before fn has run, so a callback must
//     not wait for one registered after it;
//   - registered once they have all run, fn runs at once on the calling goroutine, before
//     OnDone returns.
//
// A panicking callback does not stop the others: they run, then the panic continues on
// the settling goroutine. Callbacks should be short: the settling goroutine runs them all
// before it goes on.
func (f *Future[T]) OnDone(fn func(v T, err error)) {
	mustFuture(f, "OnDone")
	if fn == nil {
		panic("future: OnDone called with a nil function")
	}
	if f.state() == quiet {
		fn(f.val, f.err)
		return
	}
	if _, ok := f.register(callback[T]{fn: fn}); !ok {
		fn(f.val, f.err)
	}
}

// AfterDone arranges for fn to be called once the future settles, with the same rules as
// [Future.OnDone]. Calling stop while the future is pending prevents fn from running and
// reports true. Once the future has settled, fn has run or is bound to run, and stop
// reports false. stop may be called any number of times from any goroutine; at most one
// call reports true. AfterDone implements [Awaitable].
func (f *Future[T]) AfterDone(fn func()) (stop func() bool) {
	mustFuture(f, "AfterDone")
	if fn == nil {
		panic("future: AfterDone called with a nil function")
	}
	id, ok := f.register(callback[T]{fn: fn})
	if !ok {
		fn()
		return noStop
	}
	if id == 0 {
		return noStop // fn is queued behind the callbacks being dispatched
	}
	return func() bool { return f.stop(id) }
}

func noStop() bool { return false }

// chain registers fn on f, or if f is quiet runs it at once and dispatches what it settled.
// It returns the registration's id for stop, or 0 if f has settled, when fn has run or is
// bound to run.
func (f *Future[T]) chain(fn chained[T]) uint64 {
	id, ok := f.register(callback[T]{fn: fn})
	if !ok {
		run(fn(f.val, f.err))
	}
	return id
}

// register appends cb and returns its id. It returns 0 if f has settled and its callbacks
// are being dispatched: cb runs after them, and nothing can stop it. It reports false if f
// is quiet, and the caller must run cb itself.
func (f *Future[T]) register(cb callback[T]) (uint64, bool) {
	if f.state() == quiet {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var w uint64
	for {
		w = f.word.Load()
		if w&stateMask == quiet {
			return 0, false
		}
		// Under mu only the dispatcher, going quiet, can change the word meanwhile.
		if f.word.CompareAndSwap(w, w+idUnit) {
			break
		}
	}
	if w&stateMask == settled {
		// Append only: the batch being dispatched may live in f.inline, and since stop
		// removes nothing any more, there are no new tombstones to drop.
		f.cbs = append(f.cbs, cb)
		return 0, true
	}
	return f.appendPending(cb, w), true
}

// appendPending appends cb to the callbacks of f, pending, under mu, with w the word whose
// id was taken for it (the word is w+idUnit now), and returns cb's id.
func (f *Future[T]) appendPending(cb callback[T], w uint64) uint64 {
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
	cb.id = w/idUnit + 1
	f.cbs = append(f.cbs, cb)
	return cb.id
}

// stop removes the callback with the given id if the future is still pending and the
// callback is still there. It leaves a tombstone, so that ids stay sorted for the binary
// search, except at the end of the list, which the common register-then-stop pattern
// keeps short; register drops the other tombstones when the list is full. Once the future
// has settled, stop removes nothing: the callback is bound to run.
func (f *Future[T]) stop(id uint64) bool {
	if f.state() != pending {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state() != pending {
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

func (cb callback[T]) stopped() bool { return cb.fn == nil }

func mustFuture[T any](f *Future[T], fn string) {
	if f == nil {
		panic("future: " + fn + " called on a nil *Future")
	}
}
