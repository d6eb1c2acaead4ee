package httpadapter

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// Bounds of the parameter n of DebugHandler.
const (
	debugDefaultN = 20
	debugMaxN     = 100
)

// DebugHandler returns a handler that serves a live view of the scheduler s and, if p is
// not nil, of its pool: a page that refreshes itself every second, or the same figures as
// JSON. Mount it behind whatever guards your other debug handlers:
//
//	mux.Handle("/debug/suspend/", httpadapter.DebugHandler(s, p))
//
// It answers GET and HEAD (other methods: 405). The page is one HTML document with its
// style and script inline, which loads nothing from elsewhere (its Content-Security-Policy
// allows nothing else) and fetches the JSON of its own URL a second after each answer,
// while it is visible and not paused; without JavaScript it shows only a note that points
// to the JSON. The JSON is served for ?format=json, or to an Accept header that ranks
// application/json above text/html; ?format=html forces the page. The README's "Seeing
// inside" says what each figure means.
//
// Its size does not grow with the number of continuations alive. It shows s's
// [continuation.Stats] (alive by state, ends by cause), p's [pool.Stats], the count, median
// and 99th percentile of s's [continuation.Latencies] (slot wait, step, suspension), the
// same for each of s's routes, at most 257 (see [continuation.Scheduler.Routes]), with
// their alive by state, and, from [continuation.Scheduler.Top], the n oldest
// continuations, the n whose step has run longest, and the counts of those that call for a
// look with the n oldest of them. ?n= sets n: 20 by default, from 0 to 100. A bad value of
// n, format or all is answered 400 with a message that names the parameter. Each part is
// read at its own moment: while continuations come and go, they may disagree a little.
//
// ?all=1, with JSON only, adds every alive continuation, oldest first: the whole
// [continuation.Scheduler.Snapshot], the scheduler's thread dump. It costs time, memory and
// bytes in proportion to the number alive (see below): ask for it when the bounded view
// does not show the continuation you look for.
//
// The JSON is compact (pipe it to jq to read it). Its keys are all snake_case; durations
// are integers of nanoseconds, under keys ending in _ns; states and priorities are names.
// A continuation's deadline_left_ns is the time from serving to its context's deadline,
// negative once passed, absent if it has none; p50_ns and p99_ns are estimates within
// about 25% (see [continuation.Histogram.Quantile]). Its shape, indented, lists cut short:
//
//	{
//	  "time": "2025-06-01T12:00:00.123456789Z",
//	  "n": 20,
//	  "scheduler": {"alive": 3, "running": 1, "suspended": 1, "queued": 1,
//	    "completed": 10, "failed": 0, "panicked": 0, "cancelled": 1, "deadline": 0,
//	    "stopped": 0, "overloaded": 2, "shed": 0, "late": 0, "closed": 0,
//	    "step_overruns": 0},
//	  "pool": {"workers": 1, "busy": 1, "busy_workers": 0, "busy_inline": 1,
//	    "queued_new": 0, "queued_resumed": 0, "waiting_new": 1, "waiting_resumed": 0,
//	    "submitted": 0, "resumed": 0, "completed": 0, "panicked": 0, "refused": 0,
//	    "shed": 0, "late": 0},
//	  "latencies": {
//	    "slot_wait": {"count": 14, "sum_ns": 2100000, "p50_ns": 900, "p99_ns": 1540000},
//	    "step": {"count": 13, "sum_ns": 650000, "p50_ns": 42000, "p99_ns": 98000},
//	    "suspension": {"count": 2, "sum_ns": 100000000, "p50_ns": 51000000, "p99_ns": 51000000}},
//	  "routes": [
//	    {"label": "GET /quote", "running": 1, "suspended": 1, "queued": 1,
//	      "slot_wait": {...}, "step": {...}, "suspension": {...}}],
//	  "oldest": [
//	    {"label": "GET /quote", "priority": "normal", "state": "suspended",
//	      "in_state_ns": 2000000000, "age_ns": 2100000000, "steps": 1,
//	      "busy_ns": 40000, "queued_ns": 0, "suspended_ns": 0,
//	      "deadline_left_ns": 2900000000}],
//	  "longest_running": [...],
//	  "warnings": {"over_budget": 0, "past_deadline": 0, "cancelled": 0, "oldest": []}
//	}
//
// and last, for ?all=1, "continuations": [...], each as in "oldest".
//
// ServeHTTP may be called from any number of goroutines at once. Each call walks the alive
// continuations three times (for Stats, Routes and Top, each holding a lock of the
// registry for at most 256 of them at a time) and reads every route's histograms. With
// 10,000 continuations suspended under 50 labels, on 2 busy cores (BenchmarkDebugHandler),
// the JSON took about 1.3 ms and 17 KB, the page 1.5 ms and 30 KB; with 100,000, about
// 55 ms, at the same sizes. With ?all=1: 20 ms and 1.7 MB for 10,000; 250 ms, 17 MB, and
// 44 MB allocated for 100,000.
//
// DebugHandler panics if s is nil.
func DebugHandler(s *continuation.Scheduler, p *pool.Pool) http.Handler {
	if s == nil {
		panic("httpadapter: DebugHandler called with a nil *continuation.Scheduler")
	}
	return &debugHandler{s: s, p: p, csp: debugCSP()}
}

