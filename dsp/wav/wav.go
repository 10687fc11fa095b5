// Package wav reads and writes the WAV files that Tipring's tools and the
// simulated-board API exchange: RIFF/WAVE, PCM, 16-bit, mono. Reading is
// strict about the format and tolerant about the layout (extra chunks such as
// LIST are skipped; an odd-sized chunk is padded as RIFF requires).
package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors returned for files this package does not accept.
var (
	ErrNotWAV      = errors.New("wav: not a RIFF/WAVE file")
	ErrUnsupported = errors.New("wav: unsupported format (want PCM, 16-bit, mono)")
	ErrNoData      = errors.New("wav: no data chunk")
)

// MaxSamples bounds how many samples Decode accepts, so that a forged header
// cannot make it allocate without limit (one hour at 8 kHz).
const MaxSamples = 8000 * 3600

// Audio is a mono 16-bit PCM signal.
type Audio struct {
	Rate    int // samples per second
	Samples []int16
}

// Encode writes a as a canonical 44-byte-header WAV file.
func Encode(w io.Writer, a Audio) error {
	n := int64(len(a.Samples)) * 2
	if n > 0xFFFFFFFF-36 {
		return fmt.Errorf("wav: %d samples do not fit a RIFF file", len(a.Samples))
	}
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+n))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(a.Rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(a.Rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(n))
	buf := make([]byte, 0, 44+int(n))
	buf = append(buf, h[:]...)
	for _, s := range a.Samples {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(s))
	}
	_, err := w.Write(buf)
	if err != nil {
		return fmt.Errorf("wav: write: %w", err)
	}
	return nil
}

// Bytes returns a encoded as a WAV file.
func Bytes(a Audio) []byte {
	var b bytes.Buffer
	_ = Encode(&b, a) // writing to a bytes.Buffer cannot fail
	return b.Bytes()
}

// Decode reads a WAV file. It accepts only 16-bit mono PCM (format tag 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format).
func Decode(r io.Reader) (Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Audio{}, fmt.Errorf("%w: %v", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return Audio{}, ErrNotWAV
	}
	var (
		a      Audio
		gotFmt bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if gotFmt {
				return Audio{}, ErrNoData
			}
			return Audio{}, fmt.Errorf("%w: missing fmt chunk", ErrNotWAV)
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return Audio{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			f := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, f); err != nil {
				return Audio{}, fmt.Errorf("%w: short fmt chunk: %v", ErrNotWAV, err)
			}
			tag := binary.LittleEndian.Uint16(f[0:])
			if tag == 0xFFFE && size >= 40 {
				tag = binary.LittleEndian.Uint16(f[24:]) // sub-format GUID starts with the tag
			}
			channels := binary.LittleEndian.Uint16(f[2:])
			bits := binary.LittleEndian.Uint16(f[14:])
			if tag != 1 || channels != 1 || bits != 16 {
				return Audio{}, fmt.Errorf("%w: format %d, %d channels, %d bits", ErrUnsupported, tag, channels, bits)
			}
			a.Rate = int(binary.LittleEndian.Uint32(f[4:]))
			if a.Rate <= 0 || a.Rate > 192000 {
				return Audio{}, fmt.Errorf("%w: sample rate %d", ErrUnsupported, a.Rate)
			}
			gotFmt = true
		case "data":
			if !gotFmt {
				return Audio{}, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			n := int64(size / 2)
			if size == 0xFFFFFFFF || n > MaxSamples { // streaming writers leave the size unset
				n = MaxSamples
			}
			data, err := io.ReadAll(io.LimitReader(r, n*2))
			if err != nil {
				return Audio{}, fmt.Errorf("wav: read data: %w", err)
			}
			a.Samples = make([]int16, len(data)/2)
			for i := range a.Samples {
				a.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return a, nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size%2)); err != nil {
				return Audio{}, fmt.Errorf("%w: short %q chunk", ErrNotWAV, id)
			}
		}
	}
}
