package echo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/g711"
)

// This file builds the test world of G.168 §6 on synthetic material: echo
// paths, test signals, the hybrid that adds echo to near-end speech, and
// an independent power measurement. None of it uses the canceller's code.

// Echo path models. G.168 Annex D tabulates measured hybrid impulse
// responses; these are stand-ins with the same character, built from
// decaying sinusoids: a hybrid response lasts a few milliseconds, has no
// DC (the line transformer blocks it), rings at a few hundred Hz to a few
// kHz, and may carry a second, weaker reflection from a far impedance
// discontinuity. Each is scaled so that its energy Σh² equals the ERL for
// white noise; the delay is the flat (bulk) delay in front of it.
type pathModel struct {
	name  string
	parts []pathPart
	ms    float64 // length of the dispersive part
}

type pathPart struct {
	at, amp, tau, hz, phase float64 // start (ms), amplitude, decay (ms), ring, phase
}

var pathModels = []pathModel{
	{"short", []pathPart{{0, 1, 0.5, 700, 1.2}}, 4},
	{"undershoot", []pathPart{{0, 1, 0.3, 1200, 0.9}, {0.4, -0.35, 2.5, 90, 1.6}}, 12},
	{"ringing", []pathPart{{0, 0.8, 1.2, 350, 0.4}, {0.1, 0.6, 0.8, 1500, 2.0}, {0.2, 0.4, 0.6, 2600, 0.1}}, 8},
	{"two-reflections", []pathPart{{0, 1, 0.5, 900, 1.0}, {6, 0.35, 0.8, 1700, 2.5}}, 10},
}

// impulse returns the model's response delayed by delay samples with the
// given ERL in dB.
func (m pathModel) impulse(delay int, erlDB float64) []float64 {
	n := int(m.ms * dsp.SampleRate / 1000)
	h := make([]float64, delay+n)
	for _, p := range m.parts {
		for k := range n {
			t := float64(k)/dsp.SampleRate*1000 - p.at
			if t < 0 {
				continue
			}
			h[delay+k] += p.amp * math.Exp(-t/p.tau) * math.Sin(2*math.Pi*p.hz*t/1000+p.phase)
		}
	}
	var mean, e float64
	for _, v := range h[delay:] {
		mean += v
	}
	mean /= float64(n)
	for k := delay; k < len(h); k++ {
		h[k] -= mean * math.Exp(-float64(k-delay)/float64(n)) // remove DC gently
	}
	for _, v := range h {
		e += v * v
	}
	g := math.Sqrt(math.Pow(10, -erlDB/10) / e)
	for k := range h {
		h[k] *= g
	}
	return h
}

// convolve returns the echo of x through h, unrounded.
func convolve(x []int16, h []float64) []float64 {
	y := make([]float64, len(x))
	for n := range x {
		if x[n] == 0 {
			continue
		}
		v := float64(x[n])
		for k, hk := range h {
			if n+k >= len(y) {
				break
			}
			y[n+k] += v * hk
		}
	}
	return y
}

// echoOf returns the echo of rin through model m after delay samples,
// scaled so that the ERL measured on rin itself (over its non-silent
// samples) is erlDB, as G.168 sets the ERL for each test signal.
func echoOf(rin []int16, m pathModel, delay int, erlDB float64) []float64 {
	h := m.impulse(delay, erlDB)
	y := convolve(rin, h)
	var px, py float64
	for i, v := range rin {
		px += float64(v) * float64(v)
		py += y[i] * y[i]
	}
	g := math.Sqrt(px / py * math.Pow(10, -erlDB/10))
	for i := range y {
		y[i] *= g
	}
	return y
}

// hybrid returns send-in: the echo plus the near end's signal, rounded to
// 16 bits as a codec would.
func hybrid(echo []float64, near []int16) []int16 {
	s := make([]int16, len(echo))
	for i := range s {
		v := echo[i]
		if near != nil {
			v += float64(near[i])
		}
		s[i] = dsp.Saturate(v)
	}
	return s
}

func rmsFor(dBm0 float64) float64 { return dsp.ZeroDBm0RMS * math.Pow(10, dBm0/20) }

// white returns Gaussian white noise at dBm0.
func white(n int, dBm0 float64, rng *rand.Rand) []int16 {
	x := make([]int16, n)
	s := rmsFor(dBm0)
	for i := range x {
		x[i] = dsp.Saturate(rng.NormFloat64() * s)
	}
	return x
}

