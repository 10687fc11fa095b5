package echo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// ans returns a 2100 Hz answer tone at hz (nominally 2100 ± 21) and dBm0:
// with phase reversals every 450 ms if rev, and with the 15 Hz, 20 %
// amplitude modulation of V.8 ANSam if am.
func ans(n int, hz, dBm0 float64, rev, am bool) []int16 {
	x := make([]int16, n)
	a := dsp.PeakFromDBm0(dBm0)
	for i := range x {
		t := float64(i) / dsp.SampleRate
		ph := 2 * math.Pi * hz * t
		if rev && (i/ms(450))%2 == 1 {
			ph += math.Pi
		}
		g := a
		if am {
			g = a / 1.2 * (1 + 0.2*math.Sin(2*math.Pi*15*t))
		}
		x[i] = dsp.Saturate(g * math.Sin(ph))
	}
	return x
}

// G.165/G.168 tone disabler: ANSam (or ANS with reversals) on either path
// turns the canceller into a wire; it comes back after 250 ms of quiet with
// the echo path it had learnt.
func TestToneDisablerPhaseReversals(t *testing.T) {
	cases := []struct {
		name     string
		hz, dBm0 float64
		am, far  bool
	}{
		{"ANSam/rin", 2100, -12, true, true},
		{"ANS/rin/2079Hz", 2079, -25, false, true},
		{"ANS/rin/2121Hz", 2121, -31, false, true},
		{"ANSam/sin", 2100, -15, true, false},
	}
	if testing.Short() {
		cases = cases[:1]
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(10, 10))
			n := ms(7000)
			rin := white(n, -15, rng)
			near := make([]int16, n)
			tone := ans(ms(3000), k.hz, k.dBm0, true, k.am)
			clear(rin[ms(2000):ms(5500)])
			if k.far {
				copy(rin[ms(2000):], tone)
			} else {
				copy(near[ms(2000):], tone)
			}
			echo := echoOf(rin[:ms(2000)], pathModels[1], ms(6), 10)
			full := convolve(rin, pathModels[1].impulse(ms(6), 10))
			g := echo[ms(1000)] / full[ms(1000)]
			for i := range full {
				full[i] *= g
			}
			sin := hybrid(full, near)
			c := newCanceller(t, Config{NLP: true, ComfortNoise: true})
			sout := make([]int16, n)
			bypassed := false
			for i := 0; i < n; i += dsp.FrameSamples {
				c.Process(rin[i:i+dsp.FrameSamples], sin[i:i+dsp.FrameSamples], sout[i:i+dsp.FrameSamples])
				bypassed = bypassed || c.Status().Bypassed
				if i == ms(4800) && !c.Status().Bypassed {
					t.Errorf("not bypassed during the tone")
				}
			}
			if !bypassed {
				t.Fatal("the tone never disabled the canceller")
			}
			for i := ms(2600); i < ms(5000); i++ {
				if sout[i] != sin[i] {
					t.Fatalf("send-out[%.3f s] = %d, send-in %d: not passed through", float64(i)/dsp.SampleRate, sout[i], sin[i])
				}
			}
			if c.Status().Bypassed {
				t.Error("still bypassed after the tone ended")
			}
			// Re-enabled with the learnt path: white noise from 5.5 s.
			res := residual(sout, nil)
			if v := erle(full, res, ms(5600), ms(5800)); v < 25 {
				t.Errorf("ERLE %.1f dB after re-enabling, want ≥ 25", v)
			}
		})
	}
}

// A 2100 Hz tone without reversals (fax CED) disables only the NLP; the
// linear canceller keeps cancelling its echo.
func TestToneDisablerPlain2100(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	n := ms(5000)
	rin := white(n, -15, rng)
	copy(rin[ms(2000):], ans(ms(2500), 2100, -12, false, false))
	clear(rin[ms(4500):])
	echo := convolve(rin, pathModels[0].impulse(ms(4), 10))
	sin := hybrid(echo, nil)
	c := newCanceller(t, Config{NLP: true})
	sout := run(c, rin[:ms(4000)], sin[:ms(4000)])
	st := c.Status()
	if st.Bypassed || !st.NLPDisabled {
		t.Fatalf("status %+v during plain 2100 Hz, want NLP disabled only", st)
	}
	if v := erle(echo, residual(sout, nil), ms(3000), ms(4000)); v < 25 {
		t.Errorf("ERLE %.1f dB on the tone's echo, want ≥ 25", v)
	}
	run(c, rin[ms(4000):], sin[ms(4000):])
	if st := c.Status(); st.NLPDisabled {
		t.Errorf("NLP still disabled 500 ms after the tone: %+v", st)
	}
}

// Other signals must not disable anything: speech-like noise, CSS, and
// tones near but outside 2100 ± 21 Hz or below the level threshold.
func TestToneDisablerNoFalseTrigger(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	n := ms(3000)
	sigs := map[string][]int16{
		"speech":        speechLike(n, -10, rng),
		"css":           css(n, -10, rng),
		"1800Hz":        ans(n, 1800, -10, true, false),
		"2100Hz-45dBm0": ans(n, 2100, -45, true, false),
	}
	for name, x := range sigs {
		c := newCanceller(t, Config{NLP: true})
		out := make([]int16, n)
		for i := 0; i < n; i += dsp.FrameSamples {
			c.Process(x[i:i+dsp.FrameSamples], x[i:i+dsp.FrameSamples], out[i:i+dsp.FrameSamples])
			if st := c.Status(); st.Bypassed || st.NLPDisabled {
				t.Fatalf("%s: disabled at %d ms: %+v", name, i/8, st)
			}
		}
	}
}
