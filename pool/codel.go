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
// overloaded until an interval's shortest sojourn is back under the target. While it is:
//
//   - new work is served newest first (LIFO), so that what is served has waited least,
//     while its client is still there;
//   - a waiter in Acquire that has waited more than twice the target is refused (ErrShed)
//     when a slot frees, rather than served late (the oldest first, a few per pop);
//   - new work that would queue behind a full round of entries of its priority, W or more,
//     is refused at once (ErrShed): it would wait at least the time of one more step of
//     each slot. A lane of a higher priority, served first, stands last: Low work is
//     refused before Normal, and Normal before High.
//
// Whatever the state, new work is refused at once when the oldest entry of its lane has
// waited more than an interval: the lane is not moving. Resumed work is never watched nor
// refused. Everything here is guarded by Pool.mu.
type codel struct {
	target, interval int64 // nanoseconds; target 0 turns the control off

	intervalEnd int64 // when the current interval ends
	minDelay    int64 // the shortest sojourn seen in the current interval; -1: none yet
	overloaded  bool  // the last interval's shortest sojourn was above target
	lastMin     int64 // the shortest sojourn of the last interval that saw one
}

// standing reports whether the queue stands at now: the decision of the last interval
// holds until the next is due, and only then. A pool that has popped nothing for longer
// is idle, or stuck, which shedLocked tells by the age of the oldest entry.
func (c *codel) standing(now int64) bool { return c.overloaded && now < c.intervalEnd }

// sloughBatch bounds how many stale waiters a pop refuses, so that a pop stays short.
const sloughBatch = 8

// observe records a sojourn of new work popped at now.
func (c *codel) observe(now, sojourn int64) {
	if now >= c.intervalEnd {
		// The interval that ended decides; one with no sojourn, or long past, says nothing
		// of the queue now.
		c.overloaded = c.minDelay > c.target && now < c.intervalEnd+c.interval
		if c.minDelay >= 0 {
			c.lastMin = c.minDelay
		}
		c.intervalEnd = now + c.interval
		c.minDelay = sojourn
		return
	}
	if c.minDelay < 0 || sojourn < c.minDelay {
		c.minDelay = sojourn
	}
}

// now returns the pool's clock: nanoseconds since New, monotonic.
func (p *Pool) now() int64 { return int64(time.Since(p.epoch)) }

// shedLocked reports whether new work bound for q should be refused at once for the
// queue's delay (see codel); now is the pool's clock.
func (p *Pool) shedLocked(q *ring, now int64) bool {
	c := &p.codel
	e, ok := q.oldest()
	switch {
	case !ok:
		return false // nothing waits in its lane: it would be next
	case now-e.at > c.interval:
		return true // the lane has not moved for an interval
	case !c.standing(now):
		return false
	}
	return q.len() >= p.workers
}

// lateLocked reports whether a context whose deadline is deadline (on the pool's clock)
// would get its slot too late: sooner than the shortest wait of the last interval, while
// the queue stands.
func (p *Pool) lateLocked(deadline, now int64) bool {
	c := &p.codel
	return c.standing(now) && deadline-now < c.lastMin
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
	if c.standing(now) {
		for range sloughBatch {
			old, ok := q.oldest()
			if !ok || old.w == nil || now-old.at <= 2*c.target {
				break // a task is never refused once accepted
			}
			w := old.w
			q.pop()
			w.state = waiterShed
			p.waitingNew--
			p.stats.Shed++
			w.ready <- struct{}{} // buffered and empty: never blocks
		}
		e, ok = q.popNewest()
	} else {
		e, ok = q.pop()
	}
	if ok {
		c.observe(now, now-e.at)
	}
	return e, ok
}
