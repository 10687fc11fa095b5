package si321x

import (
	"context"
	"fmt"
	"time"

	"github.com/tipring/tipring/hal"
	"periph.io/x/conn/v3/gpio"
)

// indirectEntry is one line of the indirect register init table.
type indirectEntry struct {
	reg uint8 // Si3210 numbering
	val uint16
}

// Filter registers IR35–39 (loop-closure, ring-trip and thermal filters),
// flushed with 0x8000 during calibration and restored afterwards.
const (
	irFirstFilter = 35
	irLastFilter  = 39
	filterFlush   = 0x8000
)

// FSK scalers IR99–104 keep their table values: the accumulator clear of
// IR88–211 after calibration skips them.
const (
	irFirstAccum = 88
	irFirstFSK   = 99
	irLastFSK    = 104
	irLastAccum  = 211
)

// indirectTable returns the init table of si321x.md §3 in Si3210 numbering,
// with the ringing coefficients and the ring-trip filter taken from the
// options. Where the reference sources differ the table follows the Silicon
// Labs values except IR42 (DC-DC extra), where it follows DAHDI.
func (cf *config) indirectTable() []indirectEntry {
	return []indirectEntry{
		// DTMF decoder (Si3210 only).
		{0, 0x55C2}, {1, 0x51E6}, {2, 0x4B85}, {3, 0x4937}, {4, 0x3333},
		{5, 0x0202}, {6, 0x0202}, {7, 0x0198}, {8, 0x0198}, {9, 0x0611},
		{10, 0x0202}, {11, 0x00E5}, {12, 0x0A1C},
		// OSC1, OSC2: 350 + 440 Hz.
		{13, 0x7B30}, {14, 0x0063}, {15, 0x0000},
		{16, 0x7870}, {17, 0x007D}, {18, 0x0000},
		// Ring generator: ROFF, RCO, RNGX, RNGY.
		{19, 0x0000}, {20, cf.rco}, {21, cf.rngx}, {22, 0x0000},
		// Pulse metering (Si3210 only).
		{23, 0x2000}, {24, 0x2000}, {25, 0x0000},
		// Gains, thresholds, power alarms, filters.
		{26, 0x4000}, {27, 0x4000}, {28, 0x1000}, {29, 0x3600},
		{30, 0x1000}, {31, 0x0200}, {32, 0x07C0}, {33, 0x2600}, {34, 0x1B80},
		{35, 0x8000}, {36, cf.nrtp}, {37, 0x008C}, {38, 0x0100}, {39, 0x0010},
		{40, 0x0C00}, {41, 0x0C00}, {42, 0x1000}, {43, 0x1000},
		// RX filter / scratch.
		{97, 0x0000},
		// FSK scalers.
		{99, 0x00DA}, {100, 0x6B60}, {101, 0x0074}, {102, 0x79C0}, {103, 0x1120}, {104, 0x3BE0},
	}
}

// filterValues are the operating values of IR35–39, restored after the
// calibration flush.
func (cf *config) filterValues() [5]uint16 {
	return [5]uint16{0x8000, cf.nrtp, 0x008C, 0x0100, 0x0010}
}

// init runs the power-up sequence of si321x.md §4. The caller owns c; no
// goroutine runs yet, but mu is held so that the register helpers' contract
// holds.
func (c *Chip) init(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.cfg.intPin; p != nil {
		// INT is active low and open drain: pull it up, wake on its fall.
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return fmt.Errorf("si321x: INT pin %s: %w", p, err)
		}
	}
	if err := c.reset(ctx); err != nil {
		return err
	}
	if err := c.identify(); err != nil {
		return err
	}
	err := c.bringUp(ctx)
	if err != nil {
		// Leave the line open; the error is what the caller needs.
		_ = c.wr(drLinefeed, lfOpen)
		return fmt.Errorf("%v: %w", c.part, err)
	}
	c.cfg.log.Info("si321x: line ready", "part", c.part.String(), "pcm", c.cfg.pcm.Format.String(),
		"tx_slot", c.cfg.pcm.TXSlot, "rx_slot", c.cfg.pcm.RXSlot)
	return nil
}

