package slicmodel

import (
	"fmt"
	"math"

	"periph.io/x/conn/v3/physic"
)

// SetLoop sets the phone's hook switch: true closes the loop (off-hook).
// The chip sees it after its debounce: DR69 for loop closure, DR70 for ring
// trip while ringing.
func (m *Model) SetLoop(closed bool) {
	now := m.lock()
	defer m.unlock(now)
	m.loop = closed
	m.updateLoop(now)
}

// Loop returns the hook switch as last set.
func (m *Model) Loop() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loop
}

// LoopDetected reports the chip's debounced loop closure, DR68 b0.
func (m *Model) LoopDetected() bool {
	now := m.lock()
	defer m.unlock(now)
	return m.lcr
}

// LineFeed returns the actual linefeed state, 0–7 (si321x.md §2a): what the
// driver wrote to DR64, or 0 after a power alarm or reset. During ringing
// it is 4 in both the ringing and the silent phases; see Ringing.
func (m *Model) LineFeed() uint8 {
	now := m.lock()
	defer m.unlock(now)
	return m.lf()
}

// Reversed reports whether the line has reversed polarity (states 5 and 6).
func (m *Model) Reversed() bool {
	lf := m.LineFeed()
	return lf == lfReverse || lf == lfRevOHT
}

// Ringing reports whether ringing voltage is on the line now: linefeed 4
// and the ring cadence in its active phase (always, without timers).
func (m *Model) Ringing() bool {
	now := m.lock()
	defer m.unlock(now)
	return m.ringing()
}

func (m *Model) ringing() bool { return m.lf() == lfRinging && m.ring.running && m.ring.active }

// audioPasses reports whether the voice path to the line is up: active or
// on-hook transmission in either polarity, including the silent phase of a
// timed ring cadence, which is on-hook transmission.
func (m *Model) audioPasses() bool {
	switch m.lf() {
	case lfActive, lfOHT, lfReverse, lfRevOHT:
		return true
	case lfRinging:
		return !m.ringing()
	}
	return false
}

// RingFrequency decodes the ring oscillator coefficient RCO (IR20 on the
// Si3210): f = acos(RCO / 2¹⁵) · 1000 Hz / 2π.
func (m *Model) RingFrequency() physic.Frequency {
	m.mu.Lock()
	rco := m.ram[m.ir20]
	m.mu.Unlock()
	c := float64(rco) / (1 << 15)
	if c > 1 {
		return 0
	}
	hz := math.Acos(c) * 1000 / (2 * math.Pi)
	return physic.Frequency(math.Round(hz*float64(physic.Hertz)/float64(physic.MilliHertz)) * float64(physic.MilliHertz))
}

// RingVoltage decodes the peak ringing voltage from RCO and RNGX (IR20,
// IR21): V = RNGX · 96 V / (¼ · √((1−c)/(1+c)) · 2¹⁵) with c = RCO / 2¹⁵.
func (m *Model) RingVoltage() physic.ElectricPotential {
	m.mu.Lock()
	rco, rngx := m.ram[m.ir20], m.ram[m.ir21]
	m.mu.Unlock()
	c := float64(rco) / (1 << 15)
	if c >= 1 || c <= -1 {
		return 0
	}
	k := 0.25 * math.Sqrt((1-c)/(1+c)) * (1 << 15)
	mv := float64(rngx) * 96000 / k
	return physic.ElectricPotential(math.Round(mv)) * physic.MilliVolt
}

// Direct returns direct register r as a driver would read it, without the
// side effects of an SPI access, for tests and diagnostics.
func (m *Model) Direct(r uint8) uint8 {
	now := m.lock()
	defer m.unlock(now)
	return m.read(r&0x7F, now)
}

// Indirect returns indirect RAM cell a in the part's own numbering.
func (m *Model) Indirect(a uint8) uint16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ram[a]
}

// InjectPowerAlarm reports a power alarm on external transistor q (1–6):
// DR19 b(q+1) latches and the chip forces the linefeed open, as the real
// part does when a transistor overheats.
func (m *Model) InjectPowerAlarm(q int) error {
	if q < 1 || q > 6 {
		return fmt.Errorf("slicmodel: power alarm transistor Q%d, want Q1–Q6", q)
	}
	now := m.lock()
	defer m.unlock(now)
	m.log.Info("slicmodel: power alarm injected", "transistor", q)
	m.dr[rIRQ2] |= 1 << (q + 1)
	m.setLF(lfOpen, now)
	return nil
}

// SetForeignVoltage puts v on tip and ring from outside, as a line crossed
// with another would: DR80/DR81 read it (0.376 V per LSB). 0 removes it.
func (m *Model) SetForeignVoltage(v physic.ElectricPotential) {
	now := m.lock()
	defer m.unlock(now)
	m.foreign = float64(v) / float64(physic.Volt)
}

// SetAbsent makes the chip disappear from the bus (absent = true): every
// SPI read returns floating (0xFF for a pulled-up SDO, 0x00 for a
// pulled-down or shorted one), writes are lost and INT stays high.
// SetAbsent(false, 0) brings it back with its registers as they were.
func (m *Model) SetAbsent(absent bool, floating uint8) {
	now := m.lock()
	defer m.unlock(now)
	m.absent, m.floatByte = absent, floating
}

// InjectDTMF reports a DTMF digit ('0'–'9', '*', '#', 'A'–'D') from the
// Si3210's decoder: DR24 b3:0 takes its code and DR20 b0 latches. The
// Si3215/Si3216 have no decoder.
func (m *Model) InjectDTMF(digit byte) error {
	if m.part.compact() {
		return fmt.Errorf("slicmodel: the %v has no DTMF decoder", m.part)
	}
	var code uint8
	switch {
	case digit >= '1' && digit <= '9':
		code = digit - '0'
	case digit == '0':
		code = 0x0A
	case digit == '*':
		code = 0x0B
	case digit == '#':
		code = 0x0C
	case digit >= 'A' && digit <= 'C':
		code = 0x0D + digit - 'A'
	case digit == 'D':
		code = 0x00
	default:
		return fmt.Errorf("slicmodel: %q is not a DTMF digit", digit)
	}
	now := m.lock()
	defer m.unlock(now)
	m.dr[rDTMF] = code
	m.dr[rIRQ3] |= 0x01
	return nil
}
