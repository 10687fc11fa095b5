// Package ag1171 drives a Silvertel Ag1171 ringing SLIC — or any SLIC
// module controlled the same way — through three or four GPIOs, and
// presents it as a hal.Line. It shows that hal.Line does not assume a chip
// with registers: the Ag1171 has no SPI port at all.
//
// # The module
//
// The Ag1171 makes its own 48 V battery from a 3.3–5 V supply, feeds the
// line with a fixed 30 mA, and is controlled by logic pins:
//
//	SHK  out  switch hook: high while loop current flows (off-hook)
//	RM   in   ring mode: high switches the converter to ringing battery
//	F/R  in   forward/reverse: high forward, low reverse polarity; while
//	          RM is high, toggling it at the ring frequency makes ringing
//
// Audio is analog (VIN, VOUT) and goes through a separate codec, on the
// Raspberry Pi an I2S codec driven through package alsa; this package does
// only signalling.
//
// # What the line can and cannot do
//
// Ringing is generated in software: a goroutine holds RM high and toggles
// F/R at the ring frequency during each burst of the cadence, and returns
// both to the feed state between bursts. Hook state is sampled from SHK
// every Options.Poll and classified by hal/hook, so pulse dialling and
// flash work as on any other line; loop closure during a burst is ring
// trip and stops ringing.
//
// Feeds: FeedActive and FeedReverse set F/R (reverse needs F/R wired,
// which ringing needs anyway). On-hook transmission needs a 20 kΩ resistor
// across tip and ring on the module; without Options.OHTResistor,
// FeedOHT and FeedReverseOHT fail with ErrUnsupported. The module has no
// open-loop state: FeedOpen needs Options.Power, a pin that switches the
// module's supply, and fails with ErrUnsupported without it.
package ag1171

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Sentinel errors.
var (
	// ErrUnsupported means the module, as wired, cannot do what was asked.
	ErrUnsupported = errors.New("ag1171: not supported by this module's wiring")
	// ErrOffHook is returned by Ring when the phone is off-hook.
	ErrOffHook = errors.New("ag1171: line is off-hook")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("ag1171: line closed")
	// ErrOptions means the Options are incomplete or out of range.
	ErrOptions = errors.New("ag1171: invalid options")
)

// Options wire the module. SHK, RM and FR are required.
type Options struct {
	SHK gpio.PinIn  // switch hook output of the module
	RM  gpio.PinOut // ring mode input
	FR  gpio.PinOut // forward/reverse input
	// Power, when wired, switches the module's supply (high = on); it makes
	// FeedOpen possible.
	Power gpio.PinOut
	// SHKActiveLow inverts SHK, for modules or level shifters that pull it
	// low when off-hook.
	SHKActiveLow bool
	// OHTResistor says the 20 kΩ on-hook transmission resistor is fitted:
	// FeedOHT is then the forward feed with audio passing while on-hook.
	OHTResistor bool
	// RingFrequency is the ringing frequency, 15–50 Hz; 0 means 20 Hz.
	RingFrequency physic.Frequency
	// Poll is the SHK sampling interval; 0 means 5 ms.
	Poll time.Duration
	// Hook classifies SHK samples; zero means hook.DefaultTiming.
	Hook   hook.Timing
	Logger *slog.Logger
}

