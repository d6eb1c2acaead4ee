package pool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// label makes entry i, a task or (every third) a waiter, recognisable after a round trip.
func label(i int) entry {
	if i%3 == 0 {
		return entry{w: &waiter{state: uint8(i % 2)}} // waiting or granted: live
	}
	n := i
	return entry{task: func() { _ = n }}
}

func TestRingFIFOAcrossGrowth(t *testing.T) {
	var q ring
	var want []entry
	for i := range 1000 {
		e := label(i)
		want = append(want, e)
		q.push(e)
	}
	assert.Equal(t, 1000, q.len())
	assert.Equal(t, 1024, len(q.buf))
	for i, w := range want {
		e, ok := q.pop()
		require.True(t, ok)
		require.Same(t, w.w, e.w, "entry %d", i)
	}
	_, ok := q.pop()
	assert.False(t, ok)
}

func TestRingWrapsAround(t *testing.T) {
	var q ring
	var pushed []*waiter
	popped := 0
	for round := range 100 {
		for range round%7 + 1 {
			w := &waiter{}
			pushed = append(pushed, w)
			q.push(entry{w: w})
		}
		for range round%5 + 1 {
			e, ok := q.pop()
			if !ok {
				break
			}
			require.Same(t, pushed[popped], e.w)
			popped++
		}
	}
	assert.Equal(t, len(pushed)-popped, q.len())
}

func TestRingShrinksAfterAQuietTurn(t *testing.T) {
	var q ring
	for range 4096 {
		q.push(entry{task: func() {}})
	}
	for range 4096 {
		q.pop()
	}
	// The burst is over, but the turn during which it happened is not: no shrink yet
	// past what pops of a full buffer allow.
	for range 10 * 4096 {
		q.push(entry{task: func() {}})
		q.pop()
	}
	assert.Equal(t, minRing, len(q.buf), "a quiet buffer halves each turn down to the minimum")
}

func TestRingKeepsItsSizeUnderASwingingLoad(t *testing.T) {
	var q ring
	for range 10 {
		for range 1000 {
			q.push(entry{task: func() {}})
		}
		size := len(q.buf)
		for range 1000 {
			q.pop()
		}
		assert.Equal(t, size, len(q.buf), "no shrink while each turn sees a full queue")
	}
}

func TestRingSkipsAndCompactsDeadEntries(t *testing.T) {
	var q ring
	ws := make([]*waiter, 300)
	for i := range ws {
		ws[i] = &waiter{}
		q.push(entry{w: ws[i]})
	}
	for i, w := range ws {
		if i%3 != 0 {
			w.state = waiterGone
			q.forget()
		}
	}
	assert.Equal(t, 100, q.len())
	assert.Less(t, q.dead, 200, "compacted on the way")
	for i := 0; i < 300; i += 3 {
		e, ok := q.pop()
		require.True(t, ok)
		require.Same(t, ws[i], e.w)
	}
	_, ok := q.pop()
	assert.False(t, ok)
	assert.Zero(t, q.len())
	assert.Zero(t, q.dead)
}

func TestRingCompactsRatherThanGrowsWhenFullOfDead(t *testing.T) {
	var q ring
	ws := make([]*waiter, 64)
	for i := range ws {
		ws[i] = &waiter{}
		q.push(entry{w: ws[i]})
	}
	require.Equal(t, 64, len(q.buf))
	for _, w := range ws[:20] { // fewer than would trigger compaction in forget
		w.state = waiterGone
		q.forget()
	}
	require.Equal(t, 20, q.dead)
	q.push(entry{task: func() {}})
	assert.Equal(t, 64, len(q.buf), "the dead made room")
	assert.Zero(t, q.dead)
	assert.Equal(t, 45, q.len())
	e, ok := q.pop()
	require.True(t, ok)
	assert.Same(t, ws[20], e.w)
}
