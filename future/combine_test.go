package future

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func pendings(n int) ([]*Future[int], []func(int, error) bool) {
	fs := make([]*Future[int], n)
	rs := make([]func(int, error) bool, n)
	for i := range fs {
		fs[i], rs[i] = New[int]()
	}
	return fs, rs
}

func await[T any](t *testing.T, f *Future[T]) (T, error) {
	t.Helper()
	r, ok := f.Peek()
	require.True(t, ok, "future should have settled by now")
	return r.Value, r.Err
}

func isPending[T any](t *testing.T, f *Future[T]) {
	t.Helper()
	_, ok := f.Peek()
	require.False(t, ok, "future should still be pending")
}

func TestThen(t *testing.T) {
	f, resolve := New[int]()
	g := Then(f, func(v int) (string, error) { return strconv.Itoa(v * 2), nil })
	isPending(t, g)
	resolve(21, nil)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, "42", v)

	called := false
	_, err = await(t, Then(Failed[int](errBoom), func(int) (int, error) { called = true; return 0, nil }))
	require.ErrorIs(t, err, errBoom, "a failure passes through")
	require.False(t, called, "fn is not called on failure")

	_, err = await(t, Then(Ready(1), func(int) (int, error) { return 0, errBoom }))
	require.ErrorIs(t, err, errBoom, "fn's error fails the result")

	_, err = await(t, Then(Ready(1), func(int) (int, error) { panic("then bug") }))
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "then bug", pe.Value)
}

func TestCatch(t *testing.T) {
	v, err := await(t, Catch(Failed[int](errBoom), func(err error) (int, error) {
		require.ErrorIs(t, err, errBoom)
		return -1, nil
	}))
	require.NoError(t, err)
	require.Equal(t, -1, v, "fn recovers with a value")

	called := false
	v, err = await(t, Catch(Ready(5), func(error) (int, error) { called = true; return 0, nil }))
	require.NoError(t, err)
	require.Equal(t, 5, v)
	require.False(t, called, "fn is not called on success")

	other := errors.New("other")
	_, err = await(t, Catch(Failed[int](errBoom), func(error) (int, error) { return 0, other }))
	require.ErrorIs(t, err, other)

	_, err = await(t, Catch(Failed[int](errBoom), func(error) (int, error) { panic("catch bug") }))
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
}

func TestAll(t *testing.T) {
	fs, rs := pendings(3)
	g := All(fs...)
	rs[2](30, nil)
	rs[0](10, nil)
	isPending(t, g)
	rs[1](20, nil)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, []int{10, 20, 30}, v, "values in argument order, not settle order")

	fs, rs = pendings(3)
	g = All(fs...)
	rs[1](0, errBoom)
	_, err = await(t, g)
	require.ErrorIs(t, err, errBoom, "the first failure settles it without waiting for the rest")
	rs[0](1, nil)
	rs[2](0, errors.New("later"))
	_, err = await(t, g)
	require.ErrorIs(t, err, errBoom, "later failures change nothing")

	v, err = await(t, All[int]())
	require.NoError(t, err)
	require.NotNil(t, v)
	require.Empty(t, v, "All of none is an empty slice")
}

func TestAllSettled(t *testing.T) {
	fs, rs := pendings(3)
	g := AllSettled(fs...)
	rs[1](0, errBoom)
	rs[0](1, nil)
	isPending(t, g)
	rs[2](3, nil)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, []Result[int]{{1, nil}, {0, errBoom}, {3, nil}}, v)

	v, err = await(t, AllSettled[int]())
	require.NoError(t, err)
	require.NotNil(t, v)
	require.Empty(t, v)
}

