package slicmodel

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// bench is a model on a manual clock with helpers that speak the chip's
// SPI protocol one byte per chip-select frame, as the driver does.
type bench struct {
	t     *testing.T
	m     *Model
	clock *ManualClock
}

func newBench(t *testing.T, p Part, b Behaviour) *bench {
	t.Helper()
	clock := NewManualClock(time.Unix(1000, 0))
	return &bench{t: t, m: New(Config{Part: p, Behaviour: b, Clock: clock}), clock: clock}
}

func (b *bench) tx(w ...byte) []byte {
	b.t.Helper()
	r := make([]byte, len(w))
	if err := b.m.Tx(w, r); err != nil {
		b.t.Fatal(err)
	}
	return r
}

func (b *bench) rd(reg uint8) uint8 {
	b.t.Helper()
	b.tx(reg | 0x80)
	return b.tx(0)[0]
}

func (b *bench) wr(reg, v uint8) {
	b.t.Helper()
	b.tx(reg)
	b.tx(v)
}

func (b *bench) wrInd(a uint8, v uint16) {
	b.t.Helper()
	b.wr(rIDALo, uint8(v))
	b.wr(rIDAHi, uint8(v>>8))
	b.wr(rIAA, a)
}

func (b *bench) rdInd(a uint8) uint16 {
	b.t.Helper()
	b.wr(rIAA, a)
	b.clock.Advance(time.Millisecond)
	return uint16(b.rd(rIDAHi))<<8 | uint16(b.rd(rIDALo))
}

func (b *bench) advance(d time.Duration) { b.clock.Advance(d) }

func (b *bench) want(reg, v uint8, what string) {
	b.t.Helper()
	if got := b.rd(reg); got != v {
		b.t.Errorf("%s: DR%d = 0x%02X, want 0x%02X", what, reg, got, v)
	}
}

func TestResetValues(t *testing.T) {
	for _, tc := range []struct {
		p        Part
		dr0, dr1 uint8
		dr6      uint8
	}{{Si3210, 0x05, 0x00, 0x00}, {Si3215, 0x05, 0x80, 0x00}, {Si3216, 0x05, 0x80, 0x80}} {
		b := newBench(t, tc.p, InstantBehaviour())
		for reg, v := range map[uint8]uint8{0: tc.dr0, 1: tc.dr1, 6: tc.dr6, 8: 0x02, 11: 0x33, 14: 0x10,
			31: 0, 64: 0, 68: 0, 69: 0x0A, 70: 0x0A, 72: 0x20, 74: 0x32, 92: 0xFF, 93: 0x14, 107: 0x08, 108: 0} {
			b.want(reg, v, tc.p.String()+" reset")
		}
	}
}

func TestReadBackAndReadOnly(t *testing.T) {
	b := newBench(t, Si3215, InstantBehaviour())
	readOnly := map[uint8]bool{0: true, 1: true, 6: true, 14: true, 18: true, 19: true, 20: true, 24: true,
		28: true, 29: true, 30: true, 31: true, 32: true, 33: true, 64: true, 74: true, 93: true, 96: true}
	for r := uint8(76); r <= 89; r++ {
		readOnly[r] = true
	}
	readOnly[68] = true
	for r := uint8(0); r <= 108; r++ {
		if readOnly[r] {
			continue
		}
		for _, v := range []uint8{0x5A, 0xA5} {
			b.wr(r, v)
			b.want(r, v, "read-back")
		}
	}
	// Read-only fields ignore writes.
	b.wr(0, 0x3F)
	b.want(0, 0x05, "DR0 b5:0 read-only")
	b.wr(1, 0x28)
	b.want(1, 0xA8, "DR1 b7 stays set on the Si3215")
	b10 := newBench(t, Si3210, InstantBehaviour())
	b10.wr(1, 0xA8)
	b10.want(1, 0x28, "DR1 b7 stays clear on the Si3210")
	b.wr(68, 0xFF)
	b.want(68, 0x00, "DR68 read-only")
	b.wr(64, 0xF1)
	b.want(64, 0x11, "DR64: LF written, LFS mirrors it, upper bits ignored")
	b.wr(82, 0x55)
	b.want(82, 0x00, "DR82 read-only")
}

