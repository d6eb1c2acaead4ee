package pool

import (
	"context"
	"runtime"
)

// waiter is a goroutine waiting in Acquire or Reacquire, queued as an entry like a task.
type waiter struct {
	ready chan struct{} // capacity 1: one value once the slot is granted
	state uint8         // waiterWaiting, waiterGranted, waiterGone or waiterShed; guarded by Pool.mu
}

const (
	waiterWaiting = iota // queued
	waiterGranted        // handed a slot; a value is on its way to ready
	waiterGone           // gave up: a dead entry in its queue, never reused
	waiterShed           // refused from the queue: a dead entry, a value is on its way to ready
)

// Acquire takes a slot for the calling goroutine, with the priority of new work, and
// returns nil once the caller holds it; the caller then runs its code inline and must call
// [Pool.Release] when done. If no slot is free the caller waits in the queue of new work,
// in FIFO order with submitted tasks of priority [Normal]. A caller that had to wait
// yields the processor once (runtime.Gosched) when its slot comes, so that new work does
// not run ahead of the goroutines outside the pool that were runnable before it.
//
// Acquire returns [ErrClosed] if [Pool.Shutdown] has begun, [ErrFull] if it would have to
// wait and the queue of new work is at its bound, and ctx.Err() if ctx has ended, or ends
// before a slot comes: then the caller holds no slot and no slot is lost. A ctx already
// done never takes a slot, even a free one.
//
// When a slot is free, Acquire takes it without a lock, after one ctx.Err(); a waiting
// Acquire costs no allocation in steady state, and a ctx that can never end (whose Done
// returns nil) costs nothing more. A task, or a holder of a slot, that calls Acquire waits
// for a second slot: if every slot is held by such callers, they wait forever. Acquire
// panics if ctx is nil, before it takes any lock.
func (p *Pool) Acquire(ctx context.Context) error {
	if err := ctxErr(ctx, "Acquire"); err != nil {
		return err
	}
	if p.takeFree(closedBit) { // the fast path, without AcquireAt's checks of pr
		return nil
	}
	return p.acquireSlow(ctx, &p.fresh[Normal])
}

// AcquireAt is [Pool.Acquire] with priority pr: the caller waits behind resumed work, new
// work of a higher priority and older new work of its own, and before new work of a lower
// priority. With priority [Low] it yields the processor once first, even when a slot is
// free.
//
// AcquireAt panics if ctx is nil or pr is not a [Priority] this package defines.
func (p *Pool) AcquireAt(ctx context.Context, pr Priority) error {
	q := p.lane(pr)
	if err := ctxErr(ctx, "AcquireAt"); err != nil {
		return err
	}
	if pr == Low {
		runtime.Gosched() // see Low; before taking a slot, which would sit idle meanwhile
	}
	if p.takeFree(closedBit) {
		return nil
	}
	return p.acquireSlow(ctx, q)
}

// ctxErr returns ctx's error, or panics, naming the method, if ctx is nil: a nil ctx must
// be caught before any lock is taken.
func ctxErr(ctx context.Context, method string) error {
	if ctx == nil {
		panic("pool: " + method + " called with a nil Context")
	}
	return ctx.Err()
}

