package callerid

import (
	"fmt"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dtmf"
)

// DTMF caller ID (ETSI ES 200 778-1 and EN 300 659-1 informative annex, as
// used in Denmark, the Netherlands, Sweden and elsewhere) sends the calling
// number as DTMF digits between a start and an end digit: "A" number "C".
// When there is no number it sends an information code instead:
// "D" code "C", where code 00 means unavailable and 10 private (restricted).
// Some networks end with "#" instead of "C"; ParseDTMF accepts both.
const (
	dtmfStartNumber = 'A'
	dtmfStartInfo   = 'D'
	dtmfEnd         = 'C'
	dtmfCodeNA      = "00"
	dtmfCodePrivate = "10"
)

// FormatDTMF returns the DTMF digit string that carries info's number, or
// the reason for its absence.
func FormatDTMF(info Info) (string, error) {
	switch {
	case info.Number != "" && info.NumberAbsence != 0:
		return "", fmt.Errorf("dtmf: %w: number", ErrConflict)
	case info.Number != "":
		if len(info.Number) > 32 {
			return "", fmt.Errorf("dtmf: %w: %d digits", ErrTooLong, len(info.Number))
		}
		for i := 0; i < len(info.Number); i++ {
			if c := info.Number[i]; c < '0' || c > '9' {
				return "", fmt.Errorf("dtmf: %w: %q in the number", ErrBadText, rune(c))
			}
		}
		return string(dtmfStartNumber) + info.Number + string(dtmfEnd), nil
	case info.NumberAbsence == Unavailable:
		return string(dtmfStartInfo) + dtmfCodeNA + string(dtmfEnd), nil
	case info.NumberAbsence == Private:
		return string(dtmfStartInfo) + dtmfCodePrivate + string(dtmfEnd), nil
	case info.NumberAbsence != 0:
		return "", fmt.Errorf("dtmf: %w: %q", ErrBadAbsence, rune(info.NumberAbsence))
	}
	return "", fmt.Errorf("dtmf: %w: a number or a reason for its absence", ErrMissing)
}

// ParseDTMF reads a complete DTMF caller-ID string, start and end digits
// included.
func ParseDTMF(s string) (Info, error) {
	if len(s) < 3 {
		return Info{}, fmt.Errorf("dtmf: %w: %q", ErrTruncated, s)
	}
	start, body, end := s[0], s[1:len(s)-1], s[len(s)-1]
	if end != dtmfEnd && end != '#' {
		return Info{}, fmt.Errorf("dtmf: %w: %q does not end with C or #", ErrBadValue, s)
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < '0' || c > '9' {
			return Info{}, fmt.Errorf("dtmf: %w: %q in %q", ErrBadText, rune(c), s)
		}
	}
	switch start {
	case dtmfStartNumber:
		return Info{Number: body}, nil
	case dtmfStartInfo:
		switch body {
		case dtmfCodeNA:
			return Info{NumberAbsence: Unavailable}, nil
		case dtmfCodePrivate:
			return Info{NumberAbsence: Private}, nil
		}
		return Info{}, fmt.Errorf("dtmf: %w: information code %q", ErrBadValue, body)
	}
	return Info{}, fmt.Errorf("dtmf: %w: %q does not start with A or D", ErrBadValue, s)
}

// dtmfAudio returns digits as DTMF tones of DTMFTone with DTMFPause after
// each, both tones at level dBm0.
func dtmfAudio(digits string, level float64) ([]int16, error) {
	on := durationToSamples(DTMFTone)
	off := durationToSamples(DTMFPause)
	pcm, err := dtmf.Synthesize(digits, on, off, dtmf.GenConfig{LowDBm0: level})
	if err != nil {
		return nil, fmt.Errorf("dtmf caller id: %w", err)
	}
	return pcm, nil
}

// dtmfGap is the longest silence between two digits of one DTMF caller-ID
// string that the decoder bridges.
const dtmfGap = dsp.SampleRate / 2
