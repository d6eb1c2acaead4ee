package future

import (
	"errors"
	"fmt"
	"sync"
)

// joinable is what Join needs of a *Future[T], whatever its T, beyond [Awaitable]: a
// chained callback that sees only the error, so that Join settles its output in the
// dispatcher's loop as the typed combinators do, and a way to take that callback back.
type joinable interface {
	joinOn(c *claims, g *Future[struct{}]) uint64
	stop(id uint64) bool
}

// joinOn registers Join's callback on f, as chain does, and returns its id for stop, or 0
// if f has settled (the callback has run or is bound to).
func (f *Future[T]) joinOn(c *claims, g *Future[struct{}]) uint64 {
	return f.chain(func(_ T, err error) queued { return joined(c, g, err) })
}

// joined is what Join does as an input settles with err.
func joined(c *claims, g *Future[struct{}], err error) queued {
	if err != nil {
		return settleFirst(c, g, struct{}{}, err)
	}
	if c.left.Add(-1) == 0 { // every input has settled: nothing to take back
		return g.settleQueued(struct{}{}, nil)
	}
	return nil
}

// Join returns a future that settles with nil once every one of fs has settled, or fails
// with the error of the first *[Future] among them to fail, as soon as it fails, and then
// removes its callbacks from those still pending. Join waits without reading values, so
// fs may be futures of different types; once Join's future has settled, each input's
// result is there to read with [Future.Peek] or [Future.Await], which return at once. An
// Awaitable that is not a *Future counts as a success once it has settled. The same
// future may be given more than once. Join of none is ready at once. Join may be called
// from any goroutine; its future settles on the goroutine that settles the input that
// decides it, before that goroutine's settle call returns (or on the caller, if the inputs
// have settled already).
//
// It is the typed futures' answer to [golang.org/x/sync/errgroup]: where a group's Wait
// blocks a goroutine, Join's future can be awaited with continuation.Await, which
// suspends the handler instead. It neither starts nor cancels anything.
//
// Join allocates its output, its state (the combinators' claims, with room for two inputs
// within it) and one callback per *Future. Measured with BenchmarkJoin in the bench module
// (2-CPU AMD EPYC, loaded; benchstat of 6 runs, run alternately), making three pending
// futures, joining them, settling them and awaiting the Join takes 1.0-1.3 µs, 736 B, 9
// allocations, beside 2.4-2.7 µs, 520 B, 10 allocations for an errgroup whose three Go
// calls each receive from a channel that is then closed: Join starts no goroutine, so it
// takes less time, but its futures take more memory.
func Join(fs ...Awaitable) *Future[struct{}] {
	for i, f := range fs {
		if f == nil {
			panic(fmt.Sprintf("future: Join called with a nil Awaitable at index %d", i))
		}
	}
	if len(fs) == 0 {
		return Ready(struct{}{})
	}
	g, c := new(Future[struct{}]), newClaims(len(fs))
	c.left.Store(int64(len(fs)))
	for _, a := range fs {
		var r registration
		if f, ok := a.(joinable); ok {
			r.f, r.id = f, f.joinOn(c, g)
		} else {
			r.f, r.id = stopFunc(a.AfterDone(func() { run(joined(c, g, nil)) })), 1
		}
		if !c.record(r) {
			break
		}
	}
	return g
}

// FirstN returns a future that settles with the values of the first n of fs to succeed,
// in the order they succeeded, as a quorum read does with R of N replicas in Dynamo-style
// stores. Like Join, it settles on the goroutine that settles the deciding input. Once so
// many of fs have failed that fewer than n can still succeed, it fails with an error
// wrapping theirs, joined with [errors.Join] in the order they failed ([errors.Is] and
// [errors.As] see each). Either way it then removes its callbacks from those still
// pending; it cancels none of them.
//
// FirstN with n == 0 is ready at once with an empty slice, like [All] of no futures. n
// greater than len(fs) can never be met: FirstN fails at once with an error that says so,
// rather than panicking, since the number of replicas is often known only at run time. A
// negative n is a programming error and panics.
func FirstN[T any](n int, fs ...*Future[T]) *Future[[]T] {
	if n < 0 {
		panic("future: FirstN called with a negative n")
	}
	mustFutures(fs, "FirstN")
	if n == 0 {
		return Ready([]T{})
	}
	if n > len(fs) {
		return Failed[[]T](fmt.Errorf("future: FirstN wants %d successes of only %d futures", n, len(fs)))
	}
	g := new(Future[[]T])
	c := newClaims(len(fs))
	var (
		mu      sync.Mutex // guards vals, errs and decided: inputs settle on any goroutine
		vals    = make([]T, 0, n)
		errs    []error
		decided bool
	)
	fn := chained[T](func(v T, err error) queued {
		mu.Lock()
		if decided {
			mu.Unlock()
			return nil
		}
		var out error
		if err == nil {
			vals = append(vals, v)
			decided = len(vals) == n
		} else {
			errs = append(errs, err)
			if decided = len(fs)-len(errs) < n; decided {
				out = fmt.Errorf("future: FirstN wants %d successes, but %d of %d futures failed: %w",
					n, len(errs), len(fs), errors.Join(errs...))
			}
		}
		done := decided
		mu.Unlock()
		if !done {
			return nil
		}
		if out != nil {
			return settleFirst(c, g, nil, out)
		}
		return settleFirst(c, g, vals, nil)
	})
	for _, f := range fs {
		if !claim(c, f, fn) {
			break
		}
	}
	return g
}
