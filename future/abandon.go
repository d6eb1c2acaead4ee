package future

import (
	"errors"
	"runtime"
	"sync/atomic"
)

// ErrAbandoned is the error a future made by [New] fails with, once [DetectAbandoned] is
// on, when its resolver has become unreachable while the future was pending: nothing can
// settle it any more, so rather than leave its waiters waiting for ever (a lost callback, a
// forgotten branch, the hung requests of a resolver dropped on an error path), it fails.
//
// Detection is driven by the garbage collector (runtime.AddCleanup on the resolver): the
// future fails after the first collection that finds its resolver unreachable, on a
// goroutine of its own, and is counted by [Abandoned]. A resolver that is still reachable,
// however long its future stays pending, is never taken for abandoned; a program that
// never collects never finds one.
var ErrAbandoned = errors.New("future: abandoned: its resolver became unreachable before settling it")

var (
	detecting atomic.Bool
	abandoned atomic.Int64
)

// DetectAbandoned turns the detection of abandoned futures on or off for the futures that
// [New] makes from then on, and reports whether it was on. It is off by default, because
// it is not free: each New then also makes a resolver object and registers a cleanup on
// it, which the first settle unregisters. New and a settle took 155 ns and 2 allocations
// (136 B) without it, 640 ns and 6 allocations (200 B) with it (BenchmarkNew, medians of 4
// on a 2-core machine): most of it the runtime's bookkeeping of the cleanup. Turn it on in
// tests and staging, or in production where a hung request costs more than that. It may
// be called at any time, from any goroutine.
//
// A future meant to stay pending until cancelled needs no resolver: use the zero value,
// new(Future[T]), which is never watched. Inside a testing/synctest bubble, keep the
// resolvers of futures awaited there reachable, or use the zero value: the collector's
// cleanups run outside every bubble, and settling from there a future whose Done channel
// was made inside one panics.
func DetectAbandoned(on bool) (was bool) { return detecting.Swap(on) }

// Abandoned returns how many futures have failed with [ErrAbandoned] since the program
// started: each is a resolver dropped unused, a bug to find. It may be exported as a metric.
func Abandoned() int64 { return abandoned.Load() }

// resolver is what New's resolve closes over when detection is on: an object of its own,
// apart from the future, so that the collector can tell when nothing can settle the future
// any more.
type resolver[T any] struct {
	f       *Future[T]
	cleanup runtime.Cleanup
}

// resolve settles f, and once it has, unregisters the cleanup, which has nothing left to do.
func (r *resolver[T]) resolve(v T, err error) bool {
	ok := r.f.settle(v, err)
	if ok {
		r.cleanup.Stop()
	}
	return ok
}

// newWatched is New with detection on. The cleanup's argument is f, which r reaches but
// which does not reach r: r can become unreachable while f is awaited.
func newWatched[T any]() (*Future[T], func(T, error) bool) {
	f := new(Future[T])
	r := &resolver[T]{f: f}
	r.cleanup = runtime.AddCleanup(r, abandon[T], f)
	return f, r.resolve
}

// abandon fails f, on a goroutine of its own: f's callbacks must not run on the runtime's
// cleanup goroutine, where they would hold up every other cleanup.
func abandon[T any](f *Future[T]) {
	if f.state() != pending {
		return
	}
	go func() {
		var zero T
		if f.settle(zero, ErrAbandoned) {
			abandoned.Add(1)
		}
	}()
}
