package future

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAfterFiresAtD(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		f := After(time.Second)

		time.Sleep(time.Second - time.Nanosecond)
		_, ok := f.Peek()
		require.False(t, ok, "pending just before d")

		time.Sleep(time.Nanosecond)
		synctest.Wait()
		r, ok := f.Peek()
		require.True(t, ok, "settled at d")
		require.NoError(t, r.Err)
		assert.Equal(t, start.Add(time.Second), r.Value, "settles with the time it fired")
		assert.False(t, f.Cancel(), "Cancel after d reports false")
		r, _ = f.Peek()
		assert.NoError(t, r.Err, "Cancel after d changes nothing")
	})
}

func TestAfterAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		got, err := After(time.Minute).Await(context.Background())
		require.NoError(t, err)
		assert.Equal(t, time.Minute, got.Sub(start), "Await returns at d")
	})
}

func TestAfterCancelStopsTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, timer := after(time.Hour)
		var calls int
		f.AfterDone(func() { calls++ })

		time.Sleep(time.Minute)
		require.True(t, f.Cancel(), "Cancel before d settles the future")
		assert.False(t, timer.Stop(), "Cancel stopped the timer: it was no longer active")
		_, err := f.Await(context.Background())
		assert.ErrorIs(t, err, context.Canceled)

		time.Sleep(2 * time.Hour)
		assert.Equal(t, 1, calls, "callbacks ran once, at Cancel")
		assert.False(t, f.Cancel(), "a second Cancel reports false")
	})
}

func TestAfterNonPositiveIsReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, d := range []time.Duration{0, -time.Second} {
			now := time.Now()
			f, timer := after(d)
			assert.Nil(t, timer, "no timer for d=%v", d)
			r, ok := f.Peek()
			require.True(t, ok, "After(%v) is settled at once", d)
			assert.NoError(t, r.Err)
			assert.Equal(t, now, r.Value)
			assert.False(t, f.Cancel(), "Cancel of a settled After reports false")
		}
	})
}

func TestAfterRaceAsTimeout(t *testing.T) {
	errTimedOut := errors.New("timed out")
	race := func(work *Future[string], d time.Duration) (*Future[string], *Future[time.Time]) {
		timer := After(d)
		timedOut := Then(timer, func(time.Time) (string, error) { return "", errTimedOut })
		return Race(work, timedOut), timer
	}

	t.Run("work first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			work, resolve := New[string]()
			r, timer := race(work, time.Second)
			time.AfterFunc(time.Millisecond, func() { resolve("done", nil) })

			v, err := r.Await(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "done", v)
			assert.True(t, timer.Cancel(), "the losing timer is still pending, and Cancel frees it")
		})
	})

	t.Run("timer first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			work, _ := New[string]()
			r, _ := race(work, time.Second)

			_, err := r.Await(context.Background())
			require.ErrorIs(t, err, errTimedOut)
			assert.Equal(t, time.Second, time.Since(start), "the race settles at the timer's d")
			_, ok := work.Peek()
			assert.False(t, ok, "Race does not settle its inputs")
		})
	})
}

func BenchmarkAfter(b *testing.B) {
	b.Run("impl=After+Cancel", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			After(time.Hour).Cancel()
		}
	})
	b.Run("impl=time.AfterFunc+Stop", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			time.AfterFunc(time.Hour, func() {}).Stop()
		}
	})
}
