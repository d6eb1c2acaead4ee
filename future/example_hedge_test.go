package future_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gosuspend/suspend/future"
)

// Hedge a call after its 95th-percentile latency: most calls finish before the delay and
// cost one attempt; a call stuck on a slow replica gets a second attempt, and the first to
// answer wins. The loser's context is cancelled.
func ExampleHedge() {
	const p95 = 20 * time.Millisecond // measured latency of this call
	ctx := context.Background()

	var replicas atomic.Int32 // attempts run on goroutines of their own
	loserDone := make(chan error, 1)
	get := func(ctx context.Context) (string, error) {
		replica := replicas.Add(1)
		if replica == 1 {
			<-ctx.Done() // this replica is stuck; it returns once cancelled
			loserDone <- ctx.Err()
			return "", ctx.Err()
		}
		return fmt.Sprintf("answer from replica %d", replica), nil
	}

	v, err := future.Hedge(ctx, p95, 2, get).Await(ctx)
	fmt.Println(v, err)
	fmt.Println("stuck attempt:", <-loserDone)
	// Output:
	// answer from replica 2 <nil>
	// stuck attempt: context canceled
}

// A budget shared by every call to one service keeps hedges to a share of the calls: here
// at most about 5% more calls, with a burst of 10 hedges to start with.
func ExampleHedgeWithin() {
	budget := future.NewHedgeBudget(0.05, 20)
	ctx := context.Background()

	v, err := future.HedgeWithin(ctx, budget, 20*time.Millisecond, 2, func(context.Context) (int, error) {
		return 42, nil
	}).Await(ctx)
	fmt.Println(v, err)
	// Output: 42 <nil>
}

// After as a timer in a Race: the work gets until the timer fires. Once the race is over,
// cancel the timer so that nothing stays scheduled.
func ExampleAfter() {
	errTimedOut := errors.New("timed out")
	ctx := context.Background()
	within := func(work *future.Future[string], d time.Duration) (string, error) {
		timer := future.After(d)
		defer timer.Cancel() // frees the timer if the work won
		timedOut := future.Then(timer, func(time.Time) (string, error) { return "", errTimedOut })
		return future.Race(work, timedOut).Await(ctx)
	}

	v, err := within(future.Ready("fast work"), time.Second)
	fmt.Printf("%q %v\n", v, err)

	never, _ := future.New[string]()
	v, err = within(never, 10*time.Millisecond)
	fmt.Printf("%q %v\n", v, err)
	// Output:
	// "fast work" <nil>
	// "" timed out
}
