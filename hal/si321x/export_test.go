package si321x

import (
	"context"
	"time"

	"github.com/tipring/tipring/hal"
	"periph.io/x/conn/v3/spi"
)

// Test hooks: run the pieces of Open one at a time, without the event
// goroutine, so that recorded bus transactions are exactly those of the
// step under test.

// NewUnstarted prepares a Chip on c without touching the bus.
func NewUnstarted(c spi.Conn, o Options) (*Chip, error) { return newChip(c, o) }

// Init runs the power-up sequence.
func (c *Chip) Init(ctx context.Context) error { return c.init(ctx) }

// Start launches the event goroutine.
func (c *Chip) Start(ctx context.Context) { c.start(ctx) }

// SetState sets what Init would have found: the part and the feed.
func (c *Chip) SetState(p Part, f hal.Feed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part, c.feed = p, f
}

// Service runs one interrupt service as the event goroutine does.
func (c *Chip) Service(now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.service(now)
}

// Tick runs the time-driven work as the event goroutine does.
func (c *Chip) Tick(now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tick(now)
}

// TakeEvents returns and forgets the events queued for delivery.
func (c *Chip) TakeEvents() []hal.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.pending
	c.pending = nil
	return e
}

// Deadline returns when the event goroutine would next tick.
func (c *Chip) Deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline()
}

// CompactAddr exposes the Si3215 indirect address translation.
func CompactAddr(reg uint8) (uint8, bool) { return compactAddr(reg) }

// DR1 exposes the PCM mode register value of a format.
func (f Format) DR1() uint8 { return f.dr1() }

// DecodePart exposes part identification.
func DecodePart(dr0, dr1, dr6 uint8) Part { return decodePart(dr0, dr1, dr6) }
