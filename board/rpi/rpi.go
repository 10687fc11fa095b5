// Package rpi is the Raspberry Pi board: one to four Si3210/Si3215 SLICs on
// the Pi's SPI0 bus, their INT and RESET lines on GPIOs, and their audio on
// the Pi's PCM/I2S block, which a device-tree overlay
// (overlay/tipring-si3215-overlay.dts) turns into the ALSA card "tipring".
//
// # The PCM bus
//
// The Pi is the bus master: it drives PCLK (GPIO18) and FSYNC (GPIO19) at
// 8 kHz frames of two 16-bit slots, 256 kHz, from before the first SLIC
// leaves reset, and the SLICs transmit and receive in slots programmed
// through their registers. The Pi's PCM block moves exactly two channels
// per frame, so:
//
//   - one or two ports use 16-bit linear samples, port n in channel n−1
//     (SLIC slot start 16·(n−1));
//   - three or four ports use 8-bit µ-law, two ports per 16-bit channel:
//     port n starts at bit 8·(n−1) (as DAHDI places its SLICs), which is
//     the high byte of channel (n−1)/2 for odd n and the low byte for even n.
//
// Either way the ALSA stream is two channels of S16_LE at 8 kHz; package
// alsa splits it into one hal.PCM per port.
//
// # Wiring
//
// DefaultWiring gives each port a chip select of SPI0 (/dev/spidev0.N;
// chip selects 2 and 3 are GPIOs the overlay adds), an INT input with
// pull-up and a RESET output of its own. Each SLIC is reset when its driver
// opens it, so RESET lines must not be shared. docs/hardware.md has the pin
// table.
//
// Open never falls back to the simulated board: a SLIC that does not
// answer makes it fail with an error naming the bus and the pins.
package rpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/alsa"
	"github.com/tipring/tipring/hal/si321x"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Board names, as board.Open knows them.
const (
	NameSi3215 = "rpi-si3215"
	NameSi3210 = "rpi-si3210"
)

// Limits and defaults.
const (
	MaxPorts            = 4
	DefaultCard         = "tipring" // the ALSA id the overlay gives the card
	DefaultSPIFrequency = physic.MegaHertz
)

// ErrConfig means the Config cannot describe a working board.
var ErrConfig = errors.New("rpi: invalid configuration")

// Wiring says where one SLIC is connected. Pin names are periph's
// ("GPIO24"); an empty Int means the driver polls the chip instead, an
// empty Reset that the board resets the chip some other way.
type Wiring struct {
	SPI   string // SPI device: "/dev/spidev0.0"
	Int   string // INT output of the SLIC (active low; pulled up)
	Reset string // RESET input of the SLIC (active low)
}

func (w Wiring) String() string {
	orNone := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	return fmt.Sprintf("SPI %s, RESET %s, INT %s", w.SPI, orNone(w.Reset), orNone(w.Int))
}

// DefaultWiring returns the wiring of port n (1…4) of the reference board;
// see docs/hardware.md.
func DefaultWiring(n int) Wiring {
	switch n {
	case 1:
		return Wiring{SPI: "/dev/spidev0.0", Int: "GPIO24", Reset: "GPIO25"}
	case 2:
		return Wiring{SPI: "/dev/spidev0.1", Int: "GPIO23", Reset: "GPIO22"}
	case 3:
		return Wiring{SPI: "/dev/spidev0.2", Int: "GPIO27", Reset: "GPIO17"}
	case 4:
		return Wiring{SPI: "/dev/spidev0.3", Int: "GPIO13", Reset: "GPIO12"}
	}
	return Wiring{}
}

// Host reaches the Pi's SPI ports and GPIOs. PeriphHost is the real one.
type Host interface {
	// SPI opens an SPI port by device path.
	SPI(dev string) (spi.PortCloser, error)
	// In returns the input pin called name.
	In(name string) (gpio.PinIn, error)
	// Out returns the output pin called name.
	Out(name string) (gpio.PinOut, error)
}

