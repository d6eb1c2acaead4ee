// Command stream serves server-sent events: one event per awaited future, each flushed to
// the client as soon as its future settles, with the request suspended in between.
//
//	go run ./examples/stream -addr 127.0.0.1:8080
//	curl --no-buffer '127.0.0.1:8080/events?n=5'
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// A source gives the future of the i-th event of a stream.
type source func(ctx context.Context, i int) *future.Future[string]

// ticks is the source main uses: event i settles every interval.
func ticks(interval time.Duration) source {
	return func(ctx context.Context, i int) *future.Future[string] {
		f, resolve := future.New[string]()
		time.AfterFunc(interval, func() { resolve(fmt.Sprintf("tick %d at %s", i, time.Now().Format(time.TimeOnly)), nil) })
		return f
	}
}

// handler streams n events (the query's n, default 5) from next. When the server shuts
// down, a stream under way ends early with a "shutdown" event, so that the shutdown need
// not wait for it and its client sees a whole response (and may reconnect elsewhere, with
// Last-Event-ID).
func handler(s *continuation.Scheduler, next source) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 {
			n = 5
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil { // the stream is open: the client sees its headers
			return err
		}
		for i := 1; i <= n; i++ {
			event := next(r.Context(), i)
			// Wait for the event, or for the shutdown, holding no slot.
			closing, _ := continuation.Blocking(c, func() (bool, error) {
				select {
				case <-event.Done():
					return false, nil
				case <-s.Closing():
					return true, nil
				}
			})
			if closing {
				fmt.Fprintf(w, "event: shutdown\ndata: the server is shutting down\n\n")
				return nil
			}
			data, err := continuation.Await(c, event)
			if err != nil {
				return err // before the first event: an error response; after: an aborted stream
			}
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", i, data)
			if err := rc.Flush(); err != nil {
				return err
			}
		}
		return nil
	})
}

// serve serves the example on ln until ctx ends, then shuts down gracefully within grace:
// streams end with their "shutdown" event, and every request is answered.
func serve(ctx context.Context, ln net.Listener, interval, grace time.Duration) error {
	p := pool.New(runtime.GOMAXPROCS(0))
	s := continuation.NewScheduler(p)
	srv := &http.Server{Handler: handler(s, ticks(interval))}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := httpadapter.Shutdown(shutdown, srv, s, p)
	<-served // http.ErrServerClosed, once Shutdown began
	return err
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	interval := flag.Duration("interval", time.Second, "time between events")
	grace := flag.Duration("grace", 10*time.Second, "time given to a graceful shutdown")
	flag.Parse()

	// SIGINT (Ctrl-C) and SIGTERM (kill, container stop) begin a graceful shutdown; a
	// second one stops the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("streaming events on http://%s/events", ln.Addr())
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := serve(ctx, ln, *interval, *grace); err != nil {
		log.Fatal(err)
	}
	log.Print("shut down")
}
