package pool

import (
	"log/slog"
	"time"
)

// DefaultQueueSize is the bound of the queue of new work when [WithQueueSize] is not given:
// enough for any ordinary burst, and small enough for memory: a queued task takes 16 bytes,
// so a full queue takes 1 to 2 MiB. The queue's buffer grows with the queue and shrinks
// back once it has stayed short for a while.
const DefaultQueueSize = 1 << 16

// An Option configures a [Pool] made by [New]. When an option is given more than once, the
// last one wins.
type Option interface {
	apply(*options)
}

// options holds what New is configured with; defaults are set in one place, by New.
type options struct {
	queueSize                  int
	delayTarget, delayInterval time.Duration
	onPanic                    func(value any, stack []byte)
	logger                     *slog.Logger
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithQueueSize bounds the queue of new work: [Pool.Submit] and [Pool.Acquire] return
// [ErrFull] when n tasks and waiting acquirers are already queued. Zero means that new work
// is taken only when a slot is free. The default is [DefaultQueueSize]. Resumed work
// ([Pool.Resume], [Pool.Reacquire]) has no bound: it was admitted as new work once.
//
// WithQueueSize panics if n is negative.
func WithQueueSize(n int) Option {
	if n < 0 {
		panic("pool: WithQueueSize called with a negative size")
	}
	return optionFunc(func(o *options) { o.queueSize = n })
}

// WithQueueDelay sets the queue-delay control of new work (CoDel, with the adaptive LIFO
// of Meta's "Fail at Scale"; see [ErrShed]). Once the shortest wait for a slot of an
// interval is above target, the queue stands and the pool is overloaded, until an interval
// passes in which the control refused nothing. Meanwhile:
//   - new work is served newest first;
//   - new work that finds W or more entries of its priority queued refuses the oldest of
//     them and takes its place, so that the queue keeps the newest round of work;
//   - an Acquire that has waited more than target is refused when a slot frees;
//   - an Acquire whose context's deadline is nearer than the last interval's shortest wait
//     is refused at once, with an error that matches [context.DeadlineExceeded].
//
// Overloaded or not, new work whose lane has not moved for an interval is refused at once.
// A task accepted by Submit is never refused after. Resumed work is neither watched nor
// refused: time suspended never counts.
//
// Under steady overload this keeps the wait of admitted work under target and refuses the
// rest within a few arrivals: on 2 slots held 5 ms each, at 2 to 10 times capacity, the
// simulated waits' p99 is 1.4 to 4.7 ms for admitted work and 1.7 to 7.3 ms for refused
// work, and at least 98% of the capacity is served (TestQueueDelaySteadyOverload).
//
// The control sees only the wait for a slot. A request first waits for a processor to
// read it, and with CPU-bound work on W = GOMAXPROCS slots that wait is the Go
// scheduler's: the goroutines that read requests and refuse them get a processor only at
// its 10 ms preemption, or when its network poll comes round. Run such a server with
// GOMAXPROCS = W+1, so that they always find one: in the bench harness's overload
// scenario (5 ms of CPU per request, W = 2 on 2 cores) that took the refusal p99 from
// 150-960 ms to 7-16 ms, for every bounded variant alike.
//
// Target 0 turns the control off: new work then waits, FIFO, up to the queue bound (see
// [WithQueueSize]). The control is off unless this option is given, for a pool that runs
// batch work must not refuse it for waiting; a server should give it, and
// [DefaultQueueDelayTarget] and [DefaultQueueDelayInterval] are the values to start from:
// raise the target for work whose steps take tens of milliseconds, since a queue of one
// round of such work already waits longer than 5 ms. WithQueueDelay panics if
// target is negative, or interval is not positive while target is.
func WithQueueDelay(target, interval time.Duration) Option {
	switch {
	case target < 0:
		panic("pool: WithQueueDelay called with a negative target")
	case target > 0 && interval <= 0:
		panic("pool: WithQueueDelay called with an interval that is not positive")
	}
	return optionFunc(func(o *options) { o.delayTarget, o.delayInterval = target, interval })
}

// WithPanicHandler makes fn the handler of panics in tasks: when a task panics, fn is called
// with the value passed to panic and the stack of the panicking goroutine, on the worker
// that ran the task, before the worker takes its next task. The default handler logs both
// at [slog.LevelError] through the pool's logger (see [WithLogger]). A panic in fn itself
// is not recovered.
//
// WithPanicHandler panics if fn is nil.
func WithPanicHandler(fn func(value any, stack []byte)) Option {
	if fn == nil {
		panic("pool: WithPanicHandler called with a nil handler")
	}
	return optionFunc(func(o *options) { o.onPanic = fn })
}

// WithLogger makes l the pool's logger (see [Pool.Logger]). Without it, the pool logs to
// [slog.Default] as it is when it logs, so that a later [slog.SetDefault] takes effect.
// A scheduler on the pool, and the HTTP handlers on the scheduler, log to the pool's
// logger unless given their own: setting it here sets it for the whole stack.
//
// WithLogger panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("pool: WithLogger called with a nil logger")
	}
	return optionFunc(func(o *options) { o.logger = l })
}

func buildOptions(opts []Option) options {
	o := options{queueSize: DefaultQueueSize}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}
