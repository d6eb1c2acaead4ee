// Package futurehook lets package continuation register a wake-up on a *future.Future and
// take it back without allocating: the public Awaitable.AfterDone must return its stop as
// a closure, one allocation per Await. Package future sets the hooks when it is
// initialised, which is before any package that imports it runs.
package futurehook

var (
	// AfterDone registers fn on a, as a.AfterDone would, if a is a *future.Future and still
	// pending, and returns the id that Stop takes. If a has settled, it registers nothing
	// and reports settled: fn will not run. If a is not a *future.Future (a type that only
	// embeds one included), it does nothing and reports false.
	AfterDone func(a any, fn func()) (id uint64, settled, ok bool)

	// Stop takes back the registration id that AfterDone made on a, and reports whether
	// it did, as the stop of Awaitable.AfterDone does: false once a has settled.
	Stop func(a any, id uint64) bool
)
