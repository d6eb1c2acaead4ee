// Package future is a stub of the library's package, with the signatures the analyzer
// looks at.
package future

import "context"

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
