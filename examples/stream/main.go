// Command stream serves server-sent events: one event per awaited future, each flushed to
// the client as soon as its future settles, with the request suspended in between.
//
//	go run ./examples/stream -addr 127.0.0.1:8080
//	curl --no-buffer '127.0.0.1:8080/events?n=5'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
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

// handler streams n events (the query's n, default 5) from next.
func handler(s *continuation.Scheduler, next source) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 {
			n = 5
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		for i := 1; i <= n; i++ {
			data, err := continuation.Await(c, next(r.Context(), i)) // suspended: no slot held
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

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	interval := flag.Duration("interval", time.Second, "time between events")
	flag.Parse()

	p := pool.New(runtime.GOMAXPROCS(0))
	s := continuation.NewScheduler(p)
	srv := &http.Server{Addr: *addr, Handler: handler(s, ticks(*interval))}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		s.Shutdown(shutdown)
		p.Shutdown(shutdown)
	}()
	log.Printf("streaming events on http://%s/events", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
