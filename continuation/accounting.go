package continuation

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Each continuation's time is split, as it goes, between its public states: Queued (the
// wait for a slot, to start or to resume), Running (a step, holding a slot) and
// Suspended (an Await or a Blocking, holding none). Each period is added to the
// continuation's totals and recorded in the histograms of its label's route, when it ends,
// by whoever ends it: the step's goroutine, or the waker of a suspended continuation.
// Recording is two atomic adds per period on the route's histogram, and the clock reads
// the state changes make anyway; there is no lock.

// Histograms have fixed buckets: one below 1 µs, then four per power of two up to 2^37 ns
// (about 137 s), then one above. Within a bucket a value is known to about 25%.
const (
	histSub     = 4  // buckets per power of two
	histMinExp  = 10 // 2^10 ns: the first bound
	histMaxExp  = 37 // 2^37 ns: the last bound
	histBuckets = 2 + (histMaxExp-histMinExp)*histSub
)

// bucketOf returns the bucket of a duration of d ns.
func bucketOf(d int64) int {
	if d < 1<<histMinExp {
		return 0
	}
	e := bits.Len64(uint64(d)) - 1 // 2^e <= d < 2^(e+1)
	if e >= histMaxExp {
		return histBuckets - 1
	}
	return 1 + (e-histMinExp)*histSub + int(uint64(d)>>(e-2))&(histSub-1)
}

// histBounds are the buckets' upper bounds, exclusive, but the last's.
var histBounds = func() []time.Duration {
	b := make([]time.Duration, histBuckets-1)
	b[0] = 1 << histMinExp
	for i := 1; i < len(b); i++ {
		e, sub := histMinExp+(i-1)/histSub, (i-1)%histSub
		b[i] = time.Duration(histSub+sub+1) << (e - 2)
	}
	return b
}()

// HistogramBounds returns the upper bounds of the buckets of every [Histogram], ascending:
// bucket i holds the durations from bound i-1 (0 for the first) up to, but not including,
// bound i; the last bucket, one more than there are bounds, holds those from the last
// bound up. The bounds are 1.024 µs, then four per power of two (1.28, 1.54, 1.79 and
// 2.05 µs, …) up to 2^37 ns, about 137 s. The slice is the caller's.
func HistogramBounds() []time.Duration { return slices.Clone(histBounds) }

// Histogram is a distribution of durations in the buckets of [HistogramBounds].
type Histogram struct {
	Counts []uint64      `json:"counts"` // by bucket: len(HistogramBounds()) + 1
	Count  uint64        `json:"count"`  // the sum of Counts
	Sum    time.Duration `json:"sum_ns"` // of the durations recorded
}

// Quantile returns an estimate of the q-quantile (0 <= q <= 1) of the durations: the
// bucket that holds it is found exactly, and the value is interpolated within it (within
// about 25%). A quantile in the first bucket, under 1.024 µs, is 0: a wait for a free slot
// is recorded as 0. It returns 0 if there are none.
func (h Histogram) Quantile(q float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	var seen float64
	for i, n := range h.Counts {
		if n == 0 || seen+float64(n) < rank {
			seen += float64(n)
			continue
		}
		if i == 0 {
			return 0
		}
		lo, hi := histBounds[i-1], time.Duration(0)
		if i < len(histBounds) {
			hi = histBounds[i]
		} else {
			return lo // above the last bound: no upper end to interpolate to
		}
		return lo + time.Duration(float64(hi-lo)*max(0, rank-seen)/float64(n))
	}
	return histBounds[len(histBounds)-1]
}

