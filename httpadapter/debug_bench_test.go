package httpadapter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gosuspend/suspend/internal/suspendtest"
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
		s, p, done := suspendtest.Loaded(b, 0, n, 50)
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
		done()
	}
}
