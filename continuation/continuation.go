// Package continuation runs function bodies that wait on futures without holding one of a
// pool's execution slots while they wait: a body is suspended where it awaits, its slot goes
// to other work, and it is resumed, first in line for a slot, once what it awaited settles.
// It is to a [pool.Pool] what a goroutine blocked on a channel is to the Go scheduler.
//
// # Bodies and continuations
//
// A body is a function func(*C) (T, error). A [Scheduler] runs it as a continuation: an
// execution that holds one of the pool's slots while it runs and none while it waits. The
// body waits with [C.Await] or [Await]; everything else it does runs as usual Go code.
//
// Two ways start a body, under one bound and one queue:
//
//   - [Spawn] returns at once with a *future.Future of the body's result. The body runs as
//     an [iter.Pull] coroutine whose steps run on the pool's workers: a step runs until the
//     body returns or awaits something not yet settled; the worker is then free, and the
//     next step runs on whichever worker takes the continuation when it is resumed.
//   - [Run] runs the body on the calling goroutine, for callers that would only wait for
//     the result anyway (an HTTP serving goroutine): the caller takes a slot, runs the body,
//     gives the slot back while Await waits, and takes it again, with the priority of
//     resumed work, when Await is done. No coroutine, no hand-off: the fast path.
//
// A continuation's first step waits for a slot as new work, with the [pool.Priority] that
// [WithPriority] gives it (Normal by default); every later step waits as resumed work,
// before all new work.
//
// # Awaiting
//
// Await returns nil once what it awaits has settled; awaiting something already settled
// does not suspend. It returns the continuation's context's error if the context ends
// first, and [ErrStopped] once the scheduler has given up on the continuation at
// [Scheduler.Shutdown]. In either case the body decides what to do, but after ErrStopped
// every Await returns ErrStopped at once, and the body should return.
//
// # Rules
//
//   - A body's *C belongs to the body: Await may be called only by the body, while it runs,
//     and only on one goroutine at a time. Await after the body returned, or while another
//     Await of the same continuation waits, panics with a message that says so.
//   - A continuation is marked suspended before its wake-up is armed, so a future that
//     settles during the hand-off can never run one body on two goroutines at once.
//   - A panic in a body is recovered: the continuation fails with a *future.PanicError and
//     the worker goes on. A body that calls runtime.Goexit fails with an error that says so.
//   - Two bounds, never confused: the pool's slots bound how many bodies execute; the
//     scheduler's alive bound (see [WithMaxAlive]) bounds how many continuations exist,
//     running, queued or suspended. A continuation refused by either fails at once with an
//     error that errors.Is [ErrOverloaded]; after [Scheduler.Shutdown] began, with [ErrClosed].
//   - Go cannot preempt a step: a step that holds its slot longer than the step budget (see
//     [WithStepBudget]) is reported through the logger while it still runs, with where it
//     is stuck, and counted.
//
// # What counts against the bound
//
// A continuation holds a slot only while its body's code runs. It holds none while it
// waits in [C.Await] or [Await], in a [Blocking] call, or for a slot. Any other wait in a
// body holds the slot for as long as it lasts: a blocking call made directly, a channel
// receive, a (*future.Future).Await (use [Await] instead), a [sync.WaitGroup]. The step
// budget's report shows such waits, with the stack of the step.
//
// # Shutdown
//
// [Scheduler.Shutdown] refuses new continuations, closes [Scheduler.Closing] so that
// long-lived bodies finish, and waits for the alive ones; when its context ends it gives
// up on them (their Awaits return [ErrStopped]) and returns. Shut the pool down after the
// scheduler. In the other order nothing is lost either: a continuation that finds the pool
// gone when it wakes makes the scheduler give up, and goes on without a slot until its
// body returns.
//
// Stats and Snapshot report what the scheduler is doing; Snapshot is its thread dump.
package continuation

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/futurehook"
	"github.com/gosuspend/suspend/pool"
)

