package pool_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gosuspend/suspend/pool"
)

// A pool runs submitted tasks on its workers, refusing new work when its queue is full.
func Example() {
	p := pool.New(2, pool.WithQueueSize(100))

	var mu sync.Mutex
	sum := 0
	for i := 1; i <= 10; i++ {
		err := p.Submit(func() {
			mu.Lock()
			sum += i
			mu.Unlock()
		})
		if errors.Is(err, pool.ErrFull) {
			fmt.Println("overloaded: shed", i) // an HTTP server would answer 503
		}
	}

	if err := p.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("sum:", sum)
	fmt.Println("completed:", p.Stats().Completed)
	// Output:
	// sum: 55
	// completed: 10
}

// A goroutine that is about to block on a result anyway can run the work itself: it takes
// a slot, runs inline, and gives the slot back. No other goroutine is involved.
func ExamplePool_Acquire() {
	p := pool.New(1)
	defer p.Shutdown(context.Background())

	ctx := context.Background()
	if err := p.Acquire(ctx); err != nil {
		fmt.Println("refused:", err) // ErrFull, ErrClosed or ctx.Err()
		return
	}
	fmt.Println("running inline, busy slots:", p.Stats().BusyInline)
	p.Release()
	fmt.Println("released, busy slots:", p.Stats().BusyInline)
	// Output:
	// running inline, busy slots: 1
	// released, busy slots: 0
}

// Work that waited on something slow comes back with Resume (or Reacquire): it goes before
// every queued piece of new work, and it is never refused while the pool runs.
func ExamplePool_Resume() {
	p := pool.New(1)
	block := make(chan struct{})
	_ = p.Submit(func() { <-block }) // keep the only slot busy

	var mu sync.Mutex
	var order []string
	record := func(s string) func() {
		return func() {
			mu.Lock()
			order = append(order, s)
			mu.Unlock()
		}
	}
	_ = p.Submit(record("new request"))
	p.Resume(record("request coming back"))

	close(block)
	_ = p.Shutdown(context.Background())
	fmt.Println(order)
	// Output:
	// [request coming back new request]
}
