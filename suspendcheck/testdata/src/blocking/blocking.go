// Package blocking holds bodies that block their slot: every wait is a case, marked with
// the report it must get.
package blocking

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	"helper"
)

var (
	s   *continuation.Scheduler
	ctx = context.Background()
	db  *sql.DB
)

// A known call, straight in a handler literal.
func sleepInHandler() http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		time.Sleep(time.Second) // want `^handler blocks its slot: calls time\.Sleep \(sleep\); wrap it in continuation\.Blocking or await a future$`
		return nil
	})
}

// A net/http client call in a Run body.
func getInRun() { // want getInRun:`blocks\(continuation\.Run \(waits for a slot while the body holds one\)\)`
	continuation.Run(s, ctx, func(c *continuation.C) (int, error) {
		resp, err := http.Get("http://example.com") // want `^body blocks its slot: calls http\.Get \(net/http client call\)`
		if err != nil {
			return 0, err
		}
		return resp.StatusCode, resp.Body.Close()
	})
}

func fetch(client *http.Client, req *http.Request) (*http.Response, error) { // want fetch:`blocks\(\(\*http\.Client\)\.Do \(net/http client call\)\)`
	return client.Do(req)
}

// Through a function of the same package: the chain names it.
func chainInPackage(client *http.Client) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		_, err := fetch(client, r) // want `^handler blocks its slot: calls fetch → \(\*http\.Client\)\.Do \(net/http client call\); wrap it in continuation\.Blocking or await a future$`
		return err
	})
}

// Through a method of another package, two hops down: facts carry the chain.
func chainAcrossPackages(st *helper.Store) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		return st.Name(c.Context(), 1) // want `^body blocks its slot: calls \(\*helper\.Store\)\.Name → \(\*helper\.Store\)\.query → \(\*sql\.DB\)\.QueryRowContext \(database/sql call\)`
	})
}

// A function of another package.
func crossPackageFunc() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		helper.Backoff(time.Second) // want `calls helper\.Backoff → time\.Sleep \(sleep\)`
		return 0, nil
	})
}

// Channel operations.
func channels(in <-chan int, out chan<- int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		v := <-in           // want `^body blocks its slot: channel receive; await a future with continuation\.Await, or wait in continuation\.Blocking$`
		out <- v            // want `^body blocks its slot: channel send;`
		for v := range in { // want `^body blocks its slot: range over channel;`
			_ = v
		}
		return v, nil
	})
}

// A select without default, even with the context's Done among its cases.
func selectNoDefault(in <-chan int) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		select { // want `^handler blocks its slot: select without default;`
		case <-c.Context().Done():
			return c.Context().Err()
		case <-in:
		}
		select {} // want `select without default`
	})
}

// (*future.Future).Await where continuation.Await is meant.
func futureAwait() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		f := future.Go(c.Context(), func(ctx context.Context) (string, error) { return "", nil })
		return f.Await(c.Context()) // want `^body blocks its slot: calls \(\*future\.Future\)\.Await, which holds it; use continuation\.Await\(c, f\)$`
	})
}

// (*future.Future).Await through another package's function.
func futureAwaitChain(f *future.Future[int]) { // want futureAwaitChain:`blocks\(continuation\.Run`
	continuation.Run(s, ctx, func(c *continuation.C) (int, error) {
		return helper.Result(c.Context(), f) // want `^body blocks its slot: calls helper\.Result → \(\*future\.Future\)\.Await; use continuation\.Await\(c, f\) instead of \(\*future\.Future\)\.Await$`
	})
}

// The waits of package sync and x/sync.
func syncWaits(wg *sync.WaitGroup, cond *sync.Cond, sem *semaphore.Weighted, g *errgroup.Group) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		wg.Wait()               // want `calls \(\*sync\.WaitGroup\)\.Wait \(waits for other goroutines\)`
		cond.Wait()             // want `calls \(\*sync\.Cond\)\.Wait`
		_ = sem.Acquire(ctx, 1) // want `calls \(\*semaphore\.Weighted\)\.Acquire \(semaphore wait\)`
		return 0, g.Wait()      // want `calls \(\*errgroup\.Group\)\.Wait`
	})
}

// Processes and files.
func processesAndFiles(f *os.File) {
	continuation.Spawn(s, ctx, func(c *continuation.C) ([]byte, error) {
		_ = exec.Command("true").Run()    // want `calls \(\*exec\.Cmd\)\.Run \(waits for a process\)`
		b, _ := os.ReadFile("/etc/hosts") // want `calls os\.ReadFile \(file I/O\)`
		_, _ = f.Read(b)                  // want `calls \(\*os\.File\)\.Read \(file I/O\)`
		return b, f.Sync()                // want `calls \(\*os\.File\)\.Sync \(file I/O\)`
	})
}

