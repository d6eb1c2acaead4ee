// Package pool bounds how much work executes at once with W execution slots, like a
// semaphore of W units whose holders are either the pool's own W worker goroutines, running
// submitted tasks, or goroutines that take a slot for themselves and run code inline.
//
// # Two ways in
//
// New work comes in through [Pool.Submit] (a task for a worker) or [Pool.Acquire] (a slot
// for the calling goroutine). It waits in a bounded queue and may be refused: with [ErrFull]
// when that queue is at its bound, with [ErrClosed] once [Pool.Shutdown] has begun.
// [Pool.SubmitAt] and [Pool.AcquireAt] give it a [Priority]: short work of priority High
// does not wait behind long work, and CPU-bound work of priority Low gives way to
// everything else.
//
// Admitted work coming back, such as a request that waited on something slow and is ready
// to go on, comes in through [Pool.Resume] (a task) or [Pool.Reacquire] (a slot). It is never
// refused while the pool runs, and it goes before every queued piece of new work: a pool
// under overload finishes what it started before it takes more.
//
// # Rules
//
//   - At no moment do more than W tasks and slot holders run at once.
//   - A freed slot goes to the oldest entry of the resume queue, else to the oldest entry of
//     the new-work queue of the highest [Priority] that has one: each queue is FIFO, tasks
//     and waiting goroutines alike. A task is run by a worker; a waiting goroutine is
//     handed the slot directly.
//   - Every method may be called from any goroutine.
//   - A task that panics does not take its worker down: the panic goes to the panic handler
//     (see [WithPanicHandler]), is counted, and the worker takes its next task.
//   - [Pool.Shutdown] refuses new work, runs everything admitted (including what is resumed
//     while it drains), waits for slot holders to release and for the workers to exit.
//     Nothing the pool started outlives it.
//   - A task that calls runtime.Goexit ends its own goroutine, not the worker: a new
//     goroutine takes the worker's place.
//   - Misuse panics with a message that names it: a nil task or context, [Pool.Release]
//     without a held slot, fewer than 1 worker.
//   - Work coming back after Shutdown finished, which has no worker left to run it, is
//     refused with an error ([Pool.Resume], [Pool.Reacquire]): its owner ends it.
//
// The pool starts its W workers in [New], and no other goroutine but the one that takes the
// place of a worker whose task called runtime.Goexit.
//
// # Costs
//
// Measured on a 2-core machine (pool_bench_test.go here, and the bench module beside it,
// which runs the same work on other pools); medians of 6 runs.
//
// Taking a free slot and giving it back, [Pool.Acquire] then [Pool.Release], takes no
// lock and costs 23 ns and no allocation (semaphore.Weighted: 37 ns, a buffered channel:
// 45 ns). With two goroutines doing only that on two slots at once, it costs 71 ns (the
// same two: 48 and 65 ns); on one slot, where most wait their turn in the queue, 117 ns
// and no allocation (318 and 168 ns).
//
// [Pool.Submit] allocates nothing once the queue's buffer has grown to the load. One
// goroutine submitting to 2 workers gets a task run every 155 ns (alitto/pond v2: 172 ns,
// panjf2000/ants v2: 720 ns, a goroutine per task: 516 ns). A task handed to a parked
// worker pays for waking it: 470 ns from Submit to the end of a task that wakes the
// submitter.
package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrFull is returned by [Pool.Submit] and [Pool.Acquire] when the queue of new work
	// is at its bound (see [WithQueueSize]).
	ErrFull = errors.New("pool: full")

	// ErrClosed is returned by [Pool.Submit] and [Pool.Acquire] once [Pool.Shutdown] has
	// begun, and matched (errors.Is) by what [Pool.Resume] and [Pool.Reacquire] return once
	// it has finished.
	ErrClosed = errors.New("pool: closed")

	// errFinished is what Resume and Reacquire return once the drain has finished: the work
	// coming back has no slot to run in, and its owner must end it some other way.
	errFinished = fmt.Errorf("%w: Shutdown finished, no slot will be free again", ErrClosed)
)

