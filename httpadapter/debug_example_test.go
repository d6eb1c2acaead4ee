package httpadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/httpadapter"
	"github.com/gosuspend/suspend/pool"
)

// The live view beside the handlers it shows: a browser gets the page, which refreshes
// itself every second; a script asks for the JSON.
func ExampleDebugHandler() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)

	mux := http.NewServeMux()
	mux.Handle("/", httpadapter.New(s, func(c *continuation.C, w http.ResponseWriter, r *http.Request) error {
		fmt.Fprintln(w, "hello")
		return nil
	}, httpadapter.WithLabel(func(r *http.Request) string { return r.Method + " " + r.URL.Path })))
	// In production, behind whatever guards your other debug handlers.
	mux.Handle("/debug/suspend/", httpadapter.DebugHandler(s, p))

	srv := httptest.NewServer(mux)
	for range 3 {
		resp, err := http.Get(srv.URL + "/hello")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
	}

	resp, err := http.Get(srv.URL + "/debug/suspend/")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("the page:", resp.Header.Get("Content-Type"))

	resp, err = http.Get(srv.URL + "/debug/suspend/?format=json&n=5")
	if err != nil {
		fmt.Println(err)
		return
	}
	var view struct {
		Scheduler continuation.Stats `json:"scheduler"`
		Routes    []struct {
			Label string `json:"label"`
			Step  struct {
				Count int `json:"count"`
			} `json:"step"`
		} `json:"routes"`
	}
	err = json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("completed:", view.Scheduler.Completed, "alive:", view.Scheduler.Alive)
	for _, r := range view.Routes {
		fmt.Printf("%s: %d steps\n", r.Label, r.Step.Count)
	}

	srv.Close()
	s.Shutdown(context.Background())
	p.Shutdown(context.Background())
	// Output:
	// the page: text/html; charset=utf-8
	// completed: 3 alive: 0
	// GET /hello: 3 steps
}
