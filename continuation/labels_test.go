package continuation

import (
	"context"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// TestProfileLabels: with WithProfileLabels, the goroutines that run a spawned body and a
// Run body carry the label with the continuation's label, as a goroutine profile shows;
// without it, none does.
func TestProfileLabels(t *testing.T) {
	for _, on := range []bool{true, false} {
		p := pool.New(2)
		var opts []Option
		if on {
			opts = append(opts, WithProfileLabels())
		}
		s := NewScheduler(p, opts...)
		gate, open := future.New[int]()
		inAwait := make(chan struct{}, 2)
		body := func(c *C) (int, error) {
			inAwait <- struct{}{}
			return Await(c, gate)
		}
		spawned := Spawn(s, context.Background(), body, WithLabel("GET /spawned"))
		ran := make(chan error, 1)
		go func() {
			_, err := Run(s, context.Background(), body, WithLabel("GET /run"))
			ran <- err
		}()
		<-inAwait
		<-inAwait
		var prof strings.Builder
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(&prof, 1))
		for _, label := range []string{"GET /spawned", "GET /run"} {
			has := strings.Contains(prof.String(), `# labels: {"continuation":"`+label+`"}`)
			require.Equal(t, on, has, "label %q in the goroutine profile", label)
		}
		open(1, nil)
		_, err := spawned.Await(context.Background())
		require.NoError(t, err)
		require.NoError(t, <-ran)
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}
}
