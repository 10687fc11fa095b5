package si321x

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// Chip is one initialised Si321x and the telephone line it drives. It
// implements hal.Line. Its methods are safe for concurrent use: one mutex
// serialises every SPI access and the line state between callers and the
// event goroutine.
type Chip struct {
	conn spi.Conn
	cfg  config
	part Part

	mu  sync.Mutex
	w   [1]byte // SPI buffers, guarded by mu; arrays so accesses do not allocate
	r   [1]byte
	det *hook.Detector
	lcr bool // last loop-closure sample fed to det

	feed    hal.Feed // feed last set, the one ringing returns to
	ring    ringState
	pending []hal.Event // events not yet delivered on events
	closed  bool

	lastErr   string // last error the event goroutine logged, and when
	lastErrAt time.Time

	events   chan hal.Event
	wake     chan struct{} // nudges the event goroutine after a caller changed state
	cancel   context.CancelFunc
	done     chan struct{}
	closeErr error
}

var _ hal.Line = (*Chip)(nil)

// Open resets and identifies the chip behind c, loads its indirect
// registers, powers up and calibrates the DC-DC converter and the line,
// configures PCM, the DC feed and ringing, switches the line to forward
// active and starts the goroutine that reports events.
//
// c must be set up for SPI mode 3, MSB first, at most a few MHz; the driver
// does each byte as its own Tx so that chip select rises between bytes.
//
// ctx bounds both the initialisation (a canceled ctx aborts the calibration
// waits) and the life of the line: when ctx is done the event goroutine
// stops, opens the line and closes Events, as Close does. Pass a context
// that lives as long as the line, not a timeout.
func Open(ctx context.Context, c spi.Conn, o Options) (*Chip, error) {
	ch, err := newChip(c, o)
	if err != nil {
		return nil, err
	}
	if err := ch.init(ctx); err != nil {
		return nil, err
	}
	ch.start(ctx)
	return ch, nil
}

// newChip resolves the options and prepares a Chip without touching the bus.
func newChip(c spi.Conn, o Options) (*Chip, error) {
	cfg, err := o.resolve()
	if err != nil {
		return nil, err
	}
	det, err := hook.New(cfg.hook)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	return &Chip{
		conn:   c,
		cfg:    cfg,
		det:    det,
		feed:   hal.FeedOpen,
		events: make(chan hal.Event, 32),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}, nil
}

// Part returns the part number and revision read at Open.
func (c *Chip) Part() Part { return c.part }

// String describes the chip and its bus, for logs.
func (c *Chip) String() string { return fmt.Sprintf("%v on %s", c.part, c.conn) }

