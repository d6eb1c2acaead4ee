package main

// Futures beside their peers: one result and a hundred results in order, each from its own
// unit of work on another goroutine, with future.Go, a goroutine and a channel,
// alitto/pond's result pool, sourcegraph/conc's result pool and errgroup; and a settled
// future beside a closed channel.
//
// Every unit of work captures its index and returns it, so that every peer pays for the
// same closure, and the results are checked once the loop is done.

import (
	"context"
	"runtime"
	"testing"

	"github.com/alitto/pond/v2"
	conc "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/gosuspend/suspend/future"
)

// Sinks keep the compiler from proving the work dead, and force what is measured onto the
// heap, as it is when a result is handed to another goroutine.
var (
	futureSink  int
	readySink   *future.Future[int]
	settledSink *settledChan
)

// settledChan is the hand-written future of BenchmarkFutureSettled: a value and a channel
// closed once the value is set.
type settledChan struct {
	done chan struct{}
	v    int
}

// BenchmarkFutureResult: one op starts one unit of work that returns an int on another
// goroutine and waits for its result. pond has at most GOMAXPROCS workers, but a worker
// exits when the queue is empty, so here a task usually starts one, as every peer does.
func BenchmarkFutureResult(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			v, err := future.Go(ctx, func(context.Context) (int, error) { return i, nil }).Await(ctx)
			if err != nil || v != i {
				b.Fatalf("got %d, %v; want %d, nil", v, err, i)
			}
			futureSink += v
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := make(chan int, 1)
			go func() { c <- i }()
			futureSink += <-c
		}
	})
	b.Run("impl=pond", func(b *testing.B) {
		p := pond.NewResultPool[int](runtime.GOMAXPROCS(0))
		defer p.StopAndWait()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			v, err := p.Submit(func() int { return i }).Wait()
			if err != nil || v != i {
				b.Fatalf("got %d, %v; want %d, nil", v, err, i)
			}
			futureSink += v
		}
	})
	b.Run("impl=conc", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := conc.NewWithResults[int]()
			p.Go(func() int { return i })
			futureSink += p.Wait()[0]
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var g errgroup.Group
			var v int
			g.Go(func() error { v = i; return nil })
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			futureSink += v
		}
	})
}

// BenchmarkFutureFanOut: one op starts 100 units of work, each returning its index on its
// own goroutine (or pond task), and collects the 100 results in order into a new slice.
// conc v0.3.0's result pool returns results in the order they finish, so its tasks return
// their index with the value, and the results are put in place after Wait.
func BenchmarkFutureFanOut(b *testing.B) {
	const n = 100
	ctx := context.Background()
	check := func(b *testing.B, vs []int) {
		b.Helper()
		if len(vs) != n {
			b.Fatalf("got %d results, want %d", len(vs), n)
		}
		for i, v := range vs {
			if v != i {
				b.Fatalf("result %d is %d, want %d", i, v, i)
			}
		}
	}
	b.Run("impl=future", func(b *testing.B) {
		fs := make([]*future.Future[int], n)
		var vs []int
		b.ReportAllocs()
		for b.Loop() {
			for i := range fs {
				fs[i] = future.Go(ctx, func(context.Context) (int, error) { return i, nil })
			}
			var err error
			if vs, err = future.All(fs...).Await(ctx); err != nil {
				b.Fatal(err)
			}
		}
		check(b, vs)
	})
	b.Run("impl=chan", func(b *testing.B) {
		cs := make([]chan int, n)
		var vs []int
		b.ReportAllocs()
		for b.Loop() {
			for i := range cs {
				c := make(chan int, 1)
				cs[i] = c
				go func() { c <- i }()
			}
			vs = make([]int, n)
			for i, c := range cs {
				vs[i] = <-c
			}
		}
		check(b, vs)
	})
	b.Run("impl=pond", func(b *testing.B) {
		p := pond.NewResultPool[int](runtime.GOMAXPROCS(0))
		defer p.StopAndWait()
		ts := make([]pond.ResultTask[int], n)
		var vs []int
		b.ReportAllocs()
		for b.Loop() {
			for i := range ts {
				ts[i] = p.Submit(func() int { return i })
			}
			vs = make([]int, n)
			for i, t := range ts {
				v, err := t.Wait()
				if err != nil {
					b.Fatal(err)
				}
				vs[i] = v
			}
		}
		check(b, vs)
	})
	b.Run("impl=conc", func(b *testing.B) {
		type indexed struct{ i, v int }
		var vs []int
		b.ReportAllocs()
		for b.Loop() {
			p := conc.NewWithResults[indexed]()
			for i := range n {
				p.Go(func() indexed { return indexed{i, i} })
			}
			vs = make([]int, n)
			for _, r := range p.Wait() {
				vs[r.i] = r.v
			}
		}
		check(b, vs)
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		var vs []int
		b.ReportAllocs()
		for b.Loop() {
			var g errgroup.Group
			vs = make([]int, n)
			for i := range vs {
				g.Go(func() error { vs[i] = i; return nil })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		check(b, vs)
	})
}

// BenchmarkFutureSettled: one op makes a value that is already available and waits for
// it: a future made by future.Ready, and for reference a struct with a channel made and
// closed at once.
func BenchmarkFutureSettled(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=future", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := future.Ready(i)
			readySink = f
			v, _ := f.Await(ctx)
			futureSink += v
		}
	})
	b.Run("impl=chan", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := &settledChan{done: make(chan struct{}), v: i}
			close(c.done)
			settledSink = c
			<-c.done
			futureSink += c.v
		}
	})
}

// BenchmarkJoin: one op makes three pending results, starts waiting for all three, settles
// them from the benchmark goroutine and waits for the wait to end: future.Join of three
// futures, beside an errgroup whose three Go calls each receive from a channel that is
// then closed.
func BenchmarkJoin(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=Join", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f1, r1 := future.New[int]()
			f2, r2 := future.New[string]()
			f3, r3 := future.New[int]()
			j := future.Join(f1, f2, f3)
			r1(i, nil)
			r2("", nil)
			r3(i, nil)
			if _, err := j.Await(ctx); err != nil {
				b.Fatal(err)
			}
			futureSink++
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c1, c2, c3 := make(chan struct{}), make(chan struct{}), make(chan struct{})
			var g errgroup.Group
			for _, c := range []chan struct{}{c1, c2, c3} {
				g.Go(func() error { <-c; return nil })
			}
			close(c1)
			close(c2)
			close(c3)
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			futureSink++
		}
	})
}
