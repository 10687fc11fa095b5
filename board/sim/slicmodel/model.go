package slicmodel

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Part selects which chip the model emulates.
type Part uint8

// Emulated parts. The Si3215 and Si3216 read DR1 b7 = 1 and use the compact
// indirect register map; they differ only in DR6 (b7:5 = 000 / 100).
const (
	Si3210 Part = iota
	Si3215
	Si3216
)

// String returns the part number, e.g. "Si3215".
func (p Part) String() string {
	switch p {
	case Si3210:
		return "Si3210"
	case Si3215:
		return "Si3215"
	case Si3216:
		return "Si3216"
	}
	return fmt.Sprintf("Part(%d)", uint8(p))
}

// compact reports whether p uses the Si3215/Si3216 indirect map.
func (p Part) compact() bool { return p != Si3210 }

// Config configures New. The zero value is an Si3210 revision E on the
// wall clock with DefaultBehaviour.
type Config struct {
	Part Part
	// Revision is DR0 b3:0; 0 means 5 (revision E).
	Revision uint8
	// Behaviour holds the settling times; the zero value means
	// DefaultBehaviour().
	Behaviour Behaviour
	// Clock measures every time in the model; nil means RealClock().
	Clock Clock
	// Logger receives fault injections and resets; nil discards.
	Logger *slog.Logger
}

// Scales of the voltage sense registers (DR80–83), 0.376 V per LSB.
const senseMilliVolt = 376

// Direct register numbers the model gives behaviour to.
const (
	rID       = 0
	rPCM      = 1
	rTXLo     = 2
	rTXHi     = 3
	rRXLo     = 4
	rRXHi     = 5
	rPartID   = 6
	rLoopback = 8
	rPD1      = 14
	rIRQ1     = 18
	rIRQ2     = 19
	rIRQ3     = 20
	rIRQEn1   = 21
	rDTMF     = 24
	rIDALo    = 28
	rIDAHi    = 29
	rIAA      = 30
	rIAS      = 31
	rOSC1     = 32
	rOSC2     = 33
	rRingOsc  = 34
	rOSC1Tim  = 36 // OSC1 active lo/hi, inactive lo/hi
	rOSC2Tim  = 40 // OSC2 active lo/hi, inactive lo/hi
	rRingTim  = 48 // RAT lo/hi, RIT lo/hi
	rLF       = 64
	rLoop     = 68
	rLCDeb    = 69
	rRTDeb    = 70
	rVBATH    = 74
	rVBATL    = 75
	rVTip     = 80
	rVRing    = 81
	rVBATHS   = 82
	rVBATLS   = 83
	rIQ5      = 88
	rIQ6      = 89
	rDCDCDel  = 93
	rCal1     = 96
	rCal2     = 97
	rRingGain = 98
	rTipGain  = 99
	rDCPeak   = 107
)

// resetValues are the direct registers after reset (si321x.md §2).
var resetValues = map[uint8]uint8{
	8: 0x02, 10: 0x08, 11: 0x33, 14: 0x10, 63: 0x54, 65: 0x61, 66: 0x03, 67: 0x1F,
	69: 0x0A, 70: 0x0A, 72: 0x20, 73: 0x02, 74: 0x32, 75: 0x10, 92: 0xFF, 93: 0x14,
	98: 0x10, 99: 0x10, 100: 0x11, 101: 0x11, 102: 0x08, 103: 0x88, 106: 0x20, 107: 0x08,
}

// Linefeed states (DR64 b2:0).
const (
	lfOpen    = 0
	lfActive  = 1
	lfOHT     = 2
	lfRinging = 4
	lfReverse = 5
	lfRevOHT  = 6
)

// timerEngine is one of the chip's active/inactive cadence timers (ring,
// OSC1, OSC2), counted in 125 µs ticks.
type timerEngine struct {
	timerReg uint8 // first of four registers: active lo/hi, inactive lo/hi
	ctlReg   uint8 // b4: active timer enable, b3: inactive timer enable
	bitAct   uint8 // DR18 bit latched when the active phase expires
	bitInact uint8 // DR18 bit latched when the inactive phase expires

	running bool
	active  bool
	end     time.Time // zero: the phase lasts until stopped
}