// Mean returns the mean of the durations, or 0 if there are none.
func (h Histogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// hist is a Histogram being recorded.
type hist struct {
	counts [histBuckets]atomic.Uint64
	sum    atomic.Int64
}

func (h *hist) record(d int64) {
	h.counts[bucketOf(d)].Add(1)
	if d != 0 {
		h.sum.Add(d)
	}
}

// addTo adds h's counts to out, whose Counts is allocated if nil.
func (h *hist) addTo(out *Histogram) {
	if out.Counts == nil {
		out.Counts = make([]uint64, histBuckets)
	}
	for i := range h.counts {
		n := h.counts[i].Load()
		out.Counts[i] += n
		out.Count += n
	}
	out.Sum += time.Duration(h.sum.Load())
}

// Latencies are the distributions of a scheduler's, or a route's, periods.
type Latencies struct {
	// Per step: the wait for a slot, to start or to resume (0 when one was free).
	SlotWait Histogram `json:"slot_wait"`
	// Per step: the time holding a slot, from getting it to giving it back.
	Step Histogram `json:"step"`
	// Per suspension: an Await or a Blocking, from giving the slot back to being woken
	// (its wait for a slot after is SlotWait's).
	Suspension Histogram `json:"suspension"`
}

// route is what the scheduler keeps of the continuations of one label.
type route struct {
	label                   string
	slotWait, step, suspend hist
}

// maxRoutes bounds the routes kept: the labels past the first maxRoutes share the route
// OtherRoute, so that labels made from request paths cannot grow the memory without end.
// A route takes about 2.7 KB.
const maxRoutes = 256

// OtherRoute is the label of the route that the labels past the first 256 share (see
// [Scheduler.Routes]).
const OtherRoute = "(other)"

// routes is the scheduler's table of routes, by label.
type routes struct {
	m sync.Map // label → *route
	n atomic.Int32
	// The route made last: a service with one label finds it without a map lookup. Not
	// moved on lookups, which would make every admission under mixed labels write a line
	// that every core reads.
	last  atomic.Pointer[route]
	other route
}

// of returns the route of label, making it if it is new and there is room.
func (rs *routes) of(label string) *route {
	if r := rs.last.Load(); r != nil && r.label == label {
		return r
	}
	if r, ok := rs.m.Load(label); ok {
		return r.(*route)
	}
	if rs.n.Add(1) > maxRoutes {
		rs.n.Add(-1)
		return &rs.other
	}
	r, loaded := rs.m.LoadOrStore(label, &route{label: label})
	if loaded {
		rs.n.Add(-1)
	} else {
		rs.last.Store(r.(*route))
	}
	return r.(*route)
}

// lastStep records the step of c that ends as its body returns, at now: c's totals are
// no one's to read after.
func (c *C) lastStep(now int64) {
	c.route.step.record(max(0, now-c.since.Load()))
}

// spent ends the period c spent in public state from, which began at c.since, at now: it
// adds it to c's totals and records it in c's route. A step's end counts the step.
func (c *C) spent(from State, now int64) {
	d := max(0, now-c.since.Load())
	switch from {
	case Queued:
		c.queuedNs.Add(d)
		c.route.slotWait.record(d)
	case Running:
		c.busyNs.Add(d)
		c.steps.Add(1)
		c.route.step.record(d)
	default:
		c.suspendedNs.Add(d)
		c.route.suspend.record(d)
	}
}

// Route is what [Scheduler.Routes] reports of the continuations of one label.
type Route struct {
	Label string `json:"label"`
	// Alive now, by state.
	Running   int `json:"running"`
	Suspended int `json:"suspended"`
	Queued    int `json:"queued"`
	// Of every period ended so far, since the scheduler began.
	Latencies
}

// Latencies returns the distributions of the periods of every continuation so far, routes
// summed. It reads each route's histograms (about 330 atomic loads a route), no lock.
func (s *Scheduler) Latencies() Latencies {
	var l Latencies
	s.eachRoute(func(r *route) {
		r.slotWait.addTo(&l.SlotWait)
		r.step.addTo(&l.Step)
		r.suspend.addTo(&l.Suspension)
	})
	return l
}

// eachRoute calls fn for every route with a label, then the OtherRoute.
func (s *Scheduler) eachRoute(fn func(*route)) {
	s.routes.m.Range(func(_, v any) bool { fn(v.(*route)); return true })
	fn(&s.routes.other)
}

// Routes returns, for every label given to a continuation ([WithLabel]; "" for none),
// the continuations alive now by state and the distributions of their periods so far,
// sorted by label. The labels past the first 256 share the route [OtherRoute]; it is
// listed only if it was used. It walks the alive continuations, as [Scheduler.Stats] does.
func (s *Scheduler) Routes() []Route {
	byRoute := map[*route]*Route{}
	var out []*Route
	get := func(r *route) *Route {
		if rt, ok := byRoute[r]; ok {
			return rt
		}
		rt := &Route{Label: r.label}
		if r == &s.routes.other {
			rt.Label = OtherRoute
		}
		byRoute[r] = rt
		out = append(out, rt)
		return rt
	}
	s.each(func(_ *shard, c *C) {
		if c == nil {
			return
		}
		rt := get(c.route)
		switch publicState(State(c.state.Load())) {
		case Queued:
			rt.Queued++
		case Suspended:
			rt.Suspended++
		default:
			rt.Running++
		}
	})
	s.eachRoute(func(r *route) {
		var l Latencies
		r.slotWait.addTo(&l.SlotWait)
		r.step.addTo(&l.Step)
		r.suspend.addTo(&l.Suspension)
		if r == &s.routes.other && l.SlotWait.Count == 0 && byRoute[r] == nil {
			return
		}
		get(r).Latencies = l
	})
	routes := make([]Route, len(out))
	for i, rt := range out {
		routes[i] = *rt
	}
	slices.SortFunc(routes, func(a, b Route) int { return cmp.Compare(a.Label, b.Label) })
	return routes
}

// publicState maps the internal states to the public one they show as.
func publicState(st State) State {
	switch st {
	case suspending, woken:
		return Running
	case blocked:
		return Suspended
	}
	return st
}
