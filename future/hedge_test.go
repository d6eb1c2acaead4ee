package future

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attemptLog records, for a hedged fn, when each attempt started and how its context ended.
type attemptLog struct {
	mu      sync.Mutex
	starts  []time.Duration // since the log was made
	ctxErrs []error         // each attempt's ctx.Err() when it returned
	begin   time.Time
}

func newAttemptLog() *attemptLog { return &attemptLog{begin: time.Now()} }

// fn returns a hedged function whose attempt i runs plan(i): it waits d (or until its
// context ends, returning the context's error) and then returns v, err.
func (l *attemptLog) fn(plan func(i int) (d time.Duration, v string, err error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		l.mu.Lock()
		i := len(l.starts)
		l.starts = append(l.starts, time.Since(l.begin))
		l.ctxErrs = append(l.ctxErrs, nil)
		l.mu.Unlock()
		d, v, err := plan(i)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			v, err = "", ctx.Err()
		}
		l.mu.Lock()
		l.ctxErrs[i] = ctx.Err()
		l.mu.Unlock()
		return v, err
	}
}

func (l *attemptLog) calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.starts)
}

func TestHedgeFirstSucceedsBeforeDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(int) (time.Duration, string, error) {
			return 100 * time.Millisecond, "first", nil
		}))
		v, err := f.Await(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "first", v)

		time.Sleep(10 * time.Second) // well past every delay
		synctest.Wait()
		assert.Equal(t, 1, l.calls(), "no hedge once the first attempt succeeded")
	})
}

func TestHedgeSlowFirstLosesToSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(i int) (time.Duration, string, error) {
			if i == 0 {
				return time.Hour, "slow", nil
			}
			return 100 * time.Millisecond, fmt.Sprint("hedge ", i), nil
		}))
		v, err := f.Await(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "hedge 1", v)

		synctest.Wait() // the first attempt sees its context cancelled, and returns
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Equal(t, []time.Duration{0, time.Second}, l.starts, "the second attempt starts at delay, and no third")
		assert.ErrorIs(t, l.ctxErrs[0], context.Canceled, "the loser's context is cancelled")
	})
}

func TestHedgeStartsAtEachDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(i int) (time.Duration, string, error) {
			return time.Hour - time.Duration(i)*time.Minute, fmt.Sprint(i), nil
		}))
		v, err := f.Await(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "2", v, "the attempt that returns first wins, whatever its rank")

		synctest.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, l.starts, "no more than attempts")
		assert.ErrorIs(t, l.ctxErrs[0], context.Canceled)
		assert.ErrorIs(t, l.ctxErrs[1], context.Canceled)
	})
}

func TestHedgeAllFailJoined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errs := []error{errors.New("a"), errors.New("b"), errors.New("c")}
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(i int) (time.Duration, string, error) {
			return 10 * time.Second, "", errs[i]
		}))
		_, err := f.Await(context.Background())
		require.Error(t, err)
		for _, e := range errs {
			assert.ErrorIs(t, err, e, "every attempt's error is joined")
		}
		assert.Equal(t, "a\nb\nc", err.Error(), "in the order the attempts started")
		assert.Equal(t, 3, l.calls())
	})
}

func TestHedgeFailureStartsNextAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(i int) (time.Duration, string, error) {
			if i == 0 {
				return 100 * time.Millisecond, "", errBoom
			}
			return time.Hour, "ok", nil
		}))
		time.Sleep(time.Hour + time.Second)
		r, ok := f.Peek()
		require.True(t, ok)
		require.NoError(t, r.Err, "a later attempt recovers from the failure")
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 1100 * time.Millisecond}, l.starts,
			"the failure starts the next at once, and the one after is due delay later")
	})
}

func TestHedgeOneAttemptIsAPlainCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Millisecond, 1, l.fn(func(int) (time.Duration, string, error) {
			return time.Second, "", errBoom
		}))
		_, err := f.Await(context.Background())
		assert.Same(t, errBoom, err, "the only attempt's error, as it is")
		assert.Equal(t, 1, l.calls())

		l = newAttemptLog()
		v, err := Hedge(context.Background(), 0, 1, l.fn(func(int) (time.Duration, string, error) {
			return time.Second, "v", nil
		})).Await(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "v", v)
		assert.Equal(t, 1, l.calls())
	})
}

func TestHedgeContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		l := newAttemptLog()
		f := Hedge(ctx, time.Second, 5, l.fn(func(int) (time.Duration, string, error) {
			return time.Hour, "late", nil
		}))
		_, err := f.Await(context.Background())
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the output fails with ctx's error")

		time.Sleep(time.Hour)
		synctest.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Equal(t, []time.Duration{0, time.Second}, l.starts, "no attempt after ctx ended")
		for i, e := range l.ctxErrs {
			assert.ErrorIs(t, e, context.DeadlineExceeded, "attempt %d's context ended with ctx", i)
		}
	})
}

func TestHedgeContextEndedBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	f := Hedge(ctx, time.Second, 2, func(context.Context) (int, error) {
		calls.Add(1)
		return 1, nil
	})
	_, err := f.Await(context.Background())
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, calls.Load(), "fn is not called")
}

func TestHedgeCancelStopsAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), time.Second, 3, l.fn(func(int) (time.Duration, string, error) {
			return time.Hour, "late", nil
		}))
		time.Sleep(1500 * time.Millisecond)
		require.True(t, f.Cancel())
		synctest.Wait()
		time.Sleep(time.Hour)
		synctest.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Len(t, l.starts, 2, "no attempt after Cancel")
		for i, e := range l.ctxErrs {
			assert.ErrorIs(t, e, context.Canceled, "attempt %d's context cancelled", i)
		}
	})
}