// css returns a composite source signal after the pattern of ITU-T P.501
// used by G.168: a voiced burst (48.62 ms of a 120 Hz harmonic series with
// a falling spectrum), 200 ms of lowpass-tilted noise, and a 101.38 ms
// pause, repeated with alternating sign. The active parts are at dBm0.
func css(n int, dBm0 float64, rng *rand.Rand) []int16 {
	const voiced, noise, pause = 389, 1600, 811
	period := voiced + noise + pause
	x := make([]int16, n)
	s := rmsFor(dBm0)
	phase := make([]float64, 28)
	for k := range phase {
		phase[k] = rng.Float64() * 2 * math.Pi
	}
	var norm float64
	for k := 1; k <= len(phase); k++ {
		a := math.Pow(float64(k), -0.7)
		norm += a * a / 2
	}
	var lp float64
	for i := range x {
		cycle := i / period
		j := i % period
		sign := 1.0
		if cycle%2 == 1 {
			sign = -1
		}
		switch {
		case j < voiced:
			var v float64
			t := float64(j) / dsp.SampleRate
			for k := 1; k <= len(phase); k++ {
				v += math.Pow(float64(k), -0.7) * math.Sin(2*math.Pi*120*float64(k)*t+phase[k-1])
			}
			x[i] = dsp.Saturate(sign * s * v / math.Sqrt(norm))
		case j < voiced+noise:
			lp = 0.6*lp + rng.NormFloat64()
			x[i] = dsp.Saturate(sign * s * lp * 0.8) // 0.8 = √(1-0.6²): unit power
		default:
			lp = 0
		}
	}
	return x
}

// speechLike returns noise with a speech-like spectrum (tilted, with a
// moving resonance) under a syllabic envelope: bursts of 120-400 ms
// separated by 40-250 ms gaps, with burst levels spread ±5 dB around dBm0.
func speechLike(n int, dBm0 float64, rng *rand.Rand) []int16 {
	x := make([]int16, n)
	s := rmsFor(dBm0)
	i := 0
	var y1, y2 float64
	for i < n {
		burst := 960 + rng.IntN(2240)
		gap := 320 + rng.IntN(1680)
		f := 300 + rng.Float64()*1500
		r := 0.9
		b1, b2 := 2*r*math.Cos(2*math.Pi*f/dsp.SampleRate), -r*r
		// unit-power gain for an AR(2) driven by unit white noise
		g := math.Sqrt((1 - b2) / ((1 + b2) * ((1-b2)*(1-b2) - b1*b1)))
		lvl := s * math.Pow(10, (rng.Float64()*10-5)/20) / g
		for k := 0; k < burst && i < n; k++ {
			env := math.Sin(math.Pi * float64(k) / float64(burst))
			v := rng.NormFloat64() + b1*y1 + b2*y2
			y2, y1 = y1, v
			x[i] = dsp.Saturate(lvl * v * env * math.Sqrt2)
			i++
		}
		i += gap
	}
	return x
}

// ulaw passes x through a G.711 µ-law encoder and decoder.
func ulaw(x []int16) []int16 {
	y := make([]int16, len(x))
	for i, v := range x {
		y[i] = g711.UlawToLinear(g711.UlawFromLinear(v))
	}
	return y
}

// run feeds the canceller in frames of varying size (streaming) and returns
// send-out.
func run(c *Canceller, rin, sin []int16) []int16 {
	out := make([]int16, len(rin))
	sizes := []int{160, 80, 1, 240, 37, 160, 320}
	for i, k := 0, 0; i < len(rin); k++ {
		n := min(sizes[k%len(sizes)], len(rin)-i)
		c.Process(rin[i:i+n], sin[i:i+n], out[i:i+n])
		i += n
	}
	return out
}

// power returns the mean square of the difference a-b over [from, to),
// with b optional: the independent measurement the figures rest on.
func meanSquare(a []float64, from, to int) float64 {
	var s float64
	for _, v := range a[from:to] {
		s += v * v
	}
	return s / float64(to-from)
}

// residual returns sout minus the near-end signal: what is left of the echo.
func residual(sout, near []int16) []float64 {
	r := make([]float64, len(sout))
	for i, v := range sout {
		r[i] = float64(v)
		if near != nil {
			r[i] -= float64(near[i])
		}
	}
	return r
}

// erle returns 10·log10(P(echo)/P(residual)) over [from, to).
func erle(echo, resid []float64, from, to int) float64 {
	return 10 * math.Log10(meanSquare(echo, from, to)/(meanSquare(resid, from, to)+1e-9))
}

// erleTrack returns the ERLE in consecutive windows of win samples.
func erleTrack(echo, resid []float64, win int) []float64 {
	var t []float64
	for i := 0; i+win <= len(echo); i += win {
		t = append(t, erle(echo, resid, i, i+win))
	}
	return t
}

func newCanceller(t testing.TB, cfg Config) *Canceller {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ms(v int) int { return v * dsp.SampleRate / 1000 }
