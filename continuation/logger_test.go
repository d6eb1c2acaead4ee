package continuation

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/pool"
)

// TestOneLoggerForTheStack: a logger given to the pool is the scheduler's too, unless the
// scheduler is given its own; with none given, both log to slog.Default as it is when they
// log, not as it was when they were made.
func TestOneLoggerForTheStack(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	p := pool.New(1, pool.WithLogger(l))
	s := NewScheduler(p)
	require.Same(t, l, p.Logger())
	require.Same(t, l, s.Logger(), "the scheduler logs to its pool's logger")
	own := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	require.Same(t, own, NewScheduler(p, WithLogger(own)).Logger())
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))

	p, s = pool.New(1), nil
	defer p.Shutdown(context.Background())
	s = NewScheduler(p)
	old := slog.Default()
	defer slog.SetDefault(old)
	slog.SetDefault(l)
	require.Same(t, l, p.Logger(), "slog.SetDefault after New takes effect")
	require.Same(t, l, s.Logger())

	// The watchdog's report goes there.
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(1)
		s := NewScheduler(p, WithStepBudget(time.Second))
		_, err := Run(s, context.Background(), func(*C) (int, error) {
			time.Sleep(2 * time.Second)
			return 0, nil
		})
		require.NoError(t, err)
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	})
	require.Contains(t, buf.String(), "step running past its budget")
}