// The network: a dial, a net.Conn's Read (an interface method), a *net.TCPConn's Write.
func network(tcp *net.TCPConn) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		conn, err := net.Dial("tcp", "example.com:80") // want `calls net\.Dial \(network call\)`
		if err != nil {
			return 0, err
		}
		buf := make([]byte, 10)
		_, _ = conn.Read(buf) // want `calls \(net\.Conn\)\.Read \(network I/O\)`
		return tcp.Write(buf) // want `calls \(\*net\.TCPConn\)\.Write \(network I/O\)`
	})
}

// database/sql: a transaction and a row's Scan.
func database() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		tx, err := db.BeginTx(c.Context(), nil) // want `calls \(\*sql\.DB\)\.BeginTx \(database/sql call\)`
		if err != nil {
			return 0, err
		}
		var n int
		row := tx.QueryRow("SELECT 1") // want `calls \(\*sql\.Tx\)\.QueryRow`
		_ = row.Scan(&n)               // want `calls \(\*sql\.Row\)\.Scan`
		return n, tx.Commit()          // want `calls \(\*sql\.Tx\)\.Commit`
	})
}

type server struct{ mu sync.Mutex }

func (srv *server) body(c *continuation.C) (int, error) { // want body:`blocks\(time\.Sleep \(sleep\)\)`
	time.Sleep(time.Millisecond) // want `^\(\*server\)\.body blocks its slot: calls time\.Sleep`
	return 0, nil
}

// A method value as a body: the method is the body.
func methodValue(srv *server) { // want methodValue:`blocks\(continuation\.Run`
	continuation.Run(s, ctx, srv.body)
}

func handle(c *continuation.C, w http.ResponseWriter, r *http.Request) error { // want handle:`blocks\(\(\*sync\.WaitGroup\)\.Wait`
	var wg sync.WaitGroup
	wg.Wait() // want `^handle blocks its slot: calls \(\*sync\.WaitGroup\)\.Wait`
	return nil
}

// A named handler function.
func namedHandler() http.Handler { return httpadapter.New(s, handle) }

// A plain handler given to Wrap, as an http.HandlerFunc.
func wrapFunc() http.Handler {
	return httpadapter.Wrap(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond) // want `^handler blocks its slot: calls time\.Sleep \(sleep\); rewrite the handler with httpadapter\.New, and wrap the wait in continuation\.Blocking or await a future$`
	}))
}

type plain struct{}

func (plain) ServeHTTP(w http.ResponseWriter, r *http.Request) { // want ServeHTTP:`blocks\(http\.Get`
	resp, err := http.Get("http://example.com") // want `^plain\.ServeHTTP blocks its slot: calls http\.Get`
	if err == nil {
		resp.Body.Close()
	}
}

// A plain handler's channel receive.
func wrapChan(in chan int) http.Handler {
	return httpadapter.Wrap(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-in // want `^handler blocks its slot: channel receive; rewrite the handler with httpadapter\.New`
	}))
}

// A type whose ServeHTTP is the body.
func wrapType() http.Handler { return httpadapter.Wrap(s, plain{}) }

// A type of another package: the report is at the handler given to Wrap.
func wrapOtherPackage() http.Handler {
	return httpadapter.Wrap(s, helper.Slow{}) // want `^handler blocks its slot: calls helper\.Slow\.ServeHTTP → helper\.Backoff → time\.Sleep \(sleep\);`
}

// A closure held in a local variable, called by the body.
func closure(in <-chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		next := func() int {
			return <-in // want `channel receive`
		}
		return next(), nil
	})
}

func retry(n int) error { // want retry:`blocks\(time\.Sleep`
	if n == 0 {
		return nil
	}
	time.Sleep(time.Millisecond)
	return retry(n - 1)
}

func ping(n int) { // want ping:`blocks\(blocking\.pong → time\.Sleep`
	if n > 0 {
		pong(n - 1)
	}
}

func pong(n int) { // want pong:`blocks\(time\.Sleep`
	if n > 0 {
		ping(n - 1)
	}
	time.Sleep(time.Millisecond)
}

