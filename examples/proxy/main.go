// Command proxy answers each request by calling an upstream three times at once and
// combining the answers. While the calls are under way the request is suspended: the
// worker pool serves other requests, however slow the upstream is.
//
//	go run ./examples/proxy -addr 127.0.0.1:8080 -upstream http://127.0.0.1:9000
//
// Each request to the proxy makes the calls upstream?part=1, 2 and 3 and answers their
// bodies joined, one per line. An upstream failure is answered 502.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// fetch calls url with client and returns a future of the response body.
func fetch(ctx context.Context, client *http.Client, url string) *future.Future[string] {
	return future.Go(ctx, func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %s", url, resp.Status)
		}
		return strings.TrimSpace(string(body)), nil
	})
}

// handler returns the proxy's handler on s, calling upstream with client.
func handler(s *continuation.Scheduler, client *http.Client, upstream string) http.Handler {
	return httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		parts, err := continuation.Await(c, future.All(
			fetch(ctx, client, upstream+"?part=1"),
			fetch(ctx, client, upstream+"?part=2"),
			fetch(ctx, client, upstream+"?part=3"),
		))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the client went away, or the deadline came
			}
			return &httpadapter.StatusError{Code: http.StatusBadGateway, Err: err}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err = io.WriteString(w, strings.Join(parts, "\n")+"\n")
		return err
	}, httpadapter.WithTimeout(10*time.Second))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	upstream := flag.String("upstream", "http://127.0.0.1:9000/", "upstream URL")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "execution slots")
	flag.Parse()

	// Refuse the work that would wait past 5 ms for a slot while the queue stands; the
	// time a request waits on the upstream never counts (see pool.WithQueueDelay).
	p := pool.New(*workers, pool.WithQueueDelay(pool.DefaultQueueDelayTarget, pool.DefaultQueueDelayInterval))
	s := continuation.NewScheduler(p)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	srv := &http.Server{Addr: *addr, Handler: handler(s, client, *upstream)}

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
	log.Printf("proxying http://%s to %s with %d workers", *addr, *upstream, *workers)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	if err := <-shutdown; err != nil { // ListenAndServe returned as it began: wait for the drain
		log.Fatal(err)
	}
}
