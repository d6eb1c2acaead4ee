package main

// Suspending and resuming beside their peers: a continuation, Spawned on the pool's
// workers or Run on the caller's goroutine, beside a bare iter.Pull coroutine and a
// goroutine blocked on a channel; and starting a body that never waits, the same four ways.

import (
	"context"
	"iter"
	"sync"
	"testing"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

var suspendSink int

// suspendScheduler returns a scheduler on a pool of 2 workers, as the continuation
// package's own benchmarks use, and shuts both down when b's run ends.
func suspendScheduler(b *testing.B) *continuation.Scheduler {
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	b.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return s
}

// BenchmarkSuspendResume: one op is one suspension and one resumption of a body that
// waits for a value another goroutine produces.
//
//   - Spawn and Run: one body runs the b.N ops; each sends a future's resolver to a
//     helper goroutine, which settles it with 1, and awaits the future.
//   - pull: the caller resumes an iter.Pull coroutine with one next per op, and the
//     coroutine's yield hands back a value and suspends it: the coroutine switch that
//     Spawn's steps are made of, with no scheduler, pool or future.
//   - chan: a goroutine sends on a channel to a helper goroutine and blocks receiving its
//     reply, on two unbuffered channels made once.
func BenchmarkSuspendResume(b *testing.B) {
	ctx := context.Background()
	// settler starts the helper goroutine that settles the futures sent to it; it exits
	// when b's run ends.
	settler := func(b *testing.B) chan<- func(int, error) bool {
		resolvers := make(chan func(int, error) bool, 1)
		var wg sync.WaitGroup
		wg.Go(func() {
			for resolve := range resolvers {
				resolve(1, nil)
			}
		})
		b.Cleanup(func() { close(resolvers); wg.Wait() })
		return resolvers
	}
	body := func(resolvers chan<- func(int, error) bool, n int) func(*continuation.C) (int, error) {
		return func(c *continuation.C) (int, error) {
			sum := 0
			for range n {
				f, resolve := future.New[int]()
				resolvers <- resolve //suspendcheck:ignore: the settler drains a buffer of one at once; the benchmark measures this hand-off
				v, err := continuation.Await(c, f)
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}
	}
	b.Run("impl=Spawn", func(b *testing.B) {
		s := suspendScheduler(b)
		resolvers := settler(b)
		b.ReportAllocs()
		b.ResetTimer()
		v, err := continuation.Spawn(s, ctx, body(resolvers, b.N)).Await(ctx)
		if err != nil || v != b.N {
			b.Fatalf("got %d, %v; want %d, nil", v, err, b.N)
		}
		suspendSink += v
	})
	b.Run("impl=Run", func(b *testing.B) {
		s := suspendScheduler(b)
		resolvers := settler(b)
		b.ReportAllocs()
		b.ResetTimer()
		v, err := continuation.Run(s, ctx, body(resolvers, b.N))
		if err != nil || v != b.N {
			b.Fatalf("got %d, %v; want %d, nil", v, err, b.N)
		}
		suspendSink += v
	})
	b.Run("impl=pull", func(b *testing.B) {
		next, stop := iter.Pull(func(yield func(int) bool) {
			for yield(1) {
			}
		})
		defer stop()
		b.ReportAllocs()
		for b.Loop() {
			v, _ := next()
			suspendSink += v
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		ask, answer := make(chan struct{}), make(chan int)
		var wg sync.WaitGroup
		wg.Go(func() {
			for range ask {
				answer <- 1
			}
		})
		defer func() { close(ask); wg.Wait() }()
		b.ReportAllocs()
		for b.Loop() {
			ask <- struct{}{}
			suspendSink += <-answer
		}
	})
}

// BenchmarkSpawnNoWait: one op starts a body that returns at once and gets its result:
// Spawn and await its future, Run it on the caller's goroutine, make an iter.Pull
// coroutine whose body yields its result and take it with next and stop, or start a
// goroutine that sends its result on a channel.
func BenchmarkSpawnNoWait(b *testing.B) {
	ctx := context.Background()
	body := func(*continuation.C) (int, error) { return 1, nil }
	b.Run("impl=Spawn", func(b *testing.B) {
		s := suspendScheduler(b)
		b.ReportAllocs()
		for b.Loop() {
			v, err := continuation.Spawn(s, ctx, body).Await(ctx)
			if err != nil {
				b.Fatal(err)
			}
			suspendSink += v
		}
	})
	b.Run("impl=Run", func(b *testing.B) {
		s := suspendScheduler(b)
		b.ReportAllocs()
		for b.Loop() {
			v, err := continuation.Run(s, ctx, body)
			if err != nil {
				b.Fatal(err)
			}
			suspendSink += v
		}
	})
	b.Run("impl=pull", func(b *testing.B) {
		seq := func(yield func(int) bool) { yield(1) }
		b.ReportAllocs()
		for b.Loop() {
			next, stop := iter.Pull(seq)
			v, _ := next()
			stop()
			suspendSink += v
		}
	})
	b.Run("impl=go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := make(chan int, 1)
			go func() { c <- 1 }()
			suspendSink += <-c
		}
	})
}
