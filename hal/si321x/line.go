package si321x

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tipring/tipring/hal"
	"periph.io/x/conn/v3/gpio"
)

// ringTick is the unit of the ring timers RAT and RIT (DR48–51).
const ringTick = 125 * time.Microsecond

// maxRingTimer is the longest phase the 16-bit ring timers can count.
const maxRingTimer = 0xFFFF * ringTick

// ringState is a cadence in progress.
type ringState struct {
	active     bool        // a cadence is in progress
	chipTimers bool        // the chip cadences with RAT/RIT; otherwise software does
	cadence    hal.Cadence // the cadence, for software timing
	step       int         // software: index of the current step
	on         bool        // ring voltage on, as far as the driver knows
	next       time.Time   // software: end of the current step
}

// lf returns the DR64 linefeed code of f.
func lf(f hal.Feed) uint8 {
	switch f {
	case hal.FeedActive:
		return lfActive
	case hal.FeedOHT:
		return lfOHT
	case hal.FeedReverse:
		return lfReverse
	case hal.FeedReverseOHT:
		return lfReverseOHT
	}
	return lfOpen
}

// talkFeed is the active feed with f's polarity: where ring trip leaves the
// line.
func talkFeed(f hal.Feed) hal.Feed {
	if f.Reversed() {
		return hal.FeedReverse
	}
	return hal.FeedActive
}

// ohtFeed is on-hook transmission with f's polarity: the line between
// bursts of software-timed ringing.
func ohtFeed(f hal.Feed) hal.Feed {
	if f.Reversed() {
		return hal.FeedReverseOHT
	}
	return hal.FeedOHT
}

// Hook implements hal.Line: the hook state as classified by the detector.
func (c *Chip) Hook() hal.Hook {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.det.Hook()
}

// Events implements hal.Line. The channel is closed after Close, or when the
// context given to Open is done.
func (c *Chip) Events() <-chan hal.Event { return c.events }

// Feed implements hal.Line. While ringing it returns the feed ringing will
// return to; after a single-burst cadence it is on-hook transmission; after
// ring trip the active feed; after a power alarm FeedOpen.
func (c *Chip) Feed() hal.Feed {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.feed
}

// Ringing implements hal.Line.
func (c *Chip) Ringing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ring.active
}

// SetFeed implements hal.Line: it stops ringing and writes DR64.
func (c *Chip) SetFeed(f hal.Feed) error {
	if f > hal.FeedReverseOHT {
		return fmt.Errorf("%w: feed %v", ErrOptions, f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.ring.active {
		return c.stopRing(f, time.Now())
	}
	if err := c.wr(drLinefeed, lf(f)); err != nil {
		return err
	}
	c.feed = f
	return nil
}

// Ring implements hal.Line. A two-step cadence whose steps fit the chip's
// 16-bit timers (125 µs … 8.19 s) runs on the chip: RAT and RIT are loaded,
// DR34 enables them and the linefeed goes to ringing; the chip alternates
// ringing and on-hook transmission by itself and flags each change in
// DR18. Any other cadence is timed by the event goroutine, which switches the
// linefeed between ringing and on-hook transmission (keeping the polarity
// of the feed before ringing). A single step rings once and leaves the line
// in on-hook transmission, ready for caller ID.
//
// Ring returns ErrOffHook if the phone is off-hook. Calling Ring while
// ringing restarts with the new cadence.
func (c *Chip) Ring(cad hal.Cadence) error {
	if err := cad.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrOptions, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.det.Hook() == hal.OffHook {
		return ErrOffHook
	}
	now := time.Now()
	if c.ring.on {
		c.emit(hal.Event{Kind: hal.EventRingOff, At: now})
	}
	cad = append(hal.Cadence(nil), cad...)
	chip := len(cad) == 2
	for _, d := range cad {
		if d < ringTick || d > maxRingTimer {
			chip = false
		}
	}
	c.ring = ringState{active: true, chipTimers: chip, cadence: cad, on: true}
	if chip {
		rat, rit := ticks(cad[0]), ticks(cad[1])
		if err := c.writes([2]uint8{drRATLo, uint8(rat)}, [2]uint8{drRATHi, uint8(rat >> 8)},
			[2]uint8{drRITLo, uint8(rit)}, [2]uint8{drRITHi, uint8(rit >> 8)},
			[2]uint8{drRingOsc, dr34Timers}, [2]uint8{drLinefeed, lfRinging}); err != nil {
			c.ring = ringState{}
			return err
		}
	} else {
		if err := c.writes([2]uint8{drRingOsc, 0x00}, [2]uint8{drLinefeed, lfRinging}); err != nil {
			c.ring = ringState{}
			return err
		}
		c.ring.next = now.Add(cad[0])
	}
	c.emit(hal.Event{Kind: hal.EventRingOn, At: now})
	c.nudge()
	return nil
}

// ticks converts d to ring timer units, rounded to the nearest.
func ticks(d time.Duration) uint16 {
	return uint16((d + ringTick/2) / ringTick)
}

// StopRing implements hal.Line. It is a no-op when the line is not ringing.
func (c *Chip) StopRing() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if !c.ring.active {
		return nil
	}
	return c.stopRing(c.feed, time.Now())
}

// stopRing ends the cadence and sets feed f: linefeed first, so the ring
// voltage goes at once, then the chip timers off. A burst in progress is
// reported as ended.
func (c *Chip) stopRing(f hal.Feed, now time.Time) error {
	chip, on := c.ring.chipTimers, c.ring.on
	c.ring = ringState{}
	c.feed = f
	if err := c.wr(drLinefeed, lf(f)); err != nil {
		return err
	}
	if chip {
		if err := c.wr(drRingOsc, 0x00); err != nil {
			return err
		}
	}
	if on {
		c.emit(hal.Event{Kind: hal.EventRingOff, At: now})
	}
	return nil
}

// Close implements hal.Line: it stops the event goroutine, opens the line
// and closes Events. It returns the error of the final linefeed write.
func (c *Chip) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	return c.closeErr
}