func TestHedgePanicBecomesPanicError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := Hedge(context.Background(), time.Second, 2, func(context.Context) (int, error) {
			panic("kaboom")
		})
		_, err := f.Await(context.Background())
		var perr *PanicError
		require.ErrorAs(t, err, &perr, "both attempts panic: joined PanicErrors")
		assert.Equal(t, "kaboom", perr.Value)
	})
}

func TestHedgeBadInputPanics(t *testing.T) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 0, nil }
	var nilCtx context.Context
	cases := []struct {
		name, want string
		call       func()
	}{
		{"nil ctx", "future: Hedge called with a nil Context", func() { Hedge(nilCtx, 0, 1, fn) }},
		{"nil fn", "future: Hedge called with a nil function", func() { Hedge[int](ctx, 0, 1, nil) }},
		{"attempts 0", "future: Hedge called with attempts < 1", func() { Hedge(ctx, 0, 0, fn) }},
		{"negative delay", "future: Hedge called with a negative delay", func() { Hedge(ctx, -1, 1, fn) }},
		{"nil budget", "future: HedgeWithin called with a nil *HedgeBudget", func() { HedgeWithin(ctx, nil, 0, 1, fn) }},
		{"within attempts", "future: HedgeWithin called with attempts < 1", func() { HedgeWithin(ctx, NewHedgeBudget(0.1, 10), 0, -1, fn) }},
		{"ratio 0", "future: NewHedgeBudget called with a ratio that is not a positive number", func() { NewHedgeBudget(0, 10) }},
		{"max 0", "future: NewHedgeBudget called with max < 1", func() { NewHedgeBudget(0.1, 0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.PanicsWithValue(t, c.want, c.call)
		})
	}
}

func TestHedgeBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// max 4: hedges while more than 2 tokens; each call earns 0.5.
		b := NewHedgeBudget(0.5, 4)
		call := func() int {
			l := newAttemptLog()
			f := HedgeWithin(context.Background(), b, time.Second, 3, l.fn(func(int) (time.Duration, string, error) {
				return 10 * time.Second, "ok", nil
			}))
			_, err := f.Await(context.Background())
			require.NoError(t, err)
			synctest.Wait()
			return l.calls()
		}
		// 4 tokens (full, the deposit is lost) -> two hedges -> 2; then suppressed.
		assert.Equal(t, 3, call(), "a full budget allows the hedges")
		// 2 + 0.5 = 2.5 -> one hedge -> 1.5
		assert.Equal(t, 2, call(), "one hedge left above half")
		// 1.5 + 0.5 = 2: not above half
		assert.Equal(t, 1, call(), "an exhausted budget suppresses hedges")
		// 2.5 -> one hedge -> 1.5
		assert.Equal(t, 2, call(), "calls refill the budget")

		// A suppressed hedge on failure: the call fails with the attempts it had.
		b = NewHedgeBudget(0.1, 1) // hedges while more than 0.5 token: one in all
		var calls atomic.Int32
		_, err := HedgeWithin(context.Background(), b, time.Second, 5, func(context.Context) (int, error) {
			return 0, fmt.Errorf("fail %d", calls.Add(1))
		}).Await(context.Background())
		assert.EqualError(t, err, "fail 1\nfail 2")
	})
}

func TestHedgeBudgetZeroValue(t *testing.T) {
	var b HedgeBudget
	b.deposit()
	assert.False(t, b.spend(), "the zero value allows no hedge")
}

// TestHedgeHammer races successes, failures, hedges, Cancel and ctx's end against each
// other; goleak (TestMain) checks that every attempt's goroutine returned.
func TestHedgeHammer(t *testing.T) {
	b := NewHedgeBudget(0.5, 20)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var n atomic.Int32
			f := HedgeWithin(ctx, b, time.Duration(i%3)*time.Microsecond, 1+i%4, func(ctx context.Context) (int, error) {
				k := n.Add(1)
				if (int(k)+i)%3 == 0 {
					return 0, errBoom
				}
				select {
				case <-time.After(time.Duration(i%5) * time.Microsecond):
					return int(k), nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			})
			switch i % 5 {
			case 0:
				f.Cancel()
			case 1:
				cancel()
			}
			<-f.Done()
			r, _ := f.Peek()
			if r.Err == nil {
				assert.Positive(t, r.Value)
			}
		})
	}
	wg.Wait()
}

func BenchmarkHedge(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.Run("impl=Go", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			sinkInt, _ = Go(ctx, fn).Await(ctx)
		}
	})
	b.Run("impl=Hedge", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			sinkInt, _ = Hedge(ctx, time.Hour, 2, fn).Await(ctx)
		}
	})
	b.Run("impl=HedgeWithin", func(b *testing.B) {
		bud := NewHedgeBudget(0.1, 10)
		b.ReportAllocs()
		for range b.N {
			sinkInt, _ = HedgeWithin(ctx, bud, time.Hour, 2, fn).Await(ctx)
		}
	})
}

func TestHedgeZeroDelayStartsAllAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAttemptLog()
		f := Hedge(context.Background(), 0, 3, l.fn(func(i int) (time.Duration, string, error) {
			return time.Second, fmt.Sprint(i), nil
		}))
		_, err := f.Await(context.Background())
		require.NoError(t, err)
		synctest.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		assert.Equal(t, []time.Duration{0, 0, 0}, l.starts)
	})
}