var (
	// ErrOverloaded is what a refused continuation's error matches with errors.Is: the
	// scheduler's alive bound was reached, or the pool's queue of new work was full.
	ErrOverloaded = errors.New("continuation: overloaded")

	// ErrClosed is the error of a continuation refused because [Scheduler.Shutdown] began,
	// or because the pool is shutting down.
	ErrClosed = errors.New("continuation: scheduler closed")

	// ErrStopped is what Await returns once the scheduler has given up on the continuation,
	// when the context given to [Scheduler.Shutdown] ended before the continuation did.
	// Every later Await returns it at once: the body must return.
	ErrStopped = errors.New("continuation: stopped by scheduler shutdown")

	// ErrNested is what Run returns, at once, when it is called from a body's step with
	// that body's context (c.Context() or a context made from it): Run would wait for a
	// slot while the body holds one, and on a pool whose slots are all held so, forever.
	ErrNested = errors.New("continuation: Run called from a running body, with its context: " +
		"it would wait for a slot while the body holds one; call it within continuation.Blocking, " +
		"or use Spawn and Await")

	errGoexit = errors.New("continuation: body called runtime.Goexit")
	errShed   = fmt.Errorf("%w: %w", ErrOverloaded, pool.ErrShed)
)

// Scheduler runs bodies as continuations on a [pool.Pool]. Create one with [NewScheduler];
// its methods may be called from any goroutine. Several schedulers may share a pool.
type Scheduler struct {
	// Read by every continuation, written only by NewScheduler.
	pool     *pool.Pool
	maxAlive int
	budget   time.Duration
	logger   *slog.Logger  // nil: the pool's, as it is when it logs
	labels   bool          // WithProfileLabels
	epoch    time.Time     // times are kept as nanoseconds since epoch (monotonic)
	shards   []shard       // the registry of alive continuations
	drained  chan struct{} // closed once closed and alive == 0
	closing  chan struct{} // closed when Shutdown begins: what Closing returns

	errTooMany, errQueueFull error // what refused continuations fail with

	wdArmed atomic.Bool // the watchdog's timer is set; written rarely, read at admission

	// alive changes at every admission and every end, on every core: it has a cache line
	// of its own, so that the fields above stay in every core's cache.
	_     [64]byte
	alive atomic.Int64 // admitted and not ended, the alive bound's count
	_     [56]byte

	closed    atomic.Bool // Shutdown began
	gaveUp    atomic.Bool // Shutdown gave up: every Await returns ErrStopped
	drain     sync.Once
	closeOnce sync.Once
	stopOnce  sync.Once

	// Ends outside any shard: continuations refused before they were entered in one.
	refused [numOutcomes]atomic.Int64

	overruns atomic.Int64

	routes routes // the accounting of each label (see accounting.go)

	// DrainRate's window: when it began (s.now; 0: never), the ends counted then, and the
	// rate of the last window (float64 bits).
	drainAt, drainEnds atomic.Int64
	drainRate          atomic.Uint64
}

// NewScheduler returns a scheduler that runs continuations on p's slots. It starts no
// goroutine. It panics if p is nil.
func NewScheduler(p *pool.Pool, opts ...Option) *Scheduler {
	if p == nil {
		panic("continuation: NewScheduler called with a nil *pool.Pool")
	}
	o := options{maxAlive: DefaultMaxAlive, budget: DefaultStepBudget}
	for _, opt := range opts {
		opt.apply(&o)
	}
	s := &Scheduler{
		pool:     p,
		maxAlive: o.maxAlive,
		budget:   o.budget,
		logger:   o.logger,
		labels:   o.profileLabels,
		epoch:    time.Now(),
		drained:  make(chan struct{}),
		closing:  make(chan struct{}),
		errTooMany: fmt.Errorf("%w: the limit of %d alive continuations is reached",
			ErrOverloaded, o.maxAlive),
		errQueueFull: fmt.Errorf("%w: %w", ErrOverloaded, pool.ErrFull),
		shards:       newShards(),
	}
	return s
}

// Logger returns the logger the scheduler logs to: the one given with [WithLogger], else
// its pool's ([pool.Pool.Logger]), which is [slog.Default] as it is now unless the pool was
// given one. The HTTP handlers of the httpadapter package use it when given none.
func (s *Scheduler) Logger() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return s.pool.Logger()
}

func (s *Scheduler) now() int64 { return int64(time.Since(s.epoch)) }

// State is where a continuation is: queued for a slot, running on one, or suspended.
type State uint32

const (
	Queued    State = iota // waiting for a slot, to start or to resume
	Running                // holding a slot
	Suspended              // waiting on what it awaits, holding no slot
)

