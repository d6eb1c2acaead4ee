package pool

// entry is one place in a queue: a task, or a goroutine waiting in Acquire or Reacquire.
type entry struct {
	task func()
	w    *waiter // nil for a task
	at   int64   // new work under queue-delay control: when it was queued (Pool.now)
}

// dead reports whether e is a waiter that gave up, or was shed.
func (e *entry) dead() bool { return e.w != nil && e.w.state >= waiterGone }

// minRing is the smallest buffer a queue allocates: enough for ordinary bursts without a
// string of tiny grow steps.
const minRing = 16

// ring is a FIFO of entries in a circular buffer that doubles when full and halves when it
// was never more than a quarter full for a whole turn of the buffer (len(buf) pops), so that
// pushes and pops allocate nothing once the buffer fits the load, even a load that swings
// between empty and full.
//
// A waiter that gives up stays in the buffer as a dead entry (its state is gone) and pop skips
// it: giving up is O(1). Dead entries are compacted away once they outnumber the live ones,
// so they never hold more than half the buffer for long.
//
// A ring is guarded by the Pool's mutex.
type ring struct {
	buf  []entry // len(buf) is 0 or a power of two
	head int     // index of the oldest entry
	n    int     // entries in buf, dead ones included
	dead int     // entries of waiters that gave up
	high int     // the largest n since the turn began
	pops int     // pops since the turn began
}

// len reports the live entries.
func (q *ring) len() int { return q.n - q.dead }

func (q *ring) push(e entry) {
	if q.n == len(q.buf) {
		if q.dead >= len(q.buf)/4 && q.dead > 0 {
			q.resize(len(q.buf)) // room enough once the dead are gone
		} else {
			q.resize(max(minRing, 2*len(q.buf)))
		}
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = e
	q.n++
	q.high = max(q.high, q.n)
}

// pop removes and returns the oldest live entry; ok is false if there is none.
func (q *ring) pop() (e entry, ok bool) {
	for q.n > 0 {
		e = q.buf[q.head]
		q.buf[q.head] = entry{} // let the task and waiter be collected
		q.head = (q.head + 1) & (len(q.buf) - 1)
		q.n--
		if e.dead() {
			q.dead--
			continue
		}
		q.popped()
		return e, true
	}
	return entry{}, false
}

// popNewest removes and returns the newest live entry, for LIFO service; ok is false if
// there is none.
func (q *ring) popNewest() (e entry, ok bool) {
	for q.n > 0 {
		i := (q.head + q.n - 1) & (len(q.buf) - 1)
		e = q.buf[i]
		q.buf[i] = entry{}
		q.n--
		if e.dead() {
			q.dead--
			continue
		}
		q.popped()
		return e, true
	}
	return entry{}, false
}

// popped counts a pop towards the turn that may shrink the buffer.
func (q *ring) popped() {
	if q.pops++; q.pops >= len(q.buf) {
		if len(q.buf) > minRing && q.high <= len(q.buf)/4 {
			q.resize(len(q.buf) / 2)
		}
		q.pops, q.high = 0, q.n
	}
}

// oldest returns the oldest live entry without removing it, dropping the dead ones before
// it; ok is false if there is none.
func (q *ring) oldest() (e *entry, ok bool) {
	for q.n > 0 {
		e = &q.buf[q.head]
		if !e.dead() {
			return e, true
		}
		*e = entry{}
		q.head = (q.head + 1) & (len(q.buf) - 1)
		q.n--
		q.dead--
	}
	return nil, false
}

// forget records that a waiter in q gave up; its entry is now dead.
func (q *ring) forget() {
	q.dead++
	if q.dead > minRing && q.dead > q.n/2 {
		q.resize(len(q.buf))
	}
}

// resize moves the live entries, oldest first, into a new buffer of at least size places.
func (q *ring) resize(size int) {
	c := minRing
	for c < size {
		c *= 2
	}
	buf := make([]entry, c)
	n := 0
	for i := range q.n {
		e := q.buf[(q.head+i)&(len(q.buf)-1)]
		if e.dead() {
			continue
		}
		buf[n] = e
		n++
	}
	q.buf, q.head, q.n, q.dead = buf, 0, n, 0
	q.high, q.pops = n, 0
}
