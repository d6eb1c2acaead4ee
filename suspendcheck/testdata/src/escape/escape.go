// Package escape holds bodies whose *continuation.C escapes them, and some whose does not.
package escape

import (
	"context"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"golang.org/x/sync/errgroup"
)

var (
	s     *continuation.Scheduler
	ctx   = context.Background()
	saved *continuation.C
	all   []*continuation.C
)

type holder struct{ c *continuation.C }

var global holder

func use(c *continuation.C) error { return nil }

func escapes(h *holder, ch chan *continuation.C, f *future.Future[int]) {
	var outer *continuation.C
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		go func() {
			_ = c.Await(f) // want `^c escapes its body into a goroutine: the go statement's function uses it; a \*continuation\.C belongs to its body`
		}()
		go use(c)            // want `^c escapes its body into a goroutine;`
		saved = c            // want `^c escapes its body: stored in package-level variable saved;`
		all = append(all, c) // want `stored in package-level variable all`
		global.c = c         // want `stored in package-level variable global`
		h.c = c              // want `stored in variable h of an enclosing function`
		outer = c            // want `stored in variable outer of an enclosing function`
		ch <- c              // want `channel send` `^c escapes its body: sent on a channel;`
		return 0, nil
	})
	_ = outer
}

func param(c *continuation.C, h *holder, m map[string]*continuation.C) error {
	h.c = c       // want `stored in what parameter h refers to`
	m["c"] = c    // want `stored in what parameter m refers to`
	return use(c) // a call is not an escape
}

// Not escapes, but one: a local holder, a synchronous call; an ignored store. The
// enclosing function's v outlives the body.
func stays(v holder) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		var local holder
		local.c = c
		v.c = c // want `stored in variable v of an enclosing function`
		hs := []holder{{c: c}}
		_ = hs
		//suspendcheck:ignore: handed over on purpose, and taken back before the body returns
		saved = c
		return 0, use(c)
	})
}

func (h *holder) run()                                     { _ = h.c.Label() }
func (h *holder) work(ctx context.Context) (string, error) { return h.c.Label(), nil }

// Functions run on another goroutine by the library, x/sync and time, that use the body's
// *continuation.C: each is an escape, like a go statement's.
func elsewhere(b *future.HedgeBudget, f *future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		g := future.Go(c.Context(), func(ctx context.Context) (int, error) {
			return continuation.Await(c, f) // want `^c escapes its body into future\.Go's goroutine: the function given to it uses it; a \*continuation\.C belongs to its body and may be used only by it, on its goroutine$`
		})
		future.Hedge(ctx, 1, 2, func(ctx context.Context) (int, error) { return 0, use(c) })          // want `^c escapes its body into future\.Hedge's goroutine: the function given to it uses it;`
		future.HedgeWithin(ctx, b, 1, 2, func(ctx context.Context) (int, error) { return 0, use(c) }) // want `^c escapes its body into future\.HedgeWithin's goroutine:`
		var eg errgroup.Group
		eg.Go(func() error { return c.Await(f) })                                         // want `^c escapes its body into \(\*errgroup\.Group\)\.Go's goroutine:`
		eg.TryGo(func() error { return c.Await(f) })                                      // want `^c escapes its body into \(\*errgroup\.Group\)\.TryGo's goroutine:`
		time.AfterFunc(time.Second, func() { _ = c.Label() })                             // want `^c escapes its body into time\.AfterFunc's goroutine:`
		f.OnDone(func(int, error) { _ = use(c) })                                         // want `^c escapes its body into a callback of \(\*future\.Future\)\.OnDone, which runs on the goroutine that settles the future:`
		f.AfterDone(func() { _ = use(c) })                                                // want `^c escapes its body into a callback of \(\*future\.Future\)\.AfterDone,`
		future.Then(f, func(v int) (int, error) { return v, use(c) })                     // want `^c escapes its body into a callback of future\.Then,`
		future.Catch(f, func(err error) (int, error) { return continuation.Await(c, f) }) // want `^c escapes its body into a callback of future\.Catch,`
		return continuation.Await(c, g)
	})
}

// Through a local variable assigned the function, and a method value bound to what holds
// the *continuation.C.
func elsewhereIndirect(f *future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		work := func() error { return c.Await(f) } // want `^c escapes its body into \(\*errgroup\.Group\)\.Go's goroutine: the function given to it uses it;`
		var eg errgroup.Group
		eg.Go(work)
		h := &holder{c: c}
		time.AfterFunc(time.Second, h.run) // want `^c escapes its body into time\.AfterFunc's goroutine: the method value given to it is bound to h, which holds it;`
		_ = future.Go(ctx, h.work)         // want `^c escapes its body into future\.Go's goroutine: the method value given to it is bound to h,`
		var k holder
		k.c = c
		go k.run()          // want `^c escapes its body into a goroutine: the go statement's method is bound to k, which holds it;`
		return 0, eg.Wait() // want `calls \(\*errgroup\.Group\)\.Wait`
	})
}

// Not escapes: a body started in the function given to future.Go has its own
// *continuation.C, and what the body gives a callback is evaluated on the body.
func elsewhereNot(f *future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		g := future.Go(c.Context(), func(ctx context.Context) (int, error) {
			return continuation.Run(s, ctx, func(c *continuation.C) (int, error) { return continuation.Await(c, f) })
		})
		label := c.Label()
		f.OnDone(func(int, error) { _ = label })
		var h holder
		time.AfterFunc(time.Second, h.run)
		return continuation.Await(c, g)
	})
}
