//go:build race

package echo

// raceEnabled shortens the longest test under the race detector, which
// slows this arithmetic-bound code tenfold without finding more in it.
const raceEnabled = true