// Model is a register-level model of one Si3210/Si3215/Si3216 and the
// telephone line on it. Its SPI side (Conn) is what a driver talks to; its
// analog side (SetLoop, LineFeed, Ringing, PCM) is what a virtual phone and
// the board's PCM clock use. All methods are safe for concurrent use.
type Model struct {
	part  Part
	rev   uint8
	beh   Behaviour
	clock Clock
	log   *slog.Logger
	ir26  uint8 // native addresses of the RX and TX digital gains
	ir27  uint8
	ir20  uint8 // native addresses of RCO and RNGX
	ir21  uint8

	mu  sync.Mutex
	dr  [128]uint8
	ram [256]uint16

	// SPI byte stream.
	spi       spiState
	spiReg    uint8
	daisySel  bool // daisy chain: this device is selected for the access
	inReset   bool
	absent    bool
	floatByte uint8

	// Indirect access.
	idaWritten bool
	iasEnd     time.Time
	iasAddr    uint8
	iasWrite   bool

	// DC-DC converter: battery sense value vbat0 at vbatT0, ramping up when
	// dcdcOn, decaying otherwise.
	dcdcOn   bool
	vbat0    float64
	vbatT0   time.Time
	dccalEnd time.Time
	calEnd   time.Time

	// Line.
	loop     bool // the phone's hook switch: true = off-hook
	lcr      bool // DR68 b0
	rtp      bool // DR68 b1
	lcrInput bool // undebounced loop detection input
	lcrEnd   time.Time
	foreign  float64 // volts on tip and ring from outside

	ring, osc1, osc2 timerEngine

	intPin   *intPin
	resetPin *resetPin
	timer    Timer
	timerAt  time.Time
}

// New returns a model in its reset state, out of reset (RESET high).
func New(cfg Config) *Model {
	m := &Model{part: cfg.Part, rev: cfg.Revision, beh: cfg.Behaviour, clock: cfg.Clock, log: cfg.Logger}
	if m.rev == 0 {
		m.rev = 5
	}
	if m.beh == (Behaviour{}) {
		m.beh = DefaultBehaviour()
	}
	if m.clock == nil {
		m.clock = RealClock()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.ir20, m.ir21, m.ir26, m.ir27 = 20, 21, 26, 27
	if m.part.compact() {
		m.ir20, m.ir21, m.ir26, m.ir27 = 7, 8, 13, 14
	}
	m.ring = timerEngine{timerReg: rRingTim, ctlReg: rRingOsc, bitAct: 0x10, bitInact: 0x20}
	m.osc1 = timerEngine{timerReg: rOSC1Tim, ctlReg: rOSC1, bitAct: 0x01, bitInact: 0x02}
	m.osc2 = timerEngine{timerReg: rOSC2Tim, ctlReg: rOSC2, bitAct: 0x04, bitInact: 0x08}
	m.intPin = newIntPin(m)
	m.resetPin = &resetPin{m: m, level: true}
	m.mu.Lock()
	m.resetState(m.clock.Now())
	m.mu.Unlock()
	return m
}

// String names the emulated part.
func (m *Model) String() string { return fmt.Sprintf("slicmodel %v rev %d", m.part, m.rev) }

// Part returns the emulated part.
func (m *Model) Part() Part { return m.part }

// resetState puts every register and engine in its reset state. The loop
// (the phone) and injected foreign voltage are outside the chip and stay.
func (m *Model) resetState(now time.Time) {
	m.dr = [128]uint8{}
	for r, v := range resetValues {
		m.dr[r] = v
	}
	m.dr[rID] = m.rev & 0x0F
	switch m.part {
	case Si3215:
		m.dr[rPCM] = 0x80
	case Si3216:
		m.dr[rPCM] = 0x80
		m.dr[rPartID] = 0x80
	}
	m.ram = [256]uint16{}
	m.spi, m.daisySel = spiCtrl, false
	m.idaWritten, m.iasEnd = false, time.Time{}
	m.dcdcOn, m.vbat0, m.vbatT0 = false, 0, now
	m.dccalEnd, m.calEnd = time.Time{}, time.Time{}
	m.lcr, m.rtp, m.lcrInput, m.lcrEnd = false, false, false, time.Time{}
	for _, e := range []*timerEngine{&m.ring, &m.osc1, &m.osc2} {
		e.running, e.active, e.end = false, false, time.Time{}
	}
}

// lock takes the model's mutex and brings its state up to the clock.
func (m *Model) lock() time.Time {
	m.mu.Lock()
	now := m.clock.Now()
	m.advance(now)
	return now
}

// unlock re-arms the model's timer for its next deadline, updates the INT
// pin and releases the mutex.
func (m *Model) unlock(now time.Time) {
	m.arm(now)
	m.updateInt()
	m.mu.Unlock()
}

// deadlines lists every pending timed event.
func (m *Model) nextDeadline() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	consider(m.iasEnd)
	consider(m.dccalEnd)
	consider(m.calEnd)
	consider(m.lcrEnd)
	for _, e := range []*timerEngine{&m.ring, &m.osc1, &m.osc2} {
		if e.running {
			consider(e.end)
		}
	}
	return next
}

