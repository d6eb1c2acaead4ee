//go:build race

package httpadapter

// raceDetector reports whether the tests run with the race detector, which makes code 2
// to 20 times slower: latency tests skip themselves then.
const raceDetector = true