// Internal states beyond the public three, for the hand-off between a body that is about
// to suspend and the wake-up that may beat it.
const (
	suspending State = iota + 3 // the body armed its wake-up and is yielding its step
	woken                       // woken while suspending: the step goes on
	ended                       // the body returned
	blocked                     // in Blocking, holding no slot: shown as suspended
)

// String returns the state's name: "queued", "running" or "suspended".
func (st State) String() string {
	switch st {
	case Queued:
		return "queued"
	case Running, suspending, woken:
		return "running"
	case Suspended, blocked:
		return "suspended"
	case ended:
		return "ended"
	}
	return fmt.Sprintf("State(%d)", uint32(st))
}

// MarshalText encodes the state as its name, for logs and JSON.
func (st State) MarshalText() ([]byte, error) { return []byte(st.String()), nil }

// C is one continuation: the handle a body uses to await. It is given to the body and is
// valid until the body returns; it must not be used by any other goroutine.
type C struct {
	s     *Scheduler
	ctx   context.Context
	cctx  bodyContext // what Context returns: ctx, which knows c
	label string
	born  int64 // s.now() at admission

	state atomic.Uint32 // a State
	since atomic.Int64  // s.now() at the last change of public state
	done  atomic.Bool   // the body returned: Await is misuse

	// Accounting (see accounting.go): the route of c's label, and c's totals so far.
	route                         *route
	steps                         atomic.Int64
	busyNs, queuedNs, suspendedNs atomic.Int64

	prev, next *C // the ring of alive continuations of c's shard; under its mu

	// Spawn only; set before the first step, read by the steps.
	pull    func() (struct{}, bool) // the coroutine's next
	yield   func(struct{}) bool     // the coroutine's yield, used by Await
	step    func()                  // the task handed to the pool: runs one step
	wake    func()                  // what settling, ctx's end and Shutdown call
	wakeCh  chan struct{}           // Run only: where its goroutine waits (see awaitInline)
	stopCtx func() bool             // unregisters wake from ctx
	// Set by the body before it yields for Blocking, read by runStep after: the coroutine's
	// switch orders the two.
	blockReq bool

	// Used by the goroutine running the body's current step.
	holding  bool          // Run only: the goroutine holds a slot
	priority pool.Priority // of admission to the pool; beside holding, where C has room

	// The watchdog's own, under the lock of c's shard (see watchdog.go).
	wdStep int64 // 1 + the since of the step last seen past the budget; 0: none yet
	wdNext int64 // when that step is reported again
}

// Context returns the continuation's context: the one given to Spawn or Run, with the same
// deadline, cancellation and values, which also tells [Run] that it is called from this
// body (see [ErrNested]).
func (c *C) Context() context.Context { return &c.cctx }

// bodyContext is a continuation's context as its body sees it.
type bodyContext struct {
	context.Context
	c *C
}

type bodyKey struct{}

func (b *bodyContext) Value(key any) any {
	if key == (bodyKey{}) {
		return b.c
	}
	return b.Context.Value(key)
}

// nested reports whether a Run with ctx would wait for a slot while holding one: ctx is the
// context of a body, and the caller runs a step of a body (see inStep). The first check is
// a lookup in ctx; the second, a walk of the stack (a few µs), is made only if the first
// holds.
func nested(ctx context.Context) bool {
	_, ok := ctx.Value(bodyKey{}).(*C)
	return ok && inStep()
}

// Names of functions whose frames on a stack say where its goroutine is, without type
// parameters (a generic function's frames are named name[...]).
var (
	runBodyName  string // a body's step
	blockingName string // a body's blocking section: no slot held
	awaitName    string // a body's wait: no slot held
)

func init() { // not initializers: the watchdog, which reads them, is reachable from these
	runBodyName = funcName(runBody[struct{}])
	blockingName = funcName(Blocking[struct{}])
	awaitName = funcName((*C).Await)
}

func funcName(f any) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	name, _, _ = strings.Cut(name, "[")
	return name
}

// inStep reports whether the calling goroutine runs a step of a body and holds its slot:
// walking its stack outwards, it meets a body's runBody before any Blocking. Goroutines
// that a body started, and the fn of a Blocking, hold no slot.
func inStep() bool {
	var pcs [64]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, blockingName):
			return false
		case strings.HasPrefix(f.Function, runBodyName):
			return true
		case !more:
			return false
		}
	}
}

