package httpadapter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// countingWriter is a ResponseWriter that keeps only the size of the body.
type countingWriter struct {
	h http.Header
	n int
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// BenchmarkDebugHandler measures a request to DebugHandler with n continuations
// suspended on a gate under 50 labels: the JSON, the page, and the JSON with every
// continuation (?all=1), with the size of the response (resp-B).
func BenchmarkDebugHandler(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		p := pool.New(2)
		s := continuation.NewScheduler(p, continuation.WithMaxAlive(n))
		gate, open := future.New[int]()
		fs := make([]*future.Future[int], n)
		for i := range n {
			fs[i] = continuation.Spawn(s, context.Background(), func(c *continuation.C) (int, error) {
				return continuation.Await(c, gate)
			}, continuation.WithLabel(fmt.Sprint("GET /r", i%50)))
		}
		for s.Stats().Suspended < n {
			time.Sleep(time.Millisecond)
		}
		h := DebugHandler(s, p)
		for _, q := range []struct{ name, target string }{
			{"json", "/debug/suspend/?format=json"},
			{"html", "/debug/suspend/"},
			{"json-all", "/debug/suspend/?format=json&all=1"},
		} {
			b.Run(fmt.Sprintf("alive=%d/%s", n, q.name), func(b *testing.B) {
				b.ReportAllocs()
				r := httptest.NewRequest("GET", q.target, nil)
				var w countingWriter
				for b.Loop() {
					w = countingWriter{h: http.Header{}}
					h.ServeHTTP(&w, r)
				}
				b.ReportMetric(float64(w.n), "resp-B")
			})
		}
		open(1, nil)
		for _, f := range fs {
			f.Await(context.Background())
		}
		s.Shutdown(context.Background())
		p.Shutdown(context.Background())
	}
}
