package continuation

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// BenchmarkObserve measures what an observer costs with n continuations suspended:
// Snapshot (the whole list), Top(20), Stats, Routes and Latencies, each with the size of
// its JSON.
func BenchmarkObserve(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		p := pool.New(2)
		s := NewScheduler(p, WithMaxAlive(n))
		gate, open := future.New[int]()
		fs := make([]*future.Future[int], n)
		for i := range n {
			fs[i] = Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) },
				WithLabel(fmt.Sprint("GET /r", i%50)))
		}
		for s.Stats().Suspended < n {
			time.Sleep(time.Millisecond)
		}
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
		open(1, nil)
		for _, f := range fs {
			f.Await(context.Background())
		}
		s.Shutdown(context.Background())
		p.Shutdown(context.Background())
	}
}

// BenchmarkAdmissionWhileObserved measures how long a Run is held up by observers: with
// 100,000 continuations suspended, one goroutine calls Snapshot in a loop while the
// benchmark runs Runs; it reports the longest Run.
func BenchmarkAdmissionWhileObserved(b *testing.B) {
	const n = 100_000
	p := pool.New(2)
	s := NewScheduler(p, WithMaxAlive(n+10))
	gate, open := future.New[int]()
	fs := make([]*future.Future[int], n)
	for i := range n {
		fs[i] = Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) })
	}
	for s.Stats().Suspended < n {
		time.Sleep(time.Millisecond)
	}
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
		Run(s, context.Background(), func(c *C) (int, error) { return 0, nil })
		longest = max(longest, time.Since(start))
	}
	b.ReportMetric(float64(longest.Microseconds()), "max-µs")
	stop.Store(true)
	wg.Wait()
	open(1, nil)
	for _, f := range fs {
		f.Await(context.Background())
	}
	s.Shutdown(context.Background())
	p.Shutdown(context.Background())
}
