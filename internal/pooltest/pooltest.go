// Package pooltest holds a fixture that the tests of several of this repository's
// packages share, the continuation package's own tests among them: a pool whose
// queue-delay control stands. Only tests import it; it imports no test library.
package pooltest

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosuspend/suspend/pool"
)

// Standing makes p, a pool of one slot with the queue-delay control at its usual values
// and no slot taken, overloaded by it; call it in a synctest bubble. The first interval
// sees one wait for a slot, of 30 ms, above the target, and the next pop ends that
// interval. It returns 140 ms later, a waiter holding the slot until 200 ms and none
// queued: a deadline nearer than 30 ms cannot be met.
func Standing(tb testing.TB, p *pool.Pool) {
	tb.Helper()
	hold := func(d time.Duration) { // queues for a slot, and holds it for d
		go func() {
			if p.Acquire(context.Background()) == nil {
				time.Sleep(d)
				p.Release()
			}
		}()
		synctest.Wait()
	}
	if err := p.Acquire(context.Background()); err != nil {
		tb.Fatalf("Standing: Acquire: %v", err)
	}
	hold(110 * time.Millisecond) // queued at 0, served at 30, until 140
	time.Sleep(30 * time.Millisecond)
	p.Release()
	time.Sleep(108 * time.Millisecond)
	hold(60 * time.Millisecond) // queued at 138, served at 140, until 200
	time.Sleep(2 * time.Millisecond)
	synctest.Wait()
}
