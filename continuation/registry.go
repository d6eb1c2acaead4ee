package continuation

import (
	"context"
	"errors"
	"math/bits"
	"runtime"
	"sync"
	"unsafe"

	"github.com/gosuspend/suspend/pool"
)

// The registry of alive continuations, for Snapshot, Stats and Shutdown. Every Spawn and
// Run enters it and leaves it, so it is split in shards, each with its own lock, and a
// continuation's shard is picked from its address: goroutines on different cores rarely
// meet on one lock. The alive bound and the closed flag are single atomics beside it.

// shard is one part of the registry.
type shard struct {
	mu   sync.Mutex
	head C // sentinel of the ring of this shard's alive continuations; under mu

	// Under mu: how the continuations of this shard ended, by outcome.
	ends [numOutcomes]int64
}

// outcome is how a continuation ended: the cause it is counted under in Stats. A body
// that ran ends; one that never did was refused.
type outcome uint8

const (
	completed  outcome = iota // the body returned a nil error
	failed                    // the body returned another error, or called Goexit
	panicked                  // the body panicked
	cancelled                 // its context was cancelled, before its first slot or while the body ran
	deadline                  // the body ended with a deadline exceeded
	stopped                   // it ended with ErrStopped: Shutdown gave up on it
	overloaded                // refused: the alive bound, or the pool's queue was full
	shed                      // refused for the pool's queueing delay
	late                      // refused: its deadline had passed, or the pool's queueing delay would pass it
	closed                    // refused: Shutdown had begun, or the pool was closed

	numOutcomes = iota
)

// endOf is the cause of the end of a body that ran and returned err, for a continuation
// whose context is ctx. An error of a refusal that the body returns (a nested Spawn's
// ErrOverloaded) is no refusal of this continuation: it failed.
func endOf(ctx context.Context, err error) outcome {
	switch {
	case err == nil:
		return completed
	case errors.Is(err, ErrStopped):
		return stopped
	case errors.Is(err, context.DeadlineExceeded):
		return deadline
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return cancelled
	}
	return failed
}

// refusalOf is the cause of a refusal with err, before the continuation's first slot: err
// is the scheduler's refusal, the pool's, or the context's error.
func refusalOf(err error) outcome {
	switch {
	case errors.Is(err, pool.ErrShed):
		return shed
	case errors.Is(err, ErrOverloaded):
		return overloaded
	case errors.Is(err, ErrClosed):
		return closed
	case errors.Is(err, context.DeadlineExceeded):
		return late // ctx's deadline, or the pool's own judgement of it
	case errors.Is(err, context.Canceled):
		return cancelled // for a request, its client went away: nobody is left to refuse
	}
	return failed
}

func newShards() []shard {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1)) // a power of two, 4 per core or more
	shards := make([]shard, n)
	for i := range shards {
		sh := &shards[i]
		sh.head.prev, sh.head.next = &sh.head, &sh.head
	}
	return shards
}

// shardOf picks c's shard by a multiplicative hash of its address (only hashed, never
// turned back into a pointer).
func (s *Scheduler) shardOf(c *C) *shard {
	h := uint64(uintptr(unsafe.Pointer(c))) * 0x9E3779B97F4A7C15
	return &s.shards[h>>(64-bits.Len(uint(len(s.shards)-1)))]
}

func (sh *shard) insert(c *C) {
	sh.mu.Lock()
	c.prev, c.next = sh.head.prev, &sh.head
	c.prev.next, sh.head.prev = c, c
	sh.mu.Unlock()
}

// remove unlinks c and counts how it ended.
func (sh *shard) remove(c *C, how outcome) {
	sh.mu.Lock()
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = nil, nil
	sh.ends[how]++
	sh.mu.Unlock()
}

// eachChunk bounds how many continuations each visits under one hold of a shard's lock,
// so that an observer never holds up an admission or an end on that shard for long: 256
// visits of Stats take about 5 µs.
const eachChunk = 256

// each calls fn for every shard, locked (c nil), and each of its alive continuations,
// under the shard's lock. Every eachChunk continuations it lets the lock go: a cursor,
// a C with no scheduler, keeps its place in the ring meanwhile, and walks skip cursors.
// Continuations that come or go while it walks may be visited or not.
func (s *Scheduler) each(fn func(sh *shard, c *C)) {
	var cursor C // s nil: a cursor
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		fn(sh, nil)
		n := 0
		for c := sh.head.next; c != &sh.head; c = c.next {
			if c.s == nil {
				continue // another walk's cursor
			}
			fn(sh, c)
			if n++; n == eachChunk && c.next != &sh.head {
				// Park the cursor after c, let the lock go, and go on from the cursor.
				cursor.prev, cursor.next = c, c.next
				c.next.prev, c.next = &cursor, &cursor
				sh.mu.Unlock()
				sh.mu.Lock()
				c = cursor.prev // the continuation before the cursor now, visited or a cursor
				cursor.prev.next, cursor.next.prev = cursor.next, cursor.prev
				cursor.prev, cursor.next = nil, nil
				n = 0
			}
		}
		sh.mu.Unlock()
	}
}
