// Package suspendtest holds a fixture that the tests and benchmarks of several of this
// repository's packages share: a scheduler under load. Only tests import it; it imports
// no test library, so that the library depends on nothing outside the standard library.
// (Tests inside package continuation cannot import it: see pooltest.)
package suspendtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// Loaded returns a scheduler on a pool of 2 slots that has run ran continuations to their
// end and holds alive suspended on one gate, each under one of labels labels ("GET /r0",
// "GET /r1", ...), and a function that opens the gate, waits for them to end and shuts
// the scheduler and the pool down.
func Loaded(tb testing.TB, ran, alive, labels int) (*continuation.Scheduler, *pool.Pool, func()) {
	tb.Helper()
	p := pool.New(2)
	s := continuation.NewScheduler(p, continuation.WithMaxAlive(alive+1))
	ctx := context.Background()
	label := func(i int) continuation.SpawnOption {
		return continuation.WithLabel(fmt.Sprint("GET /r", i%labels))
	}
	for i := range ran {
		if _, err := continuation.Run(s, ctx, func(*continuation.C) (int, error) { return 1, nil }, label(i)); err != nil {
			tb.Fatalf("Loaded: Run: %v", err)
		}
	}
	gate, open := future.New[int]()
	fs := make([]*future.Future[int], alive)
	for i := range alive {
		fs[i] = continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) { return continuation.Await(c, gate) }, label(i))
	}
	for s.Stats().Suspended < alive {
		time.Sleep(time.Millisecond)
	}
	return s, p, func() {
		open(1, nil)
		for _, f := range fs {
			if _, err := f.Await(ctx); err != nil {
				tb.Errorf("Loaded: a suspended continuation ended with %v", err)
			}
		}
		if err := s.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
		if err := p.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
	}
}