// Recursive and mutually recursive functions.
func recursion() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		_ = retry(3) // want `calls retry → time\.Sleep`
		ping(3)      // want `calls ping → pong → time\.Sleep`
		return 0, nil
	})
}

// Deferred calls run in the body too.
func deferred(wg *sync.WaitGroup, done chan struct{}) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		defer wg.Wait() // want `calls \(\*sync\.WaitGroup\)\.Wait`
		defer func() {
			<-done // want `channel receive`
		}()
		return 0, nil
	})
}

// Generic functions and methods of generic types, of another package.
func generics(ch chan string, q *helper.Queue[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		_ = helper.Generic(ch) // want `calls helper\.Generic → channel receive; wrap it`
		return q.Pop(), nil    // want `calls \(\*helper\.Queue\)\.Pop → range over channel`
	})
}

func first[T any](ch <-chan T) T { // want first:`blocks\(channel receive\)`
	return <-ch
}

// A generic function of this package, instantiated.
func localGeneric(ch chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		return first[int](ch), nil // want `calls first → channel receive`
	})
}

// A function literal called in place.
func immediate(wg *sync.WaitGroup) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		func() {
			wg.Wait() // want `calls \(\*sync\.WaitGroup\)\.Wait`
		}()
		return 0, nil
	})
}

// A long chain is shortened in the message.
func longChain() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		helper.Level1() // want `calls helper\.Level1 → helper\.Level2 → helper\.Level3 → … → time\.Sleep \(sleep\);`
		return 0, nil
	})
}

// A function with a *continuation.C parameter is a body wherever it is called from.
func load(c *continuation.C, wg *sync.WaitGroup) error { // want load:`blocks\(\(\*sync\.WaitGroup\)\.Wait`
	wg.Wait() // want `^load blocks its slot: calls \(\*sync\.WaitGroup\)\.Wait`
	return nil
}

// A nested Run waits for a slot while the body holds one.
func nestedRun() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		return continuation.Run(s, c.Context(), func(c *continuation.C) (int, error) { return 1, nil }) // want `calls continuation\.Run \(waits for a slot while the body holds one\)`
	})
}

// A method value held in a local variable.
func methodValueLocal(st *helper.Store) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		name := st.Name
		return name(c.Context(), 2) // want `calls \(\*helper\.Store\)\.Name → `
	})
}

// A recursive closure held in a local variable.
func recursiveClosure(in chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		var walk func(n int)
		walk = func(n int) {
			if n > 0 {
				walk(n - 1)
			}
			<-in // want `channel receive`
		}
		walk(3)
		return 0, nil
	})
}

// A known wait held in a local variable.
func knownLocal() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		sleep := time.Sleep
		sleep(time.Millisecond) // want `calls time\.Sleep \(sleep\)`
		return 0, nil
	})
}

// A wait in a Blocking's argument list is still the body's: only fn runs off the slot.
func blockingArgs(in chan int) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		return continuation.Blocking(c, constant(<-in)) // want `channel receive`
	})
}

func constant(v int) func() (int, error) { return func() (int, error) { return v, nil } }

type sleeper interface{ Sleep() }

// A //suspendcheck:ignore after code silences its own line only.
func ignoreIsPerLine() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		time.Sleep(time.Microsecond) //suspendcheck:ignore
		time.Sleep(time.Microsecond) // want `calls time\.Sleep`
		return 0, nil
	})
}

// Missed: a call through an interface is not followed, whatever its dynamic type does.
func interfaceCall(sl sleeper) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		sl.Sleep() // missed
		return 0, nil
	})
}

// A function with a *continuation.C parameter is reported where it waits, once: its
// callers are not (wrapping the call in Blocking would make it Await while the body is
// already waiting).
func loadUser(c *continuation.C, id int) (string, error) { // want loadUser:`blocks\(time\.Sleep \(sleep\)\)`
	time.Sleep(time.Millisecond) // want `^loadUser blocks its slot: calls time\.Sleep \(sleep\); wrap it in continuation\.Blocking or await a future$`
	return continuation.Await(c, future.Go(c.Context(), func(ctx context.Context) (string, error) { return "", nil }))
}

func callsLoadUser() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (string, error) {
		return loadUser(c, 1)
	})
}

// A method with a *continuation.C parameter that calls itself and a function that does.
func (srv *server) recurse(c *continuation.C, n int) (int, error) { // want recurse:`blocks\(blocking\.ping → blocking\.pong → time\.Sleep`
	if n == 0 {
		ping(1) // want `^\(\*server\)\.recurse blocks its slot: calls ping → pong → time\.Sleep`
		return 0, nil
	}
	_ = load(c, nil)
	return srv.recurse(c, n-1)
}

