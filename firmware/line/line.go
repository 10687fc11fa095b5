// Package line is the call control of one FXS port: the state machine that
// gives an analog phone its behaviour, driven by the port's hook events and
// driving what the phone hears.
//
// A Line runs two goroutines. The control goroutine owns the call state and
// is the only one to change it; the media goroutine is paced by the port's
// PCM clock and, every 20 ms, writes the frame the current state calls for.
// They share one atomic value: what the earpiece should hear.
//
// This first version knows two states: on-hook (silence) and off-hook idle
// (the country's dial tone).
package line

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/hal"
)

// State is the call state of a line.
type State int32

// Call states.
const (
	StateOnHook   State = iota // idle, handset down
	StateDialTone              // handset lifted, waiting for digits
)

func (s State) String() string {
	switch s {
	case StateOnHook:
		return "idle"
	case StateDialTone:
		return "dialtone"
	}
	return fmt.Sprintf("State(%d)", s)
}

// Line is the call control of one port.
type Line struct {
	port    hal.Port
	country *tone.Country
	log     *slog.Logger

	state atomic.Int32 // State
}

// New returns the call control for port with the country's tone plan.
func New(port hal.Port, country *tone.Country, log *slog.Logger) *Line {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Line{port: port, country: country, log: log.With("line", port.Number)}
}

// Status is a snapshot of a line for the status page and API.
type Status struct {
	Port  int    `json:"port"`
	Hook  string `json:"hook"`
	State string `json:"state"`
	// Underruns counts PCM periods the line's stream had no frame for.
	Underruns uint64 `json:"pcmUnderruns"`
}

// Status returns the line's current status.
func (l *Line) Status() Status {
	return Status{Port: l.port.Number, Hook: l.port.Line.Hook().String(), State: State(l.state.Load()).String(),
		Underruns: l.port.PCM.Underruns()}
}

// States lists every call state a Status may report, for metrics.
func States() []string {
	return []string{StateOnHook.String(), StateDialTone.String()}
}

// Run runs the line until ctx ends or the port's event channel closes. An
// error the media path meets after ctx has ended (a stream closed during
// shutdown) is part of stopping and is not reported.
func (l *Line) Run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	var mediaErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		mediaErr = l.media(ctx)
		cancel()
	}()
	err := l.control(ctx)
	cancel()
	wg.Wait()
	if err == nil && mediaErr != nil && parent.Err() == nil && !errors.Is(mediaErr, context.Canceled) {
		err = mediaErr
	}
	return err
}

// control is the line's state machine.
func (l *Line) control(ctx context.Context) error {
	if l.port.Line.Hook() == hal.OffHook {
		l.offHook()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-l.port.Line.Events():
			if !ok {
				return nil
			}
			l.log.Debug("line event", "event", ev.String())
			switch ev.Kind {
			case hal.EventOffHook:
				l.offHook()
			case hal.EventOnHook:
				l.state.Store(int32(StateOnHook))
			case hal.EventFault:
				l.log.Warn("line fault", "err", ev.Err)
			}
		}
	}
}

func (l *Line) offHook() {
	l.state.Store(int32(StateDialTone))
}

// media writes one frame per PCM period: the tone the state calls for, or
// silence. It allocates nothing per frame.
func (l *Line) media(ctx context.Context) error {
	var in, out hal.Frame
	gen := tone.NewGenerator(l.country.Dial)
	playing := StateOnHook
	for {
		if err := l.port.PCM.Read(ctx, &in); err != nil {
			return fmt.Errorf("line %d: pcm read: %w", l.port.Number, err)
		}
		st := State(l.state.Load())
		if st != playing {
			if st == StateDialTone {
				gen.Reset(l.country.Dial)
			}
			playing = st
		}
		switch st {
		case StateDialTone:
			gen.Read(out[:])
		default:
			out = hal.Frame{}
		}
		if err := l.port.PCM.Write(&out); err != nil {
			return fmt.Errorf("line %d: pcm write: %w", l.port.Number, err)
		}
	}
}
