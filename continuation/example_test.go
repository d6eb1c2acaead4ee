package continuation_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// A body fans out to three calls, awaits them all with its slot given back, then answers.
func Example() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	ctx := context.Background()

	lookup := func(name string) *future.Future[string] {
		return future.Go(ctx, func(ctx context.Context) (string, error) {
			time.Sleep(10 * time.Millisecond) // a slow upstream
			return strings.ToUpper(name), nil
		})
	}

	answer := continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		parts, err := continuation.Await(c, future.All(lookup("a"), lookup("b"), lookup("c")))
		if err != nil {
			return "", err
		}
		return strings.Join(parts, "+"), nil
	})

	v, err := answer.Await(ctx)
	fmt.Println(v, err)

	_ = s.Shutdown(ctx)
	_ = p.Shutdown(ctx)
	// Output: A+B+C <nil>
}

// The WSGI+ proposal's own example: the body hands a future to another thread that
// completes it later, is suspended with its worker free, and answers once resumed.
func Example_wsgiPlus() {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	ctx := context.Background()

	deferToAnotherThread := func() *future.Future[string] {
		f, resolve := future.New[string]()
		go func() {
			time.Sleep(10 * time.Millisecond)
			resolve("Hi!", nil)
		}()
		return f
	}

	app := continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		fut := deferToAnotherThread()
		v, err := continuation.Await(c, fut) // suspended here; the one worker is free
		if err != nil {
			return "", err
		}
		return "200 OK: " + v, nil // resumed
	})

	// Meanwhile the single worker serves other work.
	other := continuation.Spawn(s, ctx, func(*continuation.C) (string, error) {
		return "served while the app waited", nil
	})
	fmt.Println(other.Await(ctx))
	fmt.Println(app.Await(ctx))

	_ = s.Shutdown(ctx)
	_ = p.Shutdown(ctx)
	// Output:
	// served while the app waited <nil>
	// 200 OK: Hi! <nil>
}

// Run drives the body on the caller's goroutine: the way to go when the caller would only
// wait for the result, as an HTTP handler does.
func ExampleRun() {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	ctx := context.Background()

	n, err := continuation.Run(s, ctx, func(c *continuation.C) (int, error) {
		slow := future.Go(ctx, func(context.Context) (int, error) { return 41, nil })
		v, err := continuation.Await(c, slow) // the slot is given back while it waits
		return v + 1, err
	}, continuation.WithLabel("answer"))
	fmt.Println(n, err)

	_ = s.Shutdown(ctx)
	_ = p.Shutdown(ctx)
	// Output: 42 <nil>
}

// Blocking makes one blocking call without holding the slot: here, on a pool of one slot,
// a second body runs while the first waits on its (slow) call.
func ExampleBlocking() {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	ctx := context.Background()

	called := make(chan struct{})
	query := func(ctx context.Context) (string, error) { // a database query, a file read...
		close(called)
		time.Sleep(10 * time.Millisecond)
		return "row 1", nil
	}

	first := continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		return continuation.Blocking(c, func() (string, error) {
			return query(c.Context()) // runs holding no slot
		})
	})
	<-called
	second, err := continuation.Run(s, ctx, func(*continuation.C) (string, error) {
		return "served meanwhile", nil // the only slot is free
	})
	fmt.Println(second, err)
	fmt.Println(first.Await(ctx))

	_ = s.Shutdown(ctx)
	_ = p.Shutdown(ctx)
	// Output:
	// served meanwhile <nil>
	// row 1 <nil>
}
