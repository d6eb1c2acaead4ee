package continuation

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// Top is a view of the alive continuations whose size does not grow with their number:
// what [Scheduler.Top] returns.
type Top struct {
	Alive int `json:"alive"` // continuations visited
	// The n admitted longest ago, oldest first.
	Oldest []Info `json:"oldest"`
	// The n whose step has held its slot longest, longest first.
	LongestRunning []Info `json:"longest_running"`
	// Alive continuations that call for a look, and the n oldest of each kind:
	// a step running past the step budget now (see [WithStepBudget]), a context whose
	// deadline has passed, a context cancelled (for a request: its client has gone).
	OverBudget   int    `json:"over_budget"`
	PastDeadline int    `json:"past_deadline"`
	Cancelled    int    `json:"cancelled"`
	Warnings     []Info `json:"warnings"`
}

// Top returns the n oldest alive continuations, the n running longest, and those that call
// for a look, with counts: a bounded view of what [Scheduler.Snapshot] lists whole. It
// walks the alive continuations as Snapshot does, holding each lock of the registry for
// at most 256 of them, and keeps no more than 3n; with 10,000 alive it takes about a
// millisecond. It panics if n is negative.
func (s *Scheduler) Top(n int) Top {
	if n < 0 {
		panic("continuation: Top called with a negative n")
	}
	now := s.now()
	budget := int64(s.budget)
	var t Top
	oldest, running, warn := best{n: n}, best{n: n}, best{n: n}
	s.each(func(_ *shard, c *C) {
		if c == nil {
			return
		}
		t.Alive++
		info := c.info(now)
		oldest.add(int64(info.Age), &info)
		if info.State == Running {
			running.add(int64(info.InState), &info)
			if int64(info.InState) > budget {
				t.OverBudget++
				info.Warning = "over_budget"
			}
		}
		if !info.Deadline.IsZero() && !info.Deadline.After(s.epoch.Add(time.Duration(now))) {
			t.PastDeadline++
			info.Warning = "past_deadline"
		} else if errors.Is(c.ctx.Err(), context.Canceled) {
			t.Cancelled++
			info.Warning = "cancelled"
		}
		if info.Warning != "" {
			warn.add(int64(info.Age), &info)
		}
	})
	t.Oldest, t.LongestRunning, t.Warnings = oldest.sorted(), running.sorted(), warn.sorted()
	return t
}

// info describes c at now, under the lock of c's shard.
func (c *C) info(now int64) Info {
	dl, _ := c.ctx.Deadline()
	return Info{
		Label:     c.label,
		Priority:  c.priority,
		State:     publicState(State(c.state.Load())),
		Age:       time.Duration(now - c.born),
		InState:   time.Duration(max(0, now-c.since.Load())),
		Steps:     c.steps.Load(),
		Busy:      time.Duration(c.busyNs.Load()),
		Queued:    time.Duration(c.queuedNs.Load()),
		Suspended: time.Duration(c.suspendedNs.Load()),
		Deadline:  dl,
	}
}

// best keeps the n of greatest key of what it is given.
type best struct {
	n     int
	items []keyed // a heap: items[0] has the least key kept
}

type keyed struct {
	key  int64
	info Info
}

func (b *best) add(key int64, x *Info) {
	switch {
	case b.n == 0:
	case len(b.items) < b.n:
		b.items = append(b.items, keyed{key, *x})
		for i := len(b.items) - 1; i > 0; {
			p := (i - 1) / 2
			if b.items[p].key <= b.items[i].key {
				break
			}
			b.items[p], b.items[i] = b.items[i], b.items[p]
			i = p
		}
	case key > b.items[0].key:
		b.items[0] = keyed{key, *x}
		for i := 0; ; {
			l, m := 2*i+1, i
			if l < len(b.items) && b.items[l].key < b.items[m].key {
				m = l
			}
			if r := l + 1; r < len(b.items) && b.items[r].key < b.items[m].key {
				m = r
			}
			if m == i {
				break
			}
			b.items[i], b.items[m] = b.items[m], b.items[i]
			i = m
		}
	}
}

// sorted returns what b kept, greatest key first.
func (b *best) sorted() []Info {
	slices.SortStableFunc(b.items, func(x, y keyed) int {
		if c := cmp.Compare(y.key, x.key); c != 0 {
			return c
		}
		return cmp.Compare(x.info.Label, y.info.Label)
	})
	out := make([]Info, len(b.items))
	for i := range b.items {
		out[i] = b.items[i].info
	}
	return out
}
