package main

// The pool beside its peers: the same tasks on alitto/pond, panjf2000/ants, a goroutine
// per task under a semaphore, and the slot path beside semaphore.Weighted and a channel.

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"golang.org/x/sync/semaphore"

	"github.com/gosuspend/suspend/pool"
)

// A peer is a way to run tasks with at most W of them at once. start returns a submit
// function, which may block while the peer is full, and a stop function, which returns
// once every submitted task has run and every goroutine of the peer has exited.
type peer struct {
	name  string
	start func(workers int) (submit func(task func()), stop func())
}

var peers = []peer{
	{"pool", func(workers int) (func(func()), func()) {
		// pool refuses new work when its queue is full (ErrFull): the submitter yields
		// and tries again, which is what a caller that must not drop work does.
		p := pool.New(workers)
		return func(task func()) {
				for p.Submit(task) != nil {
					runtime.Gosched()
				}
			}, func() {
				if err := p.Shutdown(context.Background()); err != nil {
					panic(err)
				}
			}
	}},
	{"pond", func(workers int) (func(func()), func()) {
		p := pond.NewPool(workers) // a queue without bound: Go never blocks
		return func(task func()) {
			if err := p.Go(task); err != nil {
				panic(err)
			}
		}, p.StopAndWait
	}},
	{"ants", func(workers int) (func(func()), func()) {
		p, err := ants.NewPool(workers) // no queue: Submit blocks until a worker is free
		if err != nil {
			panic(err)
		}
		return func(task func()) {
				if err := p.Submit(task); err != nil {
					panic(err)
				}
			}, func() {
				if err := p.ReleaseTimeout(10 * time.Second); err != nil {
					panic(err)
				}
			}
	}},
	{"go", func(workers int) (func(func()), func()) {
		// A goroutine per task, bounded by a channel used as a semaphore.
		sem := make(chan struct{}, workers)
		return func(task func()) {
				sem <- struct{}{}
				go func() {
					task()
					<-sem
				}()
			}, func() {
				for range workers {
					sem <- struct{}{}
				}
			}
	}},
}

// workerCounts are the bounds the benchmarks run with: 2, and GOMAXPROCS if different.
func workerCounts() []int {
	if n := runtime.GOMAXPROCS(0); n != 2 {
		return []int{2, n}
	}
	return []int{2}
}

// BenchmarkSubmit measures task throughput, the same work for every peer: one goroutine
// hands b.N tasks to a bound of W workers, each task only marks itself done, and the
// iteration ends when all of them have run.
func BenchmarkSubmit(b *testing.B) {
	for _, workers := range workerCounts() {
		for _, pr := range peers {
			b.Run(fmt.Sprintf("workers=%d/impl=%s", workers, pr.name), func(b *testing.B) {
				submit, stop := pr.start(workers)
				defer stop()
				var wg sync.WaitGroup
				task := wg.Done // made once: no peer pays for a closure per task
				b.ReportAllocs()
				wg.Add(b.N)
				b.ResetTimer()
				for range b.N {
					submit(task)
				}
				wg.Wait()
			})
		}
	}
}

// TestPeersRunEveryTask checks the harness of BenchmarkSubmit: every peer runs every task,
// never more than W at once, and leaves no goroutine behind.
func TestPeersRunEveryTask(t *testing.T) {
	const workers, tasks = 2, 2000
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) {
			var running, most, ran atomic.Int64
			task := func() {
				n := running.Add(1)
				for m := most.Load(); n > m; m = most.Load() {
					if most.CompareAndSwap(m, n) {
						break
					}
				}
				ran.Add(1)
				running.Add(-1)
			}
			submit, stop := pr.start(workers)
			for range tasks {
				submit(task)
			}
			stop()
			if got := ran.Load(); got != tasks {
				t.Errorf("ran %d tasks, want %d", got, tasks)
			}
			if got := most.Load(); got > workers {
				t.Errorf("%d tasks ran at once, want at most %d", got, workers)
			}
		})
	}
}

// BenchmarkSlot measures taking one of W slots and giving it back, uncontended: the
// goroutine that serves an HTTP request does this once per request.
func BenchmarkSlot(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=pool", func(b *testing.B) {
		p := pool.New(2)
		defer p.Shutdown(ctx)
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			p.Release()
		}
	})
	b.Run("impl=semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(2)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			s.Release(1)
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

// BenchmarkSlotParallel is BenchmarkSlot with GOMAXPROCS goroutines at once, on as many
// slots (nobody waits, but every operation contends for the same state) and on one slot
// (most take a turn in the queue).
func BenchmarkSlotParallel(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{runtime.GOMAXPROCS(0), 1} {
		b.Run(fmt.Sprintf("slots=%d/impl=pool", n), func(b *testing.B) {
			p := pool.New(n)
			defer p.Shutdown(ctx)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Acquire(ctx); err != nil {
						b.Error(err)
						return
					}
					p.Release()
				}
			})
		})
		b.Run(fmt.Sprintf("slots=%d/impl=semaphore", n), func(b *testing.B) {
			s := semaphore.NewWeighted(int64(n))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Acquire(ctx, 1); err != nil {
						b.Error(err)
						return
					}
					s.Release(1)
				}
			})
		})
		b.Run(fmt.Sprintf("slots=%d/impl=chan", n), func(b *testing.B) {
			sem := make(chan struct{}, n)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					sem <- struct{}{}
					<-sem
				}
			})
		})
	}
}
