package continuation

// Blocking calls fn, a call that blocks (a database query, a call to an upstream, a file
// read), without holding c's slot, and returns fn's result. It is the way to wait on
// anything that is not a future: the slot serves other continuations while fn blocks, and
// c takes a slot again, with the priority of resumed work, before Blocking returns.
//
//   - Under [Run], Blocking gives the slot back, calls fn on the calling goroutine, and
//     takes a slot again: no goroutine, no allocation. Uncontended, the round trip costs
//     about 115 ns on a 2-core machine, most of it the two clock reads that time the step
//     that ends and the suspension ([pool.Pool.Release] and [pool.Pool.Acquire] alone:
//     10 ns; [Await] of a [future.Go]: 2.3 µs).
//   - Under [Spawn], the body's step ends and its worker is free; fn runs on the body's own
//     goroutine, driven by a goroutine started for the purpose, which holds no slot; the
//     body's next step starts on a worker once fn has returned. This costs a goroutine
//     start and a hand-off to a worker and back: about 1.2 µs and one allocation.
//
// Choose Blocking for one blocking call at a time: it is the cheapest way to make it. For
// several calls that should run at once (a fan-out), start each with [future.Go] and
// await them with [Await] or [C.Await] (and the combinators of package future).
//
// Blocking does not look at c's context: fn should take it (c.Context()) if it can end
// early. [Scheduler.Shutdown] cannot stop fn when it gives up: the body sees ErrStopped at
// its next Await. While fn runs, [Scheduler.Stats] and [Scheduler.Snapshot] count c as
// suspended. A panic in fn is the body's panic: it goes through the body's deferred calls,
// which run after c has taken a slot again.
//
// Like Await, Blocking may be called only by the body, on its own goroutine: another
// goroutine holds none of c's slot and has none to give back (a goroutine the body started
// just makes its call). Called from fn of another Blocking, where c holds no slot already,
// Blocking just calls fn. Blocking panics if fn is nil or if the body has returned.
func Blocking[T any](c *C, fn func() (T, error)) (T, error) {
	if fn == nil {
		panic("continuation: Blocking called with a nil function")
	}
	if !c.unhold() {
		return fn() // c waits already, holding no slot
	}
	defer c.rehold()
	return fn()
}

// unhold gives up the slot of the body's current step, for Blocking, and reports whether it
// did: it does not if c already waits. The caller's goroutine goes on holding no slot, and
// c's step ends. The state's change from Running is also the check that c is not waiting.
func (c *C) unhold() bool {
	if c.done.Load() {
		panic("continuation: Blocking called after the body returned")
	}
	if !c.state.CompareAndSwap(uint32(Running), uint32(blocked)) {
		return false
	}
	if c.pull == nil {
		now := c.s.now()
		c.spent(Running, now)
		c.since.Store(now)
		c.s.releaseInline(c)
		return true
	}
	// Spawn: the step ends; runStep hands the coroutine to a goroutine of its own, which
	// resumes it at once, here, without a slot.
	c.blockReq = true
	c.yield(struct{}{})
	return true
}

// rehold takes a slot again at the end of Blocking, with the priority of resumed work. It
// runs during a panic in fn too.
func (c *C) rehold() {
	if c.pull == nil {
		c.reacquire()
		return
	}
	// Spawn: hand the coroutine back to runBlocking, which resumes it on the pool.
	c.yield(struct{}{})
}

// reacquire takes a slot for a Run continuation that holds none, with the priority of
// resumed work, and starts its next step. A free slot is taken at once, with one clock
// read.
func (c *C) reacquire() {
	s := c.s
	c.holding = true
	now := s.now()
	c.spent(Suspended, now)
	if !s.pool.TryAcquire() {
		c.setState(Queued, now)
		if s.pool.Reacquire() != nil {
			// The pool finished its Shutdown: no slot will be free again. The body goes on
			// without one, and its Awaits return ErrStopped (see resume).
			c.holding = false
			s.abandon()
		}
		now = s.now()
		c.spent(Queued, now)
	} else {
		c.route.slotWait.record(0) // a step with no wait
	}
	c.setState(Running, now)
	s.watch()
}

// runBlocking drives a spawned continuation through fn of its Blocking, on a goroutine of
// its own that holds no slot, then hands it back to the pool to go on.
func (c *C) runBlocking() {
	if _, more := c.pull(); !more {
		return // cannot happen: rehold yields even when fn panics; kept for safety
	}
	now := c.s.now()
	c.spent(Suspended, now)
	c.setState(Queued, now)
	c.resume()
}
