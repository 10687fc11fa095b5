package callerid

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tipring/tipring/dsp/fsk"
)

// Standard names a caller-ID signalling system.
type Standard uint8

// Caller-ID standards.
const (
	Bellcore Standard = iota + 1 // Telcordia GR-30-CORE: Bell 202 after the first ring
	ETSI                         // ETSI EN 300 659-1: V.23 with the alerting method of Options.Alert
	DTMF                         // ETSI DTMF caller ID: "A<number>C" or "D<code>C"
	BT                           // BT SIN 227: line reversal, tone alert, V.23
)

// String returns the name ParseStandard reads: "bellcore", "etsi", "dtmf" or "bt".
func (s Standard) String() string {
	switch s {
	case Bellcore:
		return "bellcore"
	case ETSI:
		return "etsi"
	case DTMF:
		return "dtmf"
	case BT:
		return "bt"
	}
	return fmt.Sprintf("standard(%d)", uint8(s))
}

// ParseStandard reads the names String returns.
func ParseStandard(s string) (Standard, error) {
	for _, st := range []Standard{Bellcore, ETSI, DTMF, BT} {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("%w: standard %q (want bellcore, etsi, dtmf or bt)", ErrBadOption, s)
}

// Modem returns the FSK modem of s (V.23 for ETSI and BT, Bell 202
// otherwise).
func (s Standard) Modem() fsk.Modem {
	if s == ETSI || s == BT {
		return fsk.V23()
	}
	return fsk.Bell202()
}

// Alert is how an ETSI EN 300 659-1 line tells the telephone that data
// follows.
type Alert uint8

// ETSI alerting methods.
const (
	// AlertRing sends the data in the silent interval after the first ring.
	AlertRing Alert = iota + 1
	// AlertDTAS sends a dual-tone alerting signal (2130 + 2750 Hz, 100 ms)
	// before the data, prior to ringing.
	AlertDTAS
	// AlertRPAS sends a short ring pulse before the data, prior to ringing.
	AlertRPAS
)

// String names the alerting method for logs.
func (a Alert) String() string {
	switch a {
	case AlertRing:
		return "ring"
	case AlertDTAS:
		return "dt-as"
	case AlertRPAS:
		return "rp-as"
	}
	return fmt.Sprintf("alert(%d)", uint8(a))
}

// Signal frequencies, Hz.
const (
	AlertLowHz  = 2130.0 // DT-AS, BT tone alert, CAS: lower tone
	AlertHighHz = 2750.0 // upper tone
	SASHz       = 440.0  // subscriber alerting signal of call waiting
)

// Default levels, dBm0.
const (
	DefaultLevel      = -13.5 // FSK: −13.5 dBm nominal of GR-30 and EN 300 659-1
	DefaultAlertLevel = -15.0 // each tone of DT-AS, tone alert and CAS
	DefaultSASLevel   = -13.0 // call-waiting tone
	DefaultDTMFLevel  = -9.0  // each tone of DTMF caller ID
)

// Timing of the on-hook sequences. Where the standard gives a range the
// constant is the value used by default and the comment gives the range.
const (
	// DefaultFirstRing is the first ring a StepRing describes: 2 s, the
	// North American cadence. The line's own cadence may differ.
	DefaultFirstRing = 2 * time.Second
	// RingToData separates the end of the first ring from the data:
	// at least 500 ms in GR-30 and EN 300 659-1.
	RingToData = 500 * time.Millisecond
	// DataToRing is the least silence between the end of the data and the
	// next ring: 200 ms (GR-30, EN 300 659-1, SIN 227).
	DataToRing = 200 * time.Millisecond
	// ReversalToAlert is the wait from a line reversal to the alerting
	// signal: at least 100 ms (EN 300 659-1, SIN 227).
	ReversalToAlert = 100 * time.Millisecond
	// DTASDuration is the length of the ETSI dual-tone alerting signal
	// (100 ± 10 ms) and of the BT idle-state tone alert (88–110 ms).
	DTASDuration = 100 * time.Millisecond
	// AlertToData is the gap from the end of DT-AS or tone alert to the
	// FSK (45–75 ms in SIN 227; EN 300 659-1 allows more).
	AlertToData = 60 * time.Millisecond
	// RPASDuration is the ring pulse alerting signal: 200–300 ms.
	RPASDuration = 250 * time.Millisecond
	// RPASToData is the gap from the ring pulse to the FSK: 500–800 ms.
	RPASToData = 650 * time.Millisecond
	// DTMFTone and DTMFPause are the on and off times of each DTMF
	// caller-ID digit.
	DTMFTone  = 70 * time.Millisecond
	DTMFPause = 70 * time.Millisecond
)

// StepKind is what one Step asks of the line.
type StepKind uint8

// Step kinds.
const (
	StepWait            StepKind = iota + 1 // keep the line idle (no ringing, no audio) for D
	StepAudio                               // play Audio; D is its length
	StepRing                                // ring for D
	StepRingPulse                           // ring pulse alerting signal (RP-AS) of D
	StepReversePolarity                     // reverse the line polarity; D is 0
	StepNormalPolarity                      // restore normal polarity; D is 0
)

// String names the step kind for logs.
func (k StepKind) String() string {
	switch k {
	case StepWait:
		return "wait"
	case StepAudio:
		return "audio"
	case StepRing:
		return "ring"
	case StepRingPulse:
		return "ring-pulse"
	case StepReversePolarity:
		return "reverse-polarity"
	case StepNormalPolarity:
		return "normal-polarity"
	}
	return fmt.Sprintf("step(%d)", uint8(k))
}

// Step is one thing the line does in a caller-ID sequence.
type Step struct {
	Kind  StepKind
	D     time.Duration
	Audio *Audio // StepAudio only
}

// Sequence is the caller-ID procedure of one call (or message-waiting
// change) on an idle line: the steps to perform in order, then at least
// Guard of silence before the line rings (or, for a message without
// ringing, before anything else happens on the line).
type Sequence struct {
	Standard Standard
	Steps    []Step
	Guard    time.Duration
}

// Duration returns the time the steps take.
func (s *Sequence) Duration() time.Duration {
	var d time.Duration
	for _, st := range s.Steps {
		d += st.D
	}
	return d
}

// AfterFirstRing returns the time from the end of the first StepRing to
// the end of the steps plus Guard: what must fit in the silent interval of
// the ring cadence. Without a StepRing it returns the whole Duration plus
// Guard.
func (s *Sequence) AfterFirstRing() time.Duration {
	d := s.Guard
	seen := false
	for _, st := range s.Steps {
		if seen {
			d += st.D
		}
		if st.Kind == StepRing && !seen {
			seen = true
		}
	}
	if !seen {
		d += s.Duration()
	}
	return d
}

// Fits reports an error wrapping ErrNoFit when the part of the sequence
// after the first ring does not fit a silent interval of silence.
func (s *Sequence) Fits(silence time.Duration) error {
	if d := s.AfterFirstRing(); d > silence {
		return fmt.Errorf("%w: needs %v, the cadence leaves %v", ErrNoFit, d, silence)
	}
	return nil
}

// Options tune a sequence. The zero value of each field selects the
// standard's default.
type Options struct {
	// Level is the FSK level in dBm0 (default DefaultLevel).
	Level float64
	// AlertLevel is the level of each tone of the DT-AS or tone alert
	// (default DefaultAlertLevel).
	AlertLevel float64
	// DTMFLevel is the level of each tone of DTMF caller ID (default
	// DefaultDTMFLevel).
	DTMFLevel float64
	// Alert is the ETSI alerting method (default AlertDTAS for ETSI; the
	// DTMF standard accepts AlertRing, otherwise it goes before ringing).
	Alert Alert
	// PolarityReversal makes the ETSI and DTMF sequences start with a line
	// reversal (always on for BT, never for Bellcore).
	PolarityReversal bool
	// SeizureBits and MarkBits override the channel seizure and mark
	// signal lengths; -1 means none. Defaults: 300 and 180 for Bellcore and
	// for ETSI after a ring or RP-AS, none and 80 for ETSI after DT-AS,
	// 300 and 80 for BT.
	SeizureBits, MarkBits int
	// FirstRing is the length of the first ring (default DefaultFirstRing).
	FirstRing time.Duration
	// Delay is the gap from the end of the first ring to the data (default
	// and least RingToData).
	Delay time.Duration
}

func (o Options) withDefaults(std Standard, alert Alert) (Options, error) {
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if o.AlertLevel == 0 {
		o.AlertLevel = DefaultAlertLevel
	}
	if o.DTMFLevel == 0 {
		o.DTMFLevel = DefaultDTMFLevel
	}
	for _, l := range []float64{o.Level, o.AlertLevel, o.DTMFLevel} {
		if math.IsNaN(l) || l > 0 || l < -60 {
			return o, fmt.Errorf("%w: level %g dBm0", ErrBadOption, l)
		}
	}
	if o.FirstRing == 0 {
		o.FirstRing = DefaultFirstRing
	}
	if o.Delay == 0 {
		o.Delay = RingToData
	}
	if o.Delay < RingToData || o.FirstRing < 0 {
		return o, fmt.Errorf("%w: data %v after the ring, want at least %v", ErrBadOption, o.Delay, RingToData)
	}
	seize, mark := fsk.SeizureBits, fsk.BellcoreMarkBits
	switch {
	case std == BT:
		mark = fsk.ETSIMarkBits
	case std == ETSI && alert == AlertDTAS:
		seize, mark = 0, fsk.ETSIMarkBits
	}
	if o.SeizureBits == 0 {
		o.SeizureBits = seize
	}
	if o.MarkBits == 0 {
		o.MarkBits = mark
	}
	if o.SeizureBits > 1000 || o.MarkBits > 1000 || o.SeizureBits < -1 || o.MarkBits < -1 {
		return o, fmt.Errorf("%w: %d seizure and %d mark bits", ErrBadOption, o.SeizureBits, o.MarkBits)
	}
	return o, nil
}

// fskBurst returns the FSK of msg with the seizure and mark of o.
func fskBurst(m fsk.Modem, level float64, seizure, mark int, msg []byte) (*fsk.Modulator, error) {
	mod, err := fsk.NewModulator(m, level)
	if err != nil {
		return nil, err
	}
	mod.Seizure(max(seizure, 0))
	mod.Mark(max(mark, 0))
	mod.Bytes(msg, 1)
	return mod, nil
}

// OnHook builds the sequence that delivers msg to an idle (on-hook)
// telephone by std.
//
// Call set-up messages go with ringing: Bellcore and ETSI AlertRing send
// them after the first ring; ETSI AlertDTAS and AlertRPAS, BT and DTMF
// before it. Message-waiting messages go without ringing (ETSI AlertRing
// then falls back to DT-AS), and the sequence restores the line polarity
// if it reversed it. DTMF carries only the number of msg.Info, or the
// reason for its absence.
func OnHook(std Standard, msg Message, opt Options) (*Sequence, error) {
	alert := opt.Alert
	ringing := msg.Type != TypeSDMFMessageWaiting && msg.Type != TypeMessageWaiting
	switch std {
	case ETSI:
		if alert == 0 {
			alert = AlertDTAS
		}
		if !ringing && alert == AlertRing {
			alert = AlertDTAS
		}
	case DTMF:
		if alert != 0 && alert != AlertRing {
			return nil, fmt.Errorf("%w: DTMF caller ID goes before or after the first ring, not with %v", ErrBadOption, alert)
		}
	case Bellcore, BT:
	default:
		return nil, fmt.Errorf("%w: standard %v", ErrBadOption, std)
	}
	if alert > AlertRPAS {
		return nil, fmt.Errorf("%w: %v", ErrBadOption, alert)
	}
	o, err := opt.withDefaults(std, alert)
	if err != nil {
		return nil, err
	}
	seq := &Sequence{Standard: std, Guard: DataToRing}
	audio := &Audio{}
	reversed := false
	reverse := func() {
		seq.Steps = append(seq.Steps, Step{Kind: StepReversePolarity}, Step{Kind: StepWait, D: ReversalToAlert})
		reversed = true
	}
	ringFirst := func() {
		seq.Steps = append(seq.Steps, Step{Kind: StepRing, D: o.FirstRing}, Step{Kind: StepWait, D: o.Delay})
	}

	if std == DTMF {
		if opt.PolarityReversal {
			reverse()
		}
		if alert == AlertRing {
			ringFirst()
		}
		digits, err := FormatDTMF(msg.Info)
		if err != nil {
			return nil, err
		}
		pcm, err := dtmfAudio(digits, o.DTMFLevel)
		if err != nil {
			return nil, err
		}
		audio.addPCM(pcm)
	} else {
		body, err := msg.MarshalBinary()
		if err != nil {
			return nil, err
		}
		switch {
		case std == Bellcore:
			if ringing {
				ringFirst()
			}
		case std == BT:
			reverse()
			audio.addTones(AlertLowHz, AlertHighHz, o.AlertLevel, DTASDuration)
			audio.addSilence(AlertToData)
		case alert == AlertRing:
			if opt.PolarityReversal {
				reverse()
			}
			ringFirst()
		case alert == AlertDTAS:
			if opt.PolarityReversal {
				reverse()
			}
			audio.addTones(AlertLowHz, AlertHighHz, o.AlertLevel, DTASDuration)
			audio.addSilence(AlertToData)
		case alert == AlertRPAS:
			if opt.PolarityReversal {
				reverse()
			}
			seq.Steps = append(seq.Steps, Step{Kind: StepRingPulse, D: RPASDuration}, Step{Kind: StepWait, D: RPASToData})
		}
		mod, err := fskBurst(std.Modem(), o.Level, o.SeizureBits, o.MarkBits, body)
		if err != nil {
			return nil, err
		}
		audio.addFSK(mod)
	}
	seq.Steps = append(seq.Steps, Step{Kind: StepAudio, D: audio.Duration(), Audio: audio})
	if reversed && !ringing {
		seq.Steps = append(seq.Steps, Step{Kind: StepNormalPolarity})
	}
	return seq, nil
}
