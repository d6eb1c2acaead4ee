package suspendprom_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
	"github.com/gosuspend/suspend/suspendprom"
)

// A server exports its scheduler's and its pool's metrics at /metrics, beside its own
// handlers, from a registry of its own.
func ExampleNewCollector() {
	p := pool.New(2)
	s := continuation.NewScheduler(p)
	defer p.Shutdown(context.Background())
	defer s.Shutdown(context.Background())

	reg := prometheus.NewRegistry()
	reg.MustRegister(suspendprom.NewCollector(s, p))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	// Some work done, then a scrape.
	for range 3 {
		_, _ = continuation.Run(s, context.Background(), func(*continuation.C) (int, error) { return 1, nil })
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	lines := bufio.NewScanner(rec.Body)
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "suspend_continuations") ||
			strings.HasPrefix(l, "suspend_step_seconds_count") ||
			strings.HasPrefix(l, "suspend_pool_slots ") {
			fmt.Println(l)
		}
	}
	// Output:
	// suspend_continuations{state="queued"} 0
	// suspend_continuations{state="running"} 0
	// suspend_continuations{state="suspended"} 0
	// suspend_continuations_ended_total{cause="cancelled"} 0
	// suspend_continuations_ended_total{cause="closed"} 0
	// suspend_continuations_ended_total{cause="completed"} 3
	// suspend_continuations_ended_total{cause="deadline"} 0
	// suspend_continuations_ended_total{cause="failed"} 0
	// suspend_continuations_ended_total{cause="late"} 0
	// suspend_continuations_ended_total{cause="overloaded"} 0
	// suspend_continuations_ended_total{cause="panicked"} 0
	// suspend_continuations_ended_total{cause="shed"} 0
	// suspend_continuations_ended_total{cause="stopped"} 0
	// suspend_pool_slots 2
	// suspend_step_seconds_count 3
}