func TestSPIFraming(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	// Two-byte write frame, then a two-byte read frame.
	b.tx(2, 0x44)
	if r := b.tx(2|0x80, 0xFA); r[1] != 0x44 {
		t.Errorf("two-byte read returned %#x", r)
	}
	// The data byte of a one-byte read frame ignores what the host sends.
	b.tx(2 | 0x80)
	if r := b.tx(0xFF); r[0] != 0x44 {
		t.Errorf("read data 0x%02X", r[0])
	}
	// Mismatched full-duplex buffers are refused.
	if err := b.m.Tx([]byte{1, 2}, make([]byte, 1)); err == nil {
		t.Error("Tx with unequal buffers accepted")
	}
	// Daisy chain: with DR0 b7 set every access takes a select byte; a
	// write to device 1 only is ignored, a broadcast write is taken.
	b.wr(0, 0x80)
	b.tx(0x02)
	b.tx(3)
	b.tx(0x11)
	b.tx(0xFF)
	b.tx(9)
	b.tx(0x0A)
	b.tx(0x01)
	b.tx(3 | 0x80)
	if v := b.tx(0)[0]; v != 0 {
		t.Errorf("daisy: DR3 = 0x%02X after a write to another device", v)
	}
	b.tx(0x01)
	b.tx(9 | 0x80)
	if v := b.tx(0)[0]; v != 0x0A {
		t.Errorf("daisy: DR9 = 0x%02X after a broadcast write", v)
	}
}

func TestIndirect(t *testing.T) {
	b := newBench(t, Si3210, DefaultBehaviour())
	busy := DefaultBehaviour().IndirectBusy
	b.wr(rIRQ3, 0xFF)
	b.wrInd(20, 0x7EFD)
	b.want(rIAS, 0x01, "busy right after the address")
	b.want(rIRQ3, 0x00, "no done flag while busy")
	b.advance(busy)
	b.want(rIAS, 0x00, "idle after the busy time")
	b.want(rIRQ3, 0x02, "indirect access done (DR20 b1)")
	if v := b.m.Indirect(20); v != 0x7EFD {
		t.Errorf("IR20 = 0x%04X", v)
	}
	// A read: the address alone (no data written since the last transfer);
	// the data registers change when the transfer ends.
	b.wrInd(21, 0x1234)
	b.advance(busy)
	b.wr(rIAA, 20)
	b.want(rIDALo, 0x34, "data before the read finished")
	b.advance(busy)
	b.want(rIDALo, 0xFD, "IR20 low byte")
	b.want(rIDAHi, 0x7E, "IR20 high byte")
	// Every cell holds 16 bits.
	for _, a := range []uint8{0, 97, 104, 211, 255} {
		b.wrInd(a, 0xA000|uint16(a))
		b.advance(busy)
		if v := b.rdInd(a); v != 0xA000|uint16(a) {
			t.Errorf("IR%d read back 0x%04X", a, v)
		}
	}
}

func TestCompactRingRegisters(t *testing.T) {
	// On the Si3215 RCO and RNGX are indirect 7 and 8.
	b := newBench(t, Si3215, InstantBehaviour())
	b.wrInd(7, 0x7EFD)
	b.wrInd(8, 0x0177)
	if f := b.m.RingFrequency(); f < 19950*physic.MilliHertz || f > 20050*physic.MilliHertz {
		t.Errorf("ring frequency %v", f)
	}
	if v := b.m.RingVoltage(); v < 69*physic.Volt || v > 71*physic.Volt {
		t.Errorf("ring voltage %v", v)
	}
}

func TestDCDCRamp(t *testing.T) {
	beh := DefaultBehaviour()
	b := newBench(t, Si3210, beh)
	b.want(rVBATHS, 0, "converter off after reset")
	b.wr(rPD1, 0x00)
	b.advance(beh.DCDCRamp / 2)
	half := b.rd(rVBATHS)
	if half < 0x60 || half > 0x66 {
		t.Errorf("half way: DR82 = 0x%02X, want about 0x63", half)
	}
	b.advance(beh.DCDCRamp / 2)
	// 75 V / 0.376 V = 199.
	b.want(rVBATHS, 199, "ramped to VBATH")
	b.advance(time.Second)
	b.want(rVBATHS, 199, "stays at VBATH")
	// Powered down, it decays slowly: above 6 after 0.5 s (leak test).
	b.wr(rPD1, 0x10)
	b.advance(500 * time.Millisecond)
	if v := b.rd(rVBATHS); v < 100 {
		t.Errorf("0.5 s after power-down DR82 = %d", v)
	}
	b.advance(30 * time.Second)
	b.want(rVBATHS, 0, "decayed")
}

