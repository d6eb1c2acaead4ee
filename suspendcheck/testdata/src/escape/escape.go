// Package escape holds bodies whose *continuation.C escapes them, and some whose does not.
package escape

import (
	"context"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
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