// acquireSlow is AcquireAt once no slot was free: the caller queues in q.
func (p *Pool) acquireSlow(ctx context.Context, q *ring) error {
	w := p.waiters.Get().(*waiter) // taken before locking: it may allocate
	p.mu.Lock()
	took, err := p.admitLocked(q, closedBit, freeToInline)
	if err != nil || took {
		p.mu.Unlock()
		p.waiters.Put(w)
		return err
	}
	done := ctx.Done()
	var refusal error // why the caller does not queue after all
	if done != nil {
		select {
		case <-done:
			refusal = ctx.Err()
		default:
		}
	}
	var at int64
	if refusal == nil && p.codel.target != 0 {
		at = p.now()
		if p.shedLocked(q, at) {
			p.stats.Shed++
			refusal = ErrShed
		} else if d, ok := ctx.Deadline(); ok && p.lateLocked(int64(d.Sub(p.epoch)), at) {
			p.stats.Late++
			refusal = errLate
		}
	}
	if refusal != nil {
		p.settleLocked(0) // admitLocked may have set queuedBit for nothing
		p.mu.Unlock()
		p.waiters.Put(w)
		return refusal
	}
	q.push(entry{w: w, at: at})
	p.waitingNew++
	p.mu.Unlock()

	if done == nil {
		<-w.ready
		return p.grantedOrShed(w)
	}
	select {
	case <-w.ready:
		return p.grantedOrShed(w)
	case <-done:
	}
	p.mu.Lock()
	if w.state == waiterShed { // refused from the queue as ctx ended
		p.mu.Unlock()
		<-w.ready
		p.recycle(w)
		return ErrShed
	}
	if w.state == waiterGranted {
		// The slot came as ctx ended: pass it on as if it had never come.
		h := p.releaseLocked()
		p.mu.Unlock()
		h.do()
		<-w.ready
		p.recycle(w)
		return ctx.Err()
	}
	w.state = waiterGone
	q.forget()
	p.waitingNew--
	p.settleLocked(0)
	p.mu.Unlock()
	return ctx.Err()
}

// Reacquire takes a slot for the calling goroutine, with the priority of admitted work
// coming back, and returns once the caller holds it; the caller must call [Pool.Release]
// when done. If no slot is free the caller waits in the resume queue, in FIFO order with
// resumed tasks and before all new work. Reacquire is never refused while the pool runs,
// during a drain included: it returns nil.
//
// Once [Pool.Shutdown] has finished the drain, Reacquire returns at once with an error that
// matches [ErrClosed], and the caller holds no slot: it must not Release. The caller goes
// on without one, or ends its work (the continuation package does so, see its Shutdown).
func (p *Pool) Reacquire() error {
	if p.takeFree(finishedBit) {
		return nil
	}
	w := p.waiters.Get().(*waiter) // taken before locking: it may allocate
	p.mu.Lock()
	took, err := p.admitLocked(&p.resumed, finishedBit, freeToInline)
	if err != nil || took {
		p.mu.Unlock()
		p.waiters.Put(w)
		if err != nil {
			return errFinished
		}
		return nil
	}
	p.resumed.push(entry{w: w})
	p.waitingResumed++
	p.mu.Unlock()
	<-w.ready
	p.recycle(w) // no yield: admitted work coming back goes first, in Go's scheduler too
	return nil
}

// TryAcquire takes a free slot for the calling goroutine, with the priority of new work,
// and reports whether it did. It never waits: it fails when no slot is free (then
// something may be queued, and a slot taken now would jump the queue) and once
// [Pool.Shutdown] has begun. A slot it took is given back with [Pool.Release]. It costs
// what the fast path of [Pool.Acquire] costs: no lock, no allocation.
func (p *Pool) TryAcquire() bool {
	return p.takeFree(closedBit)
}

// takeFree is the fast path of Acquire and Reacquire: it takes a free slot inline without
// locking, unless the state has a bit of refuse set. A free slot means that nothing is
// queued, so the order of the queues is kept.
func (p *Pool) takeFree(refuse uint64) bool {
	for {
		s := p.state.Load()
		if s&refuse != 0 || freeOf(s) == 0 {
			return false
		}
		if p.state.CompareAndSwap(s, s+freeToInline) {
			return true
		}
	}
}

