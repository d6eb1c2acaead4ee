// Package pool is a stub of the library's package, with the signatures the analyzer looks
// at.
package pool

import "context"

type Pool struct{ slots chan struct{} }

func (p *Pool) Acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) Reacquire() error { p.slots <- struct{}{}; return nil }

func (p *Pool) Release() { <-p.slots }

func (p *Pool) TryAcquire() bool {
	select {
	case p.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (p *Pool) Shutdown(ctx context.Context) error { <-ctx.Done(); return nil }