// Config describes a Raspberry Pi board.
type Config struct {
	// Name is the board's name; empty means NameSi3215.
	Name string
	// Part is the SLIC the board is built with; Open warns when a chip
	// identifies as another part. Zero means no expectation.
	Part si321x.PartNumber
	// Ports is the number of SLICs, 1…4; 0 means 1.
	Ports int
	// Wiring of each port; nil means DefaultWiring.
	Wiring []Wiring
	// SPIFrequency is the SPI clock; 0 means 1 MHz.
	SPIFrequency physic.Frequency
	// Playout is alsa.Config.Playout.
	Playout time.Duration
	// Card and Device select the ALSA PCM device; Card "" means "tipring".
	Card   string
	Device int
	// SlotOffset is added to every SLIC's slot start (DR2–5), in PCLK
	// cycles. The Pi's DSP-A framing puts the first data bit one clock
	// after the frame sync; whether the SLIC counts from the same edge is
	// not confirmed, so this is the knob for a board that proves
	// otherwise (find it with the SLIC's digital loopback, DR8).
	SlotOffset int
	// Timing overrides the SLIC driver's waits; zero means
	// si321x.DefaultTiming.
	Timing si321x.Timing
	// Chip holds the remaining driver options (ringing, loop current);
	// its Reset, Int, PCM, Timing and Logger are set by the board.
	Chip si321x.Options
	// Host reaches the hardware; nil means PeriphHost.
	Host Host
	// Kernel reaches ALSA; nil means alsa.LinuxKernel{}.
	Kernel alsa.Kernel
	Logger *slog.Logger
}

// Board is an opened Raspberry Pi board.
type Board struct {
	name   string
	log    *slog.Logger
	cancel context.CancelFunc
	pcm    *alsa.Device
	chips  []*si321x.Chip
	buses  []spi.PortCloser
	ports  []hal.Port

	closeOnce sync.Once
	closeErr  error
}

// placement returns where port n (1-based) of a board of ports ports sits
// on the PCM bus: the ALSA slot and the SLIC's format and slot start.
func placement(n, ports, offset int) (alsa.Slot, si321x.PCMConfig) {
	i := n - 1
	if ports <= 2 {
		start := 16*i + offset
		return alsa.Slot{Channel: i, Coding: alsa.Linear16},
			si321x.PCMConfig{Format: si321x.Linear16, TXSlot: start, RXSlot: start}
	}
	coding := alsa.UlawHigh
	if i%2 == 1 {
		coding = alsa.UlawLow
	}
	start := 8*i + offset
	return alsa.Slot{Channel: i / 2, Coding: coding},
		si321x.PCMConfig{Format: si321x.Ulaw, TXSlot: start, RXSlot: start}
}

