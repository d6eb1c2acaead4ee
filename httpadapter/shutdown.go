package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// maxReserve bounds the part of Shutdown's grace period kept for writing the 503s of the
// requests it gives up on; a variable for the tests, which must not depend on the speed of
// the machine.
var maxReserve = time.Second

// Shutdown stops srv, s and p gracefully, in the one order that answers every request:
//
//  1. srv stops accepting connections and closes its idle ones ([http.Server.Shutdown]),
//     while s refuses new continuations (a request read meanwhile is answered 503 with
//     Retry-After) and closes its [continuation.Scheduler.Closing] channel, which tells
//     long-lived handlers (event streams, long polls) to finish.
//  2. Shutdown waits for the requests under way to be answered, suspended ones included.
//  3. If ctx has a deadline and they are not all done a tenth of the remaining time before
//     it (at most one second before it), s gives up on them: each suspended handler is
//     resumed with [continuation.ErrStopped] and, if it returns that error, is answered
//     503 before the deadline. The rest of the time goes to writing those answers.
//  4. Once the server's handlers have all returned, p drains and its workers exit.
//
// Shutdown returns nil if all of that finished in time. If ctx ended first, it returns an
// error that wraps ctx's and says what was left: connections still active (srv is then
// closed: their requests are cut), continuations given up on, pool work still running.
// Code that runs cannot be interrupted: a handler busy in a loop, or in a blocking call
// whose context has no deadline, goes on after Shutdown returned. If ctx has no deadline
// and is cancelled, the give-up happens then, and Shutdown takes at most one second more
// to write the answers.
//
// s and p may be shared with other servers; p may be nil, to leave the pool running.
// Shutdown panics if ctx, srv or s is nil.
func Shutdown(ctx context.Context, srv *http.Server, s *continuation.Scheduler, p *pool.Pool) error {
	switch {
	case ctx == nil:
		panic("httpadapter: Shutdown called with a nil Context")
	case srv == nil:
		panic("httpadapter: Shutdown called with a nil *http.Server")
	case s == nil:
		panic("httpadapter: Shutdown called with a nil *continuation.Scheduler")
	}
	served := make(chan error, 1)
	go func() { served <- srv.Shutdown(ctx) }()

	giveUp := ctx
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(maxReserve, time.Until(deadline)/10)
		var cancel context.CancelFunc
		giveUp, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	sErr := s.Shutdown(giveUp)

	rest := ctx // what is left for the answers, and the pool
	if _, ok := ctx.Deadline(); !ok && ctx.Err() != nil && sErr != nil {
		// ctx was cancelled, with no reserve kept: give the handlers resumed with
		// ErrStopped a moment to write their 503s.
		var cancel context.CancelFunc
		rest, cancel = context.WithTimeout(context.WithoutCancel(ctx), maxReserve)
		defer cancel()
	}
	srvErr := <-served
	if srvErr != nil && rest != ctx {
		srvErr = srv.Shutdown(rest)
	}
	if srvErr != nil {
		srv.Close()
		srvErr = fmt.Errorf("httpadapter: the server's connections still active were closed: %w", srvErr)
	}
	var pErr error
	if p != nil {
		pErr = p.Shutdown(rest)
	}
	return errors.Join(srvErr, sErr, pErr)
}
