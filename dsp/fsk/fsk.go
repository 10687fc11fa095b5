// Package fsk modulates and demodulates the 1200 baud binary FSK that carries
// caller ID on analogue lines: Bell 202 (Telcordia GR-30-CORE, North
// America) and the ITU-T V.23 forward channel (ETSI EN 300 659-1, BT SIN 227).
//
// Both directions are streaming and independent of the frame size: the
// Modulator turns a queue of bit segments (channel seizure, mark signal,
// asynchronously framed bytes) into continuous-phase PCM, and the
// Demodulator turns PCM back into bytes through a quadrature discriminator,
// a carrier detector and a UART. Neither allocates once constructed.
//
// Framing is the asynchronous character format of the caller-ID standards:
// one start bit (space, 0), eight data bits least significant first, and at
// least one stop bit (mark, 1). The channel seizure signal is alternating
// 0 and 1 bits starting with 0; the mark signal is continuous 1 bits.
package fsk

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tipring/tipring/dsp"
)

// Errors returned for parameters this package cannot work with.
var (
	ErrBadModem = errors.New("fsk: invalid modem parameters")
	ErrBadLevel = errors.New("fsk: invalid level")
)

// Frequencies and rates of the two caller-ID modems, in Hz and baud.
const (
	Bell202Mark  = 1200.0 // Bell 202 binary 1
	Bell202Space = 2200.0 // Bell 202 binary 0
	V23Mark      = 1300.0 // V.23 forward channel binary 1
	V23Space     = 2100.0 // V.23 forward channel binary 0
	Baud         = 1200.0 // both modems
)

// Bit counts that the caller-ID standards prescribe before a message.
const (
	SeizureBits      = 300 // channel seizure, GR-30 and EN 300 659-1
	BellcoreMarkBits = 180 // mark signal after the seizure, GR-30
	ETSIMarkBits     = 80  // mark signal without seizure (80 ± 25), EN 300 659-1/-2
	OffHookMarkBits  = 80  // mark signal of caller ID on call waiting, GR-30/EN 300 659-2
)

// Modem describes a binary FSK modem: the frequency of a 1 bit (mark), of a
// 0 bit (space), and the bit rate. Tests use skewed copies of the standard
// modems to check the tolerances the standards allow.
type Modem struct {
	Name  string  // for messages: "Bell 202", "V.23"
	Mark  float64 // Hz, binary 1
	Space float64 // Hz, binary 0
	Baud  float64 // bits per second
}

// Bell202 returns the Bell 202 modem of GR-30-CORE: mark 1200 Hz, space
// 2200 Hz, 1200 baud.
func Bell202() Modem {
	return Modem{Name: "Bell 202", Mark: Bell202Mark, Space: Bell202Space, Baud: Baud}
}

// V23 returns the forward channel of ITU-T V.23 (mode 2) used by ETSI and BT
// caller ID: mark 1300 Hz, space 2100 Hz, 1200 baud.
func V23() Modem { return Modem{Name: "V.23", Mark: V23Mark, Space: V23Space, Baud: Baud} }

// Validate reports whether m can be generated and received at dsp.SampleRate.
func (m Modem) Validate() error {
	nyq := dsp.SampleRate / 2.0
	ok := m.Mark > 0 && m.Space > 0 && m.Mark < nyq && m.Space < nyq &&
		m.Mark != m.Space && m.Baud > 0 && m.Baud <= dsp.SampleRate/2.0 &&
		!math.IsNaN(m.Mark+m.Space+m.Baud) && !math.IsInf(m.Mark+m.Space+m.Baud, 0)
	if !ok {
		return fmt.Errorf("%w: mark %g Hz, space %g Hz, %g baud", ErrBadModem, m.Mark, m.Space, m.Baud)
	}
	return nil
}

// SamplesPerBit returns the bit period in samples at dsp.SampleRate; it need
// not be an integer (6⅔ at 1200 baud).
func (m Modem) SamplesPerBit() float64 { return dsp.SampleRate / m.Baud }

// Duration returns how long bits bits take on the line.
func (m Modem) Duration(bits int) time.Duration {
	return time.Duration(float64(bits) / m.Baud * float64(time.Second))
}

// FrameBits returns the number of bits one byte occupies with the given
// number of stop bits (at least one): start, eight data bits, stop bits.
func FrameBits(stopBits int) int { return 9 + max(stopBits, 1) }
