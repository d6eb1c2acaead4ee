// Package fixes holds the calls whose reports come with a fix that wraps them in
// continuation.Blocking, and some that cannot have one.
package fixes

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"time"

	cont "github.com/gosuspend/suspend/continuation"
)

var s *cont.Scheduler

func count(in chan int) int { // want count:`blocks\(channel receive\)`
	return <-in
}

func anon(in chan int) struct{ n int } { // want anon:`blocks\(channel receive\)`
	return struct{ n int }{<-in}
}

// No fix where the result's type is not a name: an anonymous struct.
func unnamed(c *cont.C, in chan int) int { // want unnamed:`blocks`
	x := anon(in) // want `calls anon → channel receive`
	return x.n
}

func body(c *cont.C, client *http.Client, in chan int) (int, error) { // want body:`blocks`
	time.Sleep(time.Millisecond)                  // want `calls time\.Sleep`
	resp, err := client.Get("http://example.com") // want `calls \(\*http\.Client\)\.Get`
	if err != nil {
		return 0, err
	}
	err = exec.Command("true").Run() // want `calls \(\*exec\.Cmd\)\.Run`
	if err != nil {
		return 0, err
	}
	n := count(in) // want `calls count → channel receive`
	v := <-in      // want `channel receive`
	if c := 1; c > 0 {
		time.Sleep(time.Millisecond) // want `calls time\.Sleep`
	}
	return resp.StatusCode + n + v, nil
}

func wrapped() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = cont.Run(s, r.Context(), func(c *cont.C) (int, error) {
			var err error
			var code int
			resp, err := http.Get("http://example.com") // want `calls http\.Get`
			if err == nil {
				code = resp.StatusCode
			}
			return code, err
		})
	})
}

// An upstream response's body read: the read is wrapped.
func decode(c *cont.C, resp *http.Response, v any) ([]byte, error) { // want decode:`blocks`
	b, err := io.ReadAll(resp.Body) // want `calls io\.ReadAll \(reads an upstream response's body`
	if err != nil {
		return nil, err
	}
	err = json.NewDecoder(resp.Body).Decode(v) // want `calls \(\*json\.Decoder\)\.Decode \(reads an upstream response's body`
	return b, err
}