// advance processes, in time order, every timed event due by now.
func (m *Model) advance(now time.Time) {
	if m.inReset {
		return
	}
	for {
		t := m.nextDeadline()
		if t.IsZero() || t.After(now) {
			return
		}
		switch {
		case t.Equal(m.iasEnd):
			m.iasEnd = time.Time{}
			m.finishIndirect()
		case t.Equal(m.dccalEnd):
			m.dccalEnd = time.Time{}
			m.dr[rDCDCDel] &^= 0x80
			m.dr[rDCPeak] = 0x08
		case t.Equal(m.calEnd):
			m.calEnd = time.Time{}
			m.finishCal()
		case t.Equal(m.lcrEnd):
			m.lcrEnd = time.Time{}
			m.settleLoop()
		default:
			for _, e := range []*timerEngine{&m.ring, &m.osc1, &m.osc2} {
				if e.running && t.Equal(e.end) {
					m.expire(e, t)
					break
				}
			}
		}
	}
}

// arm schedules a clock callback at the next deadline.
func (m *Model) arm(now time.Time) {
	next := m.nextDeadline()
	if next.Equal(m.timerAt) && m.timer != nil {
		return
	}
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.timerAt = next
	if next.IsZero() || m.inReset {
		return
	}
	m.timer = m.clock.AfterFunc(next.Sub(now), func() {
		now := m.lock()
		m.timer, m.timerAt = nil, time.Time{}
		m.unlock(now)
	})
}

// irqActive reports whether any enabled interrupt is pending.
func (m *Model) irqActive() bool {
	for i := range 3 {
		if m.dr[rIRQ1+i]&m.dr[rIRQEn1+i] != 0 {
			return true
		}
	}
	return false
}

func (m *Model) updateInt() { m.intPin.set(!m.inReset && !m.absent && m.irqActive()) }

// lf returns the linefeed state (DR64 b2:0), which is also the actual state.
func (m *Model) lf() uint8 { return m.dr[rLF] & 7 }

// read returns the value a driver reads from direct register r.
func (m *Model) read(r uint8, now time.Time) uint8 {
	switch r {
	case rIAS:
		if !m.iasEnd.IsZero() {
			return 0x01
		}
		return 0
	case rLF:
		return m.lf()<<4 | m.lf()
	case rLoop:
		var v uint8
		if m.lcr {
			v |= 0x01
		}
		if m.rtp {
			v |= 0x02
		}
		if !m.lcr && m.lf() != lfOpen {
			v |= 0x04 // seen on real chips while idle on-hook
		}
		return v
	case rVTip, rVRing:
		return senseCode(m.foreign * 1000)
	case rVBATHS:
		return senseCode(m.vbat(now) * 1000)
	case rVBATLS:
		if m.dr[rVBATH] == 0 {
			return 0
		}
		return senseCode(m.vbat(now) * 1000 * float64(m.dr[rVBATL]) / float64(m.dr[rVBATH]))
	case rIQ5:
		return nullIndicator(m.dr[rRingGain], m.beh.RingGainNull)
	case rIQ6:
		return nullIndicator(m.dr[rTipGain], m.beh.TipGainNull)
	}
	return m.dr[r&0x7F]
}