// Priority orders new work in the queue of a [Pool]: a freed slot goes to resumed work
// first, then to the oldest new work of priority [High], then [Normal], then [Low].
// Priority is strict: while work of a higher priority is queued, no work of a lower one
// starts.
//
// Give High to work that holds its slot briefly and whose latency matters, such as a
// request that only starts a call to a slow upstream and then waits for it, so that it
// does not queue behind long CPU-bound work. Long work at High would starve the rest.
//
// Give Low to CPU-bound work that should give way. Besides waiting behind all other new
// work, Low work yields the processor once (runtime.Gosched) before it runs, even when a
// slot is free: [Pool.AcquireAt] before it takes the slot, so that no slot sits idle
// meanwhile, and a task before its code. The goroutines already runnable (those serving
// the network, timers, requests that only wait) then run before it. Go's scheduler
// shares the processors among runnable goroutines without priorities: with CPU-bound
// work on as many slots as there are processors, everything else in the process would
// otherwise wait for a processor behind it. On an idle processor the yield costs about
// 110 ns (AcquireAt at Low and Release: 136 ns, against 24 ns at Normal); under load it
// costs the wait behind the goroutines already runnable, which is its point. Normal and
// High work yield only when they had to wait for their slot.
type Priority uint8

const (
	Normal Priority = iota // the priority of Submit and Acquire
	High                   // served before Normal
	Low                    // served after Normal; yields once before it runs

	numPriorities = iota
)

// String returns the priority's name: "normal", "high" or "low".
func (pr Priority) String() string {
	switch pr {
	case Normal:
		return "normal"
	case High:
		return "high"
	case Low:
		return "low"
	}
	return fmt.Sprintf("Priority(%d)", uint8(pr))
}

// MarshalText encodes the priority as its name, for logs and JSON.
func (pr Priority) MarshalText() ([]byte, error) { return []byte(pr.String()), nil }

// servingOrder is the order in which the queues of new work are served.
var servingOrder = [numPriorities]Priority{High, Normal, Low}

// Pool is a set of W execution slots and W worker goroutines. Create one with [New]; the
// zero value is not usable. A Pool must not be copied.
//
// Handing a task to the pool (Submit, Resume) happens before the task runs. The end of a
// task, and a Release, happen before the task, Acquire or Reacquire that gets the freed
// slot starts or returns.
type Pool struct {
	// state packs what Acquire, Reacquire and Release read and change without taking mu
	// when a slot is free and nobody queues (see the state bits below). Under mu it is
	// changed by atomic operations only, since those fast paths run meanwhile.
	//
	// Slots: free + inline (from state) + busyWorkers == workers, always. Fast paths keep
	// free+inline as it is; everything else changes state under mu, with busyWorkers.
	// free > 0 only while queuedBit is clear, and then some worker is idle: idle workers
	// number workers-busyWorkers, that is free+inline.
	state atomic.Uint64

	mu sync.Mutex

	// Guarded by mu.
	busyWorkers int       // slots of workers running a task, or handed one to run
	idle        []*worker // parked workers, a stack: the last to park is woken first

	resumed ring                // tasks of Resume and waiters of Reacquire: served first
	fresh   [numPriorities]ring // new work by Priority; together they hold queueSize

	waitingNew, waitingResumed int // live waiters in fresh, and in resumed

	alive int   // workers that have not exited
	stats Stats // the counters; the gauges are filled in by Stats
	codel codel // the queue-delay control of new work

	// Set by New, read-only after.
	workers   int
	queueSize int
	onPanic   func(value any, stack []byte)
	logger    *slog.Logger  // nil: slog.Default, as it is when it logs
	done      chan struct{} // closed by the last worker to exit
	epoch     time.Time     // the pool's clock counts from it (see now)
	waiters   sync.Pool     // of *waiter, reused to spare an allocation per wait
}

// The bits of Pool.state.
const (
	freeOne     = 1 << 0    // bits 0-23: free slots
	inlineOne   = 1 << 24   // bits 24-47: slots held by Acquire and Reacquire callers
	countMask   = 1<<24 - 1 // of either count, once shifted down
	queuedBit   = 1 << 48   // some queue has a live entry; free is 0 meanwhile
	closedBit   = 1 << 49   // Shutdown began: new work is refused
	finishedBit = 1 << 50   // drained: every worker was told to exit
	maxWorkers  = countMask // what the counts can hold
)

// What is added to Pool.state when a slot moves (with wrap-around for a decrement).
const (
	freeToWorker   = ^uint64(freeOne - 1)             // -freeOne
	freeToInline   = uint64(inlineOne - freeOne)      // -freeOne +inlineOne
	inlineToWorker = ^uint64(inlineOne - 1)           // -inlineOne
	inlineToFree   = ^uint64(inlineOne - freeOne - 1) // +freeOne -inlineOne
	workerToInline = uint64(inlineOne)                // +inlineOne
	workerToFree   = uint64(freeOne)                  // +freeOne
)

func freeOf(s uint64) int   { return int(s & countMask) }
func inlineOf(s uint64) int { return int(s >> 24 & countMask) }

// worker is one of the pool's goroutines. While it is parked in Pool.idle its channel is
// empty; whoever takes it out of idle sends it one task (or nil: exit).
type worker struct {
	next chan func() // capacity 1
}