// reset pulses RESET low when the board wired it.
func (c *Chip) reset(ctx context.Context) error {
	p := c.cfg.reset
	if p == nil {
		return nil
	}
	if err := pinOut(p, gpio.Low, "reset"); err != nil {
		return err
	}
	if err := sleep(ctx, c.cfg.timing.ResetHold); err != nil {
		return fmt.Errorf("si321x: reset: %w", err)
	}
	if err := pinOut(p, gpio.High, "reset"); err != nil {
		return err
	}
	if err := sleep(ctx, c.cfg.timing.ResetSettle); err != nil {
		return fmt.Errorf("si321x: reset: %w", err)
	}
	return nil
}

// identify reads the part and revision and checks the reset values that
// every chip of the family has, then checks that a written byte reads back.
func (c *Chip) identify() error {
	dr0, err := c.rd(drID)
	if err != nil {
		return err
	}
	if rev := dr0 & 0x0F; rev == 0 || rev == 0x0F {
		return fmt.Errorf("%w on %s: DR0 reads 0x%02X (revision %d); check the SPI wiring, chip select, "+
			"power and that RESET is released", ErrNoChip, c.conn, dr0, rev)
	}
	dr1, err := c.rd(drPCMMode)
	if err != nil {
		return err
	}
	var dr6 uint8
	if dr1&dr1Compact != 0 {
		if dr6, err = c.rd(drPartID); err != nil {
			return err
		}
	}
	c.part = decodePart(dr0, dr1, dr6)
	for _, chk := range [...]struct{ reg, want uint8 }{{drLoopback, 0x02}, {drHybrid, 0x33}, {drLinefeed, 0x00}} {
		v, err := c.rd(chk.reg)
		if err != nil {
			return err
		}
		if v != chk.want {
			return fmt.Errorf("%w: %v on %s: DR%d reads 0x%02X after reset, want 0x%02X", ErrSanity, c.part, c.conn, chk.reg, v, chk.want)
		}
	}
	const probe = 0x5A
	if err := c.wr(drPCMRXLo, probe); err != nil {
		return err
	}
	v, err := c.rd(drPCMRXLo)
	if err != nil {
		return err
	}
	if v != probe {
		return fmt.Errorf("%w: %v on %s: DR%d reads 0x%02X after writing 0x%02X", ErrSanity, c.part, c.conn, drPCMRXLo, v, probe)
	}
	switch {
	case c.part.Number == Si3211 || c.part.Number == Si3212:
		return fmt.Errorf("%w: %v has no DC-DC converter controller", ErrUnsupported, c.part)
	case c.part.Revision < 2:
		return fmt.Errorf("%w: %v is older than revision B", ErrUnsupported, c.part)
	}
	c.cfg.log.Info("si321x: chip found", "part", c.part.String(), "conn", c.conn.String())
	return nil
}

// bringUp runs steps 4–12 of the power-up sequence.
func (c *Chip) bringUp(ctx context.Context) error {
	steps := []func(context.Context) error{
		c.loadIndirect, c.prepare, c.powerUp, c.calibrateDCDC, c.calibrate,
		c.manualCal, c.longitudinal, c.finishCal, c.configure,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return err
		}
	}
	return nil
}

// loadIndirect writes the indirect table and reads every entry back.
func (c *Chip) loadIndirect(context.Context) error {
	table := c.cfg.indirectTable()
	for _, e := range table {
		if a, ok := c.indirectAddr(e.reg); ok {
			if err := c.wrInd(e.reg, a, e.val); err != nil {
				return err
			}
		}
	}
	for _, e := range table {
		a, ok := c.indirectAddr(e.reg)
		if !ok {
			continue
		}
		v, err := c.rdInd(e.reg, a)
		if err != nil {
			return err
		}
		if v != e.val {
			return fmt.Errorf("%w: IR%d (address %d) reads 0x%04X, wrote 0x%04X", ErrIndirectVerify, e.reg, a, v, e.val)
		}
	}
	return nil
}

