package httpadapter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// A handler that waits on a slow upstream without holding one of the pool's two slots.
// Its reads of the request body and writes of the response hold none either.
func Example() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)

	fetchQuote := func(ctx context.Context) (string, error) {
		time.Sleep(20 * time.Millisecond) // a slow upstream call
		return "42", nil
	}
	h := httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		// One blocking call: Blocking gives the slot back while it runs. For several calls at
		// once, start each with future.Go and wait with continuation.Await.
		v, err := continuation.Blocking(c, func() (string, error) { return fetchQuote(r.Context()) })
		if err != nil {
			return err // answered 504 on a deadline, 500 otherwise
		}
		fmt.Fprintf(w, "the answer is %s\n", v)
		return nil
	}, httpadapter.WithTimeout(5*time.Second))

	srv := httptest.NewServer(h)
	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, ": ", string(body))

	// Graceful shutdown: the server, then the scheduler, then the pool.
	srv.Close()
	s.Shutdown(context.Background())
	p.Shutdown(context.Background())
	// Output: 200 OK: the answer is 42
}

// CPU-bound requests and requests that mostly wait, on one bound: the bound keeps the
// CPU-bound ones, at priority Low, to two at once, and the others are admitted ahead of
// them, so that they are not queued behind a backlog of CPU work.
func ExampleWithPriority() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)

	mux := http.NewServeMux()
	mux.HandleFunc("/resize", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "resized") // stands for milliseconds of CPU work
	})
	mux.HandleFunc("/profile", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "profile") // stands for a call to a slow upstream
	})
	h := httpadapter.Wrap(s, mux, httpadapter.WithPriority(func(r *http.Request) pool.Priority {
		if r.URL.Path == "/resize" {
			return pool.Low
		}
		return pool.Normal
	}))

	srv := httptest.NewServer(h)
	for _, path := range []string{"/resize", "/profile"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(body))
	}

	srv.Close()
	s.Shutdown(context.Background())
	p.Shutdown(context.Background())
	// Output:
	// resized
	// profile
}
