package echo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// G.168 §6.4.2.6 (comfort noise) in the case that once went wrong: the
// far end talks from the first moment of the call, so the canceller
// converges while it talks. The comfort noise that replaces the
// suppressed residual must sit at the near end's background (−55 dBm0
// here, measured in a pause of the far end), never at the level of the
// echo not yet cancelled during convergence.
func TestG168ComfortNoiseAfterConvergingUnderFarTalk(t *testing.T) {
	c, err := New(Config{NLP: true, ComfortNoise: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	farRMS := dsp.PeakFromDBm0(-20) / math.Sqrt2
	bgRMS := dsp.PeakFromDBm0(-55) / math.Sqrt2
	hist := make([]float64, 0, 8000*8)
	var outP float64
	var n int
	const frames = 300 // 6 s
	for k := range frames {
		rin, sin, sout := make([]int16, 160), make([]int16, 160), make([]int16, 160)
		// the far end pauses for 0.5 s in the middle: the one chance to
		// measure the near end's background
		talking := k < 100 || k >= 125
		for i := range rin {
			v := 0.0
			if talking {
				v = r.NormFloat64() * farRMS
			}
			rin[i] = int16(v)
			hist = append(hist, v)
			j := len(hist) - 1 - 16
			e := 0.0
			if j >= 0 {
				e = hist[j] / 4 // 12 dB ERL, 2 ms flat delay
			}
			sin[i] = int16(e + r.NormFloat64()*bgRMS)
		}
		c.Process(rin, sin, sout)
		if k >= 250 {
			for _, v := range sout {
				outP += float64(v) * float64(v)
				n++
			}
		}
	}
	got := dsp.DBm0FromRMS(math.Sqrt(outP / float64(n)))
	t.Logf("send-out %.1f dBm0 while the far end talks; background −55 dBm0", got)
	if got > -52 || got < -62 {
		t.Errorf("send-out %.1f dBm0, want the background's −55 within −7…+3 dB (a minimum follower reads low)", got)
	}
}