// writes performs a list of direct register writes.
func (c *Chip) writes(regs ...[2]uint8) error {
	for _, r := range regs {
		if err := c.wr(r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// prepare ends digital loopback, enables the enhancements of newer silicon,
// sets the battery controls of the plain Si3210 and the ringing battery,
// and flushes the filters for calibration.
func (c *Chip) prepare(context.Context) error {
	if err := c.wr(drLoopback, 0x00); err != nil {
		return err
	}
	if c.part.Revision >= 3 {
		if err := c.wr(drEnhance, dr108Enhance); err != nil {
			return err
		}
	}
	if c.part.Number == Si3210 {
		if err := c.writes([2]uint8{drAutoManual, dr67Si3210}, [2]uint8{drBattFeed, dr66Si3210}); err != nil {
			return err
		}
	}
	if err := c.wr(drVBATH, c.cfg.vbath); err != nil {
		return err
	}
	for r := uint8(irFirstFilter); r <= irLastFilter; r++ {
		if a, ok := c.indirectAddr(r); ok {
			if err := c.wrInd(r, a, filterFlush); err != nil {
				return err
			}
		}
	}
	return nil
}

// dcdc returns the converter's PWM period and switch delay for the ramp
// (slow start) or for operation.
func (c *Chip) dcdc(slow bool) (period, delay uint8) {
	switch {
	case c.part.M():
		return dr92M, dr93M
	case slow:
		return dr92SlowStart, dr93SlowStart
	}
	return dr92Normal, dr93Normal
}

// powerUp checks for foreign voltage, starts the DC-DC converter and waits
// for the high battery to come up.
func (c *Chip) powerUp(ctx context.Context) error {
	p, d := c.dcdc(true)
	if err := c.writes([2]uint8{drDCDCPeriod, p}, [2]uint8{drDCDCDelay, d}); err != nil {
		return err
	}
	for _, reg := range [...]uint8{drVTip, drVRing} {
		v, err := c.rd(reg)
		if err != nil {
			return err
		}
		if v >= foreignLimit {
			return fmt.Errorf("%w: DR%d reads 0x%02X before power-up (limit 0x%02X)", ErrForeignVoltage, reg, v, foreignLimit)
		}
	}
	if err := c.wr(drPowerDown1, 0x00); err != nil {
		return err
	}
	// The converter must reach VBATH less 6 V of margin: (1.5 V·DR74 − 6 V) / 0.375 V.
	target := uint8((int(c.cfg.vbath)*1500 - 6000) / vbatSenseMilli)
	limit := c.cfg.timing.RampLimit
	deadline := time.Now().Add(limit)
	for {
		late := time.Now().After(deadline) // fail only on a read begun after it
		v, err := c.rd(drVBATHSense)
		if err != nil {
			return err
		}
		if v >= target {
			c.cfg.log.Debug("si321x: DC-DC converter up", "dr82", v)
			return nil
		}
		if late {
			return fmt.Errorf("%w: DR82 reads 0x%02X after %v, want ≥ 0x%02X", ErrNoConverter, v, limit, target)
		}
		if err := sleep(ctx, c.cfg.timing.RampPoll); err != nil {
			return fmt.Errorf("si321x: DC-DC ramp: %w", err)
		}
	}
}

// pollUntil reads reg every interval until done accepts its value or limit
// passes; what names the operation in the error.
func (c *Chip) pollUntil(ctx context.Context, reg uint8, interval, limit time.Duration, what string, done func(uint8) bool) (uint8, error) {
	deadline := time.Now().Add(limit)
	for {
		late := time.Now().After(deadline) // fail only on a read begun after it
		v, err := c.rd(reg)
		if err != nil {
			return v, err
		}
		if done(v) {
			return v, nil
		}
		if late {
			return v, fmt.Errorf("%w: %s: DR%d still 0x%02X after %v", ErrCalibration, what, reg, v, limit)
		}
		if err := sleep(ctx, interval); err != nil {
			return v, fmt.Errorf("si321x: %s: %w", what, err)
		}
	}
}

// calibrateDCDC switches the converter to its operating PWM and runs its
// calibration, then checks the DC peak result.
func (c *Chip) calibrateDCDC(ctx context.Context) error {
	p, d := c.dcdc(false)
	if err := c.writes([2]uint8{drDCDCPeriod, p}, [2]uint8{drDCDCDelay, d}); err != nil {
		return err
	}
	if err := sleep(ctx, c.cfg.timing.DCCALSettle); err != nil {
		return fmt.Errorf("si321x: DC-DC calibration: %w", err)
	}
	if err := c.wr(drDCDCDelay, d|dr93DCCAL); err != nil {
		return err
	}
	t := c.cfg.timing
	if _, err := c.pollUntil(ctx, drDCDCDelay, t.DCCALPoll, t.DCCALLimit, "DC-DC calibration",
		func(v uint8) bool { return v&dr93DCCAL == 0 }); err != nil {
		return err
	}
	v, err := c.rd(drDCPeak)
	if err != nil {
		return err
	}
	if v < dr107Min || v > dr107Max {
		c.cfg.log.Warn("si321x: DC peak calibration out of range, using the default", "dr107", v, "default", dr107Fallback)
		return c.wr(drDCPeak, dr107Fallback)
	}
	return nil
}

// calibrate runs the main calibration with the line open and interrupts
// masked.
func (c *Chip) calibrate(ctx context.Context) error {
	if err := c.writes([2]uint8{drLinefeed, lfOpen}, [2]uint8{drIRQEn1, 0}, [2]uint8{drIRQEn2, 0},
		[2]uint8{drIRQEn3, 0}, [2]uint8{drCal2, dr97Main}, [2]uint8{drCal1, dr96Main}); err != nil {
		return err
	}
	t := c.cfg.timing
	_, err := c.pollUntil(ctx, drCal1, t.CalPoll, t.CalLimit, "main calibration", func(v uint8) bool { return v == 0 })
	return err
}

// manualCal finds the ring and tip gains by stepping each down from 0x1F
// until its null indicator (DR88 for ring, DR89 for tip) reads 0. A gain
// that never nulls keeps the last code tried (1) and is logged.
func (c *Chip) manualCal(ctx context.Context) error {
	t := c.cfg.timing
	if err := sleep(ctx, t.ManualCalSettle); err != nil {
		return fmt.Errorf("si321x: manual calibration: %w", err)
	}
	if err := c.wr(drTipGain, dr98Center); err != nil {
		return err
	}
	for _, g := range [...]struct {
		set, null uint8
		name      string
	}{{drRingGain, drIQ5, "ring"}, {drTipGain, drIQ6, "tip"}} {
		found := false
		for v := uint8(manualCalStart); v >= 1; v-- {
			if err := c.wr(g.set, v); err != nil {
				return err
			}
			if err := sleep(ctx, t.ManualCalStep); err != nil {
				return fmt.Errorf("si321x: manual %s gain calibration: %w", g.name, err)
			}
			n, err := c.rd(g.null)
			if err != nil {
				return err
			}
			if n == 0 {
				c.cfg.log.Debug("si321x: manual gain calibration", "gain", g.name, "reg", g.set, "value", v)
				found = true
				break
			}
		}
		if !found {
			c.cfg.log.Warn("si321x: manual gain calibration found no null", "gain", g.name, "null_reg", g.null)
		}
	}
	return nil
}

// longitudinal runs the longitudinal balance calibration unless the phone
// is off-hook, which would spoil it; then it is skipped with a warning. A
// fault reported in DR20 b2 is logged, not fatal: the line works without it.
func (c *Chip) longitudinal(ctx context.Context) error {
	if err := c.writes([2]uint8{drIRQEn3, irq3CMFault}, [2]uint8{drLinefeed, lfActive}); err != nil {
		return err
	}
	t := c.cfg.timing
	if err := sleep(ctx, t.LongitudinalSettle); err != nil {
		return fmt.Errorf("si321x: longitudinal balance: %w", err)
	}
	st, err := c.rd(drLoopStatus)
	if err != nil {
		return err
	}
	if err := c.wr(drLinefeed, lfOpen); err != nil {
		return err
	}
	if st&dr68LCR != 0 {
		c.cfg.log.Warn("si321x: phone off-hook, longitudinal balance calibration skipped", "dr68", st)
		return nil
	}
	if err := c.writes([2]uint8{drCal2, dr97CM}, [2]uint8{drCal1, dr96CM}); err != nil {
		return err
	}
	if _, err := c.pollUntil(ctx, drCal1, t.CalPoll, t.CalLimit, "longitudinal balance calibration",
		func(v uint8) bool { return v == 0 }); err != nil {
		return err
	}
	s3, err := c.rd(drIRQ3)
	if err != nil {
		return err
	}
	if s3&irq3CMFault != 0 {
		c.cfg.log.Warn("si321x: longitudinal balance calibration reported a fault", "dr20", s3)
	}
	return nil
}

// finishCal clears the accumulators, the interrupt status and restores the
// filters and the bias and current limit.
func (c *Chip) finishCal(context.Context) error {
	for r := irFirstAccum; r <= irLastAccum; r++ {
		if r >= irFirstFSK && r <= irLastFSK {
			continue
		}
		if a, ok := c.indirectAddr(uint8(r)); ok {
			if err := c.wrInd(uint8(r), a, 0); err != nil {
				return err
			}
		}
	}
	if err := c.clearStatus(); err != nil {
		return err
	}
	for i, v := range c.cfg.filterValues() {
		r := uint8(irFirstFilter + i)
		if a, ok := c.indirectAddr(r); ok {
			if err := c.wrInd(r, a, v); err != nil {
				return err
			}
		}
	}
	return c.writes([2]uint8{drBias, dr65Bias}, [2]uint8{drILIM, c.cfg.ilim})
}

// clearStatus writes ones to the three interrupt status registers.
func (c *Chip) clearStatus() error {
	return c.writes([2]uint8{drIRQ1, 0xFF}, [2]uint8{drIRQ2, 0xFF}, [2]uint8{drIRQ3, 0xFF})
}

// configure sets up PCM, gains, impedance, the DC feed and ringing, enables
// the interrupts and makes the line active.
func (c *Chip) configure(context.Context) error {
	pcm := c.cfg.pcm
	vcm := uint8(dr73VCM)
	if c.part.Revision <= 2 {
		vcm = dr73VCMRevB
	}
	if err := c.writes(
		[2]uint8{drPCMMode, pcm.Format.dr1()},
		[2]uint8{drPCMTXLo, uint8(pcm.TXSlot)}, [2]uint8{drPCMTXHi, uint8(pcm.TXSlot >> 8)},
		[2]uint8{drPCMRXLo, uint8(pcm.RXSlot)}, [2]uint8{drPCMRXHi, uint8(pcm.RXSlot >> 8)},
		[2]uint8{drAudioGain, 0x00}, [2]uint8{drImpedance, dr10Impedance},
		[2]uint8{drVOC, c.cfg.voc}, [2]uint8{drVCM, vcm},
		[2]uint8{drRingOsc, 0x00},
	); err != nil {
		return err
	}
	if err := c.clearStatus(); err != nil {
		return err
	}
	if err := c.writes([2]uint8{drIRQEn1, irqEn1}, [2]uint8{drIRQEn2, irqEn2}, [2]uint8{drIRQEn3, irqEn3},
		[2]uint8{drLinefeed, lfActive}); err != nil {
		return err
	}
	c.feed = hal.FeedActive
	return nil
}
