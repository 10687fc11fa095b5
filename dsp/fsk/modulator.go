package fsk

import (
	"fmt"
	"math"

	"github.com/tipring/tipring/dsp"
)

type segKind uint8

const (
	segSeizure segKind = iota
	segMark
	segBytes
)

// segment is one run of bits in the modulator's queue.
type segment struct {
	kind segKind
	bits int    // total bits in the segment
	data []byte // segBytes: the bytes, not copied
	stop int    // segBytes: stop bits per byte
}

// Modulator generates continuous-phase FSK from a queue of bit segments.
//
// Bit boundaries fall at exact multiples of the (fractional) bit period; in
// the sample interval that contains a boundary the phase advances at both
// frequencies in proportion, so the phase is continuous and the bit timing
// has no sample-rounding jitter. A Modulator does not allocate in Read.
type Modulator struct {
	modem  Modem
	amp    float64
	wMark  float64 // phase step per sample, radians
	wSpace float64
	spb    float64

	segs []segment
	seg  int // current segment
	pos  int // next bit within the current segment

	phase   float64
	rem     float64 // samples left in the current bit
	cur     int8    // current bit: 0, 1, or -1 before the first / after the last
	started bool
}

// NewModulator returns a modulator for m whose sine peaks at the level of a
// levelDBm0 tone (caller ID is sent at about −13.5 dBm0).
func NewModulator(m Modem, levelDBm0 float64) (*Modulator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if math.IsNaN(levelDBm0) || levelDBm0 > 3 {
		return nil, fmt.Errorf("%w: %g dBm0", ErrBadLevel, levelDBm0)
	}
	mod := &Modulator{
		modem:  m,
		amp:    dsp.PeakFromDBm0(levelDBm0),
		wMark:  2 * math.Pi * m.Mark / dsp.SampleRate,
		wSpace: 2 * math.Pi * m.Space / dsp.SampleRate,
		spb:    m.SamplesPerBit(),
		segs:   make([]segment, 0, 4),
	}
	mod.Reset()
	return mod, nil
}

// Modem returns the modem the modulator was built for.
func (m *Modulator) Modem() Modem { return m.modem }

// Reset empties the queue and restarts the phase at zero, keeping the
// modem and level.
func (m *Modulator) Reset() {
	m.segs = m.segs[:0]
	m.seg, m.pos = 0, 0
	m.phase, m.rem = 0, 0
	m.cur = -1
	m.started = false
}

// Rewind makes the modulator play its queue again from the start.
func (m *Modulator) Rewind() {
	m.seg, m.pos = 0, 0
	m.phase, m.rem = 0, 0
	m.cur = -1
	m.started = false
}

// Seizure queues a channel seizure signal of n alternating bits, 0 first.
func (m *Modulator) Seizure(n int) {
	if n > 0 {
		m.segs = append(m.segs, segment{kind: segSeizure, bits: n})
	}
}

// Mark queues n mark (1) bits.
func (m *Modulator) Mark(n int) {
	if n > 0 {
		m.segs = append(m.segs, segment{kind: segMark, bits: n})
	}
}

// Bytes queues p as asynchronous characters with stopBits stop bits each
// (at least one). The modulator keeps p, not a copy: do not change it until
// it has been played.
func (m *Modulator) Bytes(p []byte, stopBits int) {
	stopBits = max(stopBits, 1)
	if len(p) > 0 {
		m.segs = append(m.segs, segment{kind: segBytes, bits: len(p) * FrameBits(stopBits), data: p, stop: stopBits})
	}
}

// Bits returns the number of bits queued since the last Reset.
func (m *Modulator) Bits() int {
	n := 0
	for _, s := range m.segs {
		n += s.bits
	}
	return n
}

// Len returns how many samples the queue plays from the start: the number
// of sampling instants that fall inside Bits() bit periods.
func (m *Modulator) Len() int { return SamplesForBits(m.modem, m.Bits()) }

// SamplesForBits returns the number of samples that bits bits of m occupy
// when the first bit starts on a sample.
func SamplesForBits(m Modem, bits int) int {
	if bits <= 0 {
		return 0
	}
	return int(math.Ceil(float64(bits)*m.SamplesPerBit() - 1e-9))
}

// Done reports whether every queued bit has been played.
func (m *Modulator) Done() bool { return m.started && m.cur < 0 }

// nextBit returns the next queued bit, or -1 at the end of the queue.
func (m *Modulator) nextBit() int8 {
	for m.seg < len(m.segs) {
		s := &m.segs[m.seg]
		if m.pos >= s.bits {
			m.seg++
			m.pos = 0
			continue
		}
		i := m.pos
		m.pos++
		switch s.kind {
		case segSeizure:
			return int8(i & 1)
		case segMark:
			return 1
		default:
			fb := 9 + s.stop
			j := i % fb
			switch {
			case j == 0:
				return 0 // start bit
			case j <= 8:
				return int8(s.data[i/fb]>>(j-1)) & 1
			default:
				return 1 // stop bits
			}
		}
	}
	return -1
}

func (m *Modulator) step(bit int8) float64 {
	if bit == 0 {
		return m.wSpace
	}
	return m.wMark
}

// Read writes the next samples of the queued bits into dst and returns how
// many it wrote; fewer than len(dst) means the queue has been played out.
func (m *Modulator) Read(dst []int16) int {
	if !m.started {
		m.started = true
		m.cur = m.nextBit()
		m.rem = m.spb
	}
	for i := range dst {
		if m.cur < 0 {
			return i
		}
		dst[i] = dsp.Saturate(m.amp * math.Sin(m.phase))
		if m.rem > 1+1e-9 {
			m.phase += m.step(m.cur)
			m.rem--
		} else {
			// A bit boundary lies within (t, t+1]: advance the phase at the
			// old frequency up to it and at the new one after it.
			frac := m.rem
			old := m.step(m.cur)
			m.cur = m.nextBit()
			if m.cur < 0 {
				continue
			}
			m.phase += old*frac + m.step(m.cur)*(1-frac)
			m.rem = m.spb - (1 - frac)
		}
		if m.phase >= 2*math.Pi {
			m.phase -= 2 * math.Pi
		}
	}
	return len(dst)
}
