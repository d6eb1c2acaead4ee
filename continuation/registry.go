package continuation

import (
	"math/bits"
	"runtime"
	"sync"
	"unsafe"
)

// The registry of alive continuations, for Snapshot, Stats and Shutdown. Every Spawn and
// Run enters it and leaves it, so it is split in shards, each with its own lock, and a
// continuation's shard is picked from its address: goroutines on different cores rarely
// meet on one lock. The alive bound and the closed flag are single atomics beside it.

// shard is one part of the registry.
type shard struct {
	mu   sync.Mutex
	head C // sentinel of the ring of this shard's alive continuations; under mu

	// Under mu: how the continuations of this shard ended.
	completed, failed, panicked int64
}

// outcome is how a continuation left the registry.
type outcome uint8

const (
	refusedLate outcome = iota // admitted, then refused by the pool: counted as refused
	completed
	failed
	panicked
)

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
	switch how {
	case completed:
		sh.completed++
	case panicked:
		sh.panicked++
		sh.failed++
	case failed:
		sh.failed++
	}
	sh.mu.Unlock()
}

// each calls fn for every shard, locked, and each of its alive continuations.
func (s *Scheduler) each(fn func(sh *shard, c *C)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		fn(sh, nil)
		for c := sh.head.next; c != &sh.head; c = c.next {
			fn(sh, c)
		}
		sh.mu.Unlock()
	}
}
