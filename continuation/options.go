package continuation

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gosuspend/suspend/pool"
)

// DefaultMaxAlive is the alive bound when [WithMaxAlive] is not given. Each alive
// continuation keeps a goroutine's stack (its caller's for Run, its coroutine's for
// Spawn) and a few records. Suspended, heap and stack together, a Run costs about 4.5 KB
// and a Spawn 4.1 KB, about what a goroutine blocked on a channel costs (4.2 KB, measured
// the same way; BenchmarkMemoryPerSuspended, Go 1.26, medians of 3), and more if its
// body's stack grew deeper: 10,000 of them take about 45 MB, a bound that protects memory
// while it leaves room for any number of requests a 2-core machine serves in the time of
// a slow upstream call.
const DefaultMaxAlive = 10_000

// DefaultStepBudget is the step budget when [WithStepBudget] is not given.
const DefaultStepBudget = time.Second

// An Option configures a [Scheduler] made by [NewScheduler]. When an option is given more
// than once, the last one wins.
type Option interface {
	apply(*options)
}

type options struct {
	maxAlive      int
	budget        time.Duration
	logger        *slog.Logger
	profileLabels bool
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithMaxAlive bounds how many continuations may be alive at once: admitted and not
// ended, whether running, queued or suspended. Beyond it, Spawn and Run refuse at once
// with an error that errors.Is [ErrOverloaded]. The default is [DefaultMaxAlive].
// WithMaxAlive panics if n is less than 1.
func WithMaxAlive(n int) Option {
	if n < 1 {
		panic("continuation: WithMaxAlive called with a bound below 1")
	}
	return optionFunc(func(o *options) { o.maxAlive = n })
}

// WithStepBudget sets how long one step of a continuation may hold its slot: from taking
// the slot to the next suspension or the end of the body. Go cannot preempt a step, so a
// watchdog looks at the running steps every tenth of d (at most every millisecond) and
// reports a step past d while it still runs, within about 1.1 d: a warning through the
// logger with the continuation's label, how long the step has run, the continuation's
// age, and the stack of the goroutine that runs it with a hint of what it waits on (when
// the process has at most 10,000 goroutines: the dump stops the world for about 1 ms per
// thousand). The step is counted once in [Stats].StepOverruns and reported again at 2, 4,
// 8... d while it goes on. A step that ends before the watchdog sees it past d is not
// counted. Time spent suspended, in [Blocking] or waiting for a slot never counts.
//
// The watchdog is a timer armed while steps run; it keeps no goroutine.
// Zero turns it off. The default is [DefaultStepBudget]. WithStepBudget panics if d is
// negative.
func WithStepBudget(d time.Duration) Option {
	if d < 0 {
		panic("continuation: WithStepBudget called with a negative duration")
	}
	return optionFunc(func(o *options) { o.budget = d })
}

// WithLogger sets where the scheduler's warnings go (see [Scheduler.Logger]). The default
// is the pool's logger, as it is when the scheduler logs: give the pool a logger
// ([pool.WithLogger]) to set it for the pool, its schedulers and their HTTP handlers at
// once. WithLogger panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("continuation: WithLogger called with a nil *slog.Logger")
	}
	return optionFunc(func(o *options) { o.logger = l })
}

// ProfileLabel is the key of the runtime/pprof label that [WithProfileLabels] gives the
// code of each continuation: its value is the continuation's label.
const ProfileLabel = "continuation"

// WithProfileLabels makes every continuation's code run under the runtime/pprof label
// [ProfileLabel], whose value is its label ([WithLabel]; for an httpadapter request,
// "METHOD /path" unless it was given another), so that CPU and goroutine profiles tell
// the routes apart: `go tool pprof -tagfocus continuation='GET /report'`, or
// `-tags`. A spawned body's goroutine has the label for its whole life, and so have the
// goroutines it starts. A [Run] body runs on its caller's goroutine: the label is set
// when the body starts, and when Run returns the goroutine's labels are set to those of
// Run's ctx (as [pprof.Do] does), so wrap the caller in pprof.Do to keep labels of its
// own. It costs a context and a label set per continuation: about 150 ns, 4 allocations
// and 128 bytes more per Run (BenchmarkRun/impl=Run-labels), so it is off by default.
func WithProfileLabels() Option {
	return optionFunc(func(o *options) { o.profileLabels = true })
}

// A SpawnOption configures one continuation started by [Spawn] or [Run].
type SpawnOption interface {
	applySpawn(*C)
}

type spawnOptionFunc func(*C)

func (f spawnOptionFunc) applySpawn(c *C) { f(c) }

// WithLabel names a continuation, for [Scheduler.Snapshot] and the step budget's warnings.
func WithLabel(label string) SpawnOption {
	return spawnOptionFunc(func(c *C) { c.label = label })
}

// WithPriority sets the priority with which a continuation is admitted to the pool: its
// first step waits for a slot behind resumed work and older new work of its priority, and
// before new work of a lower one (see [pool.Priority]). Once admitted, every continuation
// resumes with the same priority, ahead of all new work. The default is [pool.Normal].
//
// Give [pool.High] to continuations that hold a slot only briefly between awaits, so that
// they are not admitted behind CPU-bound ones, or [pool.Low] to CPU-bound ones, so that
// they give way to everything else (a Low continuation yields the processor once before
// it takes its first slot).
//
// WithPriority panics if pr is not a priority the pool package defines.
func WithPriority(pr pool.Priority) SpawnOption {
	if pr > pool.Low {
		panic(fmt.Sprintf("continuation: WithPriority called with unknown pool.Priority %d", pr))
	}
	return spawnOptionFunc(func(c *C) { c.priority = pr })
}
