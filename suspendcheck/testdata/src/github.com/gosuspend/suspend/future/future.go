// Package future is a stub of the library's package, with the signatures the analyzer
// looks at.
package future

import (
	"context"
	"iter"
)

type Awaitable interface {
	Done() <-chan struct{}
}

type Future[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func (f *Future[T]) Done() <-chan struct{} { return f.done }

func (f *Future[T]) Await(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func New[T any]() (*Future[T], func(T, error) bool) {
	f := &Future[T]{done: make(chan struct{})}
	return f, func(v T, err error) bool { f.v, f.err = v, err; close(f.done); return true }
}

func Go[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	f, resolve := New[T]()
	go func() { resolve(fn(ctx)) }()
	return f
}

type HedgeBudget struct{}

func Hedge[T any](ctx context.Context, delay int64, attempts int, fn func(context.Context) (T, error)) *Future[T] {
	return Go(ctx, fn)
}

func HedgeWithin[T any](ctx context.Context, b *HedgeBudget, delay int64, attempts int, fn func(context.Context) (T, error)) *Future[T] {
	return Go(ctx, fn)
}

func All[T any](fs ...*Future[T]) *Future[[]T] {
	f, _ := New[[]T]()
	return f
}

func Ready[T any](v T) *Future[T] {
	f, resolve := New[T]()
	resolve(v, nil)
	return f
}

func (f *Future[T]) OnDone(fn func(v T, err error)) { go func() { <-f.done; fn(f.v, f.err) }() }

func (f *Future[T]) AfterDone(fn func()) (stop func() bool) {
	go func() { <-f.done; fn() }()
	return func() bool { return false }
}

func Then[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	g, resolve := New[U]()
	f.OnDone(func(v T, err error) { resolve(fn(v)) })
	return g
}

func Catch[T any](f *Future[T], fn func(error) (T, error)) *Future[T] {
	g, resolve := New[T]()
	f.OnDone(func(v T, err error) { resolve(fn(err)) })
	return g
}

func Join(fs ...Awaitable) *Future[struct{}] {
	f, _ := New[struct{}]()
	return f
}

type Result[T any] struct {
	Val T
	Err error
}

// Completed yields the futures as they settle: ranging over it waits, as the library's.
func Completed[T any](ctx context.Context, fs ...*Future[T]) iter.Seq2[int, Result[T]] {
	return func(yield func(int, Result[T]) bool) {
		for i, f := range fs {
			select {
			case <-f.done:
			case <-ctx.Done():
			}
			if !yield(i, Result[T]{f.v, f.err}) {
				return
			}
		}
	}
}
