package dtmf

import (
	"math"
	"testing"
)

// TestWindowGain checks the trigonometry-free window response against the
// closed form over the offsets the tolerance admits.
func TestWindowGain(t *testing.T) {
	for a := -1.6; a <= 1.6; a += 0.01 {
		sub := 1.0
		if a != 0 {
			sub = math.Sin(a/2) / (subLen * math.Sin(a/2/subLen))
		}
		var re, im float64
		for j, w := range winWeights {
			re += w * math.Cos(a*float64(j))
			im += w * math.Sin(a*float64(j))
		}
		want := math.Abs(sub) * math.Hypot(re, im) / winWeightSum
		got := windowGain(math.Cos(a))
		if math.Abs(got-want) > 0.005*want+1e-4 {
			t.Errorf("α=%.2f: gain %.5f, want %.5f", a, got, want)
		}
	}
}
