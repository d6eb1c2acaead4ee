package continuation

import (
	"bytes"
	"runtime"
	"strings"
	"time"
)

// The watchdog finds steps that hold their slot past the step budget while they run: Go
// cannot preempt a step, and a step stuck for good would never end to be measured. It is a
// timer, not a goroutine: armed when a step starts and it is not armed already, it looks
// at the alive continuations every tick and arms itself again while any step runs. A
// scheduler whose continuations all wait costs nothing and keeps no timer, so that
// testing/synctest still sees a bubble whose goroutines all wait as deadlocked.

// maxDumpGoroutines bounds the goroutine dump that finds where an overrunning step is
// stuck: the dump stops the world for a time that grows with the number of goroutines,
// about 1 ms per thousand.
const maxDumpGoroutines = 10_000

// tick returns how often the watchdog looks: a tenth of the budget, so that a step is
// reported within about 1.1 budgets, and never more often than every millisecond.
func (s *Scheduler) tick() time.Duration { return max(s.budget/10, time.Millisecond) }

// watch arms the watchdog if the step budget is on and the watchdog is not armed. It is
// called as every step starts, after the continuation's state says so: when armed, it
// costs one load.
func (s *Scheduler) watch() {
	if s.budget > 0 && !s.wdArmed.Load() && s.wdArmed.CompareAndSwap(false, true) {
		time.AfterFunc(s.tick(), s.patrol)
	}
}

// overrun is a step found past its budget.
type overrun struct {
	label    string
	ran, age time.Duration
	first    bool // first report of this step: counted, and with a stack
}

// patrol is the watchdog's round: it reports every step past its budget, then arms the
// watchdog again while any step runs.
func (s *Scheduler) patrol() {
	if s.inspect(true) {
		time.AfterFunc(s.tick(), s.patrol)
		return
	}
	s.wdArmed.Store(false)
	// A step that started during the round, and saw the watchdog armed, is seen now.
	if s.inspect(false) {
		s.watch()
	}
}

// inspect reports whether any step runs and, if report, reports the steps past their
// budget.
func (s *Scheduler) inspect(report bool) (running bool) {
	now := s.now()
	budget := int64(s.budget)
	var found []overrun
	s.each(func(_ *shard, c *C) {
		if c == nil {
			return
		}
		switch State(c.state.Load()) {
		case Running, suspending, woken:
			running = true
		default:
			return
		}
		if !report {
			return
		}
		since := c.since.Load() // while running: when the step began
		ran := now - since
		switch {
		case ran <= budget:
			return
		case c.wdStep != since+1: // a step not yet seen past the budget
			c.wdStep, c.wdNext = since+1, since+2*budget
			found = append(found, overrun{first: true})
		case now >= c.wdNext: // reported before: again at 2, 4, 8... budgets
			c.wdNext = since + 2*(c.wdNext-since)
			found = append(found, overrun{})
		default:
			return
		}
		o := &found[len(found)-1]
		o.label, o.ran, o.age = c.label, time.Duration(ran), time.Duration(now-c.born)
	})
	if len(found) > 0 {
		s.report(found)
	}
	return running
}

// report counts and logs the overruns found by a round. The first report of a step comes
// with the stacks of the goroutines that may be running it.
func (s *Scheduler) report(found []overrun) {
	var stacks []string
	for _, o := range found {
		if o.first {
			s.overruns.Add(1)
			if stacks == nil {
				stacks = stepStacks()
			}
		}
	}
	for _, o := range found {
		attrs := []any{"label", o.label, "ran", o.ran.Round(time.Millisecond),
			"budget", s.budget, "age", o.age.Round(time.Millisecond)}
		if !o.first {
			s.Logger().Warn("continuation: step still running past its budget", attrs...)
			continue
		}
		switch {
		case len(stacks) == 1:
			attrs = append(attrs, "hint", hint(stacks[0]), "stack", stacks[0])
		case len(stacks) > 1:
			// The dump cannot tell which goroutine runs which continuation: it shows
			// every goroutine that holds a slot for a step.
			attrs = append(attrs, "stacks", strings.Join(stacks, "\n\n"))
		}
		s.Logger().Warn("continuation: step running past its budget", attrs...)
	}
}

// stepStacks returns the stacks of the goroutines that run a step of a body and hold its
// slot: those in runBody that are not waiting in Await or Blocking. It returns none when
// there are too many goroutines to dump at an acceptable cost.
func stepStacks() []string {
	if runtime.NumGoroutine() > maxDumpGoroutines {
		return []string{}
	}
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := []string{}
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(runBodyName)) &&
			!bytes.Contains(g, []byte(awaitName)) && !bytes.Contains(g, []byte(blockingName)) {
			stacks = append(stacks, string(g))
		}
	}
	return stacks
}

// hint says what a stuck step's stack suggests.
func hint(stack string) string {
	head, _, _ := strings.Cut(stack, "\n")
	switch {
	case strings.Contains(stack, "/future.(*Future[") && strings.Contains(stack, "]).Await("):
		return "the step waits in (*future.Future).Await, which holds its slot: " +
			"use continuation.Await(c, f) to wait without it"
	case strings.Contains(stack, "/pool.(*Pool).acquireSlow("):
		return "the step waits for a slot in a Run inside the body, holding its own: " +
			"make that Run within continuation.Blocking, or Spawn it and Await"
	case strings.Contains(head, "[running]"), strings.Contains(head, "[runnable]"):
		return "the step is computing: split it, or give it a larger budget"
	}
	return "the step is blocked while it holds its slot: wrap the blocking call in " +
		"continuation.Blocking, or start it with future.Go and wait with continuation.Await"
}