// Release gives back a slot taken with [Pool.Acquire] or [Pool.Reacquire]; it goes to the
// oldest resumed entry, else the oldest new one, else it stays free. Release never blocks.
// Any goroutine may release a slot, not only the one that took it.
//
// When it hands the slot to a goroutine waiting in Reacquire, Release yields the processor
// once (runtime.Gosched): the waiter then runs at once, instead of once the releaser next
// blocks, with the slot idle meanwhile. On 2 cores this took the slow scenario of the bench
// harness at 4,000 connections from about 0.95 to 1.00-1.03 of net/http. A goroutine
// waiting in Acquire gets no such yield, since it yields itself once it has its slot (so
// that new work gives way to the goroutines already runnable): yielding to it too undid
// that, and took the mixed scenario's light-request p99 at 1,000 connections from 93 ms to
// about 500. Handing a slot to a task, or freeing it, costs no yield.
//
// Release panics with "pool: Release without a held slot" if no slot is held by an
// Acquire or Reacquire caller.
func (p *Pool) Release() {
	// Fast path: nothing queued and no drain to finish, so the slot becomes free.
	for {
		s := p.state.Load()
		if s&(queuedBit|closedBit) != 0 || inlineOf(s) == 0 {
			break
		}
		if p.state.CompareAndSwap(s, s+inlineToFree) {
			return
		}
	}
	p.mu.Lock()
	if inlineOf(p.state.Load()) == 0 {
		p.mu.Unlock()
		panic("pool: Release without a held slot")
	}
	h := p.releaseLocked()
	p.mu.Unlock()
	h.do()
	if h.resumed {
		// The waiter was made to run next on this processor, but only once this goroutine
		// blocks, which may be a write to the network away. Yield, so that the slot runs
		// now rather than sit with a goroutine that waits for a processor. Not for new
		// work: it yields itself once it has its slot (see granted).
		runtime.Gosched()
	}
}

// handoff is what remains to do, after unlocking, to pass on a freed slot: wake a worker
// with a task, or wake a waiter.
type handoff struct {
	w       *worker
	task    func()
	wt      *waiter
	resumed bool // wt waits in Reacquire
}

func (h handoff) do() {
	if h.w != nil {
		h.w.next <- h.task
	} else if h.wt != nil {
		h.wt.ready <- struct{}{}
	}
}

// releaseLocked passes on a slot held inline.
func (p *Pool) releaseLocked() handoff {
	resumed := p.resumed.len() > 0 // then popLocked takes from it
	e, ok := p.popLocked()
	switch {
	case !ok:
		p.settleLocked(inlineToFree)
		p.finishIfDrainedLocked()
		return handoff{}
	case e.w != nil:
		e.w.state = waiterGranted
		p.settleLocked(0) // the slot stays inline, with another holder
		return handoff{wt: e.w, resumed: resumed}
	default:
		p.settleLocked(inlineToWorker)
		return handoff{w: p.dispatchLocked(), task: e.task}
	}
}

// granted is what an Acquire waiter does once it has been handed a slot: it makes w ready
// for another wait, and yields the processor once before it runs new work on the slot.
//
// The yield is for fairness to goroutines outside the pool. The releaser woke the waiter
// with a channel send, which makes the Go scheduler run the waiter next on the releaser's
// processor and time slice, ahead of every goroutine already runnable there. When every
// slot holder keeps its processor busy, as CPU-bound work on GOMAXPROCS slots does, each
// processor then passes from one slot holder to the next, and the goroutines that serve
// the network, timers and the requests that only wait get the processors only when the
// scheduler preempts (every 10 ms). Yielding puts the new work behind them instead; only
// a caller that had to wait pays for it (see Low for what a yield costs). Reacquire does
// not yield: resumed work goes first.
func (p *Pool) granted(w *waiter) {
	p.recycle(w)
	runtime.Gosched()
}

// grantedOrShed is what an Acquire waiter does once it has received its value: it was
// handed a slot, or refused from the queue (see codel).
func (p *Pool) grantedOrShed(w *waiter) error {
	if w.state == waiterShed { // written before the value was sent
		p.recycle(w)
		return ErrShed
	}
	p.granted(w)
	return nil
}

// recycle makes w, which has received its value, ready for another wait.
func (p *Pool) recycle(w *waiter) {
	w.state = waiterWaiting
	p.waiters.Put(w)
}
