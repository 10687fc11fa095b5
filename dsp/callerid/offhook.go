package callerid

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/fsk"
)

// Timing of caller ID on call waiting (GR-575-CORE, EN 300 659-2).
const (
	// SASDuration is the subscriber alerting signal, the 440 Hz
	// call-waiting tone that precedes the CAS: 300 ms.
	SASDuration = 300 * time.Millisecond
	// CASDuration is the CPE alerting signal, 2130 + 2750 Hz: 80 ms
	// (75–85 ms).
	CASDuration = 80 * time.Millisecond
	// AckTimeout is how long after the end of the CAS the acknowledgement
	// may start: 160 ms (the telephone answers within 100 ms and the ACK
	// lasts 55–65 ms).
	AckTimeout = 160 * time.Millisecond
	// AckToData is the gap from the end of the ACK to the FSK: 50–500 ms.
	AckToData = 100 * time.Millisecond
	// ackMaxLength bounds how long the sender waits for the end of an ACK
	// it has heard begin.
	ackMaxLength = 150 * time.Millisecond
)

// OffHookOptions tune caller ID on call waiting. Zero fields select the
// defaults.
type OffHookOptions struct {
	// Modem is Bell 202 (GR-575, the default) or V.23 (EN 300 659-2).
	Modem fsk.Modem
	// Level is the FSK level (default DefaultLevel).
	Level float64
	// CASLevel is the level of each CAS tone (default DefaultAlertLevel).
	CASLevel float64
	// SASLevel is the level of the SAS (default DefaultSASLevel).
	SASLevel float64
	// NoSAS leaves the SAS out, for lines that play their own
	// call-waiting tone before.
	NoSAS bool
	// AckDigits lists the acknowledgements accepted (default "DA": 'D' from
	// a caller-ID telephone, 'A' from an ADSI one).
	AckDigits string
	// MarkBits is the mark signal before the message (default 80).
	MarkBits int
}

// OffHookState is where an OffHook sequence stands.
type OffHookState uint8

// States of an OffHook sequence, in the order they come.
const (
	OffHookSAS     OffHookState = iota + 1 // sending the subscriber alerting signal
	OffHookCAS                             // sending the CPE alerting signal
	OffHookWaitAck                         // listening for the telephone's ACK
	OffHookGap                             // ACK heard, waiting to send the data
	OffHookData                            // sending FSK
	OffHookDone                            // data sent: restore the voice path
	OffHookNoAck                           // no ACK: the telephone cannot show it; restore the voice path
)

// String names the state for logs.
func (s OffHookState) String() string {
	switch s {
	case OffHookSAS:
		return "sas"
	case OffHookCAS:
		return "cas"
	case OffHookWaitAck:
		return "wait-ack"
	case OffHookGap:
		return "gap"
	case OffHookData:
		return "data"
	case OffHookDone:
		return "done"
	case OffHookNoAck:
		return "no-ack"
	}
	return fmt.Sprintf("offhook(%d)", uint8(s))
}

// Finished reports whether the sequence is over (sent or given up).
func (s OffHookState) Finished() bool { return s == OffHookDone || s == OffHookNoAck }

// OffHook is the state machine of caller ID on call waiting, driven by the
// line one frame at a time: it sends the SAS and the CAS, listens to the
// telephone for the DTMF acknowledgement, then sends the message in FSK
// with a mark signal and no channel seizure. While it runs the line mutes
// the far end and sends OffHook's output instead; when Process returns a
// finished state the line restores the voice path. Process does not
// allocate.
type OffHook struct {
	opt     OffHookOptions
	state   OffHookState
	alert   Audio // SAS and CAS
	data    Audio
	det     *dtmf.Detector
	events  []dtmf.Event
	ack     byte
	dataAt  int64 // detector sample at which the data may start
	ackEnd  bool
	maxWait int64
}

