package continuation

import (
	"context"
	"time"
)

// Stats counts what a scheduler has done and is doing. The gauges (Alive to Queued) are
// read together under the scheduler's lock; the counters are read just after.
type Stats struct {
	Alive     int // admitted and not ended: Running + Suspended + Queued
	Running   int // holding a slot
	Suspended int // waiting on what they await, holding no slot
	Queued    int // waiting for a slot, to start or to resume

	Completed    int64 // ended with a nil error
	Failed       int64 // ended with an error, panics included
	Panicked     int64 // ended with a panic (also counted in Failed)
	Refused      int64 // refused at Spawn or Run: overloaded or closed
	StepOverruns int64 // steps that held their slot past the step budget
}

// Info describes one alive continuation, as [Scheduler.Snapshot] lists it.
type Info struct {
	Label   string        `json:"label"`
	State   State         `json:"state"`
	Age     time.Duration `json:"age_ns"`      // since it was admitted
	InState time.Duration `json:"in_state_ns"` // since its state last changed
}

// Stats returns the scheduler's counts. It walks the alive continuations, so it costs time
// in proportion to how many there are: it is meant for monitoring, not for hot paths.
func (s *Scheduler) Stats() Stats {
	var st Stats
	s.mu.Lock()
	st.Alive = s.alive
	for c := s.head.next; c != &s.head; c = c.next {
		switch State(c.state.Load()) {
		case Queued:
			st.Queued++
		case Suspended:
			st.Suspended++
		default:
			st.Running++
		}
	}
	s.mu.Unlock()
	st.Completed = s.completed.Load()
	st.Failed = s.failed.Load()
	st.Panicked = s.panicked.Load()
	st.Refused = s.refused.Load()
	st.StepOverruns = s.overruns.Load()
	return st
}

// Snapshot lists the continuations alive now, oldest first: the scheduler's thread dump.
func (s *Scheduler) Snapshot() []Info {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	infos := make([]Info, 0, s.alive)
	for c := s.head.next; c != &s.head; c = c.next {
		st := State(c.state.Load())
		if st == suspending || st == woken {
			st = Running
		}
		infos = append(infos, Info{
			Label:   c.label,
			State:   st,
			Age:     time.Duration(now - c.born),
			InState: time.Duration(max(0, now-c.since.Load())),
		})
	}
	return infos
}

// Shutdown refuses new continuations (Spawn and Run fail with [ErrClosed]) and waits for
// the alive ones to end. If ctx ends first, the scheduler gives up on them: every suspended
// continuation is resumed with [ErrStopped], every later Await of any of them returns it,
// and Shutdown returns ctx's error once they have all ended. Calling Shutdown again waits
// again. The pool is not shut down: do that after, with [pool.Pool.Shutdown].
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.alive == 0 {
			close(s.drained)
		}
	}
	s.mu.Unlock()
	select {
	case <-s.drained:
		return nil
	case <-ctx.Done():
	}
	s.stopOnce.Do(func() {
		s.mu.Lock()
		close(s.stopping)
		var wake []func()
		for c := s.head.next; c != &s.head; c = c.next {
			c.stopped.Store(true)
			if c.wake != nil {
				wake = append(wake, c.wake)
			}
		}
		s.mu.Unlock()
		for _, w := range wake {
			w()
		}
	})
	<-s.drained
	return ctx.Err()
}
