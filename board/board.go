// Package board knows the boards Tipring runs on: which SLIC chips sit on
// which SPI bus, with which GPIOs and which PCM device. Open returns the
// ports of a board by name, ready for call control.
//
// The simulated board ("sim") runs the real SLIC driver against a
// register-level chip model with a virtual phone on each port; it is what
// `make run` and the tests use.
package board

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/hal"
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
	// simulated board: 1–64, default 2). Real boards ignore it.
	Ports  int
	Logger *slog.Logger
}

// Names lists the boards Open knows.
func Names() []string { return []string{"sim"} }

// Open opens the board called name.
func Open(ctx context.Context, name string, o Options) (Board, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch name {
	case "sim":
		b, err := sim.New(ctx, sim.Options{Ports: o.Ports, Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("board %q: %w", name, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("board %q is unknown; known boards: %s", name, strings.Join(Names(), ", "))
	}
}
