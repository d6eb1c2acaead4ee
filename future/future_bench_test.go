package future

import (
	"context"
	"fmt"
	"testing"

	"github.com/gosuspend/suspend/internal/interleave"
)

// Sinks keep the compiler from proving the work dead and force what is measured onto the
// heap, as it is in real use, where a future is handed to another goroutine.
var (
	sinkFuture *Future[int]
	sinkChan   *chanFuture
	sinkInt    int

	sinkResolver func(int, error) bool
)

// chanFuture is the baseline: the usual hand-written future, a value and a channel closed
// once it is set.
type chanFuture struct {
	done chan struct{}
	v    int
}

func newChanFuture() *chanFuture { return &chanFuture{done: make(chan struct{})} }
func (c *chanFuture) set(v int)  { c.v = v; close(c.done) }
func (c *chanFuture) wait() int  { <-c.done; return c.v }

// BenchmarkNew: make a pending future and its resolver, settle it; with the detection of
// abandoned futures off (the default) and on.
func BenchmarkNew(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("abandoned=%v", on), func(b *testing.B) {
			was := DetectAbandoned(on)
			defer DetectAbandoned(was)
			b.ReportAllocs()
			for i := range b.N {
				f, resolve := New[int]()
				sinkFuture, sinkResolver = f, resolve
				resolve(i, nil)
			}
		})
	}
}

// BenchmarkSettled: make a future, settle it, await it.
func BenchmarkSettled(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			f, resolve := New[int]()
			sinkFuture = f
			resolve(i, nil)
			v, _ := f.Await(ctx)
			sinkInt += v
		}
	})
	b.Run("impl=ready", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			f := Ready(i)
			sinkFuture = f
			v, _ := f.Await(ctx)
			sinkInt += v
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			c := newChanFuture()
			sinkChan = c
			c.set(i)
			sinkInt += c.wait()
		}
	})
}

// BenchmarkHandoff: a future settled by another goroutine while the caller waits for it.
func BenchmarkHandoff(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		work := make(chan func(int, error) bool)
		go func() {
			for resolve := range work {
				resolve(1, nil)
			}
		}()
		for range b.N {
			f, resolve := New[int]()
			work <- resolve
			v, _ := f.Await(ctx)
			sinkInt += v
		}
		close(work)
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		work := make(chan chan int)
		go func() {
			for c := range work {
				c <- 1
			}
		}()
		for range b.N {
			c := make(chan int, 1)
			work <- c
			sinkInt += <-c
		}
		close(work)
	})
	// The floor for any New-style API: the bare channel plus the two objects New must
	// hand out, a future (the size of ours) and a resolver func, both escaping.
	b.Run("impl=chan+newAllocs", func(b *testing.B) {
		b.ReportAllocs()
		work := make(chan chan int)
		go func() {
			for c := range work {
				c <- 1
			}
		}()
		for range b.N {
			f := new(Future[int])
			sinkFuture = f
			sinkResolver = func(v int, err error) bool { f.val = v; return true }
			c := make(chan int, 1)
			work <- c
			sinkInt += <-c
		}
		close(work)
	})
	b.Run("impl=chanFuture", func(b *testing.B) {
		b.ReportAllocs()
		work := make(chan *chanFuture)
		go func() {
			for c := range work {
				c.set(1)
			}
		}()
		for range b.N {
			c := newChanFuture()
			work <- c
			sinkInt += c.wait()
		}
		close(work)
	})
}

// BenchmarkHandoffVsChannel: BenchmarkHandoff's future, and its floor (the bare channel
// plus the two objects any New-style API hands out), each against the bare channel,
// interleaved in one loop: "ratio" is what each costs in channel handoffs.
func BenchmarkHandoffVsChannel(b *testing.B) {
	ctx := context.Background()
	work := interleave.Settler(b)
	handoff := interleave.Handoff(b)
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		interleave.Pair(b, "future", func(n int) {
			for range n {
				f, resolve := New[int]()
				work <- resolve
				v, _ := f.Await(ctx)
				sinkInt += v
			}
		}, "chan", handoff)
	})
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		interleave.Pair(b, "floor", func(n int) {
			for range n {
				f := new(Future[int])
				sinkFuture = f
				sinkResolver = func(v int, err error) bool { f.val = v; return true }
				handoff(1)
			}
		}, "chan", handoff)
	})
}

// BenchmarkOnDone: register a callback on a pending future and dispatch it by settling.
func BenchmarkOnDone(b *testing.B) {
	n := 0
	cb := func(v int, _ error) { n += v }
	after := func() { n++ }
	b.Run("op=register+dispatch", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			f, resolve := New[int]()
			sinkFuture = f
			f.OnDone(cb)
			resolve(1, nil)
		}
	})
	b.Run("op=AfterDone+dispatch", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			f, resolve := New[int]()
			sinkFuture = f
			f.AfterDone(after)
			resolve(1, nil)
		}
	})
	b.Run("op=AfterDone+stop", func(b *testing.B) {
		b.ReportAllocs()
		f, _ := New[int]()
		for range b.N {
			f.AfterDone(after)()
		}
	})
	b.Run("op=settled", func(b *testing.B) {
		b.ReportAllocs()
		f := Ready(1)
		for range b.N {
			f.OnDone(cb)
		}
	})
	sinkInt += n
}

// BenchmarkAll: wait for 100 results, in order.
func BenchmarkAll(b *testing.B) {
	const n = 100
	ctx := context.Background()
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		fs := make([]*Future[int], n)
		rs := make([]func(int, error) bool, n)
		for range b.N {
			for i := range fs {
				fs[i], rs[i] = New[int]()
			}
			all := All(fs...)
			for i, resolve := range rs {
				resolve(i, nil)
			}
			vs, _ := all.Await(ctx)
			sinkInt += vs[n-1]
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		cs := make([]*chanFuture, n)
		for range b.N {
			vs := make([]int, n)
			for i := range cs {
				cs[i] = newChanFuture()
			}
			for i, c := range cs {
				c.set(i)
			}
			for i, c := range cs {
				vs[i] = c.wait()
			}
			sinkInt += vs[n-1]
		}
	})
}

// BenchmarkThenChain: build a chain of 1,000 Then and settle its root, which runs every
// link; the baseline applies the same functions in a plain loop.
func BenchmarkThenChain(b *testing.B) {
	const n = 1000
	inc := func(v int) (int, error) { return v + 1, nil }
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			root, resolve := New[int]()
			f := root
			for range n {
				f = Then(f, inc)
			}
			resolve(0, nil)
			r, _ := f.Peek()
			sinkInt += r.Value
		}
	})
	b.Run("impl=loop", func(b *testing.B) {
		b.ReportAllocs()
		fns := make([]func(int) (int, error), n)
		for i := range fns {
			fns[i] = inc
		}
		for range b.N {
			v := 0
			for _, fn := range fns {
				v, _ = fn(v)
			}
			sinkInt += v
		}
	})
}

// BenchmarkRace: race a piece of work against another future, then settle the work. With
// quit=longLived the other future is one that stays pending throughout, as a shutdown
// signal raced against every request does; quit=fresh is the baseline, a new one each time.
func BenchmarkRace(b *testing.B) {
	b.Run("quit=longLived", func(b *testing.B) {
		b.ReportAllocs()
		quit, _ := New[int]()
		for range b.N {
			work, resolve := New[int]()
			sinkFuture = Race(work, quit)
			resolve(1, nil)
		}
	})
	b.Run("quit=fresh", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			quit, _ := New[int]()
			work, resolve := New[int]()
			sinkFuture = Race(work, quit)
			resolve(1, nil)
		}
	})
}
