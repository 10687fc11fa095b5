package plc

import (
	"math"
	"testing"

	"github.com/tipring/tipring/dsp/dsptest"
)

// A frame made up between two stretches of a steady vowel-like tone keeps
// its level and joins both sides without a click: no step between
// neighbouring samples larger than the tone's own steepest.
func TestStretchJoinsWithoutAClick(t *testing.T) {
	for _, hz := range []float64{110, 200, 333, 1000} {
		x := dsptest.Sine(HistorySamples+FrameSamples, hz, -10, 0.3)
		var hist [HistorySamples]int16
		copy(hist[:], x)
		var out [FrameSamples]int16
		Stretch(&out, &hist)
		// What is played: hist, the made-up frame, then the stream's
		// true continuation.
		played := append(append(append([]int16{}, hist[:]...), out[:]...), x[HistorySamples:]...)
		var steep float64
		for i := 1; i < HistorySamples; i++ {
			steep = math.Max(steep, math.Abs(float64(hist[i])-float64(hist[i-1])))
		}
		for i := HistorySamples; i < len(played); i++ {
			if d := math.Abs(float64(played[i]) - float64(played[i-1])); d > 1.2*steep+2 {
				t.Errorf("%v Hz: a step of %.0f at sample %d (the tone's steepest is %.0f)", hz, d, i-HistorySamples, steep)
				break
			}
		}
		if lv, want := dsptest.Level(out[:], hz), dsptest.Level(x[:FrameSamples], hz); math.Abs(lv-want) > 1.5 {
			t.Errorf("%v Hz: the made-up frame is at %.1f dBm0, the tone at %.1f", hz, lv, want)
		}
	}
}

func TestStretchAllocatesNothing(t *testing.T) {
	var hist [HistorySamples]int16
	copy(hist[:], dsptest.Sine(HistorySamples, 200, -10, 0))
	var out [FrameSamples]int16
	if n := testing.AllocsPerRun(100, func() { Stretch(&out, &hist) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// A tone that begins in the last 5 ms of the history (a key the DTMF
// receiver has not recognised yet) is not repeated through the made-up
// frame: only the splice and the fade into the history's tail carry it.
func TestStretchDoesNotRepeatAToneOnset(t *testing.T) {
	var hist [HistorySamples]int16
	a, b := dsptest.Sine(36, 697, -6, 0), dsptest.Sine(36, 1209, -4, 0)
	for i := range a {
		hist[HistorySamples-36+i] = a[i] + b[i]
	}
	var out [FrameSamples]int16
	Stretch(&out, &hist)
	for n := spliceLen; n < FrameSamples-MaxPitch; n++ {
		if out[n] != 0 {
			t.Fatalf("sample %d of the made-up frame is %d: the onset was repeated", n, out[n])
		}
	}
}
