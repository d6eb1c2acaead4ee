// Package continuation is a stub of the library's package, with the signatures the
// analyzer looks at.
package continuation

import (
	"context"

	"github.com/gosuspend/suspend/future"
)

type C struct{ ctx context.Context }

func (c *C) Await(a future.Awaitable) error { return nil }

func (c *C) Context() context.Context { return c.ctx }

func (c *C) Label() string { return "" }

type Scheduler struct{ closing chan struct{} }

func (s *Scheduler) Closing() <-chan struct{} { return s.closing }

func (s *Scheduler) Shutdown(ctx context.Context) error {
	select {
	case <-s.closing:
	case <-ctx.Done():
	}
	return nil
}

func Await[T any](c *C, f *future.Future[T]) (T, error) { return f.Await(c.ctx) }

func Blocking[T any](c *C, fn func() (T, error)) (T, error) { return fn() }

func Run[T any](s *Scheduler, ctx context.Context, body func(*C) (T, error)) (T, error) {
	return body(&C{ctx: ctx})
}

func Spawn[T any](s *Scheduler, ctx context.Context, body func(*C) (T, error)) *future.Future[T] {
	f, resolve := future.New[T]()
	go func() { resolve(body(&C{ctx: ctx})) }()
	return f
}
