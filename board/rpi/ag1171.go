package rpi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/ag1171"
	"github.com/tipring/tipring/hal/alsa"
	"github.com/tipring/tipring/hal/hook"
	"periph.io/x/conn/v3/physic"
)

// NameAg1171 is the board with one Silvertel Ag1171 and an I2S codec.
const NameAg1171 = "rpi-ag1171"

// Ag1171Config describes a Pi with one Ag1171 SLIC, signalled through
// GPIOs, whose analog audio goes through an I2S codec (any ALSA card, such
// as a WM8731 or a PCM5102A+PCM1808 pair) on the codec's left channel.
type Ag1171Config struct {
	// SHK, RM, FR and Power are GPIO names; empty fields take the
	// defaults of DefaultAg1171Config (Power: not wired).
	SHK, RM, FR, Power string
	// Card and Device select the codec's ALSA device; Card "" means "0".
	Card   string
	Device int
	// Rate is the codec's rate, 8000 or 16000 (many codecs lack 8 kHz);
	// 0 means 8000.
	Rate int
	// Channels is how many channels the codec's stream has; 0 means 2
	// (I2S is stereo). The line uses channel 0.
	Channels int
	// OHTResistor, SHKActiveLow and RingFrequency go to the driver.
	OHTResistor   bool
	SHKActiveLow  bool
	RingFrequency physic.Frequency
	Host          Host
	Kernel        alsa.Kernel
	// Hook classifies the hook switch; zero means hook.DefaultTiming.
	Hook   hook.Timing
	Logger *slog.Logger
	// Playout is alsa.Config.Playout.
	Playout time.Duration
}

// DefaultAg1171Config is the reference wiring: SHK on GPIO24, RM on
// GPIO25, F/R on GPIO23, no power switch; see docs/hardware.md.
func DefaultAg1171Config() Ag1171Config {
	return Ag1171Config{SHK: "GPIO24", RM: "GPIO25", FR: "GPIO23", Card: "0", Rate: alsa.Rate8k, Channels: 2}
}

// Ag1171Board is an opened Ag1171 board.
type Ag1171Board struct {
	line  *ag1171.Line
	pcm   *alsa.Device
	ports []hal.Port

	closeOnce sync.Once
	closeErr  error
}

// OpenAg1171 opens the codec and the line.
func OpenAg1171(ctx context.Context, c Ag1171Config) (*Ag1171Board, error) {
	d := DefaultAg1171Config()
	if c.SHK == "" {
		c.SHK = d.SHK
	}
	if c.RM == "" {
		c.RM = d.RM
	}
	if c.FR == "" {
		c.FR = d.FR
	}
	if c.Card == "" {
		c.Card = d.Card
	}
	if c.Channels == 0 {
		c.Channels = d.Channels
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
	pins := fmt.Sprintf("SHK %s, RM %s, F/R %s", c.SHK, c.RM, c.FR)
	o := ag1171.Options{OHTResistor: c.OHTResistor, SHKActiveLow: c.SHKActiveLow, RingFrequency: c.RingFrequency, Hook: c.Hook, Logger: c.Logger}
	var err error
	if o.SHK, err = c.Host.In(c.SHK); err != nil {
		return nil, fmt.Errorf("rpi-ag1171 (%s): %w", pins, err)
	}
	if o.RM, err = c.Host.Out(c.RM); err != nil {
		return nil, fmt.Errorf("rpi-ag1171 (%s): %w", pins, err)
	}
	if o.FR, err = c.Host.Out(c.FR); err != nil {
		return nil, fmt.Errorf("rpi-ag1171 (%s): %w", pins, err)
	}
	if c.Power != "" {
		if o.Power, err = c.Host.Out(c.Power); err != nil {
			return nil, fmt.Errorf("rpi-ag1171 (%s): power pin: %w", pins, err)
		}
	}
	b := &Ag1171Board{}
	b.pcm, err = alsa.Open(ctx, alsa.Config{Card: c.Card, Device: c.Device, Rate: c.Rate, Channels: c.Channels, Playout: c.Playout, Kernel: c.Kernel, Logger: c.Logger})
	if err != nil {
		return nil, fmt.Errorf("rpi-ag1171: codec card %q: %w", c.Card, err)
	}
	stream, err := b.pcm.Slot(alsa.Slot{Channel: 0})
	if err != nil {
		b.pcm.Close()
		return nil, fmt.Errorf("rpi-ag1171: %w", err)
	}
	if b.line, err = ag1171.Open(ctx, o); err != nil {
		b.pcm.Close()
		return nil, fmt.Errorf("rpi-ag1171 (%s): %w", pins, err)
	}
	b.ports = []hal.Port{{Number: 1, Line: b.line, PCM: stream}}
	c.Logger.Info("Ag1171 board up", "pins", pins, "pcm", b.pcm.Params())
	return b, nil
}

// Name implements board.Board.
func (b *Ag1171Board) Name() string { return NameAg1171 }

// Ports implements board.Board.
func (b *Ag1171Board) Ports() []hal.Port { return b.ports }

// Close stops the line and the codec.
func (b *Ag1171Board) Close() error {
	b.closeOnce.Do(func() {
		err := b.line.Close()
		if errors.Is(err, ag1171.ErrClosed) {
			err = nil
		}
		b.closeErr = errors.Join(err, b.pcm.Close())
	})
	return b.closeErr
}