// Line is one Ag1171 line. It implements hal.Line.
type Line struct {
	o      Options
	halfRT time.Duration // half a ring period: the F/R toggle interval

	mu      sync.Mutex
	det     *hook.Detector
	feed    hal.Feed // feed last set, the one ringing returns to
	cadence hal.Cadence
	ringAt  time.Time // start of the cadence
	burst   bool      // a burst is on
	toggle  time.Time // next F/R toggle during a burst
	frHigh  bool      // F/R level now
	closed  bool

	events chan hal.Event
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

var _ hal.Line = (*Line)(nil)

// Open configures the pins, puts the line in forward active feed and starts
// the goroutine that samples the hook and times ringing. ctx bounds the
// life of the line, as Close does.
func Open(ctx context.Context, o Options) (*Line, error) {
	if o.SHK == nil || o.RM == nil || o.FR == nil {
		return nil, fmt.Errorf("%w: SHK, RM and FR pins are required", ErrOptions)
	}
	if o.RingFrequency == 0 {
		o.RingFrequency = 20 * physic.Hertz
	}
	if o.RingFrequency < 15*physic.Hertz || o.RingFrequency > 50*physic.Hertz {
		return nil, fmt.Errorf("%w: ring frequency %v out of range 15–50 Hz", ErrOptions, o.RingFrequency)
	}
	if o.Poll == 0 {
		o.Poll = 5 * time.Millisecond
	}
	if o.Poll < 0 || o.Poll > 20*time.Millisecond {
		return nil, fmt.Errorf("%w: poll interval %v out of range (0, 20ms]", ErrOptions, o.Poll)
	}
	if o.Hook == (hook.Timing{}) {
		o.Hook = hook.DefaultTiming
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	det, err := hook.New(o.Hook)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	l := &Line{
		o: o, det: det, feed: hal.FeedActive,
		halfRT: time.Duration(float64(time.Second) / (2 * float64(o.RingFrequency) / float64(physic.Hertz))),
		events: make(chan hal.Event, 32), wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if err := o.SHK.In(gpio.PullNoChange, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("ag1171: SHK %s: %w", o.SHK, err)
	}
	if err := l.out(o.RM, gpio.Low, "RM"); err != nil {
		return nil, err
	}
	if err := l.setFR(true); err != nil {
		return nil, err
	}
	if o.Power != nil {
		if err := l.out(o.Power, gpio.High, "power"); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	go l.run(runCtx)
	return l, nil
}

func (l *Line) out(p gpio.PinOut, v gpio.Level, role string) error {
	if err := p.Out(v); err != nil {
		return fmt.Errorf("ag1171: %s pin %s: %w", role, p, err)
	}
	return nil
}

func (l *Line) setFR(high bool) error {
	l.frHigh = high
	return l.out(l.o.FR, gpio.Level(high), "F/R")
}

// Hook implements hal.Line.
func (l *Line) Hook() hal.Hook {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.det.Hook()
}

// Events implements hal.Line.
func (l *Line) Events() <-chan hal.Event { return l.events }

// Feed implements hal.Line.
func (l *Line) Feed() hal.Feed {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.feed
}

// Ringing implements hal.Line.
func (l *Line) Ringing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cadence != nil
}

// SetFeed implements hal.Line. It stops ringing.
func (l *Line) SetFeed(f hal.Feed) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	switch f {
	case hal.FeedOpen:
		if l.o.Power == nil {
			return fmt.Errorf("%w: FeedOpen needs a power pin (the Ag1171 has no open state)", ErrUnsupported)
		}
	case hal.FeedOHT, hal.FeedReverseOHT:
		if !l.o.OHTResistor {
			return fmt.Errorf("%w: %v needs the 20 kΩ on-hook transmission resistor", ErrUnsupported, f)
		}
	case hal.FeedActive, hal.FeedReverse:
	default:
		return fmt.Errorf("%w: feed %v", ErrUnsupported, f)
	}
	l.stopRing(time.Now())
	l.feed = f
	err := l.applyFeed()
	l.nudge()
	return err
}

// applyFeed drives the pins for l.feed outside bursts. Callers hold l.mu.
func (l *Line) applyFeed() error {
	if err := l.out(l.o.RM, gpio.Low, "RM"); err != nil {
		return err
	}
	if l.o.Power != nil {
		if err := l.out(l.o.Power, gpio.Level(l.feed != hal.FeedOpen), "power"); err != nil {
			return err
		}
	}
	return l.setFR(!l.feed.Reversed())
}

// Ring implements hal.Line.
func (l *Line) Ring(c hal.Cadence) error {
	if err := c.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.det.Hook() == hal.OffHook:
		return ErrOffHook
	case l.feed == hal.FeedOpen:
		// Ringing needs the module powered; ring from the active feed.
		l.feed = hal.FeedActive
		if err := l.applyFeed(); err != nil {
			return err
		}
	}
	l.stopRing(time.Now())
	l.cadence = append(hal.Cadence(nil), c...)
	l.ringAt = time.Now()
	l.nudge()
	return nil
}

// StopRing implements hal.Line.
func (l *Line) StopRing() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.stopRing(time.Now())
	err := l.applyFeed()
	l.nudge()
	return err
}

