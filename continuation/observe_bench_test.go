package continuation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/internal/suspendtest"
)

// BenchmarkObserve measures what an observer costs with n continuations suspended:
// Snapshot (the whole list), Top(20), Stats, Routes and Latencies, each with the size of
// its JSON.
func BenchmarkObserve(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		s, _, done := suspendtest.Loaded(b, 0, n, 50)
		for _, o := range []struct {
			name string
			fn   func() any
		}{
			{"Snapshot", func() any { return s.Snapshot() }},
			{"Top20", func() any { return s.Top(20) }},
			{"Stats", func() any { return s.Stats() }},
			{"Routes", func() any { return s.Routes() }},
			{"Latencies", func() any { return s.Latencies() }},
		} {
			b.Run(fmt.Sprintf("alive=%d/%s", n, o.name), func(b *testing.B) {
				b.ReportAllocs()
				var v any
				for b.Loop() {
					v = o.fn()
				}
				js, _ := json.Marshal(v)
				b.ReportMetric(float64(len(js)), "json-B")
			})
		}
		done()
	}
}

// BenchmarkAdmissionWhileObserved measures how long a Run is held up by observers: with
// 100,000 continuations suspended, one goroutine calls Snapshot in a loop while the
// benchmark runs Runs; it reports the longest Run.
func BenchmarkAdmissionWhileObserved(b *testing.B) {
	s, _, done := suspendtest.Loaded(b, 0, 100_000, 1)
	defer done()
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			s.Snapshot()
		}
	})
	var longest time.Duration
	for b.Loop() {
		start := time.Now()
		continuation.Run(s, context.Background(), func(c *continuation.C) (int, error) { return 0, nil })
		longest = max(longest, time.Since(start))
	}
	b.ReportMetric(float64(longest.Microseconds()), "max-µs")
	stop.Store(true)
	wg.Wait()
}
