package continuation

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

func TestHistogramBuckets(t *testing.T) {
	bounds := HistogramBounds()
	require.Len(t, bounds, histBuckets-1)
	require.Equal(t, 1024*time.Nanosecond, bounds[0])
	require.Equal(t, time.Duration(1)<<histMaxExp, bounds[len(bounds)-1])
	for i := 1; i < len(bounds); i++ {
		require.Less(t, bounds[i-1], bounds[i])
	}
	// Every duration lands in the bucket whose bounds hold it.
	for _, d := range []int64{0, 1, 1023, 1024, 1279, 1280, 1500, 2047, 2048, 5e6, 1e9, 1<<37 - 1, 1 << 37, 1 << 50} {
		i := bucketOf(d)
		if i > 0 {
			require.GreaterOrEqual(t, d, int64(bounds[i-1]), "%d in bucket %d", d, i)
		}
		if i < len(bounds) {
			require.Less(t, d, int64(bounds[i]), "%d in bucket %d", d, i)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h hist
	for i := range 100 {
		h.record(int64(time.Duration(i+1) * time.Millisecond)) // 1..100 ms
	}
	var out Histogram
	h.addTo(&out)
	require.Equal(t, uint64(100), out.Count)
	require.Equal(t, 5050*time.Millisecond, out.Sum)
	require.Equal(t, 50500*time.Microsecond, out.Mean())
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 0.1: 10 * time.Millisecond} {
		got := out.Quantile(q)
		assert.InEpsilon(t, float64(want), float64(got), 0.25, "q%v: %v", q, got)
	}
	require.Zero(t, Histogram{}.Quantile(0.5))

	var zeros hist // waits for a free slot
	for range 10 {
		zeros.record(0)
	}
	var z Histogram
	zeros.addTo(&z)
	require.Zero(t, z.Quantile(0.99), "under 1.024 µs reads as 0")
}

// TestAccounting: a body that waits on three futures, each settling a second later, after
// steps that take 10 ms each, shows four steps (one before each wait and the last), its
// suspended time is the sum of its waits, its busy time the sum of its steps, and its
// route's histograms hold each period; for Spawn and Run alike, and for Blocking.
func TestAccounting(t *testing.T) {
	for _, how := range []string{"spawn", "run"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := pool.New(1)
				s := NewScheduler(p)
				body := func(c *C) (int, error) {
					for range 3 {
						time.Sleep(10 * time.Millisecond) // a step's work
						f, resolve := future.New[int]()
						time.AfterFunc(time.Second, func() { resolve(1, nil) })
						if _, err := Await(c, f); err != nil {
							return 0, err
						}
					}
					time.Sleep(10 * time.Millisecond)
					// A Blocking call is a suspension too, and ends a step.
					_, err := Blocking(c, func() (int, error) { time.Sleep(500 * time.Millisecond); return 0, nil })
					return 0, err
				}
				var snap []Info
				go func() {
					time.Sleep(1500 * time.Millisecond) // during the second wait
					snap = s.Snapshot()
				}()
				if how == "spawn" {
					_, err := Spawn(s, context.Background(), body, WithLabel("GET /a")).Await(context.Background())
					require.NoError(t, err)
				} else {
					_, err := Run(s, context.Background(), body, WithLabel("GET /a"))
					require.NoError(t, err)
				}
				synctest.Wait()

				require.Len(t, snap, 1)
				require.Equal(t, Info{Label: "GET /a", State: Suspended, Age: 1500 * time.Millisecond,
					InState: 480 * time.Millisecond, Steps: 2, Busy: 20 * time.Millisecond, Suspended: time.Second}, snap[0])

				routes := s.Routes()
				require.Len(t, routes, 1)
				r := routes[0]
				require.Equal(t, "GET /a", r.Label)
				require.Zero(t, r.Running+r.Suspended+r.Queued, "none alive")
				require.Equal(t, uint64(5), r.Step.Count, "4 steps, and the one after Blocking")
				require.Equal(t, 40*time.Millisecond, r.Step.Sum)
				require.Equal(t, uint64(4), r.Suspension.Count, "3 Awaits and a Blocking")
				require.Equal(t, 3500*time.Millisecond, r.Suspension.Sum)
				require.Equal(t, uint64(5), r.SlotWait.Count)
				require.Zero(t, r.SlotWait.Sum, "a slot was always free")
				require.Equal(t, r.Latencies, s.Latencies())

				require.NoError(t, s.Shutdown(context.Background()))
				require.NoError(t, p.Shutdown(context.Background()))
			})
		})
	}
}

// TestAccountingSlotWait: the wait for a slot, to start and to resume, is counted as such,
// and not as suspended time.
func TestAccountingSlotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := NewScheduler(p)
		require.NoError(t, p.Acquire(context.Background())) // the only slot, for 2 s
		time.AfterFunc(2*time.Second, p.Release)
		gate, open := future.New[int]()
		time.AfterFunc(3*time.Second, func() { open(1, nil) })
		f := Spawn(s, context.Background(), func(c *C) (int, error) {
			_, err := Await(c, gate)
			return 0, err
		}, WithLabel("w"))
		// While it waits to resume: a slot holder from 3 s to 4 s.
		time.AfterFunc(2500*time.Millisecond, func() {
			require.NoError(t, p.Acquire(context.Background()))
			time.AfterFunc(1500*time.Millisecond, p.Release)
		})
		_, err := f.Await(context.Background())
		require.NoError(t, err)
		synctest.Wait()
		l := s.Latencies()
		require.Equal(t, uint64(2), l.SlotWait.Count)
		require.Equal(t, 3*time.Second, l.SlotWait.Sum, "2 s to start, 1 s to resume")
		require.Equal(t, uint64(1), l.Suspension.Count)
		require.Equal(t, time.Second, l.Suspension.Sum, "from its first step, at 2 s, to the gate, at 3 s")
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
}

// TestRoutesBounded: labels past the first 256 share one route; Routes lists the alive by
// state.
func TestRoutesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := NewScheduler(p)
		gate, open := future.New[int]()
		var fs []*future.Future[int]
		for i := range maxRoutes + 10 {
			fs = append(fs, Spawn(s, context.Background(), func(c *C) (int, error) { return Await(c, gate) },
				WithLabel(fmt.Sprint("/", i))))
		}
		synctest.Wait()
		routes := s.Routes()
		require.Len(t, routes, maxRoutes+1)
		var other Route
		for _, r := range routes {
			if r.Label == OtherRoute {
				other = r
			}
		}
		require.Equal(t, 10, other.Suspended)
		open(1, nil)
		for _, f := range fs {
			_, err := f.Await(context.Background())
			require.NoError(t, err)
		}
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
}
