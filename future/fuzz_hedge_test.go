package future

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzHedge runs Hedge and After in fake time with attempts that each take a time and
// succeed or fail as the input says, and checks what a caller relies on: no more attempts
// than allowed, none started after the future settled, each hedge started no sooner than
// delay after the one before (unless that one failed), a success is one that an attempt
// returned, a failure means every attempt failed (each error seen through the joined one)
// or the caller's context ended, an After raced against it settles at its time, and every
// attempt returns once it is cancelled (the bubble ends with no goroutine left).
func FuzzHedge(f *testing.F) {
	f.Add([]byte{0x23, 5, 0x80, 1, 2, 3})
	f.Add([]byte{0x41, 0x88, 0x89, 0x8a, 0x8b, 0})
	f.Add([]byte{0x12, 1, 1, 1, 1, 7})
	f.Add([]byte{0x30, 0x81, 2, 0x83, 4, 0x0c})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 2 {
			return
		}
		attempts := 1 + int(ops[0]&3)
		delay := time.Duration(ops[0]>>2&3) * time.Millisecond // 0 to 3 ms
		budgeted := ops[0]&0x40 != 0
		cancelAt := time.Duration(ops[1]&0x1f) * time.Millisecond // 0: never
		plan := ops[2:]
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelAt > 0 {
				time.AfterFunc(cancelAt, cancel)
			}
			start := time.Now()
			var (
				mu      sync.Mutex
				starts  []time.Duration
				results []Result[int] // of the attempts that returned before their end
				ended   []time.Duration
			)
			fn := func(actx context.Context) (int, error) {
				mu.Lock()
				i := len(starts)
				starts = append(starts, time.Since(start))
				mu.Unlock()
				b := byte(0x05) // an attempt past the plan: 5 ms, then success
				if i < len(plan) {
					b = plan[i]
				}
				took := time.Duration(b&0x1f) * time.Millisecond
				ok := b&0x80 == 0
				select {
				case <-time.After(took):
				case <-actx.Done():
					return 0, actx.Err()
				}
				r := Result[int]{Value: 100 + i}
				if !ok {
					r = Result[int]{Err: fmt.Errorf("attempt %d failed", i)}
				}
				mu.Lock()
				results = append(results, r)
				ended = append(ended, time.Since(start))
				mu.Unlock()
				return r.Value, r.Err
			}
			var out *Future[int]
			if budgeted {
				out = HedgeWithin(ctx, NewHedgeBudget(0.5, 2), delay, attempts, fn)
			} else {
				out = Hedge(ctx, delay, attempts, fn)
			}
			timer := After(7 * time.Millisecond)
			race := Race(Then(out, func(int) (int, error) { return 1, nil }), Then(timer, func(time.Time) (int, error) { return 2, nil }))
			v, err := out.Await(context.Background())
			settledAt := time.Since(start)
			at, _ := timer.Await(context.Background())
			require.Equal(t, start.Add(7*time.Millisecond), at, "After settles at its time, in fake time")
			_, _ = race.Await(context.Background())
			synctest.Wait() // cancelled attempts return

			mu.Lock()
			defer mu.Unlock()
			require.LessOrEqual(t, len(starts), attempts, "no more attempts than allowed")
			for i, s := range starts {
				require.LessOrEqual(t, s, settledAt, "attempt %d started after the future settled", i)
			}
			for i := 1; i < len(starts); i++ {
				gap := starts[i] - starts[i-1]
				failedFirst := false
				for j, e := range ended {
					if e <= starts[i] && e >= starts[i-1] && results[j].Err != nil {
						failedFirst = true
					}
				}
				if !failedFirst {
					require.GreaterOrEqual(t, gap, delay, "hedge %d came sooner than delay", i)
				}
			}
			if err == nil {
				require.Contains(t, results, Result[int]{Value: v}, "the success is one an attempt returned")
				return
			}
			if cancelAt > 0 && errors.Is(err, context.Canceled) {
				require.Equal(t, cancelAt, settledAt, "the caller's context ended: the future fails then")
				return
			}
			require.Len(t, results, len(starts), "a failure: every attempt started has failed")
			for _, r := range results {
				require.Error(t, r.Err)
				require.ErrorContains(t, err, r.Err.Error(), "the future's error carries each attempt's")
			}
			if !budgeted {
				require.Len(t, starts, attempts, "every attempt failed: all were started")
			}
		})
	})
}