// future.Completed waits as the body ranges over it.
func completed(fs []*future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		n := 0
		for _, r := range future.Completed(c.Context(), fs...) { // want `^body blocks its slot: calls future\.Completed \(waits for the futures as it is ranged over\); await with continuation\.Await on future\.Join/All/Any, or range over it in continuation\.Blocking$`
			n += r.Val
		}
		return n, nil
	})
}

func sum(ctx context.Context, fs ...*future.Future[int]) int { // want sum:`blocks\(future\.Completed`
	n := 0
	for _, r := range future.Completed(ctx, fs...) {
		n += r.Val
	}
	return n
}

// Through a function that ranges over it: that call is the one to wrap.
func completedChain(fs []*future.Future[int]) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		return sum(c.Context(), fs...), nil // want `^body blocks its slot: calls sum → future\.Completed \(waits for the futures as it is ranged over\); wrap it in continuation\.Blocking or await a future$`
	})
}

// The library's other calls that wait: the shutdowns, and a pool's slot.
func libraryWaits(srv *http.Server, p *pool.Pool) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		_ = s.Shutdown(c.Context())                      // want `calls \(\*continuation\.Scheduler\)\.Shutdown \(waits for the continuations to end\)`
		_ = httpadapter.Shutdown(c.Context(), srv, s, p) // want `calls httpadapter\.Shutdown \(waits for the server and the continuations to end\)`
		_ = p.Acquire(c.Context())                       // want `calls \(\*pool\.Pool\)\.Acquire \(waits for a slot while the body holds one\)`
		_ = p.Reacquire()                                // want `calls \(\*pool\.Pool\)\.Reacquire`
		return 0, p.Shutdown(c.Context())                // want `calls \(\*pool\.Pool\)\.Shutdown \(waits for the pool to drain\)`
	})
}

// A local closure reassigned: each func literal assigned to it may run.
func reassigned(slow bool) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		fn := func() {}
		if slow {
			fn = func() { time.Sleep(time.Second) } // want `^body blocks its slot: calls time\.Sleep \(sleep\)`
		}
		fn()
		return 0, nil
	})
}

// A local variable assigned a closure and a function: both are followed.
func reassignedFunc(wg *sync.WaitGroup) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		var wait func()
		wait = func() {}
		wait = wg.Wait
		wait() // want `calls \(\*sync\.WaitGroup\)\.Wait`
		return 0, nil
	})
}

// A body whose *continuation.C is unnamed: the advice is to name it.
func unnamedC(in chan int) { // want unnamedC:`blocks\(continuation\.Run`
	continuation.Run(s, ctx, func(*continuation.C) (int, error) {
		time.Sleep(time.Millisecond) // want `^body blocks its slot: calls time\.Sleep \(sleep\); name its \*continuation\.C parameter and wrap the wait in continuation\.Blocking, or await a future$`
		return <-in, nil             // want `^body blocks its slot: channel receive; name its \*continuation\.C parameter, and await a future with continuation\.Await, or wait in continuation\.Blocking$`
	})
}

func (srv *server) blank(_ *continuation.C, f *future.Future[int]) error { // want blank:`blocks\(\(\*future\.Future\)\.Await\)`
	_, err := f.Await(ctx) // want `^\(\*server\)\.blank blocks its slot: calls \(\*future\.Future\)\.Await, which holds it; name its \*continuation\.C parameter, and use continuation\.Await\(c, f\)$`
	return err
}

// Reads of an upstream response's body wait on the network: its Read, io's readers and
// copies with the body as their source, and a JSON decoder made on it.
func upstreamBody(resp *http.Response, v *map[string]any) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)                      // want `^body blocks its slot: calls \(\*http\.Response\)\.Body\.Read \(reads an upstream response's body: network I/O\); wrap it in continuation\.Blocking or await a future$`
		b, _ := io.ReadAll(resp.Body)                    // want `^body blocks its slot: calls io\.ReadAll \(reads an upstream response's body: network I/O\);`
		_, _ = io.Copy(io.Discard, resp.Body)            // want `calls io\.Copy \(reads an upstream response's body`
		_, _ = io.CopyN(io.Discard, (resp.Body), 10)     // want `calls io\.CopyN \(reads an upstream response's body`
		_, _ = io.CopyBuffer(io.Discard, resp.Body, buf) // want `calls io\.CopyBuffer \(reads an upstream response's body`
		_, _ = io.ReadFull(resp.Body, buf)               // want `calls io\.ReadFull \(reads an upstream response's body`
		_, _ = io.ReadAtLeast(resp.Body, buf, 1)         // want `calls io\.ReadAtLeast \(reads an upstream response's body`
		_ = json.NewDecoder(resp.Body).Decode(v)         // want `^body blocks its slot: calls \(\*json\.Decoder\)\.Decode \(reads an upstream response's body: network I/O\);`
		return n + len(b), resp.Body.Close()
	})
}

