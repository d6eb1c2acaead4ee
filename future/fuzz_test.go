package future

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzFuture interprets each byte as an operation on one future and checks it against a
// model: the future settles once with the first settle's outcome, every callback runs once
// in registration order (callbacks registered by a callback included) unless a stop
// reported true first, stop reports true at most once and only before the future settled,
// and Await, Peek and Done agree with the model. Races of the future against one that
// stays pending settle with it, and leave nothing registered on the other once it settled.
func FuzzFuture(f *testing.F) {
	f.Add([]byte{2, 3, 0, 4, 1})
	f.Add([]byte{3, 3, 3, 4, 0x14, 0x24, 0, 4, 5, 6, 7})
	f.Add([]byte{1, 0, 2, 3, 4, 5})
	f.Add([]byte{8, 2, 3, 0x24, 0x10, 6})
	f.Add([]byte{3, 3, 0x14, 0x24, 0x34, 0x04, 9})
	f.Add([]byte{9, 2, 0x19, 10, 3, 0x14, 0, 9, 10, 6})
	f.Add([]byte{10, 9, 10, 0x14, 8, 0x29, 10})
	f.Fuzz(func(t *testing.T, ops []byte) {
		fut, resolve := New[int]()
		quit, _ := New[int]() // stays pending: raced against fut
		var (
			races    []*Future[int]
			raceRuns int // callbacks on the races' outputs that ran
			settled  bool
			want     Result[int]
			order    []int // callback ids in the order they ran
			expected []int // callback ids in the order they must run
			stops    []func() bool
			stopIDs  []int
			stopped  = map[int]bool{}
			ran      = map[int]int{}
		)
		errCancel := context.Canceled
		failErr := errors.New("fail")
		settle := func(ok bool, r Result[int]) {
			if settled {
				require.False(t, ok, "a second settle reported true")
				return
			}
			require.True(t, ok, "the first settle reported false")
			settled, want = true, r
			for _, id := range expected {
				if !stopped[id] {
					require.Contains(t, order, id, "callback %d did not run on settling", id)
				}
			}
			require.Equal(t, len(races), raceRuns, "every race's callback ran on settling")
			for _, g := range races {
				v, err := g.Await(context.Background())
				require.Equal(t, want, Result[int]{v, err}, "the race settled like fut")
			}
			n, _ := liveCallbacks(quit)
			require.Zero(t, n, "the races took back their registrations on quit")
		}
		nextID := 0
		// onDone registers a callback that records its id when it runs; with depth > 0
		// the callback, when it runs, registers another the same way. Ids are given in
		// registration order, so callbacks must run in the order of their ids.
		var onDone func(depth int)
		onDone = func(depth int) {
			id := nextID
			nextID++
			expected = append(expected, id)
			fut.OnDone(func(int, error) {
				order = append(order, id)
				ran[id]++
				if depth > 0 {
					onDone(depth - 1)
				}
			})
		}
		for _, op := range ops {
			arg := int(op >> 4)
			switch op & 0xf {
			case 0: // resolve with a value
				settle(resolve(arg, nil), Result[int]{Value: arg})
			case 1: // cancel
				settle(fut.Cancel(), Result[int]{Err: errCancel})
			case 2: // OnDone
				id := nextID
				onDone(0)
				if settled {
					require.Equal(t, 1, ran[id], "OnDone on a settled future runs at once")
				}
			case 3: // AfterDone
				id := nextID
				nextID++
				expected = append(expected, id)
				stops = append(stops, fut.AfterDone(func() { order = append(order, id); ran[id]++ }))
				stopIDs = append(stopIDs, id)
				if settled {
					require.Equal(t, 1, ran[id], "AfterDone on a settled future runs at once")
				}
			case 4: // stop the arg-th AfterDone
				if len(stops) == 0 {
					continue
				}
				k := arg % len(stops)
				id := stopIDs[k]
				got := stops[k]()
				wantTrue := !settled && !stopped[id]
				require.Equal(t, wantTrue, got, "stop of callback %d", id)
				if got {
					stopped[id] = true
				}
			case 5: // Await with an ended context
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				v, err := fut.Await(ctx)
				if settled {
					require.Equal(t, want, Result[int]{v, err})
				} else {
					require.ErrorIs(t, err, context.Canceled)
				}
			case 6: // Peek
				r, ok := fut.Peek()
				require.Equal(t, settled, ok)
				if settled {
					require.Equal(t, want, r)
				}
			case 7: // Done
				select {
				case <-fut.Done():
					require.True(t, settled, "Done closed before settling")
				default:
					require.False(t, settled, "Done open after settling")
				}
			case 8: // fail with an error from another goroutine
				okc := make(chan bool)
				go func() { okc <- resolve(0, failErr) }()
				settle(<-okc, Result[int]{Err: failErr})
			case 9: // OnDone whose callback registers arg more, each from the one before
				id := nextID
				onDone(arg % 4)
				if settled {
					require.Equal(t, 1, ran[id], "OnDone on a settled future runs at once")
				}
			case 10: // race fut against quit
				g := Race(fut, quit)
				races = append(races, g)
				g.OnDone(func(int, error) { raceRuns++ })
			}
		}
		if !settled {
			settle(fut.Cancel(), Result[int]{Err: errCancel})
		}
		var wantOrder []int
		for _, id := range expected {
			if !stopped[id] {
				wantOrder = append(wantOrder, id)
			}
		}
		// Callbacks registered after settling ran at once, which is also registration order.
		require.Equal(t, wantOrder, order, "callbacks ran once each, in order, stopped ones never")
		for id, n := range ran {
			require.Equal(t, 1, n, "callback %d ran %d times", id, n)
		}
		v, err := fut.Await(context.Background())
		require.Equal(t, want, Result[int]{v, err})
		require.Equal(t, len(races), raceRuns, "every race's callback ran once")
	})
}

