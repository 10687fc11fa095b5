// Package callerid builds and reads the caller-ID and message-waiting data
// that an analogue line carries: the data link messages (SDMF and MDMF of
// Telcordia GR-30-CORE, the message and parameter codings of ETSI
// EN 300 659-3, BT SIN 227/242), the line sequences that send them
// (Bellcore on-hook after the first ring, the ETSI EN 300 659-1 alerting
// methods, the BT idle-state tone alert, DTMF caller ID, and caller ID on
// call waiting per GR-575-CORE and EN 300 659-2), and a decoder that a
// virtual telephone uses to read them back from line audio.
//
// The layers are separate:
//
//   - Message and its MarshalBinary/UnmarshalBinary are the data link layer:
//     type, length, parameters, checksum. AppendFrame, ParseFrame and
//     ParseParams give the raw layer underneath, byte for byte.
//   - Audio is a prepared line signal (silences, tone pairs, FSK, DTMF) read
//     frame by frame without allocation. A Sequence is the list of Steps a
//     line performs: the audio and what only the line can do (ring, reverse
//     the polarity, wait).
//   - OffHook is the state machine of caller ID on call waiting: it plays
//     the subscriber alerting and CPE alerting signals, listens for the
//     telephone's acknowledgement and then sends the data.
//   - Decoder and AlertDetector are the receiving side.
//
// Levels are in dBm0 (see package dsp). Tipring assumes its codec maps
// 0 dBm0 to 0 dBm at the line, so the default FSK level of −13.5 dBm0 is
// the −13.5 dBm nominal transmit level of GR-30 and EN 300 659-1.
package callerid

import "errors"

// Errors of the data link layer. Every error from Parse, UnmarshalBinary,
// ParseFrame and ParseParams wraps one of these.
var (
	ErrTruncated      = errors.New("callerid: message truncated")
	ErrChecksum       = errors.New("callerid: bad checksum")
	ErrLengthOverflow = errors.New("callerid: parameter length overflows the message")
	ErrTrailingData   = errors.New("callerid: data after the checksum")
	ErrUnknownType    = errors.New("callerid: unknown message type")
	ErrBadDateTime    = errors.New("callerid: bad date and time")
	ErrBadAbsence     = errors.New("callerid: bad reason for absence")
	ErrBadText        = errors.New("callerid: character not allowed")
	ErrBadValue       = errors.New("callerid: bad parameter value")
	ErrDuplicate      = errors.New("callerid: parameter repeated")
	ErrTooLong        = errors.New("callerid: too long for a message")
	ErrConflict       = errors.New("callerid: both a value and a reason for its absence")
	ErrMissing        = errors.New("callerid: required field missing")
)

// Errors of the signal and sequence builders.
var (
	ErrBadOption = errors.New("callerid: bad option")
	ErrNoFit     = errors.New("callerid: sequence does not fit the silent interval")
)
