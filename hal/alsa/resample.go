package alsa

import (
	"math"

	"github.com/tipring/tipring/hal"
)

// A device at 16 kHz carries twice the samples of a hal.Frame. Each slot
// converts with a linear-phase half-band low-pass filter: for capture it
// filters and keeps every second sample, for playback it puts a zero
// between samples and filters (with gain 2). The cut-off is at 4 kHz, the
// Nyquist frequency of 8 kHz audio, so the telephone band (300–3400 Hz)
// passes and what would alias is attenuated.

// halfTaps is the filter's length: odd, so that it has a centre tap.
const halfTaps = 63

// halfband holds the filter coefficients: a sinc cut at a quarter of the
// 16 kHz rate under a Blackman window, normalised to unity gain at DC.
// Computed once at start-up and never changed.
var halfband = designHalfband()

func designHalfband() [halfTaps]float32 {
	var h [halfTaps]float32
	const mid = (halfTaps - 1) / 2
	sum := 0.0
	v := make([]float64, halfTaps)
	for k := range v {
		n := float64(k - mid)
		sinc := 0.5
		if n != 0 {
			sinc = math.Sin(math.Pi*n/2) / (math.Pi * n)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(k)/(halfTaps-1)) + 0.08*math.Cos(4*math.Pi*float64(k)/(halfTaps-1))
		v[k] = sinc * w
		sum += v[k]
	}
	for k := range h {
		h[k] = float32(v[k] / sum)
	}
	return h
}

// decimator converts 16 kHz samples to 8 kHz.
type decimator struct {
	x [halfTaps - 1 + 2*hal.FrameSamples]float32 // history, then the new period
}

// process filters the 2·FrameSamples samples of in into f.
func (d *decimator) process(f *hal.Frame, in []int16) {
	const hist = halfTaps - 1
	copy(d.x[:hist], d.x[len(d.x)-hist:])
	for i, v := range in[:2*hal.FrameSamples] {
		d.x[hist+i] = float32(v)
	}
	for n := range f {
		var acc float32
		w := d.x[2*n+1 : 2*n+1+halfTaps]
		for k, h := range halfband {
			acc += h * w[k]
		}
		f[n] = clamp16(acc)
	}
}

// interpolator converts 8 kHz samples to 16 kHz.
type interpolator struct {
	x [halfTaps - 1 + 2*hal.FrameSamples]float32 // zero-stuffed history, then the new period
}

// process fills out (2·FrameSamples samples) from f.
func (p *interpolator) process(out []int16, f *hal.Frame) {
	const hist = halfTaps - 1
	copy(p.x[:hist], p.x[len(p.x)-hist:])
	for i, v := range f {
		p.x[hist+2*i] = float32(v)
		p.x[hist+2*i+1] = 0
	}
	for m := range out[:2*hal.FrameSamples] {
		var acc float32
		w := p.x[m : m+halfTaps]
		for k, h := range halfband {
			acc += h * w[k]
		}
		out[m] = clamp16(2 * acc)
	}
}

func clamp16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}