// senseCode converts millivolts to a voltage sense register value.
func senseCode(mv float64) uint8 {
	return uint8(min(max(mv/senseMilliVolt, 0), 255))
}

// nullIndicator models DR88/DR89 during manual gain calibration: zero at or
// below the null point, growing above it.
func nullIndicator(gain, null uint8) uint8 {
	if gain <= null {
		return 0
	}
	return min(4*(gain-null), 0x7F)
}

// vbat returns the high battery voltage in volts at now.
func (m *Model) vbat(now time.Time) float64 {
	dt := now.Sub(m.vbatT0)
	target := float64(m.dr[rVBATH]) * 1.5
	if m.dcdcOn {
		if m.vbat0 >= target || m.beh.DCDCRamp <= 0 {
			return target
		}
		return min(target, m.vbat0+target*float64(dt)/float64(m.beh.DCDCRamp))
	}
	if m.beh.DCDCDecay <= 0 {
		return 0
	}
	return m.vbat0 * math.Exp(-float64(dt)/float64(m.beh.DCDCDecay))
}

// write applies a driver's write of v to direct register r.
func (m *Model) write(r, v uint8, now time.Time) {
	switch {
	case r == rID:
		m.dr[rID] = m.dr[rID]&0x3F | v&0x80 // only SPIDC is writable
	case r == rPCM:
		m.dr[rPCM] = m.dr[rPCM]&0x80 | v&0x7F // b7 tells the part
	case r == rPartID && m.part.compact(), r == rDTMF, r == rIAS, r == rLoop, r >= 76 && r <= 89:
		// read-only
	case r >= rIRQ1 && r <= rIRQ3:
		m.dr[r] &^= v // write 1 to clear
	case r == rIDALo || r == rIDAHi:
		m.dr[r] = v
		m.idaWritten = true
	case r == rIAA:
		m.dr[r] = v
		m.startIndirect(v, now)
	case r == rPD1:
		m.vbat0, m.vbatT0 = m.vbat(now), now
		m.dr[r] = v
		m.dcdcOn = v&0x10 == 0
	case r == rVBATH:
		m.vbat0, m.vbatT0 = m.vbat(now), now
		m.dr[r] = v
	case r == rDCDCDel:
		m.dr[r] = v
		if v&0x80 != 0 {
			m.dccalEnd = now.Add(m.beh.DCCAL)
			m.advance(now)
		}
	case r == rCal1:
		m.dr[r] = v
		if v&0x40 != 0 {
			m.calEnd = now.Add(m.beh.Calibration)
			m.advance(now)
		}
	case r == rLF:
		m.setLF(v&7, now)
	case r == rOSC1 || r == rOSC2:
		m.dr[r] = v
		e := &m.osc1
		if r == rOSC2 {
			e = &m.osc2
		}
		switch on := v&0x04 != 0; {
		case on && !e.running:
			m.startEngine(e, now)
		case !on:
			e.running = false
		}
	default:
		m.dr[r&0x7F] = v
	}
}

// startIndirect begins an indirect transfer at address a: a write when
// DR28/29 were written since the last transfer, a read otherwise.
func (m *Model) startIndirect(a uint8, now time.Time) {
	m.iasAddr, m.iasWrite = a, m.idaWritten
	m.idaWritten = false
	m.iasEnd = now.Add(m.beh.IndirectBusy)
	m.advance(now)
}

func (m *Model) finishIndirect() {
	if m.iasWrite {
		m.ram[m.iasAddr] = uint16(m.dr[rIDAHi])<<8 | uint16(m.dr[rIDALo])
	} else {
		v := m.ram[m.iasAddr]
		m.dr[rIDALo], m.dr[rIDAHi] = uint8(v), uint8(v>>8)
	}
	m.dr[rIRQ3] |= 0x02
}