// maxPending bounds the events queued for a consumer that does not read
// Events; beyond it new events are dropped and logged.
const maxPending = 256

// emit queues e for delivery by the event goroutine and wakes it. The
// caller holds mu.
func (c *Chip) emit(e hal.Event) {
	if len(c.pending) >= maxPending {
		c.cfg.log.Warn("si321x: events not read, dropping", "event", e.String())
		return
	}
	c.pending = append(c.pending, e)
	c.nudge()
}

// nudge wakes the event goroutine so it recomputes its deadlines.
func (c *Chip) nudge() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// start launches the event goroutine.
func (c *Chip) start(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	go c.run(ctx)
}

// run is the event goroutine: it services the chip on INT edges or poll
// ticks, times software cadences, calls the hook detector at its deadlines
// and delivers queued events without ever blocking the callers.
func (c *Chip) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		c.mu.Lock()
		c.closed = true
		c.ring = ringState{}
		c.feed = hal.FeedOpen
		c.closeErr = c.wr(drLinefeed, lfOpen)
		c.mu.Unlock()
		close(c.events)
		close(c.done)
	}()
	var edges chan struct{}
	pin := c.cfg.intPin
	if pin != nil {
		edges = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.watchInt(ctx, pin, edges)
		}()
		// Events that latched before the edge watcher started made no edge.
		c.serviceInt(pin)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	nextPoll := time.Now()
	for {
		c.mu.Lock()
		now := time.Now()
		wakeAt := c.deadline()
		if pin == nil && (wakeAt.IsZero() || nextPoll.Before(wakeAt)) {
			wakeAt = nextPoll
		}
		var out chan<- hal.Event
		var ev hal.Event
		if len(c.pending) > 0 {
			out, ev = c.events, c.pending[0]
		}
		c.mu.Unlock()
		timer.Stop()
		select {
		case <-timer.C:
		default:
		}
		var tc <-chan time.Time
		if !wakeAt.IsZero() {
			timer.Reset(max(wakeAt.Sub(now), 0))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case out <- ev:
			c.mu.Lock()
			c.pending = c.pending[1:]
			c.mu.Unlock()
		case <-c.wake:
		case <-edges:
			c.serviceInt(pin)
		case <-tc:
			now := time.Now()
			if pin == nil && !now.Before(nextPoll) {
				nextPoll = now.Add(c.cfg.timing.Poll)
				c.mu.Lock()
				c.logErr(c.service(now))
				c.mu.Unlock()
			}
			c.mu.Lock()
			c.logErr(c.tick(now))
			c.mu.Unlock()
		}
	}
}

// watchInt forwards INT edges, and an INT pin found low after a wait, to
// edges. Each wait is bounded by Timing.IntWait so that ctx is noticed.
func (c *Chip) watchInt(ctx context.Context, pin gpio.PinIn, edges chan<- struct{}) {
	for ctx.Err() == nil {
		if pin.WaitForEdge(c.cfg.timing.IntWait) || pin.Read() == gpio.Low {
			select {
			case edges <- struct{}{}:
			default:
			}
		}
	}
}

// serviceInt services the chip after an INT edge, again while the pin stays
// low (a new event latched while the previous ones were being cleared
// makes no new edge), a bounded number of times.
func (c *Chip) serviceInt(pin gpio.PinIn) {
	for range 4 {
		c.mu.Lock()
		err := c.service(time.Now())
		c.logErr(err)
		c.mu.Unlock()
		if err != nil || pin.Read() != gpio.Low {
			return
		}
	}
}

