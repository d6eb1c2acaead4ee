package continuation

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/interleave"
	"github.com/gosuspend/suspend/pool"
)

var sinkInt int

func benchScheduler(b *testing.B, workers int, opts ...Option) *Scheduler {
	p := pool.New(workers)
	s := NewScheduler(p, opts...)
	b.Cleanup(func() {
		_ = s.Shutdown(context.Background())
		_ = p.Shutdown(context.Background())
	})
	return s
}

// BenchmarkRun: a body that never waits, on the caller's goroutine, against the bare
// pool slot it runs under.
func BenchmarkRun(b *testing.B) {
	ctx := context.Background()
	body := func(*C) (int, error) { return 1, nil }
	b.Run("impl=Run", func(b *testing.B) {
		s := benchScheduler(b, runtime.GOMAXPROCS(0))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				v, _ := Run(s, ctx, body)
				n += v
			}
			sinkInt += n
		})
	})
	b.Run("impl=Run-labels", func(b *testing.B) { // WithProfileLabels
		s := benchScheduler(b, runtime.GOMAXPROCS(0), WithProfileLabels())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				v, _ := Run(s, ctx, body, WithLabel("GET /x"))
				n += v
			}
			sinkInt += n
		})
	})
	b.Run("impl=Acquire+Release", func(b *testing.B) {
		p := pool.New(runtime.GOMAXPROCS(0))
		defer p.Shutdown(ctx)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				_ = p.Acquire(ctx)
				v, _ := body(nil)
				n += v
				p.Release()
			}
			sinkInt += n
		})
	})
}

// BenchmarkSpawn: a body that never waits, as a coroutine on the pool's workers, against
// a bare pool task with a future.
func BenchmarkSpawn(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=Spawn", func(b *testing.B) {
		s := benchScheduler(b, 2)
		b.ReportAllocs()
		for range b.N {
			v, _ := Spawn(s, ctx, func(*C) (int, error) { return 1, nil }).Await(ctx)
			sinkInt += v
		}
	})
	b.Run("impl=Submit+future", func(b *testing.B) {
		p := pool.New(2)
		defer p.Shutdown(ctx)
		b.ReportAllocs()
		for range b.N {
			f, resolve := future.New[int]()
			_ = p.Submit(func() { resolve(1, nil) })
			v, _ := f.Await(ctx)
			sinkInt += v
		}
	})
}

