package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/dtmf"
)

// lineSide is what a phone sees of the SLIC it is wired to: the loop it
// closes, and the ringing and polarity on its wires.
type lineSide interface {
	SetLoop(closed bool)
	Ringing() bool
	Reversed() bool
}

// Pulse dialing as a rotary dial at 10 pulses per second with 60 % break
// makes it, and the flash a phone's recall button gives.
const (
	pulseBreak     = 60 * time.Millisecond
	pulseMake      = 40 * time.Millisecond
	pulseInterdigt = 700 * time.Millisecond
	flashBreak     = 400 * time.Millisecond
	earSeconds     = 20 // how much the earpiece remembers
)

// Errors of the virtual phone.
var (
	ErrBusy     = errors.New("sim: the phone is already dialing")
	ErrOnHook   = errors.New("sim: the phone is on-hook")
	ErrBadDigit = errors.New("sim: not a dialable digit")
	ErrAction   = errors.New("sim: unknown hook action")
)

// MaxDial is the most digits one Dial call takes.
const MaxDial = 64

// CallerID is what the phone's display shows.
type CallerID struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// PhoneState is a snapshot of a virtual phone.
type PhoneState struct {
	Port     int       `json:"port"`
	Hook     string    `json:"hook"` // "on" or "off"
	Ringing  bool      `json:"ringing"`
	CallerID *CallerID `json:"callerId"`
	MWI      bool      `json:"mwi"`
	Polarity string    `json:"polarity"` // "forward" or "reverse"
}

// Phone is a virtual analog telephone on one port: a hook switch, a keypad
// that plays real DTMF into the mouthpiece or pulse-dials with the hook, a
// mouthpiece fed from recorded audio, an earpiece that records the last
// seconds it heard, and a ringer and display that watch the line.
type Phone struct {
	port int
	line lineSide

	mu      sync.Mutex
	off     bool
	pulsing bool    // the hook switch is busy with pulses or a flash
	keying  bool    // DTMF digits are being played
	mouth   []int16 // audio waiting to be spoken, played before live silence
	ear     []int16 // ring buffer of what the earpiece heard
	earPos  int     // next write index in ear
	earLen  int     // valid samples in ear
	cid     *CallerID
	mwi     bool

	ctx    context.Context // ends the phone's own timers with the board
	dtmfFn func(digits string) ([]int16, error)

	// display decodes caller ID (Bell 202, V.23 or DTMF) and message-waiting
	// messages from the line while the handset is down, as a caller-ID
	// phone's display does.
	display *callerid.Decoder
	// cas hears the CPE alerting signal of caller ID on call waiting while
	// the handset is up; the phone, a Type 2 set (GR-575), acknowledges it
	// with DTMF D and its display then listens for the data for cwListen
	// more samples.
	cas      *callerid.AlertDetector
	cwListen int

	// Timing, for latency measurements: sayAt counts the queued samples
	// still ahead of the last Say's audio (-1: none pending); said is the
	// tick that put its first sample into a mouthpiece frame, at index
	// saidOff; earTick is the tick that gave the earpiece its last frame.
	sayAt   int
	said    time.Time
	saidOff int
	earTick time.Time
}

// casAck is the acknowledgement a Type 2 set sends after a CAS: DTMF D for
// 60 ms (GR-30-CORE: 55–65 ms, within 100 ms of the end of the CAS).
var casAck = func() []int16 {
	x, err := dtmf.Synthesize("D", 480, 0, dtmf.DefaultGenConfig())
	if err != nil {
		panic(err)
	}
	return x
}()

func newPhone(ctx context.Context, port int, line lineSide, dtmf func(string) ([]int16, error)) (*Phone, error) {
	d, err := callerid.NewDecoder(callerid.DecoderConfig{})
	if err != nil {
		return nil, fmt.Errorf("sim: caller-ID display: %w", err)
	}
	return &Phone{port: port, line: line, ear: make([]int16, earSeconds*8000), ctx: ctx, dtmfFn: dtmf, display: d, sayAt: -1,
		cas: callerid.NewAlertDetector(callerid.AlertDetectorConfig{})}, nil
}

// State returns a snapshot of the phone.
func (p *Phone) State() PhoneState {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := PhoneState{Port: p.port, Hook: "on", Ringing: p.line.Ringing(), MWI: p.mwi, Polarity: "forward"}
	if p.off {
		s.Hook = "off"
	}
	if p.line.Reversed() {
		s.Polarity = "reverse"
	}
	if p.cid != nil {
		c := *p.cid
		s.CallerID = &c
	}
	return s
}

