package httpadapter

import (
	"encoding/json"
	"net/http"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

// debugState is what DebugHandler serves.
type debugState struct {
	Scheduler     continuation.Stats  `json:"scheduler"`
	Pool          *pool.Stats         `json:"pool,omitempty"`
	Continuations []continuation.Info `json:"continuations"`
}

// DebugHandler returns a handler that serves, as JSON, the scheduler's Stats, the pool's
// Stats if p is not nil, and the Snapshot of the continuations alive now, oldest first:
// mount it under /debug/, behind whatever guards your other debug handlers. Listing the
// continuations costs time in proportion to how many are alive. Every key is snake_case,
// durations are in nanoseconds (their keys end in _ns), and states are names ("queued",
// "running", "suspended").
func DebugHandler(s *continuation.Scheduler, p *pool.Pool) http.Handler {
	if s == nil {
		panic("httpadapter: DebugHandler called with a nil *continuation.Scheduler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := debugState{Scheduler: s.Stats(), Continuations: s.Snapshot()}
		if p != nil {
			ps := p.Stats()
			st.Pool = &ps
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st) // an error here is the client's going away
	})
}