// BenchmarkSuspend: one suspension and resumption per op, the future settled by another
// goroutine: Spawn's coroutine steps, Run's slot hand-back, and a goroutine blocked on a
// channel (no bound at all) as the baseline.
func BenchmarkSuspend(b *testing.B) {
	ctx := context.Background()
	body := func(work chan<- func(int, error) bool, n int) func(*C) (int, error) {
		return func(c *C) (int, error) {
			sum := 0
			for range n {
				f, resolve := future.New[int]()
				work <- resolve
				v, err := Await(c, f)
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}
	}
	b.Run("impl=Spawn", func(b *testing.B) {
		s := benchScheduler(b, 2)
		work := interleave.Settler(b)
		b.ReportAllocs()
		v, _ := Spawn(s, ctx, body(work, b.N)).Await(ctx)
		sinkInt += v
	})
	b.Run("impl=Run", func(b *testing.B) {
		s := benchScheduler(b, 2)
		work := interleave.Settler(b)
		b.ReportAllocs()
		v, _ := Run(s, ctx, body(work, b.N))
		sinkInt += v
	})
	b.Run("impl=goroutine", func(b *testing.B) {
		work := make(chan chan int, 1)
		go func() {
			for c := range work {
				c <- 1
			}
		}()
		defer close(work)
		b.ReportAllocs()
		for range b.N {
			c := make(chan int, 1)
			work <- c
			sinkInt += <-c
		}
	})
}

// BenchmarkSuspendVsChannel: Run's suspend/resume cycle (the future settled by another
// goroutine) against a channel ping-pong with the same goroutine, interleaved in one loop:
// "ratio" is the cycle's cost in ping-pongs.
func BenchmarkSuspendVsChannel(b *testing.B) {
	s := benchScheduler(b, 2)
	work := interleave.Settler(b)
	handoff := interleave.Handoff(b)
	b.ReportAllocs()
	_, _ = Run(s, context.Background(), func(c *C) (int, error) {
		interleave.Pair(b, "Run", func(n int) {
			for range n {
				f, resolve := future.New[int]()
				work <- resolve
				v, _ := Await(c, f)
				sinkInt += v
			}
		}, "chan", handoff)
		return 0, nil
	})
}

// BenchmarkBlocking: one blocking section of a Run body, uncontended, beside the same in a
// Spawn body, what it replaces (the same wait made with future.Go and Await), what it is
// built from (the bare Release and Acquire of the slot), and a ping-pong over unbuffered
// channels (the cost of handing the wait to another goroutine and back).
func BenchmarkBlocking(b *testing.B) {
	ctx := context.Background()
	fn := func() (int, error) { return 1, nil }
	inRun := func(b *testing.B, loop func(c *C)) {
		s := benchScheduler(b, 1)
		b.ReportAllocs()
		_, _ = Run(s, ctx, func(c *C) (int, error) {
			b.ResetTimer()
			loop(c)
			return 0, nil
		})
	}
	b.Run("impl=Blocking", func(b *testing.B) {
		inRun(b, func(c *C) {
			n := 0
			for range b.N {
				v, _ := Blocking(c, fn)
				n += v
			}
			sinkInt += n
		})
	})
	b.Run("impl=Blocking-in-Spawn", func(b *testing.B) {
		s := benchScheduler(b, 1)
		b.ReportAllocs()
		_, _ = Spawn(s, ctx, func(c *C) (int, error) {
			b.ResetTimer()
			n := 0
			for range b.N {
				v, _ := Blocking(c, fn)
				n += v
			}
			sinkInt += n
			return 0, nil
		}).Await(ctx)
	})
	b.Run("impl=future.Go+Await", func(b *testing.B) {
		inRun(b, func(c *C) {
			n := 0
			for range b.N {
				v, _ := Await(c, future.Go(ctx, func(context.Context) (int, error) { return fn() }))
				n += v
			}
			sinkInt += n
		})
	})
	b.Run("impl=Release+Acquire", func(b *testing.B) {
		p := pool.New(1)
		defer p.Shutdown(ctx)
		_ = p.Acquire(ctx)
		b.ReportAllocs()
		n := 0
		for range b.N {
			p.Release()
			v, _ := fn()
			n += v
			_ = p.Acquire(ctx)
		}
		p.Release()
		sinkInt += n
	})
	b.Run("impl=chan-ping-pong", func(b *testing.B) {
		ping, pong := make(chan struct{}), make(chan int)
		go func() {
			for range ping {
				v, _ := fn()
				pong <- v
			}
		}()
		defer close(ping)
		b.ReportAllocs()
		n := 0
		for range b.N {
			ping <- struct{}{}
			n += <-pong
		}
		sinkInt += n
	})
}

// BenchmarkMemoryPerSuspended measures what one suspended continuation costs in memory,
// heap and stack together, against a goroutine blocked on a channel: each iteration
// suspends 10,000 of them at once and reports the bytes per one (B/suspended).
func BenchmarkMemoryPerSuspended(b *testing.B) {
	const n = 10_000
	measure := func(b *testing.B, start func(gate *future.Future[int], wg *sync.WaitGroup), alive func() int) {
		var total float64
		for range b.N {
			gate, open := future.New[int]()
			var wg sync.WaitGroup
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range n {
				start(gate, &wg)
			}
			for alive() < n {
				runtime.Gosched()
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			total += float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)
			open(1, nil)
			wg.Wait()
		}
		b.ReportMetric(total/float64(b.N)/n, "B/suspended")
	}
	ctx := context.Background()
	b.Run("impl=Run", func(b *testing.B) {
		s := benchScheduler(b, 2)
		measure(b, func(gate *future.Future[int], wg *sync.WaitGroup) {
			wg.Go(func() { Run(s, ctx, func(c *C) (int, error) { return Await(c, gate) }) })
		}, func() int { return s.Stats().Suspended })
	})
	b.Run("impl=Spawn", func(b *testing.B) {
		s := benchScheduler(b, 2)
		measure(b, func(gate *future.Future[int], wg *sync.WaitGroup) {
			f := Spawn(s, ctx, func(c *C) (int, error) { return Await(c, gate) })
			wg.Add(1)
			f.AfterDone(wg.Done)
		}, func() int { return s.Stats().Suspended })
	})
	b.Run("impl=goroutine", func(b *testing.B) {
		var blocked atomic.Int64
		measure(b, func(gate *future.Future[int], wg *sync.WaitGroup) {
			wg.Go(func() {
				blocked.Add(1)
				<-gate.Done()
				blocked.Add(-1)
			})
		}, func() int { return int(blocked.Load()) })
	})
}