type upstream struct {
	*http.Response
	name string
}

// A response by value, and one embedded in a struct: still an upstream response's body.
func responseValue(resp http.Response, u upstream) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		buf := make([]byte, 512)
		_, _ = resp.Body.Read(buf)     // want `^handler blocks its slot: calls http\.Response\.Body\.Read \(reads an upstream response's body: network I/O\);`
		_, err := io.Copy(w, u.Body)   // want `calls io\.Copy \(reads an upstream response's body`
		_, _ = (u.Body).Read(buf[:10]) // want `calls \(\*http\.Response\)\.Body\.Read`
		return err
	})
}

// The response got in Blocking, its body read outside: the read waits too.
func bodyOutsideBlocking(client *http.Client) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		resp, err := continuation.Blocking(c, func() (*http.Response, error) { return client.Get("http://example.com") })
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(w, resp.Body) // want `^handler blocks its slot: calls io\.Copy \(reads an upstream response's body: network I/O\); wrap it in continuation\.Blocking or await a future$`
		return err
	})
}

func readBody(resp *http.Response) ([]byte, error) { // want readBody:`blocks\(io\.ReadAll \(reads an upstream response's body: network I/O\)\)`
	return io.ReadAll(resp.Body)
}

// Through a function that reads the body.
func bodyInCallee(resp *http.Response) {
	continuation.Spawn(s, ctx, func(c *continuation.C) ([]byte, error) {
		return readBody(resp) // want `^body blocks its slot: calls readBody → io\.ReadAll \(reads an upstream response's body: network I/O\);`
	})
}

// Missed: a body held in a variable or wrapped in a reader is not followed.
func bodyThroughVariable(resp *http.Response) {
	continuation.Spawn(s, ctx, func(c *continuation.C) ([]byte, error) {
		body := resp.Body
		_, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // missed
		return io.ReadAll(body)                             // missed
	})
}

// database/sql: rows are fetched as they are iterated, and Close drains what is left.
func rowsIteration() {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		rows, err := continuation.Blocking(c, func() (*sql.Rows, error) { return db.QueryContext(c.Context(), "SELECT 1") })
		if err != nil {
			return 0, err
		}
		defer rows.Close() // want `^body blocks its slot: calls \(\*sql\.Rows\)\.Close \(database/sql call\);`
		n := 0
		for rows.Next() { // want `^body blocks its slot: calls \(\*sql\.Rows\)\.Next \(database/sql call\); wrap it in continuation\.Blocking or await a future$`
			var v int
			if err := rows.Scan(&v); err != nil {
				return 0, err
			}
			n += v
		}
		if rows.NextResultSet() { // want `calls \(\*sql\.Rows\)\.NextResultSet \(database/sql call\)`
			n++
		}
		return n, rows.Err()
	})
}

// Files opened, and directories read.
func filesAndDirs(f *os.File) {
	continuation.Spawn(s, ctx, func(c *continuation.C) (int, error) {
		g, err := os.Open("/etc/hosts") // want `^body blocks its slot: calls os\.Open \(file I/O\);`
		if err != nil {
			return 0, err
		}
		defer g.Close()
		h, _ := os.OpenFile("/tmp/x", os.O_RDWR, 0) // want `calls os\.OpenFile \(file I/O\)`
		k, _ := os.Create("/tmp/y")                 // want `calls os\.Create \(file I/O\)`
		es, _ := os.ReadDir("/etc")                 // want `calls os\.ReadDir \(file I/O\)`
		es2, _ := f.ReadDir(-1)                     // want `calls \(\*os\.File\)\.ReadDir \(file I/O\)`
		fis, _ := f.Readdir(-1)                     // want `calls \(\*os\.File\)\.Readdir \(file I/O\)`
		names, _ := f.Readdirnames(-1)              // want `calls \(\*os\.File\)\.Readdirnames \(file I/O\)`
		_, _ = h, k
		return len(es) + len(es2) + len(fis) + len(names), nil
	})
}
