package continuation_test

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/suspendtest"
	"github.com/gosuspend/suspend/pool"
)

// expvarNames makes the names the tests publish under unique: expvar.Publish panics on a
// name taken, and a test may run more than once (-count).
var expvarNames atomic.Int64

// publish publishes Expvar(s) under a new name and returns the value read back through
// expvar.Get, decoded.
func publish(t *testing.T, s *continuation.Scheduler) func() map[string]any {
	t.Helper()
	name := fmt.Sprintf("continuation-test-%d", expvarNames.Add(1))
	expvar.Publish(name, continuation.Expvar(s))
	return func() map[string]any {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(expvar.Get(name).String()), &v))
		return v
	}
}

// TestExpvar: in a bubble, where the steps take no time, three bodies complete, one fails,
// two wait on a gate that opens a second later, and one is refused past the alive bound;
// the published value has the counts, and for each histogram its count, sum and
// quantiles in ns.
func TestExpvar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(2))
		read := publish(t, s)
		ctx := context.Background()
		for i := range 4 {
			_, _ = continuation.Spawn(s, ctx, func(*continuation.C) (int, error) {
				if i == 3 {
					return 0, errors.New("boom")
				}
				return i, nil
			}).Await(ctx)
		}
		gate, open := future.New[int]()
		var waiting []*future.Future[int]
		for range 2 {
			waiting = append(waiting, continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
				return continuation.Await(c, gate)
			}))
		}
		synctest.Wait()
		_, err := continuation.Run(s, ctx, func(*continuation.C) (int, error) { return 0, nil })
		require.ErrorIs(t, err, continuation.ErrOverloaded)

		v := read()
		for key, want := range map[string]float64{"alive": 2, "running": 0, "suspended": 2, "queued": 0,
			"completed": 3, "failed": 1, "panicked": 0, "cancelled": 0, "deadline": 0, "stopped": 0,
			"overloaded": 1, "shed": 0, "late": 0, "closed": 0, "step_overruns": 0} {
			assert.Equal(t, want, v[key], key)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		assert.Equal(t, []string{"alive", "cancelled", "closed", "completed", "deadline", "failed", "late",
			"overloaded", "panicked", "queued", "running", "shed", "slot_wait", "step", "step_overruns",
			"stopped", "suspended", "suspension"}, keys)
		none := map[string]any{"count": 0.0, "sum_ns": 0.0, "p50_ns": 0.0, "p99_ns": 0.0}
		assert.Equal(t, none, v["suspension"])

		time.Sleep(time.Second)
		open(1, nil)
		for _, f := range waiting {
			_, err := f.Await(ctx)
			require.NoError(t, err)
		}
		synctest.Wait() // a Spawn's future settles before its end is counted
		v = read()
		assert.Equal(t, 5.0, v["completed"])
		assert.Equal(t, 0.0, v["alive"])
		// Six first steps and two resumed ones, each with a free slot at once and taking
		// no time; two suspensions of 1 s each. The quantiles are estimates, interpolated
		// within the bucket that holds them (for 0, below 1.024 µs).
		l := s.Latencies()
		for key, want := range map[string]struct {
			h     continuation.Histogram
			count float64
			sum   float64
			about float64
		}{"slot_wait": {l.SlotWait, 8, 0, 512}, "step": {l.Step, 8, 0, 512}, "suspension": {l.Suspension, 2, 2e9, 1e9}} {
			assert.Equal(t, map[string]any{"count": want.count, "sum_ns": want.sum,
				"p50_ns": float64(want.h.Quantile(0.5)), "p99_ns": float64(want.h.Quantile(0.99))}, v[key], key)
			assert.InEpsilon(t, want.about, want.h.Quantile(0.5), 1, key)
			assert.InEpsilon(t, want.about, want.h.Quantile(0.99), 1, key)
		}

		require.NoError(t, s.Shutdown(ctx))
		require.NoError(t, p.Shutdown(ctx))
	})
}

func TestExpvarNilScheduler(t *testing.T) {
	require.PanicsWithValue(t, "continuation: Expvar called with a nil *Scheduler", func() {
		continuation.Expvar(nil)
	})
}

// The variable is an expvar.Var.
var _ expvar.Var = continuation.Expvar(&continuation.Scheduler{})

// A program publishes its scheduler's counts with the standard expvar package: a server
// that mounts expvar.Handler() shows them at /debug/vars, under "suspend".
func ExampleExpvar() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	defer p.Shutdown(context.Background())
	defer s.Shutdown(context.Background())

	expvar.Publish("suspend", continuation.Expvar(s))

	for range 3 {
		_, _ = continuation.Run(s, context.Background(), func(*continuation.C) (int, error) { return 1, nil })
	}
	var v struct {
		Alive     int
		Completed int
		Step      struct{ Count int }
	}
	_ = json.Unmarshal([]byte(expvar.Get("suspend").String()), &v)
	fmt.Printf("alive %d, completed %d, steps %d\n", v.Alive, v.Completed, v.Step.Count)
	// Output:
	// alive 0, completed 3, steps 3
}

// BenchmarkExpvar: one read of the variable with 10,000 continuations alive (suspended)
// under 16 labels, after 10,000 have run.
func BenchmarkExpvar(b *testing.B) {
	s, _, done := suspendtest.Loaded(b, 10_000, 10_000, 16)
	defer done()
	v := continuation.Expvar(s)
	b.Run("Stats+Latencies", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.Stats(), s.Latencies()
		}
	})
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.String()
		}
	})
}
