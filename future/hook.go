package future

import "github.com/gosuspend/suspend/internal/futurehook"

// idRegistrar is what futurehook needs of a *Future[T], for every T.
type idRegistrar interface {
	afterDonePending(fn func()) (id uint64, settled bool)
	stop(id uint64) bool
	is(a any) bool
}

func init() {
	futurehook.AfterDone = func(a any, fn func()) (uint64, bool, bool) {
		f, ok := a.(idRegistrar)
		// A type that embeds a *Future has its methods, but may have its own AfterDone:
		// only a *Future itself goes through the hook, and not a nil one, for which the
		// Awaitable's own methods panic with a message that names it.
		if !ok || !f.is(a) {
			return 0, false, false
		}
		id, settled := f.afterDonePending(fn)
		return id, settled, true
	}
	futurehook.Stop = func(a any, id uint64) bool {
		return a.(idRegistrar).stop(id)
	}
}

// is reports whether a is f itself, and f is not nil.
func (f *Future[T]) is(a any) bool {
	g, ok := a.(*Future[T])
	return ok && g == f && f != nil
}

// afterDonePending registers fn if f is pending, and returns its id for stop. If f has
// settled, it registers nothing, runs nothing, and reports settled: a waiter must not wait
// for a callback queued behind those being dispatched, since the dispatching goroutine may
// be the waiter's own (a Run called from a callback).
func (f *Future[T]) afterDonePending(fn func()) (id uint64, settled bool) {
	if f.state() != pending {
		return 0, true
	}
	f.mu.Lock()
	w := f.word.Load()
	if w&stateMask != pending {
		f.mu.Unlock()
		return 0, true
	}
	f.word.Store(w + idUnit) // pending, under mu: nothing else changes the word
	id = f.appendPending(callback[T]{fn: fn}, w)
	f.mu.Unlock()
	return id, false
}
