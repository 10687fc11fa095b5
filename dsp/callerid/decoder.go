package callerid

import (
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/fsk"
)

// maxFrame is the longest data link message: type, length, 255 octets of
// body, checksum.
const maxFrame = 258

// DecoderConfig selects what a Decoder listens for. The zero value decodes
// Bell 202, V.23 and DTMF caller ID.
type DecoderConfig struct {
	// Modem fixes the FSK modem; the zero value detects Bell 202 and V.23
	// by the mark frequency.
	Modem fsk.Modem
	// NoDTMF turns DTMF caller ID off.
	NoDTMF bool
	// MinLevelDBm0 is the FSK carrier-detect threshold (default
	// fsk.DefaultMinLevel).
	MinLevelDBm0 float64
}

// Result is one message a Decoder read from the line.
type Result struct {
	// Standard is Bellcore for Bell 202 FSK, ETSI for V.23 FSK (ETSI and BT
	// send the same signal), DTMF for DTMF caller ID.
	Standard Standard
	Message  Message
	// Raw is the data link message as received (FSK), or the DTMF digit
	// string.
	Raw []byte
	// Sample counts the samples fed to the Decoder, up to the end of the
	// frame in which the message completed.
	Sample int64
}

// Decoder reads caller ID from line audio, as a telephone does: FSK (Bell
// 202 or V.23) data link messages, checked and parsed, and DTMF caller ID.
// Feed it audio in frames of any size with Process and collect results
// with Next. Between messages it does not allocate.
type Decoder struct {
	cfg   DecoderConfig
	demod *fsk.Demodulator
	det   *dtmf.Detector

	chars []byte // characters from the demodulator in this frame
	buf   [2 * maxFrame]byte
	n     int
	wasCD bool

	events   []dtmf.Event
	digits   [40]byte
	nd       int
	lastDTMF int64

	pos     int64
	pending []Result
}

// NewDecoder returns a decoder configured by cfg.
func NewDecoder(cfg DecoderConfig) (*Decoder, error) {
	demod, err := fsk.NewDemodulator(fsk.DemodulatorConfig{Modem: cfg.Modem, MinLevelDBm0: cfg.MinLevelDBm0})
	if err != nil {
		return nil, err
	}
	d := &Decoder{cfg: cfg, demod: demod, chars: make([]byte, 0, 64), events: make([]dtmf.Event, 0, 16)}
	if !cfg.NoDTMF {
		d.det = dtmf.NewDetector(dtmf.Config{})
	}
	return d, nil
}

// Reset forgets everything in progress and any result not yet collected.
func (d *Decoder) Reset() {
	d.demod.Reset()
	if d.det != nil {
		d.det.Reset()
	}
	d.n, d.nd, d.pos, d.wasCD = 0, 0, 0, false
	d.pending = d.pending[:0]
}

// Carrier reports whether FSK carrier is present.
func (d *Decoder) Carrier() bool { return d.demod.Carrier() }

// FSKStats returns the demodulator's counters.
func (d *Decoder) FSKStats() fsk.Stats { return d.demod.Stats() }

// Process consumes samples and reports whether results are waiting.
func (d *Decoder) Process(samples []int16) bool {
	for len(samples) > 0 {
		// Frames of up to 160 samples keep the character buffer small.
		k := min(len(samples), 160)
		d.chars = d.demod.Demodulate(samples[:k], d.chars[:0])
		d.pos += int64(k)
		cd := d.demod.Carrier()
		for _, c := range d.chars {
			d.push(c)
		}
		if d.wasCD && !cd {
			d.scan(true)
		}
		d.wasCD = cd
		if d.det != nil {
			d.events = d.det.Process(d.events[:0], samples[:k])
			for _, e := range d.events {
				d.dtmfEvent(e)
			}
			if d.nd > 0 && d.det.Position()-d.lastDTMF > dtmfGap {
				d.nd = 0
			}
		}
		samples = samples[k:]
	}
	return len(d.pending) > 0
}

// Next returns the oldest result not yet collected.
func (d *Decoder) Next() (Result, bool) {
	if len(d.pending) == 0 {
		return Result{}, false
	}
	r := d.pending[0]
	copy(d.pending, d.pending[1:])
	d.pending[len(d.pending)-1] = Result{}
	d.pending = d.pending[:len(d.pending)-1]
	return r, true
}

// push adds a character to the message being assembled.
func (d *Decoder) push(c byte) {
	if d.n == len(d.buf) {
		d.drop(1)
	}
	d.buf[d.n] = c
	d.n++
	d.scan(false)
}

// scan looks for messages in the assembled characters. A message starts
// with a known type octet; when its length, checksum or parameters do not
// hold up, scan drops that octet and looks again in what it has, so that a
// character misread in the channel seizure cannot swallow the message that
// follows. At the end of a burst (final) an incomplete message is given up
// the same way.
func (d *Decoder) scan(final bool) {
	for d.n > 0 {
		if !MessageType(d.buf[0]).Known() {
			d.drop(1)
			continue
		}
		need := 3
		if d.n >= 2 {
			need += int(d.buf[1])
		}
		if d.n < need {
			if final {
				d.drop(1)
				continue
			}
			return
		}
		raw := d.buf[:need]
		if Checksum(raw) != 0 {
			d.drop(1)
			continue
		}
		msg, _, err := Parse(raw)
		if err != nil {
			d.drop(1)
			continue
		}
		d.pending = append(d.pending, Result{
			Standard: d.fskStandard(),
			Message:  msg,
			Raw:      append([]byte(nil), raw...),
			Sample:   d.pos,
		})
		d.drop(need)
	}
}

func (d *Decoder) drop(k int) {
	copy(d.buf[:], d.buf[k:d.n])
	d.n -= k
}

// fskStandard names the standard by the modem heard.
func (d *Decoder) fskStandard() Standard {
	if d.cfg.Modem != (fsk.Modem{}) {
		if d.cfg.Modem.Mark == fsk.V23Mark {
			return ETSI
		}
		return Bellcore
	}
	if f, ok := d.demod.MarkFrequency(); ok && f > (fsk.Bell202Mark+fsk.V23Mark)/2 {
		return ETSI
	}
	return Bellcore
}

// dtmfEvent follows DTMF caller-ID strings: a start digit, the body, an end
// digit, with no gap longer than dtmfGap.
func (d *Decoder) dtmfEvent(e dtmf.Event) {
	if e.Kind != dtmf.Begin {
		return
	}
	c := e.Digit
	d.lastDTMF = e.Sample
	switch {
	case c == dtmfStartNumber || c == dtmfStartInfo:
		d.digits[0], d.nd = c, 1
	case d.nd == 0:
	case c >= '0' && c <= '9':
		if d.nd < len(d.digits)-1 {
			d.digits[d.nd] = c
			d.nd++
		} else {
			d.nd = 0
		}
	case c == dtmfEnd || c == '#':
		d.digits[d.nd] = c
		s := string(d.digits[:d.nd+1])
		d.nd = 0
		info, err := ParseDTMF(s)
		if err != nil {
			return
		}
		d.pending = append(d.pending, Result{
			Standard: DTMF,
			Message:  Message{Type: TypeCallSetup, Info: info},
			Raw:      []byte(s),
			Sample:   d.pos,
		})
	default:
		d.nd = 0
	}
}
