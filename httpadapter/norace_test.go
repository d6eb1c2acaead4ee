//go:build !race

package httpadapter

const raceDetector = false
