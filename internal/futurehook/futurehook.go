// Package futurehook lets package continuation register a wake-up on a *future.Future and
// take it back without allocating: the public Awaitable.AfterDone must return its stop as
// a closure, one allocation per Await. Package future sets the hooks when it is
// initialised, which is before any package that imports it runs.
package futurehook

var (
	// AfterDone registers fn on a, with the rules of Awaitable.AfterDone, if a is a
	// *future.Future, and returns the id that Stop takes (0 if fn has run or is bound to
	// run). If a is anything else it registers nothing and reports false.
	AfterDone func(a any, fn func()) (id uint64, ok bool)

	// Stop takes back the registration id that AfterDone made on a, and reports whether
	// it did, as the stop of Awaitable.AfterDone does.
	Stop func(a any, id uint64) bool
)
