package future

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAllocations: what must stay free stays free. Settling a future allocates nothing,
// with or without callbacks, nor does settling the root of a chain of Then, however the
// futures settled along the way are queued; Await on a settled future allocates nothing;
// AfterDone allocates only the stop function it returns.
func TestAllocations(t *testing.T) {
	const runs = 100
	ctx := context.Background()
	cb := func(int, error) {}
	after := func() {}

	// settles makes the futures to settle beforehand, one more than runs: AllocsPerRun
	// calls its function once more, to warm up.
	settles := func(prepare func(f *Future[int])) []func(int, error) bool {
		rs := make([]func(int, error) bool, runs+1)
		for i := range rs {
			f, resolve := New[int]()
			prepare(f)
			rs[i] = resolve
		}
		return rs
	}
	measure := func(rs []func(int, error) bool) float64 {
		i := 0
		return testing.AllocsPerRun(runs, func() {
			rs[i](1, nil)
			i++
		})
	}

	require.Zero(t, measure(settles(func(*Future[int]) {})), "settle, no callbacks")
	require.Zero(t, measure(settles(func(f *Future[int]) { f.OnDone(cb) })), "settle, one OnDone")
	require.Zero(t, measure(settles(func(f *Future[int]) { f.OnDone(cb); f.AfterDone(after) })), "settle, two callbacks")
	require.Zero(t, measure(settles(func(f *Future[int]) {
		g := f
		for range 10 {
			g = Then(g, inc)
		}
		g.OnDone(cb)
	})), "settle the root of a chain of 10 Then")

	ready := Ready(1)
	require.Zero(t, testing.AllocsPerRun(runs, func() { _, _ = ready.Await(ctx) }), "Await on a settled future")
	require.Zero(t, testing.AllocsPerRun(runs, func() { ready.OnDone(cb) }), "OnDone on a settled future")

	pending, _ := New[int]()
	pending.OnDone(cb) // the inline slot is taken: the list is on the heap, and reused
	require.LessOrEqual(t, testing.AllocsPerRun(runs, func() { pending.AfterDone(after)() }), 1.0,
		"AfterDone and stop on a pending future: the stop function only")
	require.Zero(t, testing.AllocsPerRun(runs, func() { ready.AfterDone(after)() }), "AfterDone on a settled future")
}
