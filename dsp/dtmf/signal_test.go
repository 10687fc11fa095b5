package dtmf

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/g711"
)

// This file builds the test signals: tones, noise and dial tone summed in
// float64 at exact levels, then quantized to 16-bit PCM, optionally through
// a G.711 round trip, and fed to a Detector in random chunks.

// codec is the path a test signal takes before the detector.
type codec int

const (
	linear codec = iota
	ulaw
	alaw
)

func (c codec) String() string { return [...]string{"linear", "ulaw", "alaw"}[c] }

var codecs = []codec{linear, ulaw, alaw}

// signal is a float64 signal under construction, in 16-bit PCM units.
type signal []float64

// addTone adds a sine of frequency f Hz at level dBm0 from sample start for
// n samples, with initial phase ph.
func (s signal) addTone(start, n int, f, dBm0, ph float64) {
	a := dsp.PeakFromDBm0(dBm0)
	w := 2 * math.Pi * f / dsp.SampleRate
	for i := 0; i < n && start+i < len(s); i++ {
		s[start+i] += a * math.Sin(w*float64(i)+ph)
	}
}

// addDigit adds a digit's two tones with the given offsets (fractions of the
// nominal frequency) and levels, with random phases.
func (s signal) addDigit(rng *rand.Rand, digit byte, start, n int, offLow, offHigh, lowDBm0, highDBm0 float64) {
	lo, hi, err := Frequencies(digit)
	if err != nil {
		panic(err)
	}
	s.addTone(start, n, float64(lo)*(1+offLow), lowDBm0, rng.Float64()*2*math.Pi)
	s.addTone(start, n, float64(hi)*(1+offHigh), highDBm0, rng.Float64()*2*math.Pi)
}

// bandNoise returns n samples of Gaussian noise band-limited to 300-3400 Hz
// (a 129-tap Blackman-windowed FIR band-pass) scaled to an RMS of rms.
func bandNoise(rng *rand.Rand, n int, rms float64) []float64 {
	const taps = 129
	var h [taps]float64
	for i := range h {
		m := float64(i - taps/2)
		bp := func(fc float64) float64 {
			if m == 0 {
				return 2 * fc / dsp.SampleRate
			}
			return math.Sin(2*math.Pi*fc/dsp.SampleRate*m) / (math.Pi * m)
		}
		win := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(taps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(taps-1))
		h[i] = (bp(3400) - bp(300)) * win
	}
	white := make([]float64, n+taps)
	for i := range white {
		white[i] = rng.NormFloat64()
	}
	out := make([]float64, n)
	var sum float64
	for i := range out {
		var acc float64
		for j, c := range h {
			acc += c * white[i+j]
		}
		out[i] = acc
		sum += acc * acc
	}
	g := rms / math.Sqrt(sum/float64(n))
	for i := range out {
		out[i] *= g
	}
	return out
}

// pcm quantizes s to 16 bits and passes it through c.
func (s signal) pcm(c codec) []int16 {
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = dsp.Saturate(v)
	}
	return roundTrip(out, c)
}

func roundTrip(x []int16, c codec) []int16 {
	if c == linear {
		return x
	}
	b := make([]byte, len(x))
	out := make([]int16, len(x))
	if c == ulaw {
		g711.EncodeUlaw(b, x)
		g711.DecodeUlaw(out, b)
	} else {
		g711.EncodeAlaw(b, x)
		g711.DecodeAlaw(out, b)
	}
	return out
}

// detect runs x through a new detector in random chunks (1 to 400 samples)
// and returns the events, checking that they pair up properly.
func detect(t testing.TB, rng *rand.Rand, x []int16, cfg Config) []Event {
	t.Helper()
	d := NewDetector(cfg)
	var ev []Event
	for len(x) > 0 {
		n := 1 + rng.IntN(400)
		switch rng.IntN(4) {
		case 0:
			n = dsp.FrameSamples
		case 1:
			n = 1 + rng.IntN(8)
		}
		n = min(n, len(x))
		ev = d.Process(ev, x[:n])
		x = x[n:]
	}
	ev = d.Flush(ev)
	checkPairs(t, ev)
	return ev
}

// checkPairs verifies that events alternate Begin, End for the same digit
// with non-decreasing positions.
func checkPairs(t testing.TB, ev []Event) {
	t.Helper()
	var last int64
	for i, e := range ev {
		want := Begin
		if i%2 == 1 {
			want = End
			if e.Digit != ev[i-1].Digit || e.Start != ev[i-1].Sample || e.Sample <= e.Start {
				t.Fatalf("event %d %+v does not end %+v", i, e, ev[i-1])
			}
		}
		if e.Kind != want || e.Sample < last {
			t.Fatalf("event %d %+v out of order in %v", i, e, ev)
		}
		last = e.Sample
	}
	if len(ev)%2 != 0 {
		t.Fatalf("unpaired events %v", ev)
	}
}

// digitsOf returns the digits that began, in order.
func digitsOf(ev []Event) string {
	var b strings.Builder
	for _, e := range ev {
		if e.Kind == Begin {
			b.WriteByte(e.Digit)
		}
	}
	return b.String()
}

// ms converts milliseconds to samples.
func ms(v float64) int { return int(math.Round(v * dsp.SampleRate / 1000)) }
