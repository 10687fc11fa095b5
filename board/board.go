// Package board knows the boards Tipring runs on: which SLIC chips sit on
// which SPI bus, with which GPIOs and which PCM device. Open returns the
// ports of a board by name, ready for call control.
//
// The simulated board ("sim") runs the real SLIC driver against a
// register-level chip model with a virtual phone on each port; it is what
// `make run` and the tests use. The Raspberry Pi boards (package rpi) are
// real hardware: "rpi-si3215" and "rpi-si3210" (one to four Si321x SLICs on
// SPI0, audio on the Pi's PCM bus) and "rpi-ag1171" (one GPIO-controlled
// Ag1171 SLIC with an I2S codec). docs/hardware.md says how to wire them.
package board

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tipring/tipring/board/rpi"
	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
	"github.com/tipring/tipring/hal/si321x"
)

// Board is an opened board.
type Board interface {
	// Name is the name the board was opened by.
	Name() string
	// Ports returns the board's FXS ports in order, numbered from 1.
	Ports() []hal.Port
	// Close stops the board's clocks and puts every line in the open state.
	Close() error
}

// Options tune how a board is opened.
type Options struct {
	// Ports is how many ports a board with a variable count has (the
	// simulated board: 1–64, default 2; the Si321x Raspberry Pi boards:
	// 1–4, default 1). The Ag1171 board ignores it.
	Ports  int
	Logger *slog.Logger
	// Hook classifies the hook switch (pulse, flash, hang-up limits); the
	// zero value means hook.DefaultTiming.
	Hook hook.Timing
	// Playout is how soon after a PCM period begins the ports' frames
	// answering its capture play (hal.PlayoutMin…hal.FrameDuration; zero
	// means hal.FrameDuration).
	Playout time.Duration
}

// Names lists the boards Open knows.
func Names() []string {
	return []string{"sim", rpi.NameSi3215, rpi.NameSi3210, rpi.NameAg1171}
}

// Open opens the board called name.
func Open(ctx context.Context, name string, o Options) (Board, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch name {
	case "sim":
		b, err := sim.New(ctx, sim.Options{Ports: o.Ports, Logger: o.Logger, Hook: o.Hook, Playout: o.Playout})
		if err != nil {
			return nil, fmt.Errorf("board %q: %w", name, err)
		}
		return b, nil
	case rpi.NameSi3215, rpi.NameSi3210:
		part := si321x.Si3215
		if name == rpi.NameSi3210 {
			part = si321x.Si3210
		}
		b, err := rpi.Open(ctx, rpi.Config{Name: name, Part: part, Ports: o.Ports, Logger: o.Logger, Playout: o.Playout, Chip: si321x.Options{Hook: o.Hook}})
		if err != nil {
			return nil, fmt.Errorf("board %q: %w", name, err)
		}
		return b, nil
	case rpi.NameAg1171:
		cfg := rpi.DefaultAg1171Config()
		cfg.Logger = o.Logger
		cfg.Hook = o.Hook
		cfg.Playout = o.Playout
		b, err := rpi.OpenAg1171(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("board %q: %w", name, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("board %q is unknown; known boards: %s", name, strings.Join(Names(), ", "))
	}
}
