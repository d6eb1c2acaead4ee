package continuation

import (
	"encoding/json"
	"fmt"
	"time"
)

// Expvar returns a variable to publish with the standard expvar package, whose value is
// s's [Stats] and a summary of its [Latencies], read at each call of its String method,
// as JSON:
//
//	expvar.Publish("suspend", continuation.Expvar(s))
//
// makes /debug/vars show, under "suspend", the fields of Stats by their JSON names
// ("alive", "running", ..., "step_overruns"), and "slot_wait", "step" and "suspension",
// each an object of the histogram's "count", "sum_ns" (the sum of its durations, in ns),
// "p50_ns" and "p99_ns" (estimates of its median and 99th percentile, in ns; see
// [Histogram.Quantile]).
//
// The variable satisfies expvar.Var, an interface of the one String method, without this
// package importing expvar: an import of expvar registers /debug/vars on
// http.DefaultServeMux and publishes the command line and memory statistics, in every
// program that imports it. Nothing is published until the caller does it.
//
// String may be called from any number of goroutines at once. Each call walks the alive
// continuations, as Stats does, and reads every route's histograms, as Latencies does:
// with 10,000 continuations alive under 16 labels it took about 0.23 ms and 7 allocations
// (4 KB), all but about 10 µs of it in those two calls (BenchmarkExpvar, 2 cores, Go 1.26).
//
// Expvar panics if s is nil.
func Expvar(s *Scheduler) fmt.Stringer {
	if s == nil {
		panic("continuation: Expvar called with a nil *Scheduler")
	}
	return expvarVar{s}
}

type expvarVar struct{ s *Scheduler }

func (v expvarVar) String() string {
	l := v.s.Latencies()
	b, err := json.Marshal(expvarValue{
		Stats:      v.s.Stats(),
		SlotWait:   summarize(l.SlotWait),
		Step:       summarize(l.Step),
		Suspension: summarize(l.Suspension),
	})
	if err != nil { // cannot happen: the value is made of integers
		panic(fmt.Sprintf("continuation: Expvar: %v", err))
	}
	return string(b)
}

// expvarValue is the value of an Expvar: Stats' fields, then the summaries.
type expvarValue struct {
	Stats
	SlotWait   latencySummary `json:"slot_wait"`
	Step       latencySummary `json:"step"`
	Suspension latencySummary `json:"suspension"`
}

type latencySummary struct {
	Count uint64        `json:"count"`
	Sum   time.Duration `json:"sum_ns"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
}

func summarize(h Histogram) latencySummary {
	return latencySummary{Count: h.Count, Sum: h.Sum, P50: h.Quantile(0.5), P99: h.Quantile(0.99)}
}