// Stats is a snapshot of a pool, taken under the lock that guards every change to the
// queues and to the workers, so that these identities hold in every snapshot:
//
//	Submitted + Resumed == Completed + QueuedNew + QueuedResumed + BusyWorkers
//	Busy == BusyWorkers + BusyInline <= Workers
//	QueuedNew + WaitingNew <= the queue bound (see WithQueueSize)
type Stats struct {
	Workers     int `json:"workers"`      // W: slots, and worker goroutines
	Busy        int `json:"busy"`         // slots held: BusyWorkers + BusyInline
	BusyWorkers int `json:"busy_workers"` // slots held by workers running a task (or handed one to run)
	BusyInline  int `json:"busy_inline"`  // slots held by goroutines that took one with Acquire or Reacquire

	QueuedNew      int `json:"queued_new"`      // tasks of Submit waiting for a slot
	QueuedResumed  int `json:"queued_resumed"`  // tasks of Resume waiting for a slot
	WaitingNew     int `json:"waiting_new"`     // goroutines waiting in Acquire
	WaitingResumed int `json:"waiting_resumed"` // goroutines waiting in Reacquire

	Submitted uint64 `json:"submitted"` // tasks accepted by Submit
	Resumed   uint64 `json:"resumed"`   // tasks accepted by Resume
	Completed uint64 `json:"completed"` // tasks that returned or panicked
	Panicked  uint64 `json:"panicked"`  // tasks that panicked
	Refused   uint64 `json:"refused"`   // Submit and Acquire calls refused with ErrFull (ErrClosed is not counted)
	Shed      uint64 `json:"shed"`      // Submit and Acquire calls refused with ErrShed, at once or after a wait
	Late      uint64 `json:"late"`      // Acquire calls refused because their deadline would pass in the queue
}

// New returns a pool of workers slots and starts its workers goroutines, which exit when
// [Pool.Shutdown] has drained the pool.
//
// New panics if workers is less than 1 or more than 16,777,215, and on the misuses of
// options documented with each.
func New(workers int, opts ...Option) *Pool {
	switch {
	case workers < 1:
		panic(fmt.Sprintf("pool: New called with %d workers; want at least 1", workers))
	case workers > maxWorkers:
		panic(fmt.Sprintf("pool: New called with %d workers; want at most %d", workers, maxWorkers))
	}
	o := buildOptions(opts)
	p := &Pool{
		idle:      make([]*worker, workers),
		alive:     workers,
		workers:   workers,
		queueSize: o.queueSize,
		onPanic:   o.onPanic,
		logger:    o.logger,
		done:      make(chan struct{}),
		epoch:     time.Now(),
		codel: codel{target: int64(o.delayTarget), interval: int64(o.delayInterval),
			minDelay: -1},
	}
	if p.onPanic == nil {
		p.onPanic = func(value any, stack []byte) {
			p.Logger().Error("pool: task panicked", "panic", value, "stack", string(stack))
		}
	}
	p.state.Store(uint64(workers) * freeOne)
	p.waiters.New = func() any { return &waiter{ready: make(chan struct{}, 1)} }
	for i := range p.idle {
		w := &worker{next: make(chan func(), 1)}
		p.idle[i] = w
		go p.work(w, nil)
	}
	return p
}

// Submit queues task as new work of priority [Normal]: it runs on a worker when a slot is
// free and every older entry of the queues has been served. Submit never blocks; it
// returns [ErrFull] if the queue of new work is at its bound, [ErrClosed] if
// [Pool.Shutdown] has begun, and nil otherwise, after which task is sure to run.
//
// Submit panics if task is nil.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		panic("pool: Submit called with a nil task")
	}
	return p.submit(&p.fresh[Normal], task)
}

// SubmitAt is [Pool.Submit] with priority pr: task waits behind resumed work, new work of
// a higher priority and older new work of its own, and before new work of a lower
// priority. A task of priority [Low] yields the processor once before it runs.
//
// SubmitAt panics if task is nil or pr is not a [Priority] this package defines.
func (p *Pool) SubmitAt(pr Priority, task func()) error {
	if task == nil {
		panic("pool: SubmitAt called with a nil task")
	}
	q := p.lane(pr)
	if pr == Low {
		run := task
		task = func() {
			runtime.Gosched() // see Low
			run()
		}
	}
	return p.submit(q, task)
}