// Label returns the continuation's label, as given by [WithLabel].
func (c *C) Label() string { return c.label }

func (c *C) setState(st State, now int64) {
	c.state.Store(uint32(st))
	c.since.Store(now)
}

// admit counts a new continuation in, or says why not. The caller sets what the
// continuation needs, then enters it in the registry.
func (s *Scheduler) admit(ctx context.Context, opts []SpawnOption) (*C, error) {
	if ctx == nil {
		panic("continuation: nil Context")
	}
	if err := ctx.Err(); err != nil {
		s.refused[refusalOf(err)].Add(1)
		return nil, err // an ended context starts nothing
	}
	c := &C{s: s, ctx: ctx}
	c.cctx = bodyContext{ctx, c}
	for _, opt := range opts {
		opt.applySpawn(c)
	}
	if s.closed.Load() {
		s.refused[closed].Add(1)
		return nil, ErrClosed
	}
	if s.alive.Add(1) > int64(s.maxAlive) {
		s.release()
		s.refused[overloaded].Add(1)
		return nil, s.errTooMany
	}
	if s.closed.Load() { // Shutdown began meanwhile and may have seen our count
		s.release()
		s.refused[closed].Add(1)
		return nil, ErrClosed
	}
	now := s.now()
	c.born = now
	c.since.Store(now)
	c.route = s.routes.of(c.label)
	return c, nil
}

// release takes one from the alive count; the last one out after Shutdown began ends
// the drain.
func (s *Scheduler) release() {
	if s.alive.Add(-1) == 0 && s.closed.Load() {
		s.drain.Do(func() { close(s.drained) })
	}
}

// leave counts a continuation out: it ended, or the pool refused it after admission.
func (s *Scheduler) leave(c *C, how outcome) {
	c.done.Store(true)
	c.state.Store(uint32(ended))
	s.shardOf(c).remove(c, how)
	s.release()
}

// refusedByPool maps the pool's refusal of an admitted continuation to its error.
func (s *Scheduler) refusedByPool(c *C, err error) error {
	switch {
	case errors.Is(err, pool.ErrFull):
		err = s.errQueueFull
	case errors.Is(err, pool.ErrShed):
		err = errShed
	case errors.Is(err, pool.ErrClosed):
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	} // else the context ended, or its deadline could not be met, before a slot came
	s.leave(c, refusalOf(err))
	return err
}

// Spawn starts body as a continuation on s and returns a future of its result. The body
// runs on the pool's workers, one step at a time (see the package doc). ctx becomes the
// continuation's context: when it ends, a suspended body is resumed at once and its Await
// returns ctx's error.
//
// If the continuation is refused, the future returned has already failed: with an error
// that errors.Is [ErrOverloaded] when the alive bound is reached, or the pool's queue of
// new work is full or sheds it for its queueing delay ([pool.ErrShed]), with [ErrClosed]
// once Shutdown has begun, with ctx's error if ctx has ended. If ctx ends while the
// continuation waits for its first slot, the body never starts: the future fails with
// ctx's error once a worker takes the continuation. [Stats] counts refusals by reason.
//
// The callbacks of the future returned (OnDone, AfterDone, and the combinators built on
// them) run when the body returns, on the worker, as the end of the continuation's last
// step: they hold its slot, and the continuation counts as alive and running until they
// return. Keep them short; a callback that waits for the scheduler (Shutdown) waits for
// itself.
//
// A continuation costs a coroutine (a goroutine's stack) for as long as it lives.
func Spawn[T any](s *Scheduler, ctx context.Context, body func(*C) (T, error), opts ...SpawnOption) *future.Future[T] {
	if body == nil {
		panic("continuation: Spawn called with a nil body")
	}
	c, err := s.admit(ctx, opts)
	if err != nil {
		return future.Failed[T](err)
	}
	f, resolve := future.New[T]()
	var stopPull func()
	c.pull, stopPull = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		if s.labels { // the coroutine's goroutine runs every step: label it once
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(ProfileLabel, c.label)))
		}
		runBody(c, body, func(v T, err error) {
			if c.stopCtx != nil {
				c.stopCtx()
			}
			resolve(v, err)
		})
	})
	c.step = c.runStep
	c.wake = c.wakeUp
	if ctx.Done() != nil {
		c.stopCtx = context.AfterFunc(ctx, c.wake)
	}
	s.shardOf(c).insert(c)
	if err := s.pool.SubmitAt(c.priority, c.step); err != nil {
		if c.stopCtx != nil {
			c.stopCtx()
		}
		stopPull() // the coroutine never started: this ends it
		var zero T
		resolve(zero, s.refusedByPool(c, err)) // settled, not dropped: not an abandoned future
		return f
	}
	return f
}

