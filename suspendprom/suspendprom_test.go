package suspendprom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/internal/suspendtest"
	"github.com/gosuspend/suspend/pool"
	"github.com/gosuspend/suspend/suspendprom"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

// les are the bounds the histograms must have, in seconds: 2^10 ns to 2^37 ns.
var les = func() []float64 {
	var b []float64
	for k := 10; k <= 37; k++ {
		b = append(b, float64(int64(1)<<k)/1e9)
	}
	return b
}()

// register returns a pedantic registry holding c, checked by promlint.
func register(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems, "promlint")
	return reg
}

// TestCollector: a scheduler with a pool of one slot has run continuations to their end
// (completed, failed), suspended some on a gate, queued some behind a task that holds the
// slot (one Spawn, one Run), and refused one past its alive bound; the gauges and counters
// are exact. Then the gate opens at 1 s and the slot is freed at 2 s, and the histograms
// hold each period exactly (the bubble's clock stands still while the steps run).
func TestCollector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(6))
		c := suspendprom.NewCollector(s, p, suspendprom.WithRoutes())
		reg := register(t, c)
		ctx := context.Background()

		label := continuation.WithLabel
		for i := range 4 {
			f := continuation.Spawn(s, ctx, func(*continuation.C) (int, error) {
				if i == 3 {
					return 0, errBoom
				}
				return i, nil
			}, label("GET /a"))
			_, _ = f.Await(ctx)
		}
		gate, open := future.New[int]()
		var suspended []*future.Future[int]
		for range 4 {
			suspended = append(suspended, continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
				return continuation.Await(c, gate)
			}, label("GET /b")))
		}
		synctest.Wait()
		release := make(chan struct{})
		require.NoError(t, p.Submit(func() { <-release }))
		synctest.Wait()
		queued := continuation.Spawn(s, ctx, func(*continuation.C) (int, error) { return 1, nil }, label("GET /c"))
		ran := make(chan error)
		go func() {
			_, err := continuation.Run(s, ctx, func(*continuation.C) (int, error) { return 1, nil }, label("GET /c"))
			ran <- err
		}()
		synctest.Wait()
		_, err := continuation.Spawn(s, ctx, func(*continuation.C) (int, error) { return 1, nil }, label("GET /d")).Await(ctx)
		require.ErrorIs(t, err, continuation.ErrOverloaded)

		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP suspend_continuations Continuations alive: admitted and not ended, by state.