func TestCalibrationTiming(t *testing.T) {
	beh := DefaultBehaviour()
	b := newBench(t, Si3210, beh)
	b.wr(rDCDCDel, 0x94)
	b.advance(beh.DCCAL - time.Millisecond)
	b.want(rDCDCDel, 0x94, "DCCAL still running")
	b.advance(time.Millisecond)
	b.want(rDCDCDel, 0x14, "DCCAL self-cleared")
	b.wr(rCal2, 0x1E)
	b.wr(rCal1, 0x47)
	b.advance(beh.Calibration - time.Millisecond)
	b.want(rCal1, 0x47, "calibration running")
	b.advance(time.Millisecond)
	b.want(rCal1, 0x00, "calibration done")
	if v := b.rd(rDCPeak); v < 2 || v > 0x0D {
		t.Errorf("DR107 = 0x%02X out of the sane range", v)
	}
	// Longitudinal balance succeeds: DR20 b2 stays clear.
	b.wr(rCal2, 0x01)
	b.wr(rCal1, 0x40)
	b.advance(beh.Calibration)
	b.want(rCal1, 0x00, "longitudinal calibration done")
	if b.rd(rIRQ3)&0x04 != 0 {
		t.Error("CM balance fault on success")
	}
	// Manual calibration null indicators.
	for _, g := range []struct{ set, null, at uint8 }{{rRingGain, rIQ5, beh.RingGainNull}, {rTipGain, rIQ6, beh.TipGainNull}} {
		b.wr(g.set, g.at+1)
		if b.rd(g.null) == 0 {
			t.Errorf("DR%d nulls above the null point", g.null)
		}
		b.wr(g.set, g.at)
		b.want(g.null, 0, "null at the null point")
	}
}

func TestLoopDebounce(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	b.wr(rLF, lfActive)
	b.m.SetLoop(true)
	b.advance(12 * time.Millisecond)
	b.want(rLoop, 0x04, "before DR69 debounce (12.5 ms)")
	b.advance(500 * time.Microsecond)
	b.want(rLoop, 0x01, "LCR after 12.5 ms")
	b.want(rIRQ2, 0x02, "loop closure latched")
	b.wr(rIRQ2, 0x02)
	b.want(rIRQ2, 0x00, "cleared by writing 1")
	// A 10 ms break is a bounce.
	b.m.SetLoop(false)
	b.advance(10 * time.Millisecond)
	b.m.SetLoop(true)
	b.advance(50 * time.Millisecond)
	b.want(rLoop, 0x01, "bounce filtered")
	b.want(rIRQ2, 0x00, "no latch for a bounce")
	// A longer debounce from DR69.
	b.wr(rLCDeb, 40) // 50 ms
	b.m.SetLoop(false)
	b.advance(49 * time.Millisecond)
	b.want(rLoop, 0x01, "within 50 ms debounce")
	b.advance(time.Millisecond)
	b.want(rLoop, 0x04, "open after 50 ms")
	// The open linefeed sees no loop.
	b.wr(rLF, lfOpen)
	b.m.SetLoop(true)
	b.advance(time.Second)
	b.want(rLoop, 0x00, "no detection with the line open")
}

