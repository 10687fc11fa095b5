package cng

import (
	"errors"
	"math"
)

// Limits of the payload.
const (
	// MaxOrder is the highest model order Parse keeps and Append writes.
	MaxOrder = 16
	// MaxLevel is the largest level, in -dBov: silence.
	MaxLevel = 127
	// OverloadRMS is the RMS, in 16-bit PCM, of a signal at 0 dBov: the
	// full-scale square wave, +6.18 dBm0 (RFC 3389 §3.1).
	OverloadRMS = 32636.0
	// OverloadDBm0 is the level of 0 dBov in dBm0.
	OverloadDBm0 = 6.18
)

// Errors of Parse and Append.
var (
	// ErrEmpty reports a payload without its level byte.
	ErrEmpty = errors.New("cng: empty payload")
	// ErrLevel reports a level byte with its top bit set, or a Level
	// outside 0…MaxLevel.
	ErrLevel = errors.New("cng: noise level out of range")
	// ErrOrder reports a Payload with an Order outside 0…MaxOrder.
	ErrOrder = errors.New("cng: model order out of range")
	// ErrCoefficient reports a reflection coefficient outside [-1, 1].
	ErrCoefficient = errors.New("cng: reflection coefficient out of range")
)

// Payload is the content of an RFC 3389 comfort noise packet.
type Payload struct {
	// Level is the noise level in -dBov, 0 (overload) to 127 (silence).
	Level int
	// Order is the number of reflection coefficients in K.
	Order int
	// K holds the reflection coefficients, K[0] first (order 1). Parse
	// fills it with quantized values; Append quantizes what it is given.
	K [MaxOrder]float64
}

// Parse decodes an RFC 3389 payload. Coefficients beyond MaxOrder are
// dropped, as §3 allows a decoder to do.
func Parse(b []byte) (Payload, error) {
	var p Payload
	if len(b) == 0 {
		return p, ErrEmpty
	}
	if b[0] > MaxLevel {
		return p, ErrLevel
	}
	p.Level = int(b[0])
	p.Order = min(len(b)-1, MaxOrder)
	for i := range p.Order {
		p.K[i] = Dequantize(b[1+i])
	}
	return p, nil
}

// Append appends the encoded payload to dst.
func (p *Payload) Append(dst []byte) ([]byte, error) {
	if p.Level < 0 || p.Level > MaxLevel {
		return dst, ErrLevel
	}
	if p.Order < 0 || p.Order > MaxOrder {
		return dst, ErrOrder
	}
	for _, k := range p.K[:p.Order] {
		if !(k >= -1 && k <= 1) { // NaN too
			return dst, ErrCoefficient
		}
	}
	dst = append(dst, byte(p.Level))
	for _, k := range p.K[:p.Order] {
		dst = append(dst, Quantize(k))
	}
	return dst, nil
}

// Marshal returns the encoded payload in a new slice.
func (p *Payload) Marshal() ([]byte, error) {
	return p.Append(make([]byte, 0, 1+max(p.Order, 0)))
}

// Quantize returns the byte of reflection coefficient k (RFC 3389 §3.2):
// round(128·k) + 127, clamped to 0…255.
func Quantize(k float64) byte {
	v := math.Round(128*k) + 127
	return byte(min(max(v, 0), 255))
}

// Dequantize returns the reflection coefficient of byte b: (b − 127)/128.
func Dequantize(b byte) float64 { return float64(int(b)-127) / 128 }

// LevelFromRMS returns the level byte value, in -dBov, of a signal with the
// given RMS in 16-bit PCM: rounded, and clamped to 0…MaxLevel.
func LevelFromRMS(rms float64) int {
	if rms <= 0 {
		return MaxLevel
	}
	l := math.Round(-20 * math.Log10(rms/OverloadRMS))
	return int(min(max(l, 0), MaxLevel))
}

// RMSFromLevel returns the RMS in 16-bit PCM of noise at level (-dBov).
func RMSFromLevel(level int) float64 {
	return OverloadRMS * math.Pow(10, -float64(level)/20)
}
