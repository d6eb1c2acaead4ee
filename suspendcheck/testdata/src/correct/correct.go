// Package correct holds bodies that wait the right way, or not at all: none may be
// reported. Each function is one case.
package correct

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/httpadapter"
	"golang.org/x/sync/errgroup"
	"helper"
)

var (
	s   *continuation.Scheduler
	ctx = context.Background()
)

// A blocking call within continuation.Blocking.
func inBlocking() http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		resp, err := continuation.Blocking(c, func() (*http.Response, error) {
			time.Sleep(time.Millisecond)
			return http.Get("http://example.com")
		})
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
}

// Futures awaited with continuation.Await and (*C).Await; their functions block on their
// own goroutines.
func awaited() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		f := future.Go(c.Context(), func(ctx context.Context) (int, error) {
			time.Sleep(time.Millisecond)
			return 1, nil
		})
		if err := c.Await(f); err != nil {
			return 0, err
		}
		return continuation.Await(c, f)
	})
}

func slow() (int, error) { // want slow:`blocks\(time\.Sleep`
	time.Sleep(time.Millisecond)
	return 1, nil
}

// A function that blocks, called only within Blocking, by name or in a literal.
func declaredOnly() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		if _, err := continuation.Blocking(c, slow); err != nil {
			return 0, err
		}
		return continuation.Blocking(c, func() (int, error) { return slow() })
	})
}

// The response writer and the request body: httpadapter makes their I/O slot-free.
func responseAndBody() http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		buf := make([]byte, 10)
		_, _ = r.Body.Read(buf)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		_, _ = io.Copy(w, r.Body)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		return http.NewResponseController(w).Flush()
	})
}

// A select with default does not wait.
func selectDefault(in chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		select {
		case v := <-in:
			return v, nil
		case in <- 1:
		case <-c.Context().Done():
		default:
		}
		return 0, nil
	})
}

// A go statement's function runs on its own goroutine.
func goStatement(wg *sync.WaitGroup, out chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		go func() {
			time.Sleep(time.Millisecond)
			out <- 1
			wg.Wait()
		}()
		go helper.Backoff(time.Second)
		return 0, nil
	})
}

// Hedge and HedgeWithin run their function on their own goroutines.
func hedged(b *future.HedgeBudget) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		f := future.Hedge(c.Context(), 10, 2, func(ctx context.Context) (string, error) {
			resp, err := helper.Fetch("http://example.com")
			if err != nil {
				return "", err
			}
			return resp.Status, nil
		})
		g := future.HedgeWithin(c.Context(), b, 10, 2, func(ctx context.Context) (string, error) {
			time.Sleep(time.Millisecond)
			return "", nil
		})
		if _, err := continuation.Await(c, g); err != nil {
			return "", err
		}
		return continuation.Await(c, f)
	})
}

// //suspendcheck:ignore on the line, or the line above, silences a report.
func ignored() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		time.Sleep(time.Microsecond) //suspendcheck:ignore: a microsecond, measured
		//suspendcheck:ignore
		time.Sleep(time.Microsecond)
		return 0, nil
	})
}

// A function that blocks but is no body and is called by none is not reported: it has a
// fact only.
func notABody(in chan int) int { // want notABody:`blocks\(channel receive\)`
	return <-in
}

// A func literal made in a body but run elsewhere (a timer, a future's callback) is not
// the body's code.
func runElsewhere(f *future.Future[int], in chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		time.AfterFunc(time.Second, func() { <-in })
		g, resolve := future.New[int]()
		time.AfterFunc(time.Millisecond, func() { resolve(<-in, nil) })
		return continuation.Await(c, g)
	})
}

// A plain handler given to Wrap that only writes its response.
func wrapPlain() http.Handler {
	return httpadapter.Wrap(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
}

// Calls of another package's functions that do not block.
func crossPackagePure() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		helper.Spin(func() { time.Sleep(time.Second) })
		f := helper.Start(c.Context(), "http://example.com")
		if _, err := continuation.Await(c, f); err != nil {
			return 0, err
		}
		return helper.Pure(2), nil
	})
}

// Ranging over slices, maps, integers and function iterators does not wait.
func ranges(xs []int, m map[string]int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		n := 0
		for _, x := range xs {
			n += x
		}
		for range m {
			n++
		}
		for i := range 3 {
			n += i
		}
		for x := range func(yield func(int) bool) { yield(1) } {
			n += x
		}
		return n, nil
	})
}

// A mutex guards short critical sections: not a wait this analyzer reports.
func mutex(mu *sync.Mutex, counter *int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		*counter++
		return *counter, nil
	})
}

// A nested Run within Blocking gives the slot back while it waits.
func nestedRunInBlocking() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		return continuation.Blocking(c, func() (int, error) {
			return continuation.Run(s, c.Context(), func(c *continuation.C) (int, error) { return 1, nil })
		})
	})
}

type state struct {
	c *continuation.C
	n int
}

func step(st *state) error {
	return st.c.Await(future.Go(ctx, func(context.Context) (int, error) { return 1, nil }))
}

// A *C given to a function the body calls, or kept in a local struct, stays in the body.
func cStaysLocal() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		var st state
		st.c = c
		local := &state{c: c}
		all := []*continuation.C{}
		all = append(all, c)
		if err := step(local); err != nil {
			return 0, err
		}
		return len(all) + st.n, step(&st)
	})
}

// A local closure reassigned is followed through each func literal assigned to it, none
// of which waits here, and a closure never called is not run.
func closures(in chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		later := func() int { return <-in }
		_ = later
		pick := func() int { return 1 }
		pick = func() int { return 2 }
		return pick(), nil
	})
}