// submit queues task in q, which holds new work.
func (p *Pool) submit(q *ring, task func()) error {
	p.mu.Lock()
	took, err := p.admitLocked(q, closedBit, freeToWorker)
	switch {
	case err != nil:
		p.mu.Unlock()
		return err
	case took:
		w := p.dispatchLocked()
		p.stats.Submitted++
		p.mu.Unlock()
		w.next <- task
		return nil
	}
	var at int64
	if p.codel.target != 0 {
		at = p.now()
		if p.shedLocked(q, at) {
			p.stats.Shed++
			p.settleLocked(0) // admitLocked may have set queuedBit for nothing
			p.mu.Unlock()
			return ErrShed
		}
	}
	q.push(entry{task: task, at: at})
	p.stats.Submitted++
	p.mu.Unlock()
	return nil
}

// lane returns the queue of new work of priority pr.
func (p *Pool) lane(pr Priority) *ring {
	if pr >= numPriorities {
		panic(fmt.Sprintf("pool: unknown Priority %d; want pool.Normal, pool.High or pool.Low", pr))
	}
	return &p.fresh[pr]
}

// newLenLocked reports the live entries of new work queued, of every priority.
func (p *Pool) newLenLocked() int {
	n := 0
	for i := range p.fresh {
		n += p.fresh[i].len()
	}
	return n
}

// Resume queues task as admitted work coming back: it runs on a worker as soon as a slot
// is free, before any queued new work, after older resumed work. Resume never blocks and is
// never refused while the pool runs, during a drain included: it returns nil.
//
// Once [Pool.Shutdown] has finished the drain, no worker is left: Resume returns an error
// that matches [ErrClosed], and task will never run. A caller that keeps work out of the
// pool, such as a suspended continuation, then ends that work itself (see the
// continuation package's Shutdown).
//
// Resume panics if task is nil.
func (p *Pool) Resume(task func()) error {
	if task == nil {
		panic("pool: Resume called with a nil task")
	}
	p.mu.Lock()
	took, err := p.admitLocked(&p.resumed, finishedBit, freeToWorker)
	switch {
	case err != nil:
		p.mu.Unlock()
		return errFinished
	case took:
		w := p.dispatchLocked()
		p.stats.Resumed++
		p.mu.Unlock()
		w.next <- task
		return nil
	}
	p.resumed.push(entry{task: task})
	p.stats.Resumed++
	p.mu.Unlock()
	return nil
}

// admitLocked takes a free slot for an entry bound for q, adding take to the state (took
// is true), or, if none is free, readies the pool for the caller to push the entry to q
// (took and err are false). It returns ErrClosed if the state has a bit of refuse set,
// and ErrFull if q holds new work and the new work queued would pass its bound.
func (p *Pool) admitLocked(q *ring, refuse, take uint64) (took bool, err error) {
	for {
		s := p.state.Load()
		switch {
		case s&refuse != 0:
			return false, ErrClosed
		case freeOf(s) > 0:
			if p.state.CompareAndSwap(s, s+take) {
				return true, nil
			}
		case q != &p.resumed && p.newLenLocked() >= p.queueSize:
			p.stats.Refused++
			return false, ErrFull
		case s&queuedBit != 0 || p.state.CompareAndSwap(s, s|queuedBit):
			// No slot is free, and none can be freed without mu until the entry is
			// popped: Release sees queuedBit and takes the slow path.
			return false, nil
		}
	}
}

// Shutdown refuses new work from now on ([Pool.Submit] and [Pool.Acquire] return
// [ErrClosed]) and drains the pool: everything queued runs, waiting Acquire and Reacquire
// callers get their slot, work resumed meanwhile runs too, slot holders release, and the
// workers exit. Shutdown returns nil once the last worker has exited. If ctx ends first it
// returns at once, with an error that wraps ctx.Err() and counts the slots still held and
// the work still queued; the drain goes on regardless, and a later Shutdown waits for it
// again.
//
// Shutdown may be called any number of times, from any goroutine. Called from a task, or
// by a goroutine that holds a slot, it cannot return nil before its ctx ends, since the
// drain waits for that task or slot.
func (p *Pool) Shutdown(ctx context.Context) error {
	if ctx == nil {
		panic("pool: Shutdown called with a nil Context")
	}
	p.mu.Lock()
	p.state.Or(closedBit)
	p.finishIfDrainedLocked()
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	default:
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	st := p.Stats()
	return fmt.Errorf("pool: Shutdown stopped waiting with %d %s held and %d queued: %w",
		st.Busy, plural(st.Busy, "slot", "slots"),
		st.QueuedNew+st.QueuedResumed+st.WaitingNew+st.WaitingResumed, ctx.Err())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Logger returns the logger the pool logs to: the one given with [WithLogger], else
// [slog.Default] as it is now. Schedulers on the pool use it when they were given none.
func (p *Pool) Logger() *slog.Logger {
	if p.logger != nil {
		return p.logger
	}
	return slog.Default()
}

// Stats returns a consistent snapshot of the pool's gauges and counters (see [Stats]). It
// takes the pool's lock for the time of a copy.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state.Load()
	s := p.stats
	s.Workers = p.workers
	s.BusyWorkers = p.busyWorkers
	s.BusyInline = inlineOf(st)
	s.Busy = s.BusyWorkers + s.BusyInline
	s.QueuedNew = p.newLenLocked() - p.waitingNew
	s.QueuedResumed = p.resumed.len() - p.waitingResumed
	s.WaitingNew = p.waitingNew
	s.WaitingResumed = p.waitingResumed
	return s
}