// Open brings the board up: it starts the PCM clock (the ALSA device),
// then opens each SLIC in turn — reset, identification, calibration — and
// pairs it with its PCM slot. ctx bounds the board's life, as Close does.
func Open(ctx context.Context, c Config) (*Board, error) {
	if c.Name == "" {
		c.Name = NameSi3215
	}
	if c.Ports == 0 {
		c.Ports = 1
	}
	if c.Ports < 1 || c.Ports > MaxPorts {
		return nil, fmt.Errorf("%w: %d ports, the board has 1…%d", ErrConfig, c.Ports, MaxPorts)
	}
	if c.Wiring == nil {
		for n := 1; n <= c.Ports; n++ {
			c.Wiring = append(c.Wiring, DefaultWiring(n))
		}
	}
	if len(c.Wiring) != c.Ports {
		return nil, fmt.Errorf("%w: wiring for %d ports, want %d", ErrConfig, len(c.Wiring), c.Ports)
	}
	if c.SlotOffset < 0 || 32*8-1 < 8*(c.Ports-1)+16+c.SlotOffset {
		return nil, fmt.Errorf("%w: slot offset %d", ErrConfig, c.SlotOffset)
	}
	if c.SPIFrequency == 0 {
		c.SPIFrequency = DefaultSPIFrequency
	}
	if c.Card == "" {
		c.Card = DefaultCard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Host == nil {
		h, err := NewPeriphHost()
		if err != nil {
			return nil, err
		}
		c.Host = h
	}
	runCtx, cancel := context.WithCancel(ctx)
	b := &Board{name: c.Name, log: c.Logger, cancel: cancel}
	var err error
	b.pcm, err = alsa.Open(runCtx, alsa.Config{
		Card: c.Card, Device: c.Device, Rate: alsa.Rate8k, Channels: 2,
		Playout: c.Playout, Kernel: c.Kernel, Logger: c.Logger,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("rpi: PCM card %q (is the tipring overlay loaded? see docs/hardware.md): %w", c.Card, err)
	}
	for n := 1; n <= c.Ports; n++ {
		if err := b.openPort(runCtx, n, c); err != nil {
			b.Close()
			return nil, err
		}
	}
	b.log.Info("Raspberry Pi board up", "board", c.Name, "ports", c.Ports, "pcm", b.pcm.Params())
	return b, nil
}

// openPort opens the SPI port, pins and SLIC of port n and its PCM slot.
func (b *Board) openPort(ctx context.Context, n int, c Config) error {
	w := c.Wiring[n-1]
	fail := func(what string, err error) error {
		return fmt.Errorf("rpi: port %d (%v): %s: %w", n, w, what, err)
	}
	port, err := c.Host.SPI(w.SPI)
	if err != nil {
		return fail("open SPI", err)
	}
	b.buses = append(b.buses, port)
	conn, err := port.Connect(c.SPIFrequency, spi.Mode3, 8)
	if err != nil {
		return fail(fmt.Sprintf("SPI mode 3 at %v", c.SPIFrequency), err)
	}
	o := c.Chip
	o.Timing, o.Logger = c.Timing, c.Logger.With("port", n)
	if w.Reset != "" {
		if o.Reset, err = c.Host.Out(w.Reset); err != nil {
			return fail("RESET pin", err)
		}
	}
	if w.Int != "" {
		if o.Int, err = c.Host.In(w.Int); err != nil {
			return fail("INT pin", err)
		}
	}
	slot, pcm := placement(n, c.Ports, c.SlotOffset)
	o.PCM = pcm
	chip, err := si321x.Open(ctx, conn, o)
	if err != nil {
		if errors.Is(err, si321x.ErrNoChip) {
			return fail(fmt.Sprintf("no SLIC answers (SPI mode 3 at %v; check power, the chip select, MISO/MOSI/SCLK and that RESET is released)", c.SPIFrequency), err)
		}
		return fail("SLIC", err)
	}
	b.chips = append(b.chips, chip)
	if c.Part != 0 && chip.Part().Number != c.Part {
		b.log.Warn("SLIC is not the board's part", "port", n, "found", chip.Part().String(), "board", c.Part.String())
	}
	stream, err := b.pcm.Slot(slot)
	if err != nil {
		return fail("PCM slot", err)
	}
	b.ports = append(b.ports, hal.Port{Number: n, Line: chip, PCM: stream})
	b.log.Info("port up", "port", n, "chip", chip.String(), "slot", slot.String(), "slic_slot", pcm.TXSlot)
	return nil
}

// Name implements board.Board.
func (b *Board) Name() string { return b.name }

// Ports implements board.Board.
func (b *Board) Ports() []hal.Port { return b.ports }

// PCM returns the board's ALSA device, for its xrun statistics.
func (b *Board) PCM() *alsa.Device { return b.pcm }

// Close opens every line, stops the PCM clock and releases the buses.
func (b *Board) Close() error {
	b.closeOnce.Do(func() {
		var errs []error
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, ch := range b.chips {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ch.Close(); err != nil && !errors.Is(err, si321x.ErrClosed) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		errs = append(errs, b.pcm.Close())
		for _, p := range b.buses {
			errs = append(errs, p.Close())
		}
		b.cancel()
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}
