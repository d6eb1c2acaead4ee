// Package httpadapter is a stub of the library's package, with the signatures the
// analyzer looks at.
package httpadapter

import (
	"context"
	"net/http"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

type HandlerFunc func(c *continuation.C, w http.ResponseWriter, r *http.Request) error

type Option interface{ apply() }

func New(s *continuation.Scheduler, h HandlerFunc, opts ...Option) http.Handler { return nil }

func Wrap(s *continuation.Scheduler, h http.Handler, opts ...Option) http.Handler { return h }

func Shutdown(ctx context.Context, srv *http.Server, s *continuation.Scheduler, p *pool.Pool) error {
	return s.Shutdown(ctx)
}
