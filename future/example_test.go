package future_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// A future is made pending with New and settled by whoever holds its resolver; anyone
// holding the future can wait for it.
func Example() {
	f, resolve := future.New[string]()
	go func() {
		// Somewhere else, later: the work is done.
		resolve("hello from another goroutine", nil)
	}()

	v, err := f.Await(context.Background())
	fmt.Println(v, err)
	// Output: hello from another goroutine <nil>
}

// Fan out to several calls at once and wait for all of them: the values come back in
// argument order, whatever order the calls finish in.
func ExampleAll() {
	ctx := context.Background()
	fetch := func(name string, d time.Duration) *future.Future[string] {
		return future.Go(ctx, func(ctx context.Context) (string, error) {
			select {
			case <-time.After(d):
				return name + " ok", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
	}

	all := future.All(
		fetch("users", 30*time.Millisecond),
		fetch("orders", 10*time.Millisecond),
		fetch("prices", 20*time.Millisecond),
	)
	vals, err := all.Await(ctx)
	fmt.Println(vals, err)
	// Output: [users ok orders ok prices ok] <nil>
}

// Completed hands out results as they arrive, like Python's as_completed.
func ExampleCompleted() {
	ctx := context.Background()
	slow, resolveSlow := future.New[int]()
	fast, resolveFast := future.New[int]()
	failed, fail := future.New[int]()

	resolveFast(1, nil)
	for i, r := range future.Completed(ctx, slow, fast, failed) {
		fmt.Println(i, r.Value, r.Err)
		// The others settle while the loop waits; here the loop settles them itself, one
		// at a time, so that the order printed is always the same.
		switch i {
		case 1:
			fail(0, errors.New("upstream down"))
		case 2:
			resolveSlow(3, nil)
		}
	}
	// Output:
	// 1 1 <nil>
	// 2 0 upstream down
	// 0 3 <nil>
}

// Go turns a function into a future; a panic in it becomes a *PanicError instead of a
// crash.
func ExampleGo() {
	ctx := context.Background()
	f := future.Go(ctx, func(context.Context) (int, error) {
		var names []string
		return len(names[0]), nil // a bug: names is empty
	})
	_, err := f.Await(ctx)
	var pe *future.PanicError
	fmt.Println(errors.As(err, &pe), err)
	// Output: true panic: runtime error: index out of range [0] with length 0
}

// Then chains work on a result without blocking anyone.
func ExampleThen() {
	price := future.Ready(120)
	withTax := future.Then(price, func(p int) (string, error) {
		return fmt.Sprintf("%d.%02d", p*6/5/100, p*6/5%100), nil
	})
	v, _ := withTax.Await(context.Background())
	fmt.Println(v)
	// Output: 1.44
}

// Timeout bounds a wait; its error is context.DeadlineExceeded.
func ExampleTimeout() {
	never, _ := future.New[int]()
	_, err := future.Timeout(never, 10*time.Millisecond).Await(context.Background())
	fmt.Println(errors.Is(err, context.DeadlineExceeded), err)
	// Output: true future: timed out after 10ms
}

// OnDone runs a callback on the goroutine that settles the future.
func ExampleFuture_OnDone() {
	f, resolve := future.New[int]()
	f.OnDone(func(v int, err error) { fmt.Println("settled with", v, err) })
	fmt.Println("resolving")
	resolve(7, nil)
	fmt.Println("resolved")
	// Output:
	// resolving
	// settled with 7 <nil>
	// resolved
}

// Join waits for upstreams of different types at once: a body suspends on the Join, with
// its worker free, then reads each result, which is there without waiting.
func ExampleJoin() {
	type User struct{ Name string }
	type Order struct{ ID int }
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	ctx := context.Background()

	// Three upstreams, answering later on goroutines of their own.
	user := future.Go(ctx, func(context.Context) (User, error) { return User{"ada"}, nil })
	orders := future.Go(ctx, func(context.Context) ([]Order, error) { return []Order{{1}, {2}}, nil })
	points := future.Go(ctx, func(context.Context) (int, error) { return 42, nil })

	page := continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		if _, err := continuation.Await(c, future.Join(user, orders, points)); err != nil {
			return "", err // the first upstream to fail, at once
		}
		u, _ := user.Peek() // all three have settled: no waiting, no suspending
		o, _ := orders.Peek()
		n, _ := points.Peek()
		return fmt.Sprintf("%s: %d orders, %d points", u.Value.Name, len(o.Value), n.Value), nil
	})
	fmt.Println(page.Await(ctx))

	_ = s.Shutdown(ctx)
	_ = p.Shutdown(ctx)
	// Output: ada: 2 orders, 42 points <nil>
}

// FirstN makes a quorum read: the first 2 of 3 replicas to answer, in the order they did.
// One replica being down does not fail the read; two would.
func ExampleFirstN() {
	r1, answer1 := future.New[string]()
	r2, answer2 := future.New[string]()
	r3, answer3 := future.New[string]()
	quorum := future.FirstN(2, r1, r2, r3)

	answer2("v7 from replica 2", nil)
	answer1("", errors.New("replica 1: connection refused"))
	answer3("v7 from replica 3", nil)

	vs, err := quorum.Await(context.Background())
	fmt.Println(vs, err)
	// Output: [v7 from replica 2 v7 from replica 3] <nil>
}

// A lost resolver: the future fails with ErrAbandoned once the collector finds that
// nothing can settle it, instead of hanging whoever awaits it.
func ExampleDetectAbandoned() {
	future.DetectAbandoned(true) // at program start, in tests or staging
	defer future.DetectAbandoned(false)

	lookup := func(key string) *future.Future[string] {
		f, resolve := future.New[string]()
		if key == "" {
			return f // a bug: this path forgets resolve
		}
		resolve("value of "+key, nil)
		return f
	}

	f := lookup("")
	for range 100 { // what the program's own allocations would do, sooner or later
		runtime.GC()
		if _, ok := f.Peek(); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := f.Await(context.Background())
	fmt.Println(err)
	// Output: future: abandoned: its resolver became unreachable before settling it
}
