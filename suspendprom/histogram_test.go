package suspendprom

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// TestHistogramFolding: the scheduler's buckets, four per power of two, are exported with
// one bucket per power of two: the bound 2^k ns counts every bucket below it.
func TestHistogramFolding(t *testing.T) {
	bounds := continuation.HistogramBounds()
	h := continuation.Histogram{Counts: make([]uint64, len(bounds)+1), Sum: 3 * time.Second}
	for i := range h.Counts {
		h.Counts[i] = uint64(i + 1) // bucket i holds i+1 durations
		h.Count += h.Counts[i]
	}
	p := pool.New(1)
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()
	c := NewCollector(continuation.NewScheduler(p), nil).(*collector)
	var m dto.Metric
	require.NoError(t, c.histogram(prometheus.NewDesc("h", "h", nil, nil), h).Write(&m))
	require.Equal(t, h.Count, m.GetHistogram().GetSampleCount())
	require.Equal(t, 3.0, m.GetHistogram().GetSampleSum())
	buckets := m.GetHistogram().GetBucket()
	require.Len(t, buckets, 28)
	for k, b := range buckets {
		bound := time.Duration(1) << (10 + k)
		require.Equal(t, bound.Seconds(), b.GetUpperBound(), "bound %d", k)
		var want uint64 // the durations below bound: buckets 0 to 4k, the one that ends at it
		for i, bd := range bounds {
			if bd > bound {
				break
			}
			want += h.Counts[i]
		}
		require.Equal(t, want, b.GetCumulativeCount(), "le %v", bound)
	}
	// The bucket above the last bound is counted only in the count (+Inf).
	require.Equal(t, h.Count-h.Counts[len(h.Counts)-1], buckets[27].GetCumulativeCount())
}