func TestRingEngine(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	b.wr(rIRQ1+3, 0x30) // DR21: ring timer interrupts
	b.m.IntPin().In(gpio.PullUp, gpio.FallingEdge)
	// RAT 2 s, RIT 4 s, timers on.
	b.wr(48, 0x80)
	b.wr(49, 0x3E)
	b.wr(50, 0x00)
	b.wr(51, 0x7D)
	b.wr(rRingOsc, 0x18)
	b.wr(rLF, lfRinging)
	if !b.m.Ringing() {
		t.Fatal("not ringing")
	}
	b.advance(2*time.Second - time.Millisecond)
	if !b.m.Ringing() || b.m.IntPin().Read() != gpio.High {
		t.Error("ring phase ended early")
	}
	b.advance(time.Millisecond)
	if b.m.Ringing() || b.m.LineFeed() != lfRinging {
		t.Errorf("after RAT: ringing %v linefeed %d; want silent phase with linefeed 4", b.m.Ringing(), b.m.LineFeed())
	}
	if !b.m.IntPin().WaitForEdge(0) || b.m.IntPin().Read() != gpio.Low {
		t.Error("no INT edge for the ring active timer")
	}
	b.want(rIRQ1, 0x10, "ring active expired")
	b.wr(rIRQ1, 0x10)
	if b.m.IntPin().Read() != gpio.High {
		t.Error("INT still low after clearing")
	}
	b.advance(4 * time.Second)
	if !b.m.Ringing() {
		t.Error("not ringing after RIT")
	}
	b.want(rIRQ1, 0x20, "ring inactive expired")
	// Without timers ringing is continuous.
	b.wr(rLF, lfActive)
	b.wr(rRingOsc, 0x00)
	b.wr(rLF, lfRinging)
	b.advance(time.Minute)
	if !b.m.Ringing() {
		t.Error("continuous ringing stopped")
	}
	// OSC1 uses the same timers: 100 ms on, 50 ms off.
	b.wr(rIRQ1, 0xFF)
	b.wr(36, 0x20)
	b.wr(37, 0x03)
	b.wr(38, 0x90)
	b.wr(39, 0x01)
	b.wr(rOSC1, 0x1C)
	b.advance(100 * time.Millisecond)
	b.want(rIRQ1, 0x01, "OSC1 active expired")
	b.advance(50 * time.Millisecond)
	b.want(rIRQ1, 0x03, "OSC1 inactive expired")
}

func TestRingTrip(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	b.wr(rLF, lfRinging)
	b.m.SetLoop(true)
	b.advance(12 * time.Millisecond)
	b.want(rLoop, 0x04, "before DR70 debounce")
	b.advance(time.Millisecond)
	b.want(rLoop, 0x03, "ring trip and loop closure")
	b.want(rIRQ2, 0x03, "ring trip and loop closure latched")
	b.wr(rLF, lfActive)
	b.want(rLoop, 0x01, "off-hook on the active feed")
}

func TestInterruptPin(t *testing.T) {
	b := newBench(t, Si3215, InstantBehaviour())
	pin := b.m.IntPin()
	if err := pin.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	b.wr(rLF, lfActive)
	// Masked events latch but do not drive INT.
	b.m.SetLoop(true)
	b.advance(20 * time.Millisecond)
	b.want(rIRQ2, 0x02, "masked loop closure latched")
	if pin.Read() != gpio.High || pin.WaitForEdge(0) {
		t.Error("INT asserted for a masked event")
	}
	// Enabling a pending event asserts INT.
	b.wr(rIRQEn1+1, 0x02)
	if pin.Read() != gpio.Low || !pin.WaitForEdge(0) {
		t.Error("INT not asserted once enabled")
	}
	b.wr(rIRQ2, 0xFF)
	if pin.Read() != gpio.High {
		t.Error("INT low after clearing")
	}
	// A power alarm opens the line and latches its bit.
	if err := b.m.InjectPowerAlarm(2); err != nil {
		t.Fatal(err)
	}
	b.want(rIRQ2, 0x08, "power alarm Q2")
	if b.m.LineFeed() != lfOpen {
		t.Error("power alarm did not open the line")
	}
	if err := b.m.InjectPowerAlarm(7); err == nil {
		t.Error("Q7 accepted")
	}
}

func TestResetPin(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	b.wr(rLoopback, 0x00)
	b.wr(rLF, lfActive)
	rst := b.m.ResetPin()
	if err := rst.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if r := b.tx(0x80 | 11); r[0] != 0xFF && r[0] != 0 {
		t.Errorf("SPI answers in reset: %#x", r)
	}
	b.tx(0)
	if b.m.LineFeed() != lfOpen {
		t.Error("line fed in reset")
	}
	if err := rst.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	b.want(rLoopback, 0x02, "DR8 back to its reset value")
	b.want(rLF, 0x00, "DR64 back to its reset value")
}

func TestAbsentAndDTMF(t *testing.T) {
	b := newBench(t, Si3210, InstantBehaviour())
	b.m.SetAbsent(true, 0xFF)
	b.want(0, 0xFF, "absent chip, pulled-up bus")
	b.m.SetAbsent(false, 0)
	b.want(0, 0x05, "present again")
	if err := b.m.InjectDTMF('#'); err != nil {
		t.Fatal(err)
	}
	b.want(rDTMF, 0x0C, "DTMF code of #")
	b.want(rIRQ3, 0x01, "DTMF interrupt")
	if err := New(Config{Part: Si3215}).InjectDTMF('1'); err == nil {
		t.Error("Si3215 decoded DTMF")
	}
}
