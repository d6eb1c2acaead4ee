package pool_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/pool"
)

// FuzzPool interprets each byte as an operation on a pool (Submit at any priority and
// Resume of quick or gated tasks, TryAcquire, Acquire at any priority with an ended
// context, Release, opening a gate, Shutdown with an ended context, a look at Stats) and
// checks what the pool promises: at
// no moment do more than W tasks and slot holders run; every accepted task runs exactly
// once and a refused one never; Stats add up; Shutdown drains everything and leaves no
// goroutine (goleak, in TestMain).
func FuzzPool(f *testing.F) {
	f.Add(uint8(1), uint8(2), []byte{0, 0x10, 0, 0, 2, 3, 4, 7, 6, 1, 4})
	f.Add(uint8(2), uint8(0), []byte{2, 2, 0, 1, 0x10, 3, 5, 3, 7, 6, 0, 5})
	f.Add(uint8(3), uint8(8), []byte{0x10, 0x10, 0x10, 0x11, 0x11, 0, 1, 7, 4, 4, 4, 7, 6, 2})
	f.Add(uint8(1), uint8(1), []byte{2, 0, 0, 0, 1, 1, 6, 1, 3, 7})
	f.Add(uint8(1), uint8(3), []byte{0x10, 0x20, 0, 0x30, 0x25, 7, 1, 4, 7, 4, 4, 6, 0x20, 7})
	f.Add(uint8(1), uint8(4), []byte{0x10, 0x40, 0x20, 0x50, 0x45, 7, 4, 0x42, 3, 4, 7, 4, 6, 7})
	f.Fuzz(func(t *testing.T, workers, queue uint8, ops []byte) {
		w := int(workers%4) + 1
		p := pool.New(w, pool.WithQueueSize(int(queue%16)))
		ended, cancel := context.WithCancel(context.Background())
		cancel()

		var running, most atomic.Int32
		enter := func() {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		}
		var (
			mu       sync.Mutex
			ran      []int // runs of each task, by id
			accepted []bool
			gates    []chan struct{} // of gated tasks not yet opened
			held     int
			closing  bool
		)
		newTask := func(gated bool) func() {
			mu.Lock()
			defer mu.Unlock()
			id := len(ran)
			ran = append(ran, 0)
			accepted = append(accepted, false)
			var gate chan struct{}
			if gated {
				gate = make(chan struct{})
				gates = append(gates, gate)
			}
			return func() {
				enter()
				defer running.Add(-1)
				if gate != nil {
					<-gate
				}
				mu.Lock()
				ran[id]++
				mu.Unlock()
			}
		}
		accept := func() {
			mu.Lock()
			accepted[len(accepted)-1] = true
			mu.Unlock()
		}
		openGate := func() bool {
			mu.Lock()
			defer mu.Unlock()
			if len(gates) == 0 {
				return false
			}
			close(gates[0])
			gates = gates[1:]
			return true
		}
		checkStats := func() {
			s := p.Stats()
			require.LessOrEqual(t, s.Busy, w)
			require.Equal(t, s.BusyWorkers+s.BusyInline, s.Busy)
			require.Equal(t, s.Submitted+s.Resumed,
				s.Completed+uint64(s.QueuedNew+s.QueuedResumed+s.BusyWorkers), "%+v", s)
		}

		for _, op := range ops {
			gated := op&0x10 != 0
			pr := []pool.Priority{pool.Normal, pool.High, pool.Low, pool.Normal}[op>>5&3]
			switch op & 0xf {
			case 0: // Submit
				err := p.SubmitAt(pr, newTask(gated))
				switch {
				case err == nil:
					accept()
				case closing:
					require.ErrorIs(t, err, pool.ErrClosed)
				default:
					require.ErrorIs(t, err, pool.ErrFull)
				}
			case 1: // Resume: only while the drain cannot have finished
				if closing && held == 0 {
					continue
				}
				p.Resume(newTask(gated))
				accept()
			case 2: // TryAcquire
				if p.TryAcquire() {
					enter()
					held++
				}
			case 3: // Release
				if held > 0 {
					running.Add(-1)
					held--
					p.Release()
				}
			case 4:
				openGate()
			case 5: // Acquire with an ended context: never takes a slot, gives up at once
				require.ErrorIs(t, p.AcquireAt(ended, pr), context.Canceled)
			case 6: // Shutdown begins; with an ended context it does not wait
				closing = true
				if err := p.Shutdown(ended); err != nil {
					require.ErrorIs(t, err, context.Canceled)
				}
			case 7:
				checkStats()
			}
			require.LessOrEqual(t, most.Load(), int32(w), "more than W ran at once")
		}

		for held > 0 {
			running.Add(-1)
			held--
			p.Release()
		}
		for openGate() {
		}
		require.NoError(t, p.Shutdown(context.Background()))
		require.LessOrEqual(t, most.Load(), int32(w), "more than W ran at once")
		mu.Lock()
		defer mu.Unlock()
		for id, n := range ran {
			if accepted[id] {
				require.Equal(t, 1, n, "accepted task %d ran %d times", id, n)
			} else {
				require.Zero(t, n, "refused task %d ran", id)
			}
		}
		s := p.Stats()
		require.Equal(t, s.Submitted+s.Resumed, s.Completed)
		require.Zero(t, s.Busy)
	})
}
