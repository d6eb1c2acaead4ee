// Package interleave measures two implementations of one operation side by side in one
// benchmark loop, so that a shared, noisy machine slows both alike and their ratio holds
// where their separate ns/op figures do not.
package interleave

import (
	"testing"
	"time"
)

// Chunk is how many operations of one implementation run before the other's turn: enough
// that reading the clock costs nothing next to them, few enough that both see the same
// moments of the machine.
const Chunk = 512

// Pair runs b.N operations of each implementation, alternating in chunks, and reports
// the first's and the second's ns/op as the metrics "<name1>-ns/op" and "<name2>-ns/op",
// and their ratio (first ÷ second) as "ratio". run(n) must perform n operations.
func Pair(b *testing.B, name1 string, run1 func(n int), name2 string, run2 func(n int)) {
	b.Helper()
	var d1, d2 time.Duration
	run1(Chunk) // warm both up before timing
	run2(Chunk)
	b.ResetTimer()
	for left := b.N; left > 0; left -= Chunk {
		n := min(left, Chunk)
		t := time.Now()
		run1(n)
		t2 := time.Now()
		run2(n)
		d1 += t2.Sub(t)
		d2 += time.Since(t2)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(0, "ns/op") // the pair's, which would read as the first's
	b.ReportMetric(float64(d1.Nanoseconds())/n, name1+"-ns/op")
	b.ReportMetric(float64(d2.Nanoseconds())/n, name2+"-ns/op")
	b.ReportMetric(float64(d1)/float64(d2), "ratio")
}

// Settler starts a goroutine that settles each resolver it is sent with 1, and returns
// where to send them; the goroutine ends when b's cleanups run.
func Settler(b *testing.B) chan<- func(int, error) bool {
	work := make(chan func(int, error) bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for resolve := range work {
			resolve(1, nil)
		}
	}()
	b.Cleanup(func() { close(work); <-done })
	return work
}

// Handoff starts a goroutine that answers 1 on each channel it is sent, and returns the
// baseline the futures are measured against: n round trips with it, each on a new
// channel, as a hand-written future makes one. The goroutine ends when b's cleanups run.
func Handoff(b *testing.B) func(n int) {
	pong := make(chan chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range pong {
			c <- 1
		}
	}()
	b.Cleanup(func() { close(pong); <-done })
	return func(n int) {
		for range n {
			c := make(chan int, 1)
			pong <- c
			<-c
		}
	}
}
