// Package hook turns raw loop-closure samples into the hook events of a
// telephone line: off-hook, hang-up, flash and rotary (pulse) digits.
//
// Every line driver feeds its Detector, so what counts as a contact bounce, a
// dial pulse, a flash or a hang-up is decided here and only here. The
// detector is pure logic over timestamps the caller supplies, so it is tested
// with a virtual clock.
//
// A break (the loop opening while off-hook) is classified by its length:
//
//	< Debounce                      contact bounce, ignored
//	PulseBreakMin … PulseBreakMax   one dial pulse
//	FlashMin … FlashMax             hook flash
//	> FlashMax                      hang-up (EventOnHook, dated at the break)
//
// Breaks between those windows are ignored. The pulses of one digit end when
// the loop stays closed for InterdigitMin; ten pulses are the digit 0.
package hook

import (
	"fmt"
	"time"

	"github.com/tipring/tipring/hal"
)

// Timing holds the limits of hook classification.
type Timing struct {
	Debounce      time.Duration // a level must hold this long to count
	PulseBreakMin time.Duration
	PulseBreakMax time.Duration
	FlashMin      time.Duration
	FlashMax      time.Duration
	InterdigitMin time.Duration // a make this long ends a pulse digit
}

// DefaultTiming suits rotary dials from 8 to 12 pulses per second with 58–67 %
// break (breaks of 48–84 ms, makes of 28–50 ms) and the 100–1000 ms flash
// window that North American and European ATAs accept.
var DefaultTiming = Timing{
	Debounce:      10 * time.Millisecond,
	PulseBreakMin: 20 * time.Millisecond,
	PulseBreakMax: 100 * time.Millisecond,
	FlashMin:      100 * time.Millisecond,
	FlashMax:      1000 * time.Millisecond,
	InterdigitMin: 250 * time.Millisecond,
}

// Validate checks that the limits are ordered and sane.
func (t Timing) Validate() error {
	switch {
	case t.Debounce <= 0 || t.Debounce > 50*time.Millisecond:
		return fmt.Errorf("hook: debounce %v out of range (0, 50ms]", t.Debounce)
	case t.PulseBreakMin < t.Debounce:
		return fmt.Errorf("hook: pulse break minimum %v is below the debounce time %v", t.PulseBreakMin, t.Debounce)
	case t.PulseBreakMax <= t.PulseBreakMin:
		return fmt.Errorf("hook: pulse break maximum %v must exceed its minimum %v", t.PulseBreakMax, t.PulseBreakMin)
	case t.FlashMin < t.PulseBreakMax:
		return fmt.Errorf("hook: flash minimum %v overlaps the pulse window ending at %v", t.FlashMin, t.PulseBreakMax)
	case t.FlashMax <= t.FlashMin:
		return fmt.Errorf("hook: flash maximum %v must exceed its minimum %v", t.FlashMax, t.FlashMin)
	case t.FlashMax > 5*time.Second:
		return fmt.Errorf("hook: flash maximum %v is longer than 5s", t.FlashMax)
	case t.InterdigitMin <= t.PulseBreakMax:
		return fmt.Errorf("hook: interdigit time %v must exceed the pulse break maximum %v", t.InterdigitMin, t.PulseBreakMax)
	}
	return nil
}

// Detector classifies the loop-closure samples of one line. The zero value
// is not usable; call New.
type Detector struct {
	t Timing

	raw       bool      // last raw sample: loop closed
	rawSince  time.Time // when raw last changed
	stable    bool      // debounced loop state
	off       bool      // reported hook state
	breakAt   time.Time // start of the current break, when off && !stable
	pulses    int
	lastMake  time.Time
	haveInput bool
}

// New returns a detector that starts on-hook.
func New(t Timing) (*Detector, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &Detector{t: t}, nil
}

// Hook returns the reported hook state.
func (d *Detector) Hook() hal.Hook {
	if d.off {
		return hal.OffHook
	}
	return hal.OnHook
}

// Update feeds one raw sample (closed = loop current flows) taken at now and
// calls emit for every event it completes. Samples must come in time order.
// Call Update again at Deadline even when nothing changed, so that timeouts
// (hang-up, end of a pulse digit) are reported on time.
func (d *Detector) Update(now time.Time, closed bool, emit func(hal.Event)) {
	if !d.haveInput {
		d.haveInput = true
		d.raw, d.rawSince = closed, now
	}
	if closed != d.raw {
		d.raw, d.rawSince = closed, now
	}
	if d.raw != d.stable && now.Sub(d.rawSince) >= d.t.Debounce {
		d.stable = d.raw
		d.edge(d.rawSince, d.stable, emit)
	}
	d.timeouts(now, emit)
}

// Deadline returns when Update must next be called if no sample changes, or
// the zero time when nothing is pending.
func (d *Detector) Deadline() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if d.haveInput && d.raw != d.stable {
		consider(d.rawSince.Add(d.t.Debounce))
	}
	if d.off && !d.stable {
		consider(d.breakAt.Add(d.t.FlashMax))
	}
	if d.off && d.stable && d.pulses > 0 {
		consider(d.lastMake.Add(d.t.InterdigitMin))
	}
	return next
}

// edge handles a debounced change of the loop dated at.
func (d *Detector) edge(at time.Time, closed bool, emit func(hal.Event)) {
	switch {
	case !d.off && closed:
		d.off = true
		d.pulses = 0
		emit(hal.Event{Kind: hal.EventOffHook, At: at})
	case d.off && !closed:
		d.breakAt = at
	case d.off && closed:
		b := at.Sub(d.breakAt)
		switch {
		case b >= d.t.PulseBreakMin && b <= d.t.PulseBreakMax:
			d.pulses++
			d.lastMake = at
		case b >= d.t.FlashMin && b <= d.t.FlashMax:
			d.flushDigit(emit)
			emit(hal.Event{Kind: hal.EventFlash, At: d.breakAt})
		}
	}
}

func (d *Detector) timeouts(now time.Time, emit func(hal.Event)) {
	if !d.off {
		return
	}
	if !d.stable && now.Sub(d.breakAt) > d.t.FlashMax {
		d.flushDigit(emit)
		d.off = false
		emit(hal.Event{Kind: hal.EventOnHook, At: d.breakAt})
		return
	}
	if d.stable && d.pulses > 0 && now.Sub(d.lastMake) >= d.t.InterdigitMin {
		d.flushDigit(emit)
	}
}

func (d *Detector) flushDigit(emit func(hal.Event)) {
	if d.pulses == 0 {
		return
	}
	digit := byte('0' + d.pulses%10)
	if d.pulses > 10 {
		digit = 0 // more than ten pulses is no digit: drop it
	}
	at := d.lastMake
	d.pulses = 0
	if digit != 0 {
		emit(hal.Event{Kind: hal.EventPulseDigit, Digit: digit, At: at})
	}
}
