// Package dsptest measures audio for tests: the level and frequency of the
// components of a signal, and white noise to add to one. It is written
// straight from the definition of the discrete Fourier transform and shares
// no code with the generators and detectors it is used to check, so a test
// that measures with it does not grade Tipring's DSP against itself.
package dsptest

import (
	"math"
	"math/rand/v2"

	"github.com/tipring/tipring/dsp"
)

// Amplitude returns the peak amplitude, in 16-bit units, of the sinusoid at
// hz in x: a single-bin DFT under a Hann window (coherent gain ½), which
// keeps a neighbouring tone 90 Hz away from leaking into the measurement
// when x spans a few hundred milliseconds.
func Amplitude(x []int16, hz float64) float64 {
	n := float64(len(x))
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / dsp.SampleRate
	c, s := math.Cos(w), math.Sin(w)
	re, im := 1.0, 0.0 // e^{-iwk} by recurrence, renormalized now and then
	var sr, si float64
	for k, v := range x {
		h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(k)/n)
		sr += float64(v) * h * re
		si += float64(v) * h * im
		re, im = re*c+im*s, im*c-re*s
		if k&1023 == 1023 {
			m := math.Hypot(re, im)
			re, im = re/m, im/m
		}
	}
	return 4 * math.Hypot(sr, si) / n
}

// Level returns the level in dBm0 of the component of x at hz.
func Level(x []int16, hz float64) float64 {
	return 20 * math.Log10(Amplitude(x, hz)/dsp.ZeroDBm0Peak)
}

// Peak finds the strongest component of x between lo and hi Hz: a search in
// half-bin steps refined by a parabola through the best three points. It
// returns the frequency and the amplitude there.
func Peak(x []int16, lo, hi float64) (hz, amp float64) {
	step := 0.5 * dsp.SampleRate / float64(len(x))
	best, bestA := lo, -1.0
	for f := lo; f <= hi; f += step {
		if a := Amplitude(x, f); a > bestA {
			best, bestA = f, a
		}
	}
	l, r := Amplitude(x, best-step), Amplitude(x, best+step)
	if d := l - 2*bestA + r; d < 0 {
		best += step * 0.5 * (l - r) / d
	}
	return best, Amplitude(x, best)
}

// Sine returns n samples of a sine at hz and level dBm0, starting at phase
// (radians).
func Sine(n int, hz, dBm0, phase float64) []int16 {
	a := dsp.PeakFromDBm0(dBm0)
	x := make([]int16, n)
	for k := range x {
		x[k] = dsp.Saturate(a * math.Sin(2*math.Pi*hz*float64(k)/dsp.SampleRate+phase))
	}
	return x
}

// AddNoise adds white Gaussian noise to all of x, snr dB below the RMS of
// the signal, measured from its first to its last non-zero sample (so that
// leading and trailing silence do not count, and gaps inside do).
func AddNoise(x []int16, snr float64, rng *rand.Rand) {
	first, last := -1, -1
	for i, v := range x {
		if v != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return
	}
	sigma := dsp.RMS(x[first:last+1]) / math.Pow(10, snr/20)
	for i, v := range x {
		x[i] = dsp.Saturate(float64(v) + rng.NormFloat64()*sigma)
	}
}
