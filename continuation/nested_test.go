package continuation

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosuspend/suspend/future"
)

// TestNestedRun: a Run from a running body, with its context, fails at once with
// ErrNested, and on a pool of one slot neither hangs nor breaks the bound when written as
// the error says: within Blocking, or as a Spawn awaited.
func TestNestedRun(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, p := setup(t, 1)
		inner := func(*C) (int, error) {
			if p.Stats().Busy != 1 {
				return 0, errBoom // the inner body runs in a slot, and the only one
			}
			return 5, nil
		}
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			if _, err := Run(s, c.Context(), inner); err != ErrNested {
				return 0, err
			}
			ctx, cancel := context.WithCancel(c.Context())
			defer cancel()
			if _, err := Run(s, ctx, inner); err != ErrNested {
				return 0, err // a context made from the body's is the body's too
			}
			a, err := Blocking(c, func() (int, error) { return Run(s, c.Context(), inner) })
			if err != nil {
				return 0, err
			}
			b, err := Await(c, Spawn(s, c.Context(), inner))
			if err != nil {
				return 0, err
			}
			d, err := Await(c, future.Go(c.Context(), func(ctx context.Context) (int, error) {
				return Run(s, ctx, inner) // from a goroutine the body awaits
			}))
			return a + b + d, err
		}))
		require.NoError(t, err)
		require.Equal(t, 15, v)
	})
}

// TestSpawnCallbacksAreWork: the callbacks of a spawned continuation's future run in the
// continuation's last step: it is still alive and running meanwhile, and Shutdown waits
// for them.
func TestSpawnCallbacksAreWork(t *testing.T) {
	s, p := setup(t, 1)
	inCallback := make(chan struct{})
	release := make(chan struct{})
	registered, open := future.New[int]()
	f := Spawn(s, context.Background(), func(c *C) (int, error) {
		return Await(c, registered) // so that the callback below is registered first
	}, WithLabel("with callback"))
	f.OnDone(func(int, error) {
		close(inCallback)
		<-release
	})
	open(1, nil)
	<-inCallback
	st := s.Stats()
	require.Equal(t, 1, st.Alive, "the continuation is not counted out while its callbacks run")
	require.Equal(t, 1, st.Running)
	require.Equal(t, 1, p.Stats().Busy)
	require.Equal(t, "with callback", s.Snapshot()[0].Label)
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case <-shut:
		t.Fatal("Shutdown returned while the callbacks ran")
	default:
	}
	close(release)
	require.NoError(t, <-shut)
	require.Equal(t, int64(1), s.Stats().Completed)
}

// TestRunFromGoroutineOfRunningBody: a goroutine the body started holds no slot, so it may
// Run with the body's context while the body still runs.
func TestRunFromGoroutineOfRunningBody(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		s, _ := setup(t, 2)
		v, err := get(t, m.start(s, context.Background(), func(c *C) (int, error) {
			ran := make(chan struct{})
			f := future.Go(c.Context(), func(ctx context.Context) (int, error) {
				defer close(ran)
				return Run(s, ctx, func(*C) (int, error) { return 4, nil })
			})
			<-ran // the body runs on, holding its slot, until the goroutine's Run is done
			return Await(c, f)
		}))
		require.NoError(t, err)
		require.Equal(t, 4, v)
	})
}

// TestEndedContextStartsNothing: a context that has ended starts no body and takes no
// slot, whether it ended before Run or Spawn or while a spawned continuation was queued.
func TestEndedContextStartsNothing(t *testing.T) {
	s, p := setup(t, 1)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	body := func(*C) (int, error) { ran = true; return 1, nil }
	_, err := Run(s, ended, body)
	require.ErrorIs(t, err, context.Canceled)
	_, err = get(t, Spawn(s, ended, body))
	require.ErrorIs(t, err, context.Canceled)

	release := occupy(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	f := Spawn(s, ctx, body) // queued behind the occupied slot
	cancel()
	release()
	_, err = get(t, f)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ran, "no body started")
	//lint:ignore SA1012 the nil context is the misuse under test
	require.PanicsWithValue(t, "continuation: Shutdown called with a nil Context", func() { s.Shutdown(nil) })
}