func TestAny(t *testing.T) {
	fs, rs := pendings(3)
	g := Any(fs...)
	rs[0](0, errBoom)
	isPending(t, g)
	rs[2](3, nil)
	v, err := await(t, g)
	require.NoError(t, err)
	require.Equal(t, 3, v, "the first success")

	errs := []error{errors.New("a"), errors.New("b"), errors.New("c")}
	fs, rs = pendings(3)
	g = Any(fs...)
	rs[2](0, errs[2])
	rs[0](0, errs[0])
	isPending(t, g)
	rs[1](0, errs[1])
	_, err = await(t, g)
	for _, e := range errs {
		require.ErrorIs(t, err, e, "the joined error is each failure")
	}
	require.Equal(t, "future: all 3 futures failed: a; b; c", err.Error(), "in argument order")

	_, err = await(t, Any[int]())
	require.EqualError(t, err, "future: Any of no futures")
}

func TestRace(t *testing.T) {
	fs, rs := pendings(3)
	g := Race(fs...)
	isPending(t, g)
	rs[1](0, errBoom)
	_, err := await(t, g)
	require.ErrorIs(t, err, errBoom, "the first to settle wins, failure included")
	rs[0](1, nil)
	_, err = await(t, g)
	require.ErrorIs(t, err, errBoom)

	_, err = await(t, Race[int]())
	require.EqualError(t, err, "future: Race of no futures")
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _ := New[int]()
		g := Timeout(f, time.Second)
		start := time.Now()
		_, err := g.Await(context.Background())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.EqualError(t, err, "future: timed out after 1s")
		require.Equal(t, time.Second, time.Since(start))
		isPending(t, f)
		f.mu.Lock()
		require.Empty(t, f.cbs, "the timeout removed its callback from f")
		f.mu.Unlock()
	})
	synctest.Test(t, func(t *testing.T) {
		f, resolve := New[int]()
		g := Timeout(f, time.Second)
		time.Sleep(time.Second - time.Nanosecond)
		resolve(7, nil)
		v, err := await(t, g)
		require.NoError(t, err)
		require.Equal(t, 7, v, "settled within the timeout")
		time.Sleep(time.Hour)
		v, err = await(t, g)
		require.NoError(t, err, "the timer does not fire afterwards")
		require.Equal(t, 7, v)
	})
	synctest.Test(t, func(t *testing.T) {
		v, err := await(t, Timeout(Ready(3), 0))
		require.NoError(t, err)
		require.Equal(t, 3, v, "a settled future beats even a zero timeout")
	})
}

func collect(seq func(func(int, Result[int]) bool)) []string {
	var got []string
	for i, r := range seq {
		got = append(got, fmt.Sprintf("%d:%d:%v", i, r.Value, r.Err))
	}
	return got
}

func TestCompletedOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, rs := pendings(4)
		go func() {
			for _, i := range []int{2, 0, 3, 1} {
				time.Sleep(time.Second)
				if i == 3 {
					rs[i](0, errBoom)
				} else {
					rs[i](i*10, nil)
				}
			}
		}()
		got := collect(Completed(context.Background(), fs...))
		require.Equal(t, []string{"2:20:<nil>", "0:0:<nil>", "3:0:boom", "1:10:<nil>"}, got)
	})
}

func TestCompletedBreakLeavesNothing(t *testing.T) {
	fs, rs := pendings(3)
	rs[1](1, nil)
	for i := range Completed(context.Background(), fs...) {
		require.Equal(t, 1, i)
		break
	}
	for _, i := range []int{0, 2} {
		fs[i].mu.Lock()
		require.Empty(t, fs[i].cbs, "breaking out removed the callback from future %d", i)
		fs[i].mu.Unlock()
	}
	rs[0](0, nil) // must not block or panic on a channel nobody reads
	rs[2](2, nil)
	require.Len(t, collect(Completed(context.Background(), fs...)), 3, "a second range starts afresh")
}

func TestCompletedContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, rs := pendings(3)
		rs[1](1, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got := collect(Completed(ctx, fs...))
		require.Equal(t, []string{
			"1:1:<nil>",
			"0:0:context deadline exceeded",
			"2:0:context deadline exceeded",
		}, got, "every index once, the pending ones with ctx's error")
		for _, i := range []int{0, 2} {
			isPending(t, fs[i])
		}
	})
}

func TestCompletedEmpty(t *testing.T) {
	require.Empty(t, collect(Completed[int](context.Background())))
}
