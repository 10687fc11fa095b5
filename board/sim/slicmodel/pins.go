package slicmodel

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// errNotOutput is returned when a driver tries to drive the INT pin.
var errNotOutput = errors.New("slicmodel: INT is an output of the chip")

// intPin is the chip's INT output as the host's GPIO input sees it: low
// while any enabled interrupt is pending, with a pull-up otherwise.
type intPin struct {
	m *Model

	mu    sync.Mutex
	low   bool
	edge  gpio.Edge
	edges chan struct{} // one pending edge
}

var _ gpio.PinIn = (*intPin)(nil)

func newIntPin(m *Model) *intPin {
	return &intPin{m: m, edges: make(chan struct{}, 1)}
}

// IntPin returns the chip's INT output. Configure it with In(gpio.PullUp,
// gpio.FallingEdge) (or BothEdges) before WaitForEdge. It reads Low while
// (status & enable) ≠ 0 in DR18–23.
func (m *Model) IntPin() gpio.PinIn { return m.intPin }

// set drives the pin; called with the model's mutex held.
func (p *intPin) set(low bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if low == p.low {
		return
	}
	p.low = low
	if (low && (p.edge == gpio.FallingEdge || p.edge == gpio.BothEdges)) ||
		(!low && (p.edge == gpio.RisingEdge || p.edge == gpio.BothEdges)) {
		select {
		case p.edges <- struct{}{}:
		default:
		}
	}
}

// String, Halt, Name, Number and Function implement pin.Pin.
func (p *intPin) String() string   { return "SLIC_INT" }
func (p *intPin) Halt() error      { return nil }
func (p *intPin) Name() string     { return "SLIC_INT" }
func (p *intPin) Number() int      { return -1 }
func (p *intPin) Function() string { return string(p.Func()) }

// Func implements pin.PinFunc.
func (p *intPin) Func() pin.Func { return gpio.IN }

// SupportedFuncs implements pin.PinFunc.
func (p *intPin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN} }

// SetFunc implements pin.PinFunc.
func (p *intPin) SetFunc(f pin.Func) error {
	if f != gpio.IN {
		return errNotOutput
	}
	return nil
}

// In implements gpio.PinIn; it forgets edges seen before.
func (p *intPin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.edge = edge
	select {
	case <-p.edges:
	default:
	}
	return nil
}

// Read implements gpio.PinIn.
func (p *intPin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return gpio.Level(!p.low)
}

// WaitForEdge implements gpio.PinIn. The timeout is wall-clock time even
// when the model runs on a ManualClock; -1 waits forever.
func (p *intPin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.edges
		return true
	}
	select {
	case <-p.edges:
		return true
	default:
	}
	if timeout == 0 {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *intPin) Pull() gpio.Pull { return gpio.PullUp }

// DefaultPull implements gpio.PinIn.
func (p *intPin) DefaultPull() gpio.Pull { return gpio.PullUp }

// resetPin is the chip's RESET input as the host's GPIO output drives it.
type resetPin struct {
	m     *Model
	level bool // guarded by m.mu
}

var _ gpio.PinIO = (*resetPin)(nil)

// ResetPin returns the chip's RESET input (active low). Driving it low
// holds the chip in reset: every register returns to its reset value, the
// SPI port is dead and INT is released; driving it high lets the chip run.
// It starts high.
func (m *Model) ResetPin() gpio.PinIO { return m.resetPin }

// String, Halt, Name, Number and Function implement pin.Pin.
func (p *resetPin) String() string   { return "SLIC_RESET" }
func (p *resetPin) Halt() error      { return nil }
func (p *resetPin) Name() string     { return "SLIC_RESET" }
func (p *resetPin) Number() int      { return -1 }
func (p *resetPin) Function() string { return string(p.Func()) }

// Func implements pin.PinFunc.
func (p *resetPin) Func() pin.Func { return gpio.OUT }

// SupportedFuncs implements pin.PinFunc.
func (p *resetPin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.OUT} }

// SetFunc implements pin.PinFunc.
func (p *resetPin) SetFunc(pin.Func) error { return nil }

// Out implements gpio.PinOut.
func (p *resetPin) Out(l gpio.Level) error {
	m := p.m
	now := m.lock()
	defer m.unlock(now)
	if p.level == bool(l) {
		return nil
	}
	p.level = bool(l)
	if l == gpio.Low {
		m.resetState(now)
		m.inReset = true
		m.log.Debug("slicmodel: reset asserted")
		return nil
	}
	m.inReset = false
	m.resetState(now)
	m.updateLoop(now)
	m.log.Debug("slicmodel: reset released")
	return nil
}

// PWM implements gpio.PinOut; RESET has no use for it.
func (p *resetPin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("slicmodel: PWM on RESET")
}

// In implements gpio.PinIn; the pin stays an output.
func (p *resetPin) In(gpio.Pull, gpio.Edge) error {
	return errors.New("slicmodel: RESET is an input of the chip; drive it with Out")
}

// Read implements gpio.PinIn: the level last driven.
func (p *resetPin) Read() gpio.Level {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return gpio.Level(p.level)
}

// WaitForEdge implements gpio.PinIn; nothing else drives RESET.
func (p *resetPin) WaitForEdge(time.Duration) bool { return false }

// Pull implements gpio.PinIn.
func (p *resetPin) Pull() gpio.Pull { return gpio.Float }

// DefaultPull implements gpio.PinIn.
func (p *resetPin) DefaultPull() gpio.Pull { return gpio.Float }
