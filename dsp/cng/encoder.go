package cng

import (
	"errors"

	"github.com/tipring/tipring/dsp"
)

// DefaultOrder is the model order the Encoder uses when asked for the
// usual one: 10 reflection coefficients at 8 kHz.
const DefaultOrder = 10

// averageFrames is the number of frames the estimate is a plain mean of;
// after that each frame weighs 1/averageFrames.
const averageFrames = 8

// ErrEncoderOrder reports an order outside 0…MaxOrder for NewEncoder.
var ErrEncoderOrder = errors.New("cng: encoder order out of range")

// Encoder measures background noise, frame by frame, and describes it as
// RFC 3389 payloads. It is not safe for concurrent use.
type Encoder struct {
	order  int
	frames int
	r      [MaxOrder + 1]float64 // averaged autocorrelation per sample
}

// NewEncoder returns an Encoder with a model of the given order (0 sends
// the level alone).
func NewEncoder(order int) (*Encoder, error) {
	if order < 0 || order > MaxOrder {
		return nil, ErrEncoderOrder
	}
	return &Encoder{order: order}, nil
}

// Reset forgets the frames seen so far.
func (e *Encoder) Reset() {
	e.frames = 0
	clear(e.r[:])
}

// Analyze adds a 20 ms frame of background noise to the estimate.
func (e *Encoder) Analyze(frame *[dsp.FrameSamples]int16) {
	e.frames++
	w := 1 / float64(min(e.frames, averageFrames))
	for lag := 0; lag <= e.order; lag++ {
		var acc int64
		for i := lag; i < len(frame); i++ {
			acc += int64(frame[i]) * int64(frame[i-lag])
		}
		v := float64(acc) / dsp.FrameSamples
		e.r[lag] += w * (v - e.r[lag])
	}
}

// Payload returns the description of the noise analysed so far.
func (e *Encoder) Payload() Payload {
	var p Payload
	p.Level = LevelFromRMS(sqrt(e.r[0]))
	p.Order = e.order
	if e.r[0] <= 0 {
		return p // silence: all coefficients 0
	}
	// Levinson–Durbin on the autocorrelation, r(0) raised by 1/1000.
	var a, prev [MaxOrder + 1]float64
	a[0] = 1
	err := e.r[0] * 1.001
	for i := 1; i <= e.order; i++ {
		acc := e.r[i]
		for j := 1; j < i; j++ {
			acc += a[j] * e.r[i-j]
		}
		k := -acc / err
		k = min(max(k, -1), 1)
		// Store what the receiver will see and continue the recursion with
		// it, so the higher coefficients fit the quantized lower ones.
		k = Dequantize(Quantize(k))
		p.K[i-1] = k
		prev = a
		for j := 1; j < i; j++ {
			a[j] = prev[j] + k*prev[i-j]
		}
		a[i] = k
		err *= 1 - k*k
		if err <= 0 {
			break
		}
	}
	return p
}

// Encode analyses a frame and appends the payload describing the noise so
// far to dst.
func (e *Encoder) Encode(dst []byte, frame *[dsp.FrameSamples]int16) []byte {
	e.Analyze(frame)
	p := e.Payload()
	dst, _ = p.Append(dst) // a Payload from the Encoder is always valid
	return dst
}
