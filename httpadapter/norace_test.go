//go:build !race

package httpadapter

const raceSlowdown = 1