// runBody calls body and ends the continuation, whatever body does: a panic becomes a
// *future.PanicError and runtime.Goexit an error, and either way end, if not nil, is
// called with the result and the continuation is counted out (after a Run's slot is given
// back). A Goexit goes on unwinding the goroutine after that, as it must. A spawned
// continuation whose context ended while it was queued is refused instead: body is not
// called.
func runBody[T any](c *C, body func(*C) (T, error), end func(T, error)) (v T, err error) {
	returned, refused := false, false
	defer func() {
		var how outcome
		switch {
		case refused:
			how = refusalOf(err)
		case !returned:
			if r := recover(); r != nil {
				err, how = &future.PanicError{Value: r, Stack: debug.Stack()}, panicked
			} else {
				err, how = errGoexit, failed
			}
		default:
			how = endOf(c.ctx, err)
		}
		if c.pull == nil {
			if c.holding {
				c.lastStep(c.s.now())
			}
			c.s.releaseInline(c)
		}
		if end != nil {
			// Spawn: end settles the future, whose callbacks run here, on the worker and in
			// its slot: they are the continuation's work, counted and watched as such until
			// they return. The body has returned: c is for no one's use from now on.
			c.done.Store(true)
			defer func() {
				if !refused {
					c.lastStep(c.s.now()) // callbacks included
				}
				c.s.leave(c, how)
			}()
			end(v, err)
			return
		}
		c.s.leave(c, how)
	}()
	if c.pull != nil { // Spawn: ctx may have ended while c was queued
		if err = c.ctx.Err(); err != nil {
			refused = true
			return v, err
		}
	}
	v, err = body(c)
	returned = true
	return v, err
}

// runStep is the pool task of a spawned continuation: it runs the body until it returns or
// suspends. A body woken while it was handing its step back goes on in the same step.
func (c *C) runStep() {
	started := c.s.now()
	c.spent(Queued, started)
	c.setState(Running, started)
	c.s.watch()
	for {
		if _, more := c.pull(); !more {
			return // the body returned
		}
		if c.blockReq { // Blocking (c is blocked already): fn runs off the pool
			c.blockReq = false
			now := c.s.now()
			c.spent(Running, now)
			c.since.Store(now)
			go c.runBlocking()
			return
		}
		// Once the state says suspended, a wake-up may hand c to another worker at any
		// moment: of c, only the atomic totals are touched after.
		now := c.s.now()
		ran, r := now-c.since.Load(), c.route
		c.since.Store(now)
		if c.state.CompareAndSwap(uint32(suspending), uint32(Suspended)) {
			c.busyNs.Add(ran)
			c.steps.Add(1)
			r.step.record(ran)
			return // the wake-up will resume it
		}
		c.setState(Running, started) // woken during the hand-off: the same step goes on
	}
}

// wakeUp resumes a continuation that is suspending or suspended, at most once per
// suspension: a suspending body goes on in its step, a suspended one is handed back to
// the pool. In any other state there is nothing to wake.
func (c *C) wakeUp() {
	for {
		switch State(c.state.Load()) {
		case suspending:
			if c.state.CompareAndSwap(uint32(suspending), uint32(woken)) {
				return
			}
		case Suspended:
			if c.state.CompareAndSwap(uint32(Suspended), uint32(Queued)) {
				if c.pull == nil { // Run: its goroutine times the wait as it goes on
					c.wakeCh <- struct{}{}
					return
				}
				now := c.s.now()
				c.spent(Suspended, now)
				c.since.Store(now)
				c.resume()
				return
			}
		default:
			return
		}
	}
}

// resume hands a spawned continuation back to the pool to go on. If the pool has finished
// its Shutdown (it was shut down before the scheduler), no slot will ever be free: the
// scheduler gives up on all its continuations, and this one goes on at once on a
// goroutine of its own, where its Awaits return ErrStopped, until its body returns.
func (c *C) resume() {
	if err := c.s.pool.Resume(c.step); err != nil {
		c.s.abandon()
		go c.step()
	}
}