type debugHandler struct {
	s   *continuation.Scheduler
	p   *pool.Pool // nil: no pool to show
	csp string     // the page's Content-Security-Policy
}

// debugView is what DebugHandler serves, as JSON or within the page.
type debugView struct {
	Time           time.Time           `json:"time"` // when it was served
	N              int                 `json:"n"`    // the length bound of the lists but Continuations
	Scheduler      continuation.Stats  `json:"scheduler"`
	Pool           *pool.Stats         `json:"pool,omitempty"` // nil: no pool given
	Latencies      debugLatencies      `json:"latencies"`
	Routes         []debugRoute        `json:"routes"`
	Oldest         []debugContinuation `json:"oldest"`
	LongestRunning []debugContinuation `json:"longest_running"`
	Warnings       debugWarnings       `json:"warnings"`
	Continuations  []debugContinuation `json:"continuations,omitzero"` // every alive one, with ?all=1; nil: not asked for
}

// debugSummary summarizes a continuation.Histogram.
type debugSummary struct {
	Count uint64        `json:"count"`
	Sum   time.Duration `json:"sum_ns"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
}

type debugLatencies struct {
	SlotWait   debugSummary `json:"slot_wait"`
	Step       debugSummary `json:"step"`
	Suspension debugSummary `json:"suspension"`
}

type debugRoute struct {
	Label     string `json:"label"`
	Running   int    `json:"running"`
	Suspended int    `json:"suspended"`
	Queued    int    `json:"queued"`
	debugLatencies
}

type debugWarnings struct {
	OverBudget   int                 `json:"over_budget"`
	PastDeadline int                 `json:"past_deadline"`
	Cancelled    int                 `json:"cancelled"`
	Oldest       []debugContinuation `json:"oldest"`
}

// debugContinuation is a continuation.Info as served: every figure present, and the
// deadline as the time left to it.
type debugContinuation struct {
	Label     string             `json:"label"`
	Priority  pool.Priority      `json:"priority"`
	State     continuation.State `json:"state"`
	InState   time.Duration      `json:"in_state_ns"`
	Age       time.Duration      `json:"age_ns"`
	Steps     int64              `json:"steps"`
	Busy      time.Duration      `json:"busy_ns"`
	Queued    time.Duration      `json:"queued_ns"`
	Suspended time.Duration      `json:"suspended_ns"`
	// Until the context's deadline from when the view was made; nil: no deadline.
	DeadlineLeft *time.Duration `json:"deadline_left_ns,omitempty"`
	// In warnings only: over_budget, past_deadline or cancelled.
	Warning string `json:"warning,omitempty"`
}

func summarize(h continuation.Histogram) debugSummary {
	return debugSummary{Count: h.Count, Sum: h.Sum, P50: h.Quantile(0.5), P99: h.Quantile(0.99)}
}

func summarizeAll(l continuation.Latencies) debugLatencies {
	return debugLatencies{summarize(l.SlotWait), summarize(l.Step), summarize(l.Suspension)}
}

func continuations(infos []continuation.Info, now time.Time) []debugContinuation {
	out := make([]debugContinuation, len(infos))
	for i, in := range infos {
		out[i] = debugContinuation{
			Label: in.Label, Priority: in.Priority, State: in.State,
			InState: in.InState, Age: in.Age, Steps: in.Steps,
			Busy: in.Busy, Queued: in.Queued, Suspended: in.Suspended, Warning: in.Warning,
		}
		if !in.Deadline.IsZero() {
			left := in.Deadline.Sub(now)
			out[i].DeadlineLeft = &left
		}
	}
	return out
}

// view reads what to serve: n of each list, and every alive continuation if all.
func (h *debugHandler) view(n int, all bool) *debugView {
	now := time.Now()
	v := &debugView{Time: now, N: n, Scheduler: h.s.Stats(), Latencies: summarizeAll(h.s.Latencies())}
	if h.p != nil {
		ps := h.p.Stats()
		v.Pool = &ps
	}
	routes := h.s.Routes()
	v.Routes = make([]debugRoute, len(routes))
	for i, r := range routes {
		v.Routes[i] = debugRoute{Label: r.Label, Running: r.Running, Suspended: r.Suspended,
			Queued: r.Queued, debugLatencies: summarizeAll(r.Latencies)}
	}
	top := h.s.Top(n)
	v.Oldest = continuations(top.Oldest, now)
	v.LongestRunning = continuations(top.LongestRunning, now)
	v.Warnings = debugWarnings{OverBudget: top.OverBudget, PastDeadline: top.PastDeadline,
		Cancelled: top.Cancelled, Oldest: continuations(top.Warnings, now)}
	if all {
		v.Continuations = continuations(h.s.Snapshot(), now)
	}
	return v
}

func (h *debugHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "httpadapter: DebugHandler answers GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	n := debugDefaultN
	if vs, ok := q["n"]; ok {
		var err error
		if n, err = strconv.Atoi(vs[0]); err != nil || n < 0 || n > debugMaxN {
			http.Error(w, fmt.Sprintf("httpadapter: bad parameter n=%q: want an integer from 0 to %d",
				vs[0], debugMaxN), http.StatusBadRequest)
			return
		}
	}
	all := false
	if vs, ok := q["all"]; ok {
		var err error
		if all, err = strconv.ParseBool(vs[0]); err != nil {
			http.Error(w, fmt.Sprintf("httpadapter: bad parameter all=%q: want 1 or 0", vs[0]),
				http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Vary", "Accept")
	asJSON := prefersJSON(r.Header.Values("Accept"))
	if vs, ok := q["format"]; ok {
		switch vs[0] {
		case "json":
			asJSON = true
		case "html":
			asJSON = false
		default:
			http.Error(w, fmt.Sprintf("httpadapter: bad parameter format=%q: want json or html", vs[0]),
				http.StatusBadRequest)
			return
		}
	}
	if all && !asJSON {
		http.Error(w, "httpadapter: parameter all=1 lists every continuation in the JSON only: add format=json",
			http.StatusBadRequest)
		return
	}

	var buf bytes.Buffer
	if asJSON {
		if err := json.NewEncoder(&buf).Encode(h.view(n, all)); err != nil { // cannot happen: no type of it can fail
			panic(fmt.Sprintf("httpadapter: DebugHandler: %v", err))
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		buf.WriteString(debugPageHead)
		// json.Marshal escapes <, > and &: the data cannot end the script element it is in.
		if err := json.NewEncoder(&buf).Encode(h.view(n, false)); err != nil {
			panic(fmt.Sprintf("httpadapter: DebugHandler: %v", err))
		}
		buf.WriteString(debugPageTail)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", h.csp)
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w) // an error here is the client's going away
}

// prefersJSON reports whether the Accept header values rank application/json above
// text/html. Each type gets the quality of the most specific range that matches it
// (exact, then type/*, then */*), 0 if none does; a tie, an absent header included,
// goes to the page.
func prefersJSON(accept []string) bool {
	var qJSON, qHTML float64
	var sJSON, sHTML int // the specificity of the range each quality comes from
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			typ, params, err := mime.ParseMediaType(strings.TrimSpace(rng))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			if s := specificity(typ, "application", "json"); s > sJSON {
				qJSON, sJSON = q, s
			}
			if s := specificity(typ, "text", "html"); s > sHTML {
				qHTML, sHTML = q, s
			}
		}
	}
	return qJSON > qHTML
}

// specificity returns how closely the media range rng matches typ/sub: 3 exactly, 2 for
// typ/*, 1 for */*, 0 not at all.
func specificity(rng, typ, sub string) int {
	switch rng {
	case typ + "/" + sub:
		return 3
	case typ + "/*":
		return 2
	case "*/*":
		return 1
	}
	return 0
}

// debugCSP returns the page's Content-Security-Policy: its inline style and script, by
// their hashes, and fetches of its own origin; nothing else.
func debugCSP() string {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; style-src " + hash(debugPageStyle) + "; script-src " + hash(debugPageScript) +
		"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