// A deferred call that does not wait, and a deferred wait made within Blocking.
func deferredFine(wg *sync.WaitGroup) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		defer func() {
			_, _ = continuation.Blocking(c, func() (struct{}, error) { wg.Wait(); return struct{}{}, nil })
		}()
		defer wg.Done()
		return 0, errors.New("done")
	})
}

// Receives within a Blocking, as the stream example waits for an event or the shutdown.
func selectInBlocking(event *future.Future[string]) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		closing, _ := continuation.Blocking(c, func() (bool, error) {
			select {
			case <-event.Done():
				return false, nil
			case <-s.Closing():
				return true, nil
			}
		})
		if closing {
			return nil
		}
		_, err := continuation.Await(c, event)
		return err
	})
}

func pause() {
	time.Sleep(time.Microsecond) //suspendcheck:ignore: a microsecond, measured
}

// A wait silenced where it is made is silenced for the bodies that call it too.
func ignoredInCallee() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		pause()
		return 0, nil
	})
}

func loadUser(c *continuation.C, id int) (string, error) {
	return continuation.Await(c, future.Go(c.Context(), func(ctx context.Context) (string, error) {
		time.Sleep(time.Millisecond)
		return "user", nil
	}))
}

// A call of a function with a *continuation.C parameter: that function is a body, whose
// waits are reported in it; here, of this package and of another (helper.Load waits).
func callsBodies() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		if _, err := helper.Load(c, 1); err != nil {
			return "", err
		}
		return loadUser(c, 1)
	})
}

// errgroup's Go and TryGo start goroutines (they wait only after SetLimit); its Wait is
// made in Blocking.
func errgroupGo() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		var g errgroup.Group
		g.Go(func() error { time.Sleep(time.Millisecond); return nil })
		g.TryGo(func() error { return nil })
		_, err := continuation.Blocking(c, func() (struct{}, error) { return struct{}{}, g.Wait() })
		return 0, err
	})
}

// future.Completed ranged over within Blocking, and the futures combined and awaited.
func completedInBlocking(fs []*future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		n, _ := continuation.Blocking(c, func() (int, error) {
			n := 0
			for _, r := range future.Completed(ctx, fs...) {
				n += r.Val
			}
			return n, nil
		})
		all, err := continuation.Await(c, future.All(fs...))
		return n + len(all), err
	})
}

// Functions given to future.Go, errgroup, time.AfterFunc and a future's callbacks that use
// what the body gave them, not its *continuation.C: no escape.
func callbacksWithoutC(f *future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		cctx, label := c.Context(), c.Label()
		g := future.Go(cctx, func(ctx context.Context) (int, error) { return len(label), nil })
		var eg errgroup.Group
		eg.Go(func() error { return cctx.Err() })
		time.AfterFunc(time.Millisecond, func() { _ = label })
		f.OnDone(func(int, error) { _ = cctx })
		h := future.Then(g, func(v int) (int, error) { return v + 1, nil })
		return continuation.Await(c, h)
	})
}

// A request's body, read every way a response's body is reported: httpadapter makes its
// reads slot-free, whether the request is a pointer or a value.
func requestBody(req http.Request) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		buf := make([]byte, 512)
		_, _ = r.Body.Read(buf)
		_, _ = io.ReadFull(r.Body, buf)
		_, _ = io.ReadAtLeast(req.Body, buf, 1)
		_, _ = io.CopyN(io.Discard, r.Body, 10)
		_, _ = io.CopyBuffer(w, req.Body, buf)
		var v map[string]any
		return json.NewDecoder(r.Body).Decode(&v)
	})
}

type message struct{ Body io.Reader }

// An upstream response's body read in Blocking, and closed outside it (Close does not
// wait); a Body field of a type other than http.Response.
func responseBodyInBlocking(client *http.Client, m message) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		resp, err := continuation.Blocking(c, func() (*http.Response, error) { return client.Get("http://example.com") })
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := continuation.Blocking(c, func() ([]byte, error) { return io.ReadAll(resp.Body) })
		if err != nil {
			return err
		}
		var v map[string]any
		if _, err := continuation.Blocking(c, func() (struct{}, error) { return struct{}{}, json.NewDecoder(resp.Body).Decode(&v) }); err != nil {
			return err
		}
		_, _ = w.Write(b)
		_, err = io.Copy(w, m.Body)
		return err
	})
}

// A query and its rows iterated within Blocking; the rows' Scan, Columns and Err, on a row
// already fetched, do not wait.
func rowsInBlocking(db *sql.DB, fetched *sql.Rows) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		n, err := continuation.Blocking(c, func() (int, error) {
			rows, err := db.QueryContext(c.Context(), "SELECT 1")
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				n++
			}
			return n, rows.Err()
		})
		if err != nil {
			return 0, err
		}
		var v int
		cols, _ := fetched.Columns()
		return n + len(cols) + v, fetched.Scan(&v)
	})
}

// Files opened and directories read in Blocking; the calls on metadata are not waits this
// analyzer reports.
func filesInBlocking(f *os.File) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		n, err := continuation.Blocking(c, func() (int, error) {
			g, err := os.Open("/etc/hosts")
			if err != nil {
				return 0, err
			}
			defer g.Close()
			es, err := os.ReadDir("/etc")
			return len(es), err
		})
		if _, err := os.Stat("/etc/hosts"); err != nil {
			return 0, err
		}
		_, _ = f.Stat()
		return n + len(f.Name()), err
	})
}