// Run runs body as a continuation on the calling goroutine and returns its result. The
// caller first takes a slot with the priority of new work (waiting in the pool's queue if
// none is free; see [WithPriority]), runs body while it holds it, and gives it back while
// body awaits.
//
// Run refuses exactly as [Spawn] does and returns the same errors, and ctx's error if ctx
// has ended, or ends while the caller waits for its first slot: the body never starts. On
// a pool with a queue-delay control (see [pool.WithQueueDelay]), it is also refused at
// once, with an error that is [context.DeadlineExceeded], when the pool's queueing delay
// would pass ctx's deadline. A panic in body is recovered and returned as a
// *future.PanicError.
//
// Run from a body that is running, with its context (c.Context() or one made from it),
// returns [ErrNested] at once: it would wait for a slot while the body holds one, and on a
// pool whose every slot is held by such a body it would wait forever. Call it within
// [Blocking] (the body's slot is then given back while the inner Run waits and runs), or
// start the inner body with [Spawn] and [Await] it. A goroutine that the body started may
// Run with the body's context: it holds no slot. A Run called with another context from
// a body (the request's context, in an httpadapter handler), or from a task of the pool,
// waits for a slot while it holds one, and on a pool whose every slot is held so, until
// its context ends: the step budget's report names it (see [WithStepBudget]).
func Run[T any](s *Scheduler, ctx context.Context, body func(*C) (T, error), opts ...SpawnOption) (T, error) {
	if body == nil {
		panic("continuation: Run called with a nil body")
	}
	var zero T
	if ctx != nil && nested(ctx) {
		return zero, ErrNested
	}
	c, err := s.admit(ctx, opts)
	if err != nil {
		return zero, err
	}
	s.shardOf(c).insert(c)
	if c.priority != pool.Low && s.pool.TryAcquire() { // Low yields in AcquireAt
		c.state.Store(uint32(Running)) // at once: the admission's time stands
		c.route.slotWait.record(0)
	} else {
		if err := s.pool.AcquireAt(ctx, c.priority); err != nil {
			return zero, s.refusedByPool(c, err)
		}
		now := s.now()
		c.spent(Queued, now)
		c.setState(Running, now)
	}
	s.watch()
	c.holding = true
	if s.labels {
		pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels(ProfileLabel, c.label)))
		defer pprof.SetGoroutineLabels(ctx)
	}
	return runBody(c, body, nil)
}

// releaseInline gives back the slot a Run continuation holds, if it holds one: a body can
// only end without one if Reacquire panicked.
func (s *Scheduler) releaseInline(c *C) {
	if c.holding {
		c.holding = false
		s.pool.Release()
	}
}

// Await suspends the body until a has settled and returns nil; see the package doc. It
// returns the context's error if the context ends first, and [ErrStopped] once the
// scheduler has given up on the continuation. If a has already settled, Await returns nil
// at once without suspending.
//
// Await panics if a is nil, if the body has returned, or if another Await of the same
// continuation is waiting.
//
// An Await that suspends allocates nothing when a is a *future.Future (another Awaitable
// costs the stop closure its AfterDone returns). Under Run, a suspension and resumption
// with a settled by another goroutine cost about 1.6 times a ping-pong over channels with
// that goroutine: 1.1 µs on a 2-core machine, of which two clock reads for the accounting
// (BenchmarkSuspendVsChannel).
func (c *C) Await(a future.Awaitable) error {
	if a == nil {
		panic("continuation: Await called with a nil Awaitable")
	}
	if c.done.Load() {
		panic("continuation: Await called after the body returned")
	}
	// The body runs, so c is Running, unless it waits already: the change of state is
	// also the check.
	if !c.state.CompareAndSwap(uint32(Running), uint32(suspending)) {
		panic("continuation: Await called while the continuation is already waiting " +
			"(in Await or Blocking, or its *C was shared with another goroutine)")
	}
	if c.s.gaveUp.Load() {
		c.state.Store(uint32(Running))
		return ErrStopped
	}
	if c.pull == nil && c.wakeCh == nil {
		c.wakeCh = make(chan struct{}, 1) // Run: see awaitInline
		c.wake = c.wakeUp
	}
	w, settled := c.arm(a)
	if settled {
		c.state.Store(uint32(Running))
		return nil
	}
	if c.pull == nil {
		return c.awaitInline(a, w)
	}
	// Suspend unless something woke us already: a settled a (its callback ran wake), an
	// ended context or a stop, whose wake-ups may have come before the state said
	// suspending.
	if c.state.Load() == uint32(suspending) && c.ctx.Err() == nil && !c.s.gaveUp.Load() {
		c.yield(struct{}{})
	}
	c.state.Store(uint32(Running))
	if w.disarm(a) { // a has not settled: it was the context or the scheduler
		return c.interrupted()
	}
	return nil
}

