package pool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/gosuspend/suspend/pool"
)

// workerCounts are the pool sizes the benchmarks run with: 2, and GOMAXPROCS if different.
func workerCounts() []int {
	if n := runtime.GOMAXPROCS(0); n != 2 {
		return []int{2, n}
	}
	return []int{2}
}

// BenchmarkSubmit measures throughput: one goroutine submits b.N tasks that do nothing but
// mark themselves done, and the iteration ends when all have run. The baseline is the
// naive channel pool: W goroutines ranging over a buffered channel of tasks.
func BenchmarkSubmit(b *testing.B) {
	for _, workers := range workerCounts() {
		b.Run(fmt.Sprintf("workers=%d/impl=pool", workers), func(b *testing.B) {
			p := pool.New(workers)
			defer p.Shutdown(context.Background())
			var wg sync.WaitGroup
			task := wg.Done
			b.ReportAllocs()
			wg.Add(b.N)
			b.ResetTimer()
			for range b.N {
				for p.Submit(task) != nil {
					runtime.Gosched() // full: let the workers catch up
				}
			}
			wg.Wait()
			b.ReportMetric(float64(p.Stats().Refused)/float64(b.N), "refused/op")
		})
		b.Run(fmt.Sprintf("workers=%d/impl=chan", workers), func(b *testing.B) {
			tasks := make(chan func(), pool.DefaultQueueSize)
			var exited sync.WaitGroup
			for range workers {
				exited.Go(func() {
					for t := range tasks {
						t()
					}
				})
			}
			defer exited.Wait()
			defer close(tasks)
			var wg sync.WaitGroup
			task := wg.Done
			b.ReportAllocs()
			wg.Add(b.N)
			b.ResetTimer()
			for range b.N {
				tasks <- task
			}
			wg.Wait()
		})
	}
}

// BenchmarkAcquireRelease measures taking a free slot and giving it back, with nobody
// else around. The baseline is a buffered channel used as a semaphore.
func BenchmarkAcquireRelease(b *testing.B) {
	for _, impl := range []struct {
		name string
		opts []pool.Option
	}{
		{"pool", nil},
		// The control on: the fast path is the same.
		{"pool-queue-delay", []pool.Option{pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval)}},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			p := pool.New(2, impl.opts...)
			defer p.Shutdown(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Acquire(ctx); err != nil {
					b.Fatal(err)
				}
				p.Release()
			}
		})
	}
	b.Run("impl=pool-reacquire", func(b *testing.B) {
		p := pool.New(2)
		defer p.Shutdown(context.Background())
		b.ReportAllocs()
		for b.Loop() {
			p.Reacquire()
			p.Release()
		}
	})
	b.Run("impl=pool-low", func(b *testing.B) { // the cost of Low's yield
		p := pool.New(2)
		defer p.Shutdown(context.Background())
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := p.AcquireAt(ctx, pool.Low); err != nil {
				b.Fatal(err)
			}
			p.Release()
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		sem := make(chan struct{}, 2)
		b.ReportAllocs()
		for b.Loop() {
			sem <- struct{}{}
			<-sem
		}
	})
}

// BenchmarkSubmitWait measures a hand-off to a parked worker and back: submit one task,
// wait for it to run, repeat. Every task wakes a worker.
func BenchmarkSubmitWait(b *testing.B) {
	b.Run("impl=pool", func(b *testing.B) {
		p := pool.New(2)
		defer p.Shutdown(context.Background())
		done := make(chan struct{})
		task := func() { done <- struct{}{} }
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Submit(task); err != nil {
				b.Fatal(err)
			}
			<-done
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		tasks := make(chan func(), 2)
		var exited sync.WaitGroup
		for range 2 {
			exited.Go(func() {
				for t := range tasks {
					t()
				}
			})
		}
		defer exited.Wait()
		defer close(tasks)
		done := make(chan struct{})
		task := func() { done <- struct{}{} }
		b.ReportAllocs()
		for b.Loop() {
			tasks <- task
			<-done
		}
	})
}
