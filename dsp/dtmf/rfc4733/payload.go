// Package rfc4733 carries DTMF digits in RTP as telephone-events (RFC 4733,
// which obsoletes RFC 2833): the 4-byte event payload, a sender that turns
// key presses into the packet sequence the RFC prescribes, and a receiver
// that turns packets, lost, duplicated and reordered as they may be, back
// into key presses.
//
// The package knows no RTP library: it works on payload bytes and on the
// header values the caller reads or writes (SSRC, sequence number,
// timestamp, marker bit), so that package dsp stays free of network code.
// Timestamps and durations are in RTP timestamp units, which for
// telephone-event at 8000 Hz are samples.
//
// The payload (RFC 4733 §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
package rfc4733

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors returned by this package.
var (
	// ErrShort reports a payload shorter than one 4-byte event.
	ErrShort = errors.New("rfc4733: payload shorter than 4 bytes")
	// ErrLength reports a payload that is not a whole number of events.
	ErrLength = errors.New("rfc4733: payload length not a multiple of 4")
	// ErrVolume reports a volume above 63 given to the encoder.
	ErrVolume = errors.New("rfc4733: volume above 63")
	// ErrDigit reports a character or event code that is not a DTMF digit.
	ErrDigit = errors.New("rfc4733: not a DTMF digit")
	// ErrState reports a sender call that does not fit its state, such as
	// a release without a press.
	ErrState = errors.New("rfc4733: call out of sequence")
	// ErrConfig reports an unusable configuration.
	ErrConfig = errors.New("rfc4733: bad configuration")
)

// PayloadSize is the size of one event in a telephone-event payload.
const PayloadSize = 4

// MaxVolume is the largest volume field, meaning -63 dBm0.
const MaxVolume = 63

// MaxDuration is the longest duration one packet can express; longer
// events are sent as segments (RFC 4733 §2.5.1.3).
const MaxDuration = 0xFFFF

// Event is one telephone-event block.
type Event struct {
	// Code is the event code. DTMF digits are 0-9, then 10 for *, 11 for
	// #, and 12-15 for A-D (RFC 4733 §3.2).
	Code uint8
	// End is the E bit: this packet ends the event.
	End bool
	// Volume is the power level of the tone in dBm0 with the sign
	// dropped, 0 to 63 (RFC 4733 §2.3.4): 10 means -10 dBm0.
	Volume uint8
	// Duration is how long the event has lasted so far, from the RTP
	// timestamp of the packet, in timestamp units (RFC 4733 §2.3.5).
	// Zero is reserved for state events, "lasting until updated"; DTMF
	// digits are not states, so their packets never carry it.
	Duration uint16
}

// Append appends the 4-byte encoding of e to b. The reserved R bit is sent
// as zero. It fails with ErrVolume if e.Volume is above 63.
func (e Event) Append(b []byte) ([]byte, error) {
	if e.Volume > MaxVolume {
		return b, fmt.Errorf("%w: %d", ErrVolume, e.Volume)
	}
	flags := e.Volume
	if e.End {
		flags |= 0x80
	}
	b = append(b, e.Code, flags)
	return binary.BigEndian.AppendUint16(b, e.Duration), nil
}

// Parse decodes a payload that holds exactly one event. The R bit is
// ignored, as RFC 4733 §2.3.3 asks of receivers.
func Parse(p []byte) (Event, error) {
	if len(p) < PayloadSize {
		return Event{}, fmt.Errorf("%w: %d bytes", ErrShort, len(p))
	}
	if len(p) != PayloadSize {
		return Event{}, fmt.Errorf("%w: %d bytes for one event", ErrLength, len(p))
	}
	return decode(p), nil
}

// ParseAll decodes a payload of one or more events (RFC 4733 §2.5.1.5
// allows several in one packet) and appends them to dst.
func ParseAll(dst []Event, p []byte) ([]Event, error) {
	if len(p) < PayloadSize {
		return dst, fmt.Errorf("%w: %d bytes", ErrShort, len(p))
	}
	if len(p)%PayloadSize != 0 {
		return dst, fmt.Errorf("%w: %d bytes", ErrLength, len(p))
	}
	for ; len(p) > 0; p = p[PayloadSize:] {
		dst = append(dst, decode(p))
	}
	return dst, nil
}

func decode(p []byte) Event {
	return Event{
		Code:     p[0],
		End:      p[1]&0x80 != 0,
		Volume:   p[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(p[2:4]),
	}
}

// digits lists the DTMF digits in event code order (RFC 4733 §3.2).
const digits = "0123456789*#ABCD"

// CodeForDigit returns the event code of a DTMF digit (0-9, *, #, A-D, or
// a-d).
func CodeForDigit(d byte) (uint8, error) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] == d {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrDigit, d)
}

// DigitForCode returns the DTMF digit of an event code, and false for the
// codes above 15, which are not DTMF digits.
func DigitForCode(c uint8) (byte, bool) {
	if int(c) < len(digits) {
		return digits[c], true
	}
	return 0, false
}
