package pool

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrShed is returned by [Pool.Submit] and [Pool.Acquire], and by an Acquire that
	// waited, when the pool refuses new work for its queueing delay (see
	// [WithQueueDelay]): work that waits longer than the target, while the queue has not
	// emptied for an interval, is refused rather than served late.
	ErrShed = errors.New("pool: shed: new work waits past the queue-delay target")

	// errLate is what AcquireAt returns for a context whose deadline is sooner than the
	// shortest wait for a slot measured in the last interval: it could only take a slot
	// too late to use it.
	errLate = fmt.Errorf("%w: the pool's queueing delay would pass its deadline", context.DeadlineExceeded)
)

// The values to give [WithQueueDelay], from CoDel as Meta's servers use it (folly's
// Codel): a queue whose shortest wait stays above 5 ms for 100 ms is standing, not
// absorbing a burst.
const (
	DefaultQueueDelayTarget   = 5 * time.Millisecond
	DefaultQueueDelayInterval = 100 * time.Millisecond
)

// codel is the queue-delay control of new work: CoDel (Nichols and Jacobson, "Controlling
// Queue Delay", 2012) as folly's Codel applies it to a server's queue, with the adaptive
// LIFO of Meta's "Fail at Scale" (2015). It watches the sojourn of new work: the time an
// entry waited from its push to its pop. If the shortest sojourn of an interval is above
// the target, the queue has not emptied in that interval: it stands, and the pool is
// overloaded. While it is:
//
//   - new work is served newest first (LIFO), so that what is served has waited least,
//     while its client is still there;
//   - new work that finds a full round of entries of its priority queued, W or more,
//     refuses the oldest of them (ErrShed) and takes its place: under LIFO the oldest is
//     served last, if ever, and its refusal comes after a wait of about W arrivals, short
//     under the loads that cause it. The queue keeps a round of the newest work, so that
//     no slot goes idle for want of it. A task is never refused once queued: then the
//     arrival is. A lane of a higher priority, served first, stands last: Low work is
//     refused before Normal, and Normal before High;
//   - a waiter that has waited more than the target is refused when a slot frees (the
//     oldest first, a few per pop): while the queue stands, no admitted work waits longer
//     ("Fail at Scale"; folly's Codel waits twice the target).
//
// LIFO hides the queue's delay from the sojourns (the newest waits least), so they cannot
// tell the end of the overload. It ends after an interval in which the control refused
// nothing: the queue no longer grew past a round.
//
// Whatever the state, new work is refused at once when the oldest entry of its lane has
// waited more than an interval: the lane is not moving. Resumed work is never watched nor
// refused. Everything here is guarded by Pool.mu.
type codel struct {
	target, interval int64 // nanoseconds; target 0 turns the control off

	intervalEnd int64 // when the current interval ends
	minDelay    int64 // the shortest sojourn seen in the current interval; -1: none yet
	refusals    int   // refusals by the control in the current interval
	overloaded  bool  // the queue stands (see roll)
	lastMin     int64 // the shortest sojourn of the last interval that saw one
}

// sloughBatch bounds how many stale waiters a pop refuses, so that a pop stays short.
const sloughBatch = 8

// roll ends the interval, if it is over at now, and decides the state of the next. An
// interval long over says nothing of the queue now: the pool popped and refused nothing
// since, so it is idle, or stuck, which shedLocked tells by the age of the oldest entry.
func (c *codel) roll(now int64) {
	if now < c.intervalEnd {
		return
	}
	recent := now < c.intervalEnd+c.interval
	if c.overloaded {
		c.overloaded = recent && c.refusals > 0
	} else {
		c.overloaded = recent && c.minDelay > c.target
	}
	if c.minDelay >= 0 {
		c.lastMin = c.minDelay
	}
	c.intervalEnd, c.minDelay, c.refusals = now+c.interval, -1, 0
}

// observe records a sojourn of new work popped at now, after roll.
func (c *codel) observe(sojourn int64) {
	if c.minDelay < 0 || sojourn < c.minDelay {
		c.minDelay = sojourn
	}
}

// now returns the pool's clock: nanoseconds since New, monotonic.
func (p *Pool) now() int64 { return int64(time.Since(p.epoch)) }

// shedLocked reports whether new work bound for q at now, on the pool's clock, is refused
// at once for the queue's delay (see codel). While the queue stands, it may instead refuse
// the oldest waiter of q, to make room.
func (p *Pool) shedLocked(q *ring, now int64) bool {
	c := &p.codel
	c.roll(now)
	e, ok := q.oldest()
	switch {
	case !ok:
		return false // nothing waits in its lane: it would be next
	case now-e.at > c.interval:
		c.refusals++
		return true // the lane has not moved for an interval
	case !c.overloaded || q.len() < p.workers:
		return false
	case e.w == nil:
		c.refusals++
		return true // a task is never refused once queued
	}
	p.shedOldestLocked(q)
	return false
}

// shedOldestLocked refuses the oldest entry of q, a waiter.
func (p *Pool) shedOldestLocked(q *ring) {
	e, _ := q.pop()
	e.w.state = waiterShed
	p.waitingNew--
	p.stats.Shed++
	p.codel.refusals++
	e.w.ready <- struct{}{} // buffered and empty: never blocks
}

// lateLocked reports whether a context whose deadline is deadline (on the pool's clock)
// would get its slot too late: sooner than the shortest wait of the last interval, while
// the queue stands.
func (p *Pool) lateLocked(deadline, now int64) bool {
	c := &p.codel
	return c.overloaded && deadline-now < c.lastMin
}

// popNewLocked pops the entry of new work lane q that a freed slot goes to, under the
// queue-delay control: newest first while the pool is overloaded, refusing the stale
// waiters at the old end. ok is false if q has no live entry left.
func (p *Pool) popNewLocked(q *ring) (e entry, ok bool) {
	c := &p.codel
	if c.target == 0 {
		return q.pop()
	}
	now := p.now()
	c.roll(now)
	if c.overloaded {
		for range sloughBatch {
			old, ok := q.oldest()
			if !ok || old.w == nil || now-old.at <= c.target {
				break // a task is never refused once queued
			}
			p.shedOldestLocked(q)
		}
		e, ok = q.popNewest()
	} else {
		e, ok = q.pop()
	}
	if ok {
		c.observe(now - e.at)
	}
	return e, ok
}
