// Command hello is the smallest suspend server: one handler that makes a blocking call
// without holding its slot, and a plain net/http handler beside it, run on the same bounded
// pool with Wrap.
//
//	go run ./examples/hello -addr 127.0.0.1:8080
//	curl 127.0.0.1:8080/hello; curl 127.0.0.1:8080/plain
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// routes returns the example's handlers on s.
func routes(s *continuation.Scheduler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/hello", httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		v, err := continuation.Blocking(c, func() (string, error) {
			return "Hi!\n", nil // stands for a call to something slow: the slot is free meanwhile
		})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, v)
		return err
	}))
	mux.Handle("/plain", httpadapter.Wrap(s, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hi from a plain handler!\n")
	})))
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	// A server refuses the work that would wait past 5 ms for a slot while its queue
	// stands, rather than serve it after its client has gone (see pool.WithQueueDelay).
	p := pool.New(runtime.GOMAXPROCS(0),
		pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
	s := continuation.NewScheduler(p)
	srv := &http.Server{Addr: *addr, Handler: routes(s)}

	// SIGINT (Ctrl-C) and SIGTERM (kill, container stop) begin a graceful shutdown of the
	// server, the scheduler and the pool, in that order; a second signal stops at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdown := make(chan error, 1)
	go func() {
		<-ctx.Done()
		stop()
		grace, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- httpadapter.Shutdown(grace, srv, s, p)
	}()
	log.Printf("listening on http://%s", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	if err := <-shutdown; err != nil { // ListenAndServe returned as it began: wait for the drain
		log.Fatal(err)
	}
}
