package continuation

import (
	"cmp"
	"context"
	"fmt"
	"github.com/gosuspend/suspend/pool"
	"math"
	"slices"
	"time"
)

// Stats counts what a scheduler has done and is doing. It is summed over the parts of the
// scheduler's registry, each read under its lock: while continuations come and go, the
// parts are read at slightly different moments.
//
// Every Spawn and Run call is counted once: in Alive until it ends, then by how its body
// ended or, if the body never ran, by why the continuation was refused. So the counts sum
// to the calls made (once the calls under way have returned):
//
//	calls == Alive + Completed + Failed + Panicked + Cancelled + Deadline + Stopped +
//		Overloaded + Shed + Late + Closed
//
// Overloaded, Shed, Late and Closed count refusals, by reason; the others count bodies that
// ran, but for Cancelled, which also counts the continuations whose context was cancelled
// before their first slot (for a request, its client went away: there is none to refuse).
type Stats struct {
	Alive     int `json:"alive"`     // admitted and not ended: Running + Suspended + Queued
	Running   int `json:"running"`   // holding a slot
	Suspended int `json:"suspended"` // waiting on what they await (or in Blocking), holding no slot
	Queued    int `json:"queued"`    // waiting for a slot, to start or to resume

	Completed int64 `json:"completed"` // the body returned a nil error
	// The body returned an error counted under no other cause (a refusal's error that
	// it got from a nested Spawn or Run included), or called runtime.Goexit.
	Failed   int64 `json:"failed"`
	Panicked int64 `json:"panicked"` // the body panicked (a *future.PanicError)
	// Ended with context.Canceled once its context was cancelled, while the body ran or
	// before: for a request, its client went away.
	Cancelled int64 `json:"cancelled"`
	// The body returned an error that is context.DeadlineExceeded: its context's
	// deadline, or one it ran into (over HTTP both are answered 504).
	Deadline int64 `json:"deadline"`
	Stopped  int64 `json:"stopped"` // the body returned ErrStopped: Shutdown gave up on it

	// Refused with ErrOverloaded for a bound: the alive bound, or the pool's queue was full.
	Overloaded int64 `json:"overloaded"`
	// Refused with ErrOverloaded for the pool's queueing delay (pool.ErrShed; see
	// pool.WithQueueDelay): at admission, or after a wait for its first slot.
	Shed int64 `json:"shed"`
	// Refused with an error that is context.DeadlineExceeded: its context's deadline
	// passed before its first slot (before the call, or while it waited), or Run's pool
	// judged that its queueing delay would pass it (see pool.WithQueueDelay).
	Late   int64 `json:"late"`
	Closed int64 `json:"closed"` // refused with ErrClosed: Shutdown had begun, or the pool had

	StepOverruns int64 `json:"step_overruns"` // steps the watchdog saw holding their slot past the step budget
}

// Alive returns how many continuations are alive: admitted and not ended. It reads one
// counter, unlike Stats.
func (s *Scheduler) Alive() int { return int(s.alive.Load()) }

// drained are the outcomes DrainRate counts: every end but the refusals (Overloaded, Shed,
// Late, Closed).
var drained = [...]outcome{completed, failed, panicked, cancelled, deadline, stopped}

// drainWindow is how often DrainRate samples the ends.
const drainWindow = time.Second

// DrainRate returns how many continuations ended per second, by any cause, refusals aside,
// over the last completed window of about a second, or 0 before a window has completed.
// A call after the window is over sums the ends under the registry's locks (a few µs);
// other calls read two atomics. With [Scheduler.Alive], it tells how long the work
// admitted now will take to drain: httpadapter's Retry-After comes from them.
func (s *Scheduler) DrainRate() float64 {
	now := s.now()
	if start := s.drainAt.Load(); now-start >= int64(drainWindow) && s.drainAt.CompareAndSwap(start, now) {
		var n int64
		s.each(func(sh *shard, c *C) {
			if c == nil {
				for _, how := range drained {
					n += sh.ends[how]
				}
			}
		})
		prev := s.drainEnds.Swap(n)
		if start > 0 { // the first sample only starts the window
			s.drainRate.Store(math.Float64bits(float64(n-prev) / time.Duration(now-start).Seconds()))
		}
	}
	return math.Float64frombits(s.drainRate.Load())
}

// Ended returns how many continuations have ended, by any cause, refusals included: the
// sum of the counts from Completed to Closed, the calls made less Alive.
func (st Stats) Ended() int64 {
	return st.Completed + st.Failed + st.Panicked + st.Cancelled + st.Deadline + st.Stopped +
		st.Overloaded + st.Shed + st.Late + st.Closed
}