// NewOffHook prepares the off-hook sequence that delivers msg.
func NewOffHook(msg Message, opt OffHookOptions) (*OffHook, error) {
	if opt.Modem == (fsk.Modem{}) {
		opt.Modem = fsk.Bell202()
	}
	if opt.Level == 0 {
		opt.Level = DefaultLevel
	}
	if opt.CASLevel == 0 {
		opt.CASLevel = DefaultAlertLevel
	}
	if opt.SASLevel == 0 {
		opt.SASLevel = DefaultSASLevel
	}
	for _, l := range []float64{opt.Level, opt.CASLevel, opt.SASLevel} {
		if math.IsNaN(l) || l > 0 || l < -60 {
			return nil, fmt.Errorf("%w: level %g dBm0", ErrBadOption, l)
		}
	}
	if opt.AckDigits == "" {
		opt.AckDigits = "DA"
	}
	for i := 0; i < len(opt.AckDigits); i++ {
		if !dtmf.ValidDigit(opt.AckDigits[i]) {
			return nil, fmt.Errorf("%w: ACK digit %q", ErrBadOption, opt.AckDigits[i])
		}
	}
	opt.AckDigits = strings.ToUpper(opt.AckDigits)
	if opt.MarkBits == 0 {
		opt.MarkBits = fsk.OffHookMarkBits
	}
	if opt.MarkBits < 0 || opt.MarkBits > 1000 {
		return nil, fmt.Errorf("%w: %d mark bits", ErrBadOption, opt.MarkBits)
	}
	body, err := msg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	mod, err := fskBurst(opt.Modem, opt.Level, 0, opt.MarkBits, body)
	if err != nil {
		return nil, err
	}
	o := &OffHook{opt: opt, det: dtmf.NewDetector(dtmf.Config{}), events: make([]dtmf.Event, 0, 16)}
	o.data.addFSK(mod)
	if !opt.NoSAS {
		o.alert.addTones(SASHz, 0, opt.SASLevel, SASDuration)
	}
	o.alert.addTones(AlertLowHz, AlertHighHz, opt.CASLevel, CASDuration)
	o.state = OffHookSAS
	if opt.NoSAS {
		o.state = OffHookCAS
	}
	o.maxWait = int64(durationToSamples(AckTimeout))
	return o, nil
}

// State returns the current state.
func (o *OffHook) State() OffHookState { return o.state }

// Ack returns the acknowledgement digit heard, or 0.
func (o *OffHook) Ack() byte { return o.ack }

// Alert returns the SAS and CAS audio, for inspection.
func (o *OffHook) Alert() *Audio { return &o.alert }

// Data returns the FSK audio, for inspection.
func (o *OffHook) Data() *Audio { return &o.data }

// Process takes one frame of the telephone's audio (in, used while waiting
// for the ACK; it may be shorter than out or nil) and fills out with the
// audio to send in the same frame. It returns the state after the frame.
func (o *OffHook) Process(in, out []int16) OffHookState {
	n := 0
	for n < len(out) {
		switch o.state {
		case OffHookSAS, OffHookCAS:
			k := o.alert.Read(out[n:])
			n += k
			if o.alert.Done() {
				o.state = OffHookWaitAck
			} else if !o.opt.NoSAS && o.alert.cur > 0 {
				o.state = OffHookCAS
			}
		case OffHookWaitAck, OffHookGap:
			// Listen in steps of at most 40 samples so that the data starts
			// within 5 ms of its time.
			k := min(len(out)-n, 40)
			clear(out[n : n+k])
			var x []int16
			if n < len(in) {
				x = in[n:min(n+k, len(in))]
			}
			o.listen(x, k)
			n += k
		case OffHookData:
			k := o.data.Read(out[n:])
			n += k
			if o.data.Done() {
				o.state = OffHookDone
			}
		default:
			clear(out[n:])
			n = len(out)
		}
	}
	return o.state
}

// listen feeds the detector k samples (x, padded with silence when the
// line gave less) and moves on when the ACK is heard or overdue.
func (o *OffHook) listen(x []int16, k int) {
	var pad [40]int16
	o.events = o.det.Process(o.events[:0], x)
	if len(x) < k {
		o.events = o.det.Process(o.events, pad[:k-len(x)])
	}
	pos := o.det.Position()
	for _, e := range o.events {
		switch {
		case e.Kind == dtmf.Begin && o.state == OffHookWaitAck &&
			strings.IndexByte(o.opt.AckDigits, e.Digit) >= 0 && e.Sample <= o.maxWait:
			o.ack, o.state = e.Digit, OffHookGap
			o.dataAt = e.Sample + int64(durationToSamples(ackMaxLength+AckToData))
		case e.Kind == dtmf.End && o.state == OffHookGap && e.Digit == o.ack && !o.ackEnd:
			o.ackEnd = true
			o.dataAt = e.Sample + int64(durationToSamples(AckToData))
		}
	}
	switch o.state {
	case OffHookWaitAck:
		// A Begin is reported up to 40 ms after the tone's onset.
		if pos > o.maxWait+int64(durationToSamples(50*time.Millisecond)) {
			o.state = OffHookNoAck
		}
	case OffHookGap:
		if pos >= o.dataAt {
			o.state = OffHookData
		}
	}
}
