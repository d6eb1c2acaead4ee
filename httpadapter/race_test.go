//go:build race

package httpadapter

// raceSlowdown scales the latency bounds of tests run with the race detector, which makes
// code 2 to 20 times slower.
const raceSlowdown = 5