# TYPE suspend_continuations gauge
suspend_continuations{state="queued"} 2
suspend_continuations{state="running"} 0
suspend_continuations{state="suspended"} 4
# HELP suspend_continuations_ended_total Continuations ended, by how their body ended (completed, failed, panicked, cancelled, deadline, stopped) or why they were refused (overloaded, shed, late, closed).
# TYPE suspend_continuations_ended_total counter
suspend_continuations_ended_total{cause="cancelled"} 0
suspend_continuations_ended_total{cause="closed"} 0
suspend_continuations_ended_total{cause="completed"} 3
suspend_continuations_ended_total{cause="deadline"} 0
suspend_continuations_ended_total{cause="failed"} 1
suspend_continuations_ended_total{cause="late"} 0
suspend_continuations_ended_total{cause="overloaded"} 1
suspend_continuations_ended_total{cause="panicked"} 0
suspend_continuations_ended_total{cause="shed"} 0
suspend_continuations_ended_total{cause="stopped"} 0
# HELP suspend_step_overruns_total Steps that the watchdog saw holding their slot past the step budget.
# TYPE suspend_step_overruns_total counter
suspend_step_overruns_total 0
# HELP suspend_route_continuations Continuations alive, by route (label) and state.
# TYPE suspend_route_continuations gauge
suspend_route_continuations{route="GET /a",state="queued"} 0
suspend_route_continuations{route="GET /a",state="running"} 0
suspend_route_continuations{route="GET /a",state="suspended"} 0
suspend_route_continuations{route="GET /b",state="queued"} 0
suspend_route_continuations{route="GET /b",state="running"} 0
suspend_route_continuations{route="GET /b",state="suspended"} 4
suspend_route_continuations{route="GET /c",state="queued"} 2
suspend_route_continuations{route="GET /c",state="running"} 0
suspend_route_continuations{route="GET /c",state="suspended"} 0
# HELP suspend_pool_slots Slots of the pool: how much work may execute at once.
# TYPE suspend_pool_slots gauge
suspend_pool_slots 1
# HELP suspend_pool_slots_busy Slots held, by a worker running a task (worker) or by a goroutine that took one (inline).
# TYPE suspend_pool_slots_busy gauge
suspend_pool_slots_busy{holder="inline"} 0
suspend_pool_slots_busy{holder="worker"} 1
# HELP suspend_pool_queued Work waiting for a slot: new or resumed, as a queued task (worker) or a waiting goroutine (inline).
# TYPE suspend_pool_queued gauge
suspend_pool_queued{holder="inline",kind="new"} 1
suspend_pool_queued{holder="inline",kind="resumed"} 0
suspend_pool_queued{holder="worker",kind="new"} 1
suspend_pool_queued{holder="worker",kind="resumed"} 0
# HELP suspend_pool_tasks_accepted_total Tasks accepted: new (Submit) or resumed (Resume).
# TYPE suspend_pool_tasks_accepted_total counter
suspend_pool_tasks_accepted_total{kind="new"} 10
suspend_pool_tasks_accepted_total{kind="resumed"} 0
# HELP suspend_pool_tasks_completed_total Tasks that returned or panicked.
# TYPE suspend_pool_tasks_completed_total counter
suspend_pool_tasks_completed_total 8
# HELP suspend_pool_tasks_panicked_total Tasks that panicked.
# TYPE suspend_pool_tasks_panicked_total counter
suspend_pool_tasks_panicked_total 0
# HELP suspend_pool_refused_total Submit and Acquire calls refused: full (ErrFull), shed (ErrShed), late (a deadline that would pass in the queue).
# TYPE suspend_pool_refused_total counter
suspend_pool_refused_total{reason="full"} 0
suspend_pool_refused_total{reason="late"} 0
suspend_pool_refused_total{reason="shed"} 0
`), "suspend_continuations", "suspend_continuations_ended_total", "suspend_step_overruns_total",
			"suspend_route_continuations", "suspend_pool_slots", "suspend_pool_slots_busy", "suspend_pool_queued",
			"suspend_pool_tasks_accepted_total", "suspend_pool_tasks_completed_total",
			"suspend_pool_tasks_panicked_total", "suspend_pool_refused_total"))

		time.Sleep(time.Second)
		open(7, nil)
		time.Sleep(time.Second)
		close(release)
		for _, f := range suspended {
			v, err := f.Await(ctx)
			require.NoError(t, err)
			require.Equal(t, 7, v)
		}
		_, err = queued.Await(ctx)
		require.NoError(t, err)
		require.NoError(t, <-ran)
		synctest.Wait() // a Spawn's future settles before its end is counted

		// Every step took no time; the first steps of /a and /b had a free slot, the
		// resumed /b waited from 1 s to 2 s, the /c from 0 to 2 s; /b was suspended 1 s.
		mfs, err := reg.Gather()
		require.NoError(t, err)
		sec := time.Second.Seconds()
		checkHistogram(t, mfs, "suspend_slot_wait_seconds", "", 14, 8*sec, steps{1.024e-6: 8, 1.073741824: 12, 2.147483648: 14})
		checkHistogram(t, mfs, "suspend_step_seconds", "", 14, 0, steps{1.024e-6: 14})
		checkHistogram(t, mfs, "suspend_suspension_seconds", "", 4, 4*sec, steps{1.073741824: 4})
		checkHistogram(t, mfs, "suspend_route_slot_wait_seconds", "GET /a", 4, 0, steps{1.024e-6: 4})
		checkHistogram(t, mfs, "suspend_route_slot_wait_seconds", "GET /b", 8, 4*sec, steps{1.024e-6: 4, 1.073741824: 8})
		checkHistogram(t, mfs, "suspend_route_slot_wait_seconds", "GET /c", 2, 4*sec, steps{2.147483648: 2})
		checkHistogram(t, mfs, "suspend_route_step_seconds", "GET /b", 8, 0, steps{1.024e-6: 8})
		checkHistogram(t, mfs, "suspend_route_suspension_seconds", "GET /a", 0, 0, steps{})
		checkHistogram(t, mfs, "suspend_route_suspension_seconds", "GET /b", 4, 4*sec, steps{1.073741824: 4})

		require.NoError(t, s.Shutdown(ctx))
		require.NoError(t, p.Shutdown(ctx))
	})
}

// steps gives a histogram's cumulative counts where they change: from each bound on (in
// seconds), up to the next bound given. The buckets below the first bound given are 0.
type steps map[float64]uint64

// checkHistogram finds the histogram name (of route, if route is not "") in mfs and checks
// its count, its sum in seconds, and the cumulative count of each of its buckets.
func checkHistogram(t *testing.T, mfs []*dto.MetricFamily, name, route string, count uint64, sum float64, want steps) {
	t.Helper()
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		require.Equal(t, dto.MetricType_HISTOGRAM, mf.GetType(), name)
		for _, m := range mf.GetMetric() {
			got := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					got = l.GetValue()
				}
			}
			if got == route {
				h = m.GetHistogram()
			}
		}
	}
	require.NotNil(t, h, "%s{route=%q} not found", name, route)
	assert.Equal(t, count, h.GetSampleCount(), "%s{route=%q} count", name, route)
	assert.InDelta(t, sum, h.GetSampleSum(), 1e-9, "%s{route=%q} sum", name, route)
	require.Len(t, h.GetBucket(), len(les), "%s{route=%q} buckets", name, route)
	var n uint64
	for i, b := range h.GetBucket() {
		assert.Equal(t, les[i], b.GetUpperBound(), "%s{route=%q} bound %d", name, route, i)
		if v, ok := want[les[i]]; ok {
			n = v
		}
		assert.Equal(t, n, b.GetCumulativeCount(), "%s{route=%q} le=%v", name, route, les[i])
	}
}

// TestCollectorNoPool: with a nil pool the collector describes and sends no pool metric;
// without WithRoutes, no per-route histogram. The aggregate histograms are there with no
// continuation yet.
func TestCollectorNoPool(t *testing.T) {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	t.Cleanup(func() {
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	c := suspendprom.NewCollector(s, nil)
	reg := register(t, c)

	descs := make(chan *prometheus.Desc, 100)
	c.Describe(descs)
	close(descs)
	var names []string
	for d := range descs {
		names = append(names, d.String())
	}
	assert.Len(t, names, 7)

	mfs, err := reg.Gather()
	require.NoError(t, err)
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
	}
	// suspend_route_continuations has no route yet, so no series.
	assert.Equal(t, []string{"suspend_continuations", "suspend_continuations_ended_total",
		"suspend_slot_wait_seconds", "suspend_step_overruns_total", "suspend_step_seconds",
		"suspend_suspension_seconds"}, got)
	checkHistogram(t, mfs, "suspend_step_seconds", "", 0, 0, steps{})

	_, err = continuation.Run(s, context.Background(), func(*continuation.C) (int, error) { return 1, nil },
		continuation.WithLabel("x"))
	require.NoError(t, err)
	assert.Equal(t, 0, testutil.CollectAndCount(c, "suspend_pool_slots", "suspend_route_step_seconds"))
	assert.Equal(t, 3, testutil.CollectAndCount(c, "suspend_route_continuations"))
}

// TestCollectorInvalidLabels: labels that are not valid UTF-8 (a path a client sent) are
// exported with U+FFFD, and those that then read the same are summed: the scrape works.
// (In a bubble, where the steps take no time.)
func TestCollectorInvalidLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := continuation.NewScheduler(p)
		t.Cleanup(func() {
			require.NoError(t, s.Shutdown(context.Background()))
			require.NoError(t, p.Shutdown(context.Background()))
		})
		for _, l := range []string{"GET /\xff", "GET /\xfe", "GET /\xfe", "GET /ok"} {
			_, err := continuation.Run(s, context.Background(), func(*continuation.C) (int, error) { return 1, nil },
				continuation.WithLabel(l))
			require.NoError(t, err)
		}
		c := suspendprom.NewCollector(s, p, suspendprom.WithRoutes())
		reg := register(t, c)
		mfs, err := reg.Gather()
		require.NoError(t, err)
		checkHistogram(t, mfs, "suspend_route_step_seconds", "GET /\uFFFD", 3, 0, steps{1.024e-6: 3})
		checkHistogram(t, mfs, "suspend_route_step_seconds", "GET /ok", 1, 0, steps{1.024e-6: 1})
		checkHistogram(t, mfs, "suspend_step_seconds", "", 4, 0, steps{1.024e-6: 4})
		assert.Equal(t, 2*3, testutil.CollectAndCount(c, "suspend_route_continuations"))
	})
}

// TestCollectConcurrent: scrapes from several goroutines while continuations come and go
// under more labels than the scheduler keeps routes for. Every scrape succeeds, and at the
// end the counts add up: the aggregate histograms are the sums of the routes'.
func TestCollectConcurrent(t *testing.T) {
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	t.Cleanup(func() {
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	reg := register(t, suspendprom.NewCollector(s, p, suspendprom.WithRoutes()))
	ctx := context.Background()

	const workers, calls = 4, 150
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				_, _ = continuation.Run(s, ctx, func(c *continuation.C) (int, error) {
					_, err := continuation.Await(c, future.Go(ctx, func(context.Context) (int, error) { return 1, nil }))
					return 0, err
				}, continuation.WithLabel(fmt.Sprintf("route %d", (w*calls+i)%300)))
			}
		})
	}
	var scrapers sync.WaitGroup
	for range 3 {
		scrapers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				_, err := reg.Gather()
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	close(done)
	scrapers.Wait()

	mfs, err := reg.Gather()
	require.NoError(t, err)
	var completed float64
	sums := map[string]uint64{}
	routes := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "suspend_continuations_ended_total":
				if m.GetLabel()[0].GetValue() == "completed" {
					completed = m.GetCounter().GetValue()
				}
			case "suspend_step_seconds", "suspend_suspension_seconds":
				sums[mf.GetName()] += m.GetHistogram().GetSampleCount()
			case "suspend_route_step_seconds", "suspend_route_suspension_seconds":
				sums[strings.TrimPrefix(mf.GetName(), "suspend_route_")] += m.GetHistogram().GetSampleCount()
				routes[m.GetLabel()[0].GetValue()] = true
			}
		}
	}
	assert.Equal(t, float64(workers*calls), completed)
	// A body steps once more for each suspension (its future may have settled before
	// its Await: then it goes on without one).
	assert.Equal(t, workers*calls+sums["suspend_suspension_seconds"], sums["suspend_step_seconds"])
	assert.Equal(t, sums["suspend_step_seconds"], sums["step_seconds"])
	assert.Equal(t, sums["suspend_suspension_seconds"], sums["suspension_seconds"])
	assert.Len(t, routes, 257)
	assert.True(t, routes[continuation.OtherRoute])
}

func TestNewCollectorNilScheduler(t *testing.T) {
	require.PanicsWithValue(t, "suspendprom: NewCollector called with a nil *continuation.Scheduler", func() {
		suspendprom.NewCollector(nil, nil)
	})
}

// BenchmarkCollect: one Collect with 10,000 continuations alive (suspended) under 16 and
// under 256 labels, after 10,000 have run, beside the calls it makes (s.Stats, s.Routes,
// p.Stats) alone.
func BenchmarkCollect(b *testing.B) {
	for _, labels := range []int{16, 256} {
		b.Run(fmt.Sprintf("labels=%d", labels), func(b *testing.B) { benchmarkCollect(b, labels) })
	}
}

func benchmarkCollect(b *testing.B, labels int) {
	s, p, done := suspendtest.Loaded(b, 10_000, 10_000, labels)
	defer done()
	collect := func(b *testing.B, c prometheus.Collector) {
		ch := make(chan prometheus.Metric, 1<<15)
		b.ReportAllocs()
		for b.Loop() {
			c.Collect(ch)
			for len(ch) > 0 {
				<-ch
			}
		}
	}
	b.Run("calls", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Stats()
			_ = s.Routes()
			_ = p.Stats()
		}
	})
	b.Run("Collect", func(b *testing.B) { collect(b, suspendprom.NewCollector(s, p)) })
	b.Run("Collect/WithRoutes", func(b *testing.B) { collect(b, suspendprom.NewCollector(s, p, suspendprom.WithRoutes())) })
}