// interrupted is why a continuation woke without what it awaited.
func (c *C) interrupted() error {
	if c.s.gaveUp.Load() {
		return ErrStopped
	}
	return c.ctx.Err()
}

// awaitInline is Await for Run: the caller's goroutine waits, holding no slot. It waits on
// c's own wake channel, made once per continuation, rather than on a's Done channel: no
// channel is made per Await, and the wait is a receive, not a select over a, the context
// and the scheduler's stop. Whoever moves c from Suspended to Queued (a's callback, the
// context's end seen here, or Shutdown giving up, see wakeUp) owns the wake-up, and sends
// the one token of this suspension; so the channel is empty again when Await returns.
func (c *C) awaitInline(a future.Awaitable, w armed) error {
	// As in Await: suspend unless something woke us already.
	if c.state.Load() == uint32(suspending) && c.ctx.Err() == nil && !c.s.gaveUp.Load() {
		s := c.s
		now := s.now()
		c.spent(Running, now)
		c.since.Store(now)
		s.releaseInline(c)
		if c.state.CompareAndSwap(uint32(suspending), uint32(Suspended)) {
			if cd := c.ctx.Done(); cd == nil {
				<-c.wakeCh // a receive, not a select: half the cost
			} else {
				select {
				case <-c.wakeCh:
				case <-cd:
					if !c.state.CompareAndSwap(uint32(Suspended), uint32(Queued)) {
						<-c.wakeCh // woken meanwhile: take the token, which is on its way
					}
				}
			}
		}
		c.reacquire() // Running again
	} else {
		c.state.Store(uint32(Running))
	}
	if w.disarm(a) {
		return c.interrupted()
	}
	return nil
}

// armed is c's wake-up registered on what it awaits: an id for a *future.Future, which
// futurehook registers without a stop closure (an Await allocates nothing of its own), or
// the stop that another Awaitable's AfterDone returned.
type armed struct {
	id   uint64
	stop func() bool
}

// arm registers c's wake-up on a, unless a has settled: then it registers nothing and
// reports settled. A body must not wait for a wake-up queued behind callbacks being
// dispatched: the goroutine dispatching them may be the body's own (a Run called from a
// callback). If a's AfterDone panics, c is Running again as the panic goes on, for the
// body to recover from it and go on.
func (c *C) arm(a future.Awaitable) (w armed, settled bool) {
	if id, settled, ok := futurehook.AfterDone(a, c.wake); ok { // cannot panic
		return armed{id: id}, settled
	}
	return c.armOther(a)
}

// armOther is arm for an Awaitable other than a *future.Future: its methods are the
// caller's code, and may panic.
func (c *C) armOther(a future.Awaitable) (w armed, settled bool) {
	done := false
	defer func() {
		if !done {
			c.state.Store(uint32(Running))
		}
	}()
	select {
	case <-a.Done():
		done = true
		return armed{}, true
	default:
	}
	w.stop = a.AfterDone(c.wake)
	done = true
	return w, false
}

// disarm takes back what arm registered, and reports whether it did: if not, a has settled.
func (w armed) disarm(a future.Awaitable) bool {
	if w.stop != nil {
		return w.stop()
	}
	return futurehook.Stop(a, w.id)
}

// Await is [C.Await] for a future: it waits for f and returns its value and error, or the
// zero value and Await's error (the context's, or [ErrStopped]) if it stopped waiting first.
func Await[T any](c *C, f *future.Future[T]) (T, error) {
	if f == nil {
		panic("continuation: Await called with a nil *future.Future")
	}
	if err := c.Await(f); err != nil {
		var zero T
		return zero, err
	}
	r, _ := f.Peek()
	return r.Value, r.Err
}
