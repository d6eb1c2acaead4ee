//go:build race

package pool_test

// raceEnabled reports whether the tests run with the race detector, which randomizes the
// order in which Go's scheduler runs goroutines made runnable together.
const raceEnabled = true
