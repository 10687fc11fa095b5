// Package dsp holds the telephony signal processing of Tipring: G.711,
// DTMF, call progress tones, caller ID, and later echo cancelling, jitter
// buffering and loss concealment, each in a sub-package of its own.
//
// This package fixes what all of them share: the sample rate, the frame
// size, and the level reference that turns dBm0 into 16-bit linear PCM.
// None of the dsp packages knows about SIP or hardware.
package dsp

import "math"

// SampleRate is the narrowband telephony sample rate in Hz.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms frame at SampleRate.
const FrameSamples = 160

// ZeroDBm0Peak is the peak amplitude, in 16-bit linear PCM, of a sine wave at
// 0 dBm0.
//
// G.711 puts the µ-law theoretical load capacity (Tmax, the top decision
// value, 8159 on the 14-bit scale, 32636 on the 16-bit scale) at +3.17 dBm0.
// A 0 dBm0 sine therefore peaks at 32636 / 10^(3.17/20) = 22649. The µ-law
// digital milliwatt of G.711 Table 5 decodes to ±8828/±20860, an RMS of 16016,
// which is this peak divided by √2 to within 0.01 dB. The A-law reference
// (+3.14 dBm0 at 32768) differs by 0.04 dB; Tipring uses this one for both.
const ZeroDBm0Peak = 22649.0

// ZeroDBm0RMS is the RMS value, in 16-bit linear PCM, of any signal at 0 dBm0.
const ZeroDBm0RMS = ZeroDBm0Peak / math.Sqrt2

// PeakFromDBm0 returns the peak amplitude of a sine at level dBm0.
func PeakFromDBm0(dBm0 float64) float64 {
	return ZeroDBm0Peak * math.Pow(10, dBm0/20)
}

// DBm0FromRMS returns the level in dBm0 of a signal with the given RMS value
// in 16-bit linear PCM. It returns -Inf for silence.
func DBm0FromRMS(rms float64) float64 {
	return 20 * math.Log10(rms/ZeroDBm0RMS)
}

// RMS returns the root mean square of samples, or 0 for an empty slice.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		f := float64(s)
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// Saturate converts a float sample to int16, clipping at the rails.
func Saturate(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}