// work is the loop of worker w. It runs task first, unless task is nil: then w starts
// parked, as it is in Pool.idle.
func (p *Pool) work(w *worker, task func()) {
	for {
		if task == nil {
			if task = <-w.next; task == nil {
				p.exit()
				return
			}
		}
		task = p.next(w, p.run(w, task))
	}
}

// run runs task on worker w and reports whether it panicked. A panic is recovered and
// handed to the panic handler. If task calls runtime.Goexit, a new goroutine takes over
// as w, as if task had returned.
func (p *Pool) run(w *worker, task func()) (panicked bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil { // never nil for a panic since Go 1.21
			panicked = true
			p.onPanic(v, debug.Stack())
			return
		}
		go p.work(w, p.next(w, false))
	}()
	task()
	returned = true
	return false
}

// next does the accounting after worker w ran a task and returns the task w runs next, or
// nil if w parked.
func (p *Pool) next(w *worker, panicked bool) func() {
	p.mu.Lock()
	p.stats.Completed++
	if panicked {
		p.stats.Panicked++
	}
	e, ok := p.popLocked()
	switch {
	case ok && e.w == nil:
		p.settleLocked(0)
		p.mu.Unlock()
		return e.task // the slot stays with w
	case ok:
		e.w.state = waiterGranted
		p.settleLocked(workerToInline)
	default:
		p.settleLocked(workerToFree)
	}
	p.busyWorkers--
	p.idle = append(p.idle, w)
	p.finishIfDrainedLocked()
	p.mu.Unlock()
	if ok {
		e.w.ready <- struct{}{}
	}
	return nil
}

// dispatchLocked takes a parked worker to run a task in a slot the caller has taken for
// it. The caller sends the task after unlocking.
func (p *Pool) dispatchLocked() *worker {
	w := p.idle[len(p.idle)-1]
	p.idle[len(p.idle)-1] = nil
	p.idle = p.idle[:len(p.idle)-1]
	p.busyWorkers++
	return w
}

// popLocked removes the entry a freed slot goes to: the oldest resumed one, else the
// oldest new one of the highest priority that has one. The caller passes on the slot and
// adds to the state, in one atomic step, the change of slot counts and, if the queues are
// empty now, the clearing of queuedBit (see settleLocked).
func (p *Pool) popLocked() (e entry, ok bool) {
	if e, ok = p.resumed.pop(); ok {
		if e.w != nil {
			p.waitingResumed--
		}
		return e, true
	}
	for _, pr := range servingOrder {
		if e, ok = p.popNewLocked(&p.fresh[pr]); ok {
			if e.w != nil {
				p.waitingNew--
			}
			return e, true
		}
	}
	return e, false
}

// settleLocked adds delta to the state, and clears queuedBit if the last live entry has
// left the queues, in one atomic step.
func (p *Pool) settleLocked(delta uint64) {
	if p.resumed.len()+p.newLenLocked() == 0 && p.state.Load()&queuedBit != 0 {
		delta -= queuedBit
	}
	if delta != 0 {
		p.state.Add(delta)
	}
}

// finishIfDrainedLocked ends the drain once Shutdown has begun and every slot is free:
// then every queue is empty, every worker is parked, and each is told to exit.
func (p *Pool) finishIfDrainedLocked() {
	for {
		s := p.state.Load()
		if s&closedBit == 0 || s&finishedBit != 0 || freeOf(s) < p.workers {
			return
		}
		if p.state.CompareAndSwap(s, s|finishedBit) { // Reacquire may take a slot meanwhile
			break
		}
	}
	for _, w := range p.idle {
		w.next <- nil
	}
	p.idle = nil
}

// exit is a worker's last act; the last one closes p.done.
func (p *Pool) exit() {
	p.mu.Lock()
	p.alive--
	if p.alive == 0 {
		close(p.done)
	}
	p.mu.Unlock()
}