// Info describes one alive continuation, as [Scheduler.Snapshot] lists it.
type Info struct {
	Label    string        `json:"label"`
	Priority pool.Priority `json:"priority,omitzero"` // of its admission to the pool; omitted: normal
	State    State         `json:"state"`
	Age      time.Duration `json:"age_ns"`      // since it was admitted
	InState  time.Duration `json:"in_state_ns"` // since its state last changed
	// Its steps so far, and its time in each state, not counting the period under way
	// (InState): holding a slot (Busy), waiting for one (Queued), and suspended.
	// Each is omitted from JSON when zero.
	Steps     int64         `json:"steps,omitzero"`
	Busy      time.Duration `json:"busy_ns,omitzero"`
	Queued    time.Duration `json:"queued_ns,omitzero"`
	Suspended time.Duration `json:"suspended_ns,omitzero"`
	// Its context's deadline; the zero Time if it has none.
	Deadline time.Time `json:"deadline,omitzero"`
	// In [Top]'s Warnings only, why it calls for a look: "over_budget" (its step runs
	// past the step budget), "past_deadline" or "cancelled" (its context's).
	Warning string `json:"warning,omitempty"`
}

// Stats returns the scheduler's counts. It walks the alive continuations, so it costs time
// in proportion to how many there are: it is meant for monitoring, not for hot paths.
func (s *Scheduler) Stats() Stats {
	var st Stats
	var ends [numOutcomes]int64
	for i := range ends {
		ends[i] = s.refused[i].Load()
	}
	s.each(func(sh *shard, c *C) {
		if c == nil {
			for i, n := range sh.ends {
				ends[i] += n
			}
			return
		}
		switch State(c.state.Load()) {
		case Queued:
			st.Queued++
		case Suspended, blocked:
			st.Suspended++
		default:
			st.Running++
		}
	})
	st.Alive = st.Running + st.Suspended + st.Queued
	st.Completed, st.Failed, st.Panicked = ends[completed], ends[failed], ends[panicked]
	st.Cancelled, st.Deadline, st.Stopped = ends[cancelled], ends[deadline], ends[stopped]
	st.Overloaded, st.Shed, st.Late, st.Closed = ends[overloaded], ends[shed], ends[late], ends[closed]
	st.StepOverruns = s.overruns.Load()
	return st
}

// Snapshot lists the continuations alive now, oldest first: the scheduler's thread dump.
func (s *Scheduler) Snapshot() []Info {
	now := s.now()
	infos := make([]Info, 0, s.alive.Load()+16)
	s.each(func(_ *shard, c *C) {
		if c != nil {
			infos = append(infos, c.info(now))
		}
	})
	slices.SortStableFunc(infos, func(a, b Info) int { return cmp.Compare(b.Age, a.Age) })
	return infos
}

// Shutdown refuses new continuations (Spawn and Run fail with [ErrClosed]), closes the
// channel [Scheduler.Closing] returns, so that long-lived bodies (event streams, long
// polls) finish, and waits for the alive continuations to end. It returns nil once they
// have all ended.
//
// If ctx ends first, Shutdown gives up on them and returns at once, as
// [net/http.Server.Shutdown] does: every suspended continuation is resumed with
// [ErrStopped], every later Await of any of them returns it, and the error returned wraps
// ctx's error and counts the continuations it gave up on. Those end on their own from then
// on: a body woken with ErrStopped should return at once, but giving up cannot stop code
// that runs, a step or the fn of a [Blocking] call (give fn a context with a deadline). A
// later Shutdown waits for them again.
//
// The pool is not shut down: do that after, with [pool.Pool.Shutdown]. In the other order,
// the continuations still alive when the pool has finished its drain end as if this
// Shutdown had given up: each goes on without a slot, its Awaits return ErrStopped, and
// its body returns. For an HTTP server, httpadapter.Shutdown does the whole sequence.
//
// Shutdown may be called any number of times, from any goroutine. It panics if ctx is nil.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	if ctx == nil {
		panic("continuation: Shutdown called with a nil Context")
	}
	s.close()
	select {
	case <-s.drained:
		return nil
	case <-ctx.Done():
	}
	n := s.alive.Load() // before the wake-ups, which end some of them at once
	if n == 0 {
		return nil // the last one ended meanwhile
	}
	s.giveUp()
	return fmt.Errorf("continuation: Shutdown gave up on %d alive %s: %w",
		n, plural(n, "continuation", "continuations"), ctx.Err())
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Closing returns a channel that is closed when [Scheduler.Shutdown] begins. A body that
// would otherwise wait long (a stream of events, a long poll) checks it between its
// steps, or selects on it within a [Blocking] call, to finish early: Shutdown waits for it.
func (s *Scheduler) Closing() <-chan struct{} { return s.closing }

// close refuses new continuations from now on and tells the alive ones.
func (s *Scheduler) close() {
	s.closed.Store(true)
	s.closeOnce.Do(func() { close(s.closing) })
	if s.alive.Load() == 0 {
		s.drain.Do(func() { close(s.drained) })
	}
}

// giveUp resumes every suspended continuation with ErrStopped, and makes every later Await
// return it.
func (s *Scheduler) giveUp() {
	s.stopOnce.Do(func() {
		s.gaveUp.Store(true)
		var wake []*C
		s.each(func(_ *shard, c *C) {
			if c != nil {
				wake = append(wake, c)
			}
		})
		for _, c := range wake {
			c.wakeUp()
		}
	})
}

// abandon is Shutdown giving up at once, for when the pool has finished its drain: no
// continuation can take a slot again.
func (s *Scheduler) abandon() {
	s.close()
	if !s.gaveUp.Load() { // else giving up is done, or under way and may be what calls us
		s.giveUp()
	}
}