// stopRing ends the cadence and restores the feed's pins before it reports
// the end of a burst. Callers hold l.mu.
func (l *Line) stopRing(now time.Time) {
	if l.cadence == nil {
		return
	}
	burst := l.burst
	l.cadence, l.burst = nil, false
	l.check(l.applyFeed())
	if burst {
		l.emit(hal.Event{Kind: hal.EventRingOff, At: now})
	}
}

// Close implements hal.Line: it stops ringing, leaves the line open when a
// power pin is wired (forward active otherwise), and closes Events.
func (l *Line) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	<-l.done
	return nil
}

func (l *Line) emit(e hal.Event) {
	select {
	case l.events <- e:
	default:
		l.o.Logger.Warn("ag1171: event dropped, nobody reads Events", "event", e.String())
	}
}

func (l *Line) nudge() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run samples SHK, feeds the hook detector and plays the ring cadence.
func (l *Line) run(ctx context.Context) {
	defer close(l.done)
	defer close(l.events)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.mu.Lock()
			l.closed = true
			l.stopRing(time.Now())
			if l.o.Power != nil {
				l.feed = hal.FeedOpen
			} else {
				l.feed = hal.FeedActive
			}
			if err := l.applyFeed(); err != nil {
				l.o.Logger.Warn("ag1171: closing", "err", err)
			}
			l.mu.Unlock()
			return
		case <-t.C:
		case <-l.wake:
		}
		next := l.service(time.Now())
		t.Reset(time.Until(next))
	}
}

// service does everything due at now and returns when to run next.
func (l *Line) service(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	closed := (l.o.SHK.Read() == gpio.High) != l.o.SHKActiveLow
	l.det.Update(now, closed, l.emit)
	next := now.Add(l.o.Poll)
	if d := l.det.Deadline(); !d.IsZero() && d.Before(next) {
		next = d
	}
	if l.cadence == nil {
		return next
	}
	if l.det.Hook() == hal.OffHook {
		// Ring trip: the phone answered, during a burst or between bursts.
		if l.feed == hal.FeedOHT || l.feed == hal.FeedReverseOHT || l.feed == hal.FeedOpen {
			l.feed = hal.FeedActive
		}
		l.stopRing(now)
		return next
	}
	on, until, done := l.step(now)
	switch {
	case done:
		l.stopRing(now)
	case on && !l.burst:
		l.burst = true
		l.check(l.out(l.o.RM, gpio.High, "RM"))
		l.toggle = now.Add(l.halfRT)
		l.emit(hal.Event{Kind: hal.EventRingOn, At: now})
	case !on && l.burst:
		l.burst = false
		l.check(l.applyFeed())
		l.emit(hal.Event{Kind: hal.EventRingOff, At: now})
	}
	if l.burst {
		if !now.Before(l.toggle) {
			l.check(l.setFR(!l.frHigh))
			l.toggle = l.toggle.Add(l.halfRT)
			if l.toggle.Before(now) { // fell behind: do not burst-toggle to catch up
				l.toggle = now.Add(l.halfRT)
			}
		}
		if l.toggle.Before(next) {
			next = l.toggle
		}
	}
	if !done && until.Before(next) {
		next = until
	}
	return next
}

// step returns whether the cadence is in a burst at now, when that step
// ends, and whether a single-step cadence has finished.
func (l *Line) step(now time.Time) (on bool, until time.Time, done bool) {
	el := now.Sub(l.ringAt)
	if len(l.cadence) == 1 {
		if el >= l.cadence[0] {
			return false, now, true
		}
		return true, l.ringAt.Add(l.cadence[0]), false
	}
	var period time.Duration
	for _, d := range l.cadence {
		period += d
	}
	cycles := el / period
	pos := el - cycles*period
	start := l.ringAt.Add(cycles * period)
	for i, d := range l.cadence {
		if pos < d {
			return i%2 == 0, start.Add(d), false
		}
		pos -= d
		start = start.Add(d)
	}
	return false, start, false
}

// check logs a pin error of the goroutine.
func (l *Line) check(err error) {
	if err != nil {
		l.o.Logger.Warn("ag1171: pin", "err", err)
	}
}