// SetHook lifts (off) or replaces the handset. Lifting it clears the
// caller-ID display, as a phone does when answered.
func (p *Phone) SetHook(off bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pulsing {
		return ErrBusy
	}
	p.setHookLocked(off)
	return nil
}

func (p *Phone) setHookLocked(off bool) {
	if off && !p.off {
		p.cid = nil
	}
	if off != p.off {
		p.cas.Reset()
		p.cwListen = 0
	}
	if !off {
		p.mouth = p.mouth[:0]
	}
	p.off = off
	p.line.SetLoop(off)
}

// HookAction applies a hook action by name, as the control API and the web
// page send it: "off" lifts the handset, "on" replaces it, "flash" flashes.
func (p *Phone) HookAction(ctx context.Context, action string) error {
	switch action {
	case "off":
		return p.SetHook(true)
	case "on":
		return p.SetHook(false)
	case "flash":
		return p.Flash(ctx)
	}
	return fmt.Errorf("%w %q: want off, on or flash", ErrAction, action)
}

// Flash breaks the loop for a hook flash (400 ms) and returns when done.
func (p *Phone) Flash(ctx context.Context) error {
	return p.pulseTrain(ctx, []time.Duration{flashBreak})
}

// Dial dials digits. With pulse it breaks the loop ten pulses per second
// (only 0–9; other characters are an error); otherwise it plays the DTMF
// tones of 0–9, *, #, A–D into the mouthpiece. It returns when the last
// digit has been sent, or when ctx ends.
func (p *Phone) Dial(ctx context.Context, digits string, pulse bool) error {
	if digits == "" || len(digits) > MaxDial {
		return fmt.Errorf("%w: dial 1 to %d digits", ErrBadDigit, MaxDial)
	}
	if pulse {
		var steps []time.Duration
		for i, d := range digits {
			if d < '0' || d > '9' {
				return fmt.Errorf("%w: %q cannot be pulse-dialed", ErrBadDigit, d)
			}
			n := int(d - '0')
			if n == 0 {
				n = 10
			}
			if i > 0 {
				steps = append(steps, -pulseInterdigt)
			}
			for k := 0; k < n; k++ {
				steps = append(steps, pulseBreak)
				if k < n-1 {
					steps = append(steps, -pulseMake)
				}
			}
		}
		return p.pulseTrain(ctx, steps)
	}
	if p.dtmfFn == nil {
		return errors.New("sim: this phone has no DTMF keypad")
	}
	audio, err := p.dtmfFn(digits)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadDigit, err)
	}
	p.mu.Lock()
	if p.keying || p.pulsing {
		p.mu.Unlock()
		return ErrBusy
	}
	p.keying = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.keying = false
		p.mu.Unlock()
	}()
	if err := p.Say(audio); err != nil {
		return err
	}
	return p.waitSpoken(ctx)
}

// waitSpoken returns once the mouthpiece queue has been played out.
func (p *Phone) waitSpoken(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		n, off := len(p.mouth), p.off
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
		if !off {
			return ErrOnHook
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
	}
}

// pulseTrain runs a sequence of loop breaks (positive durations) and makes
// (negative durations) on an off-hook phone, then leaves the loop closed.
func (p *Phone) pulseTrain(ctx context.Context, steps []time.Duration) error {
	p.mu.Lock()
	if !p.off {
		p.mu.Unlock()
		return ErrOnHook
	}
	if p.pulsing || p.keying {
		p.mu.Unlock()
		return ErrBusy
	}
	p.pulsing = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.pulsing = false
		p.line.SetLoop(p.off)
		p.mu.Unlock()
	}()
	// Sleep to absolute deadlines so scheduling delays do not accumulate.
	next := time.Now()
	for _, s := range steps {
		closed := s < 0
		if closed {
			s = -s
		}
		p.line.SetLoop(closed)
		next = next.Add(s)
		t := time.NewTimer(time.Until(next))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-p.ctx.Done():
			t.Stop()
			return p.ctx.Err()
		}
	}
	return nil
}

// Say queues audio (8 kHz) for the mouthpiece. The phone must be off-hook.
func (p *Phone) Say(audio []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.off {
		return ErrOnHook
	}
	if len(p.mouth)+len(audio) > 600*8000 {
		return errors.New("sim: more than 10 minutes of audio queued")
	}
	p.sayAt = len(p.mouth)
	p.mouth = append(p.mouth, audio...)
	return nil
}