// FuzzFirstNJoin settles up to seven futures in the order and with the outcomes the bytes
// say, some of them given twice, and checks FirstN and Join against a model after each
// settle: FirstN has the first n successes in settle order, or fails once fewer than n can
// still succeed; Join fails with the first error, or succeeds once all have settled; and
// once settled, neither keeps a callback on an input still pending.
func FuzzFirstNJoin(f *testing.F) {
	f.Add([]byte{0x32, 0, 1, 2})
	f.Add([]byte{0x23, 0x80, 1, 0x82})
	f.Add([]byte{0x04, 3, 3, 0x81, 0})
	f.Add([]byte{0x60, 5, 0x84, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		size := 1 + int(ops[0]&7)%5 // distinct futures
		twice := int(ops[0]>>3) & 3 // the first few are given twice
		n := int(ops[0] >> 5)       // may exceed the inputs
		fs, rs := pendings(size)
		inputs := append([]*Future[int](nil), fs...)
		inputs = append(inputs, fs[:min(twice, size)]...)
		awaitables := make([]Awaitable, len(inputs))
		for i, in := range inputs {
			awaitables[i] = in
		}
		first := FirstN(n, inputs...)
		join := Join(awaitables...)

		var (
			settledAt = map[int]bool{}
			okVals    []int
			failures  int
			firstErr  error
		)
		if n > len(inputs) {
			_, err := await(t, first)
			require.Error(t, err)
		}
		check := func() {
			// FirstN's model: each settle counts once per time its future is given.
			if n <= len(inputs) {
				r, done := first.Peek()
				switch {
				case n == 0 || len(okVals) >= n:
					require.True(t, done)
					require.NoError(t, r.Err)
					require.Equal(t, append([]int{}, okVals[:n]...), r.Value)
				case len(inputs)-failures < n:
					require.True(t, done)
					require.ErrorIs(t, r.Err, errBoom)
				default:
					require.False(t, done, "FirstN pending: %d successes, %d failures of %d", len(okVals), failures, len(inputs))
				}
			}
			r, done := join.Peek()
			switch {
			case firstErr != nil:
				require.True(t, done)
				require.Equal(t, firstErr, r.Err)
			case len(settledAt) == size:
				require.True(t, done)
				require.NoError(t, r.Err)
			default:
				require.False(t, done)
			}
			_, fDone := first.Peek()
			if fDone && done {
				for i, f := range fs {
					if !settledAt[i] {
						require.Zero(t, len0(f), "pending input %d keeps no callback", i)
					}
				}
			}
		}
		check()
		for k, op := range ops[1:] {
			i := int(op&0x7f) % size
			fail := op&0x80 != 0
			if settledAt[i] {
				continue
			}
			settledAt[i] = true
			copies := 1
			if i < twice {
				copies = 2
			}
			if fail {
				err := fmt.Errorf("input %d at %d: %w", i, k, errBoom)
				rs[i](0, err)
				failures += copies
				if firstErr == nil {
					firstErr = err
				}
			} else {
				rs[i](k, nil)
				for range copies {
					okVals = append(okVals, k)
				}
			}
			check()
		}
	})
}
