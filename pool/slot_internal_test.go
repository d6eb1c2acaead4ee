package pool

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAcquireGrantedAsItsContextEnds makes the slot reach a waiter after its context has
// ended and woken it: the waiter must pass the slot on and report the context's error.
func TestAcquireGrantedAsItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(1)
		require.NoError(t, p.Acquire(context.Background()))
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error)
		go func() { errs <- p.Acquire(ctx) }()
		synctest.Wait()

		p.mu.Lock()
		cancel()               // the waiter wakes on ctx and waits for the lock
		h := p.releaseLocked() // meanwhile the slot is granted to it
		p.mu.Unlock()
		h.do()

		assert.ErrorIs(t, <-errs, context.Canceled)
		assert.Zero(t, p.Stats().Busy, "the slot came back")
		require.NoError(t, p.Acquire(context.Background()))
		p.Release()
		require.NoError(t, p.Shutdown(context.Background()))
	})
}

// TestStateAfterDrain checks the state word once the pool has finished.
func TestStateAfterDrain(t *testing.T) {
	p := New(3)
	require.NoError(t, p.Shutdown(context.Background()))
	s := p.state.Load()
	assert.Equal(t, 3, freeOf(s))
	assert.Zero(t, inlineOf(s))
	assert.Equal(t, uint64(closedBit|finishedBit), s&^countMask)
}