// SaidAt tells when the audio of the last Say began: the time of the PCM
// clock tick whose mouthpiece frame carried its first sample, and that
// sample's index in the frame. The frame was spoken during the period
// that ended at the tick, so the sample entered the microphone one frame
// duration before the tick, plus index/8000 s. ok is false until the
// audio has started.
func (p *Phone) SaidAt() (tick time.Time, index int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.said, p.saidOff, p.sayAt < 0 && !p.said.IsZero()
}

// HeardAt is Heard with the time of the PCM clock tick that gave the
// earpiece the frame ending the samples returned; that frame plays from
// the tick on, one sample every 1/8000 s.
func (p *Phone) HeardAt(ms int) ([]int16, time.Time) {
	n := min(max(ms*8, 0), len(p.ear))
	out := make([]int16, n)
	p.mu.Lock()
	defer p.mu.Unlock()
	have := min(n, p.earLen)
	start := p.earPos - have
	if start < 0 {
		start += len(p.ear)
	}
	dst := out[n-have:]
	k := copy(dst, p.ear[start:min(start+have, len(p.ear))])
	copy(dst[k:], p.ear[:have-k])
	return out, p.earTick
}

// Heard returns the last ms milliseconds the earpiece heard (silence while
// on-hook), oldest first.
func (p *Phone) Heard(ms int) []int16 {
	x, _ := p.HeardAt(ms)
	return x
}

// show puts a decoded message on the display: a call's number and name, or
// the message-waiting lamp.
func (p *Phone) show(m callerid.Message) {
	switch m.Type {
	case callerid.TypeSDMFMessageWaiting, callerid.TypeMessageWaiting:
		p.mwi = m.Waiting.Active
		return
	case callerid.TypeSDMFCallSetup, callerid.TypeCallSetup:
	default:
		return // charge and text messages: nothing this display shows
	}
	c := &CallerID{Number: m.Info.Number, Name: m.Info.Name}
	switch {
	case c.Number == "" && m.Info.NumberAbsence == callerid.Private:
		c.Number = "P"
	case c.Number == "" && m.Info.NumberAbsence == callerid.Unavailable:
		c.Number = "O"
	}
	if c.Name == "" && m.Info.NameAbsence == callerid.Private {
		c.Name = "P"
	}
	p.cid = c
}

// exchangeMouth fills mouth with the next PCM period of what the phone's
// microphone sends: queued speech or DTMF while off-hook, zero on-hook.
func (p *Phone) exchangeMouth(mouth []int16, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.off {
		clear(mouth)
		return
	}
	n := copy(mouth, p.mouth)
	clear(mouth[n:])
	p.mouth = p.mouth[n:]
	if p.sayAt >= 0 {
		if p.sayAt < n {
			p.said, p.saidOff = now, p.sayAt
			p.sayAt = -1
		} else {
			p.sayAt -= n
		}
	}
}

// callWaitingID is the off-hook side of the display: a CAS is answered
// with the acknowledgement, ahead of anything else the mouthpiece was to
// say, and the caller-ID message that follows replaces the display. p.mu
// is held.
func (p *Phone) callWaitingID(line []int16) {
	if p.cas.Detect(line) {
		p.mouth = append(append([]int16(nil), casAck...), p.mouth...)
		p.display.Reset()
		p.cwListen = 2 * 8000
		return
	}
	if p.cwListen <= 0 {
		return
	}
	p.cwListen -= len(line)
	if p.display.Process(line) {
		for {
			r, ok := p.display.Next()
			if !ok {
				break
			}
			p.show(r.Message)
			p.cwListen = 0
		}
	}
}

// exchangeEar takes one PCM period of what the SLIC put on the wires. The
// earpiece records it while off-hook and records silence while on-hook, so
// that Heard stays aligned with time. On-hook, the display listens for
// caller ID and message waiting.
func (p *Phone) exchangeEar(line []int16, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		p.callWaitingID(line)
	}
	if !p.off && p.display.Process(line) {
		for {
			r, ok := p.display.Next()
			if !ok {
				break
			}
			p.show(r.Message)
		}
	}
	for _, s := range line {
		if !p.off {
			s = 0
		}
		p.ear[p.earPos] = s
		p.earPos++
		if p.earPos == len(p.ear) {
			p.earPos = 0
		}
	}
	p.earLen = min(p.earLen+len(line), len(p.ear))
	p.earTick = now
}