// logErr logs an error of the event goroutine; the caller holds mu. A
// failing bus repeats the same error every poll, so a repeat is logged at
// most every errRepeat.
func (c *Chip) logErr(err error) {
	if err == nil {
		return
	}
	now := time.Now()
	if msg := err.Error(); msg != c.lastErr || now.Sub(c.lastErrAt) >= errRepeat {
		c.lastErr, c.lastErrAt = msg, now
		c.cfg.log.Error("si321x: line service", "part", c.part.String(), "err", err)
	}
}

// errRepeat is how often the event goroutine repeats an unchanged error.
const errRepeat = 10 * time.Second

// deadline returns when the event goroutine must next run tick, or zero.
// The caller holds mu.
func (c *Chip) deadline() time.Time {
	d := c.det.Deadline()
	if c.ring.active && !c.ring.chipTimers && (d.IsZero() || c.ring.next.Before(d)) {
		d = c.ring.next
	}
	return d
}

// tick runs the time-driven work: hook detector timeouts and the software
// cadence. The caller holds mu.
func (c *Chip) tick(now time.Time) error {
	c.det.Update(now, c.lcr, c.emit)
	if !c.ring.active || c.ring.chipTimers || now.Before(c.ring.next) {
		return nil
	}
	r := &c.ring
	if len(r.cadence) == 1 {
		// Rang once: on-hook transmission for caller ID.
		return c.stopRing(ohtFeed(c.feed), now)
	}
	r.step = (r.step + 1) % len(r.cadence)
	r.next = r.next.Add(r.cadence[r.step])
	if r.next.Before(now) {
		r.next = now.Add(r.cadence[r.step])
	}
	on := r.step%2 == 0
	if on == r.on {
		return nil
	}
	code, kind := uint8(lfRinging), hal.EventRingOn
	if !on {
		code, kind = lf(ohtFeed(c.feed)), hal.EventRingOff
	}
	if err := c.wr(drLinefeed, code); err != nil {
		return err
	}
	r.on = on
	c.emit(hal.Event{Kind: kind, At: now})
	return nil
}

// service reads and clears the interrupt status registers, reads the loop
// status, and acts: power alarms open the line and report a fault; ring
// timer flags report bursts; ring trip or loop closure while ringing stops
// ringing on the talk feed; every loop-closure sample goes to the detector.
// The caller holds mu.
func (c *Chip) service(now time.Time) error {
	var st [3]uint8
	for i := range st {
		reg := uint8(drIRQ1 + i)
		v, err := c.rd(reg)
		if err != nil {
			return err
		}
		if v != 0 {
			if err := c.wr(reg, v); err != nil {
				return err
			}
		}
		st[i] = v
	}
	loop, err := c.rd(drLoopStatus)
	if err != nil {
		return err
	}
	closed := loop&dr68LCR != 0
	if alarm := st[1] & irq2PowerAlarms; alarm != 0 {
		if c.ring.on {
			c.emit(hal.Event{Kind: hal.EventRingOff, At: now})
		}
		c.ring = ringState{}
		c.feed = hal.FeedOpen
		if err := c.wr(drLinefeed, lfOpen); err != nil {
			return err
		}
		c.emit(hal.Event{Kind: hal.EventFault, At: now,
			Err: fmt.Errorf("%w: DR19 = 0x%02X (transistors %s); line opened", ErrPowerAlarm, st[1], alarmNames(alarm))})
	}
	if c.ring.active {
		if st[1]&irq2RingTrip != 0 || loop&(dr68LCR|dr68RTP) != 0 {
			if err := c.stopRing(talkFeed(c.feed), now); err != nil {
				return err
			}
			closed = true
		} else if c.ring.chipTimers {
			c.ringTimers(st[0], now)
		}
	}
	c.lcr = closed
	c.det.Update(now, closed, c.emit)
	return nil
}

// ringTimers turns the ring timer flags of DR18 into burst events. Both
// flags at once mean a whole phase went by between two services; they are
// taken in the order the cadence makes them.
func (c *Chip) ringTimers(s1 uint8, now time.Time) {
	for range 2 {
		switch {
		case c.ring.on && s1&irq1RingActive != 0:
			s1 &^= irq1RingActive
			c.ring.on = false
			c.emit(hal.Event{Kind: hal.EventRingOff, At: now})
		case !c.ring.on && s1&irq1RingInactive != 0:
			s1 &^= irq1RingInactive
			c.ring.on = true
			c.emit(hal.Event{Kind: hal.EventRingOn, At: now})
		}
	}
}

// alarmNames lists the transistors of the power alarm bits DR19 b7:2.
func alarmNames(bits uint8) string {
	s := ""
	for q := 1; q <= 6; q++ {
		if bits&(1<<(q+1)) != 0 {
			if s != "" {
				s += ","
			}
			s += fmt.Sprintf("Q%d", q)
		}
	}
	return s
}