// ReadDirect reads direct register reg (0–127), for diagnostics.
func (c *Chip) ReadDirect(reg uint8) (uint8, error) {
	if reg > 0x7F {
		return 0, fmt.Errorf("%w: direct register %d out of range 0–127", ErrOptions, reg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rd(reg)
}

// WriteDirect writes direct register reg (0–127), for diagnostics. Writing
// the linefeed (DR64) or the interrupt registers behind the driver's back
// confuses the line state until the next SetFeed.
func (c *Chip) WriteDirect(reg, v uint8) error {
	if reg > 0x7F {
		return fmt.Errorf("%w: direct register %d out of range 0–127", ErrOptions, reg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wr(reg, v)
}

// ReadIndirect reads indirect register reg, numbered as on the Si3210; on
// the Si3215/Si3216 the number is translated to that part's map, and a
// register without an equivalent there is an error.
func (c *Chip) ReadIndirect(reg uint8) (uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.indirectAddr(reg)
	if !ok {
		return 0, fmt.Errorf("%w: IR%d has no equivalent on the %v", ErrOptions, reg, c.part.Number)
	}
	return c.rdInd(reg, a)
}

// WriteIndirect writes indirect register reg, numbered as on the Si3210 (see
// ReadIndirect).
func (c *Chip) WriteIndirect(reg uint8, v uint16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.indirectAddr(reg)
	if !ok {
		return fmt.Errorf("%w: IR%d has no equivalent on the %v", ErrOptions, reg, c.part.Number)
	}
	return c.wrInd(reg, a, v)
}

// rd reads a direct register: the control byte in one chip-select frame,
// the data byte clocked out in the next. The caller holds mu.
func (c *Chip) rd(reg uint8) (uint8, error) {
	c.w[0] = reg | 0x80
	if err := c.conn.Tx(c.w[:], nil); err != nil {
		return 0, fmt.Errorf("si321x: read DR%d: %w", reg, err)
	}
	c.w[0] = 0
	if err := c.conn.Tx(c.w[:], c.r[:]); err != nil {
		return 0, fmt.Errorf("si321x: read DR%d: %w", reg, err)
	}
	return c.r[0], nil
}

// wr writes a direct register: control byte, then data byte, each in its
// own chip-select frame. The caller holds mu.
func (c *Chip) wr(reg, v uint8) error {
	c.w[0] = reg
	if err := c.conn.Tx(c.w[:], nil); err != nil {
		return fmt.Errorf("si321x: write DR%d = 0x%02X: %w", reg, v, err)
	}
	c.w[0] = v
	if err := c.conn.Tx(c.w[:], nil); err != nil {
		return fmt.Errorf("si321x: write DR%d = 0x%02X: %w", reg, v, err)
	}
	return nil
}

// indirectAddr returns the chip's address of Si3210 indirect register reg.
func (c *Chip) indirectAddr(reg uint8) (uint8, bool) {
	if !c.part.Compact() {
		return reg, true
	}
	return compactAddr(reg)
}

// compactAddr translates an Si3210 indirect register number to the Si3215/
// Si3216 map (si321x.md §3). The DTMF decoder (IR0–12), IR42 and the pulse
// metering generator (IR23–25, which one source maps to 10–12 although the
// parts lack the generator) have no equivalent; nor do IR105–207.
func compactAddr(reg uint8) (uint8, bool) {
	switch {
	case reg <= 12, reg >= 23 && reg <= 25:
		return 0, false
	case reg <= 40:
		return reg - 13, true
	case reg == 41:
		return 64, true
	case reg == 43:
		return 66, true
	case reg >= 88 && reg <= 98:
		return reg - 13, true
	case reg >= 99 && reg <= 104:
		return reg - 30, true
	case reg >= 208:
		return reg, true
	}
	return 0, false
}

// waitIndirect polls DR31 until the previous indirect transfer is done.
// It gives up only on a read that began after the deadline, so that a
// goroutine descheduled for longer than the limit (a loaded board) is not
// mistaken for a chip that stayed busy.
func (c *Chip) waitIndirect(reg uint8) error {
	deadline := time.Now().Add(c.cfg.timing.IndirectLimit)
	for {
		late := time.Now().After(deadline)
		v, err := c.rd(drIAS)
		if err != nil {
			return err
		}
		if v == 0 {
			return nil
		}
		if late {
			return fmt.Errorf("%w: IR%d: DR31 = 0x%02X after %v", ErrIndirectBusy, reg, v, c.cfg.timing.IndirectLimit)
		}
	}
}

// wrInd writes indirect address a (reg is its Si3210 number, for errors):
// wait for DR31, data low, data high, then the address, which starts the
// transfer.
func (c *Chip) wrInd(reg, a uint8, v uint16) error {
	if err := c.waitIndirect(reg); err != nil {
		return err
	}
	for _, s := range [...]struct{ r, v uint8 }{{drIDALo, uint8(v)}, {drIDAHi, uint8(v >> 8)}, {drIAA, a}} {
		if err := c.wr(s.r, s.v); err != nil {
			return fmt.Errorf("si321x: write IR%d: %w", reg, err)
		}
	}
	return nil
}

// rdInd reads indirect address a: wait, address, wait, data low, data high.
func (c *Chip) rdInd(reg, a uint8) (uint16, error) {
	if err := c.waitIndirect(reg); err != nil {
		return 0, err
	}
	if err := c.wr(drIAA, a); err != nil {
		return 0, fmt.Errorf("si321x: read IR%d: %w", reg, err)
	}
	if err := c.waitIndirect(reg); err != nil {
		return 0, err
	}
	lo, err := c.rd(drIDALo)
	if err != nil {
		return 0, fmt.Errorf("si321x: read IR%d: %w", reg, err)
	}
	hi, err := c.rd(drIDAHi)
	if err != nil {
		return 0, fmt.Errorf("si321x: read IR%d: %w", reg, err)
	}
	return uint16(hi)<<8 | uint16(lo), nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pinOut drives a GPIO, wrapping its error with the pin's role.
func pinOut(p gpio.PinOut, l gpio.Level, role string) error {
	if err := p.Out(l); err != nil {
		return fmt.Errorf("si321x: %s pin %s: %w", role, p, err)
	}
	return nil
}
