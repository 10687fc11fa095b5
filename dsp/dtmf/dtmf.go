// Package dtmf generates and detects the dual-tone multifrequency signals of
// ITU-T Q.23 (the telephone keypad), for Tipring's FXS lines.
//
// A DTMF digit is the sum of one tone from the low (row) group, 697, 770, 852
// or 941 Hz, and one tone from the high (column) group, 1209, 1336, 1477 or
// 1633 Hz:
//
//	       1209 1336 1477 1633
//	697 Hz   1    2    3    A
//	770 Hz   4    5    6    B
//	852 Hz   7    8    9    C
//	941 Hz   *    0    #    D
//
// [Detector] is the receiver: it follows one line's audio in frames of any
// size and reports when each digit begins and ends, to the sample, with the
// level of both tones. It meets the receiver limits of ITU-T Q.24 (see the
// Detector documentation for the design and the numbers it holds to).
// [Generator] is the sender: exact Q.23 frequencies, levels in dBm0, timing
// in samples, phase-continuous across frames.
//
// The RTP side of DTMF (RFC 4733 telephone-events) lives in the sub-package
// rfc4733. Both packages work on 8 kHz samples as fixed by package dsp.
package dtmf

import "errors"

// Errors returned by this package.
var (
	// ErrDigit reports a character that is not one of 0-9, *, #, A-D.
	ErrDigit = errors.New("dtmf: not a DTMF digit")
	// ErrLevel reports a tone level that would clip or is not a number.
	ErrLevel = errors.New("dtmf: level out of range")
	// ErrTiming reports a negative or overlong tone or pause duration.
	ErrTiming = errors.New("dtmf: bad timing")
)

// lowFreqs are the row (low group) frequencies of ITU-T Q.23, in Hz.
var lowFreqs = [4]int{697, 770, 852, 941}

// highFreqs are the column (high group) frequencies of ITU-T Q.23, in Hz.
var highFreqs = [4]int{1209, 1336, 1477, 1633}

// keypad lists the digits row by row, so that keypad[4*row+col] is the digit
// made of lowFreqs[row] and highFreqs[col].
const keypad = "123A456B789C*0#D"

// Frequencies returns the low and high group frequencies, in Hz, of digit
// (0-9, *, #, A-D; lower-case a-d are accepted too).
func Frequencies(digit byte) (low, high int, err error) {
	r, c, ok := position(digit)
	if !ok {
		return 0, 0, errDigit(digit)
	}
	return lowFreqs[r], highFreqs[c], nil
}

// ValidDigit reports whether digit is one of the 16 DTMF digits (0-9, *, #,
// A-D, or a-d).
func ValidDigit(digit byte) bool {
	_, _, ok := position(digit)
	return ok
}

// position returns the keypad row and column of digit.
func position(digit byte) (row, col int, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := 0; i < len(keypad); i++ {
		if keypad[i] == digit {
			return i / 4, i % 4, true
		}
	}
	return 0, 0, false
}

func errDigit(digit byte) error {
	return &digitError{digit}
}

// digitError wraps ErrDigit with the offending character.
type digitError struct{ c byte }

func (e *digitError) Error() string {
	return "dtmf: not a DTMF digit: " + quoteByte(e.c)
}

func (e *digitError) Unwrap() error { return ErrDigit }

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}
