package pool_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/pool"
)

// FuzzPool interprets each byte as an operation on a pool, with or without the queue-delay
// control (Submit at any priority and Resume of quick or gated tasks, TryAcquire, Acquire
// at any priority with an ended context, Acquire that waits, with a deadline, and holds its
// slot a while, Release, opening a gate, the passing of time, Shutdown with an ended
// context, a look at Stats) and checks what the pool promises: at no moment do more than W
// tasks and slot holders run; every accepted task runs exactly once and a refused one
// never; Stats add up, and count each refusal the callers saw; Shutdown drains everything
// and leaves no goroutine (goleak, in TestMain). It runs in a synctest bubble, so that
// time passes only when an operation says so.
func FuzzPool(f *testing.F) {
	f.Add(uint8(1), uint8(2), []byte{0, 0x10, 0, 0, 2, 3, 4, 7, 6, 1, 4})
	f.Add(uint8(2), uint8(0), []byte{2, 2, 0, 1, 0x10, 3, 5, 3, 7, 6, 0, 5})
	f.Add(uint8(3), uint8(8), []byte{0x10, 0x10, 0x10, 0x11, 0x11, 0, 1, 7, 4, 4, 4, 7, 6, 2})
	f.Add(uint8(1), uint8(1), []byte{2, 0, 0, 0, 1, 1, 6, 1, 3, 7})
	f.Add(uint8(1), uint8(3), []byte{0x10, 0x20, 0, 0x30, 0x25, 7, 1, 4, 7, 4, 4, 6, 0x20, 7})
	f.Add(uint8(1), uint8(4), []byte{0x10, 0x40, 0x20, 0x50, 0x45, 7, 4, 0x42, 3, 4, 7, 4, 6, 7})
	f.Add(uint8(1), uint8(0x80), []byte{8, 8, 8, 0x29, 8, 8, 0x48, 0x29, 0x18, 0x18, 0, 0x39, 8, 7, 8, 8, 0x28, 0x19, 7})
	f.Add(uint8(2), uint8(0x83), []byte{2, 2, 8, 8, 8, 0x59, 3, 8, 8, 8, 8, 0x48, 0x48, 0x68, 0x19, 3, 0x20, 0x40, 7, 6, 8, 7})
	f.Fuzz(func(t *testing.T, workers, queue uint8, ops []byte) {
		synctest.Test(t, func(t *testing.T) { fuzzPool(t, workers, queue, ops) })
	})
}

func fuzzPool(t *testing.T, workers, queue uint8, ops []byte) {
	w := int(workers%4) + 1
	opts := []pool.Option{pool.WithQueueSize(int(queue % 16))}
	if queue&0x80 != 0 {
		opts = append(opts, pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
	}
	p := pool.New(w, opts...)
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
		waiting  sync.WaitGroup // Acquire callers that wait
		shed     atomic.Uint64  // ErrShed seen by callers
		late     atomic.Uint64  // refusals for a deadline the queue would pass
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
			case errors.Is(err, pool.ErrShed):
				shed.Add(1)
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
		case 8: // Acquire that waits, up to 30 ms, and holds its slot 1 or 20 ms
			hold := time.Millisecond
			if gated {
				hold = 20 * time.Millisecond
			}
			waiting.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
				defer cancel()
				err := p.AcquireAt(ctx, pr)
				switch {
				case err == nil:
					enter()
					time.Sleep(hold)
					running.Add(-1)
					p.Release()
				case errors.Is(err, pool.ErrShed):
					shed.Add(1)
				case errors.Is(err, context.DeadlineExceeded) && err != ctx.Err():
					late.Add(1) // refused for its deadline, not ended by it
				case errors.Is(err, context.DeadlineExceeded), errors.Is(err, pool.ErrClosed), errors.Is(err, pool.ErrFull):
				default:
					t.Errorf("Acquire: %v", err)
				}
			})
			synctest.Wait()
		case 9: // time passes: 1 to 16 ms
			time.Sleep(time.Duration(1+op>>4) * time.Millisecond)
			synctest.Wait()
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
	waiting.Wait()
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
	require.Equal(t, shed.Load(), s.Shed, "refusals for the queue's delay")
	require.Equal(t, late.Load(), s.Late, "refusals for a deadline")
}
