package httpadapter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// BenchmarkHello serves a hello handler on loopback, driven by parallel keep-alive
// clients: through New, through Wrap, and on plain net/http, in one run.
func BenchmarkHello(b *testing.B) {
	hello := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Hello, world!\n") }
	variants := []struct {
		name string
		mk   func(s *continuation.Scheduler) http.Handler
	}{
		{"nethttp", func(*continuation.Scheduler) http.Handler { return http.HandlerFunc(hello) }},
		{"New", func(s *continuation.Scheduler) http.Handler {
			return New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
				hello(w, r)
				return nil
			})
		}},
		{"Wrap", func(s *continuation.Scheduler) http.Handler { return Wrap(s, http.HandlerFunc(hello)) }},
	}
	for _, v := range variants {
		b.Run("impl="+v.name, func(b *testing.B) {
			p := pool.New(runtime.GOMAXPROCS(0))
			s := continuation.NewScheduler(p)
			srv := httptest.NewServer(v.mk(s))
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			client := &http.Client{Transport: tr}
			defer func() {
				tr.CloseIdleConnections()
				srv.Close()
				s.Shutdown(context.Background())
				p.Shutdown(context.Background())
			}()
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(srv.URL)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