// finishCal ends a DR96 calibration with plausible results for what DR96
// and DR97 asked for.
func (m *Model) finishCal() {
	req, req2 := m.dr[rCal1], m.dr[rCal2]
	m.dr[rCal1] = 0
	if req&0x10 != 0 {
		m.dr[rRingGain] = 0x11
	}
	if req&0x08 != 0 {
		m.dr[rTipGain] = 0x11
	}
	if req&0x04 != 0 {
		m.dr[100] = 0x12
	}
	if req&0x02 != 0 {
		m.dr[101] = 0x10
	}
	if req&0x01 != 0 {
		m.dr[102] = 0x07
	}
	if req2&0x02 != 0 {
		m.dr[103] = 0x86
	}
	if req2&0x04 != 0 {
		m.dr[104], m.dr[105] = 0x02, 0x01
	}
	if req2&0x01 != 0 {
		m.dr[106] = 0x1E
	}
}

// setLF changes the linefeed, starting or stopping the ring engine and
// re-evaluating loop detection.
func (m *Model) setLF(lf uint8, now time.Time) {
	old := m.lf()
	m.dr[rLF] = lf
	if lf == old {
		return
	}
	if lf == lfRinging {
		m.startEngine(&m.ring, now)
	} else {
		m.ring.running = false
		m.rtp = false
	}
	m.updateLoop(now)
}

// engineTimer returns the active (act) or inactive timer of e.
func (m *Model) engineTimer(e *timerEngine, act bool) time.Duration {
	r := e.timerReg
	if !act {
		r += 2
	}
	enable := uint8(0x08)
	if act {
		enable = 0x10
	}
	if m.dr[e.ctlReg]&enable == 0 {
		return 0
	}
	return time.Duration(uint16(m.dr[r+1])<<8|uint16(m.dr[r])) * 125 * time.Microsecond
}

// startEngine begins e's active phase.
func (m *Model) startEngine(e *timerEngine, now time.Time) {
	e.running, e.active, e.end = true, true, time.Time{}
	if d := m.engineTimer(e, true); d > 0 {
		e.end = now.Add(d)
	}
}

// expire ends e's current phase at t, latching its status bit.
func (m *Model) expire(e *timerEngine, t time.Time) {
	if e.active {
		m.dr[rIRQ1] |= e.bitAct
	} else {
		m.dr[rIRQ1] |= e.bitInact
	}
	e.active = !e.active
	e.end = time.Time{}
	if d := m.engineTimer(e, e.active); d > 0 {
		e.end = t.Add(d)
	}
}

// detects reports whether loop current can flow and be detected in lf.
func detects(lf uint8) bool {
	switch lf {
	case lfActive, lfOHT, lfRinging, lfReverse, lfRevOHT:
		return true
	}
	return false
}

// updateLoop re-evaluates the loop detector input after the hook switch or
// the linefeed changed, and (re)starts its debounce: DR70 while ringing
// (ring trip), DR69 otherwise (loop closure), 1.25 ms per LSB.
func (m *Model) updateLoop(now time.Time) {
	in := m.loop && detects(m.lf())
	wantRTP := in && m.lf() == lfRinging
	if in == m.lcr && wantRTP == m.rtp {
		m.lcrInput, m.lcrEnd = in, time.Time{}
		return
	}
	if in == m.lcrInput && !m.lcrEnd.IsZero() {
		return // already debouncing toward this input
	}
	m.lcrInput = in
	reg := uint8(rLCDeb)
	if m.lf() == lfRinging {
		reg = rRTDeb
	}
	m.lcrEnd = now.Add(time.Duration(m.dr[reg]) * 1250 * time.Microsecond)
	m.advance(now)
}

// settleLoop applies the debounced loop input: LCR follows it and a change
// latches DR19 b1; closure while ringing is ring trip (DR68 b1, DR19 b0).
func (m *Model) settleLoop() {
	in := m.lcrInput
	if in != m.lcr {
		m.lcr = in
		m.dr[rIRQ2] |= 0x02
	}
	if in && m.lf() == lfRinging && !m.rtp {
		m.rtp = true
		m.dr[rIRQ2] |= 0x01
	}
}
