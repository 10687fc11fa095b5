// Package sim is the simulated board: on each port a register-level model
// of a Si3215 SLIC (package slicmodel) behind periph's spi.Conn, driven by
// the real hal/si321x driver, with a virtual analog phone on its wires and a
// virtual PCM clock moving 20 ms frames between the driver's streams, the
// chip's codec and the phone.
//
// Everything above the SPI bus is the code that runs on hardware. What the
// board changes is time: the model settles (DC-DC ramp, calibration) about
// fifty times faster than silicon and the driver is given the matching
// shorter waits, so a board of 64 ports comes up in a fraction of a second.
package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tipring/tipring/board/sim/slicmodel"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
	"github.com/tipring/tipring/hal/si321x"
)

// Port counts.
const (
	DefaultPorts = 2
	MaxPorts     = 64
)

// Options configure a simulated board.
type Options struct {
	Ports  int // 1…64; 0 means DefaultPorts
	Logger *slog.Logger
	// Chip is the SLIC each port emulates: "si3215" (the default, the part
	// of most FXS modules), "si3210" or "si3216".
	Chip string
	// Hook classifies the hook switch; zero means hook.DefaultTiming.
	Hook hook.Timing
	// Playout is how long after a clock tick the frame a port writes in
	// answer to that tick's capture starts to play: the host's deadline
	// for its write, and the playback latency it adds (hal.PlayoutMin…
	// hal.FrameDuration; zero means hal.FrameDuration). A frame written
	// later misses its period, which plays silence and counts as an
	// underrun.
	Playout time.Duration
}

// parts maps Options.Chip to the model's part.
var parts = map[string]slicmodel.Part{"": slicmodel.Si3215, "si3215": slicmodel.Si3215, "si3210": slicmodel.Si3210, "si3216": slicmodel.Si3216}

// Board is a running simulated board.
type Board struct {
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup

	ports  []hal.Port
	phones []*Phone
	slots  []*slot

	closeOnce sync.Once
}

// slot is one port's hardware: the chip model, the driver on it, the PCM
// stream and the phone, with the buffers one clock tick needs.
type slot struct {
	model *slicmodel.Model
	chip  *si321x.Chip
	pcm   *stream
	phone *Phone

	play, capt  hal.Frame
	mouth, line [hal.FrameSamples]int16
	rx, tx      [hal.FrameSamples * 2]byte // one 16-bit linear slot per 8 kHz frame
}

// New brings up a simulated board: it creates the chip models, opens the
// real driver on each (reset, calibration, PCM setup), and starts the PCM
// clock.
func New(ctx context.Context, o Options) (*Board, error) {
	if o.Ports == 0 {
		o.Ports = DefaultPorts
	}
	if o.Ports < 1 || o.Ports > MaxPorts {
		return nil, fmt.Errorf("sim: %d ports requested, the simulated board has 1…%d", o.Ports, MaxPorts)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if _, ok := parts[o.Chip]; !ok {
		return nil, fmt.Errorf("sim: unknown chip %q: si3210, si3215 or si3216", o.Chip)
	}
	if o.Playout == 0 {
		o.Playout = hal.FrameDuration
	}
	if o.Playout < hal.PlayoutMin || o.Playout > hal.FrameDuration {
		return nil, fmt.Errorf("sim: playout %v: want %v…%v", o.Playout, hal.PlayoutMin, hal.FrameDuration)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &Board{log: o.Logger, cancel: cancel}

	// Bring the chips up in parallel, as a real board's init would be bounded
	// by its slowest chip rather than their sum.
	b.slots = make([]*slot, o.Ports)
	errs := make([]error, o.Ports)
	var wg sync.WaitGroup
	for i := range b.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.slots[i], errs[i] = b.newSlot(ctx, runCtx, i+1, o)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Close()
		return nil, err
	}
	for _, s := range b.slots {
		b.ports = append(b.ports, hal.Port{Number: s.phone.port, Line: s.chip, PCM: s.pcm})
		b.phones = append(b.phones, s.phone)
	}
	b.wg.Add(1)
	go b.clock(runCtx)
	b.log.Info("simulated board up", "ports", o.Ports, "part", b.slots[0].chip.Part().String())
	return b, nil
}

func (b *Board) newSlot(ctx, runCtx context.Context, n int, o Options) (*slot, error) {
	log := b.log.With("port", n)
	behaviour := slicmodel.FastBehaviour()
	m := slicmodel.New(slicmodel.Config{Part: parts[o.Chip], Behaviour: behaviour, Logger: log})
	chip, err := si321x.Open(ctx, m.Conn(), si321x.Options{
		Reset:  m.ResetPin(),
		Int:    m.IntPin(),
		Timing: slicmodel.DriverTiming(behaviour),
		PCM:    si321x.PCMConfig{Format: si321x.Linear16},
		Hook:   o.Hook,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("sim: port %d: %w", n, err)
	}
	phone, err := newPhone(runCtx, n, m, dtmfKeypad)
	if err != nil {
		chip.Close()
		return nil, err
	}
	return &slot{model: m, chip: chip, pcm: newStream(o.Playout), phone: phone}, nil
}

// clock is the board's PCM clock: every 20 ms it moves one frame each way on
// every port. It paces itself on absolute deadlines so that it keeps the
// nominal rate over time, as a crystal-driven PCM clock does.
func (b *Board) clock(ctx context.Context) {
	defer b.wg.Done()
	t := time.NewTicker(hal.FrameDuration)
	defer t.Stop()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		}
		for _, s := range b.slots {
			s.tick(now)
		}
	}
}

// tick exchanges one frame, at the clock's tick now: the host's play frame goes out on the PCM bus to
// the chip, which puts it on the wires to the phone; the phone's microphone
// goes back through the chip's codec to the host.
func (s *slot) tick(now time.Time) {
	s.pcm.next(&s.play, now)
	for i, v := range s.play {
		binary.BigEndian.PutUint16(s.rx[2*i:], uint16(v))
	}
	s.phone.exchangeMouth(s.mouth[:], now)
	s.model.PCM(s.rx[:], s.tx[:], 2, s.mouth[:], s.line[:])
	// The frame played now left the host within s.pcm.playout of the
	// last tick; it is heard from then on.
	s.phone.exchangeEar(s.line[:], now.Add(s.pcm.playout-hal.FrameDuration))
	for i := range s.capt {
		s.capt[i] = int16(binary.BigEndian.Uint16(s.tx[2*i:]))
	}
	s.pcm.captured(&s.capt)
}

// Keypad timing of the virtual phone: 100 ms tones with 100 ms pauses, as a
// person pressing keys at a steady pace, at the generator's default levels
// (−10 dBm0 low group, −8 dBm0 high group).
const (
	keyOnSamples  = 800
	keyOffSamples = 800
)

// dtmfKeypad synthesizes the DTMF audio of digits.
func dtmfKeypad(digits string) ([]int16, error) {
	return dtmf.Synthesize(digits, keyOnSamples, keyOffSamples, dtmf.DefaultGenConfig())
}

// Name implements board.Board.
func (b *Board) Name() string { return "sim" }

// Ports implements board.Board.
func (b *Board) Ports() []hal.Port { return b.ports }

// Phones returns the virtual phones, port 1 first.
func (b *Board) Phones() []*Phone { return b.phones }

// Close stops the clock and the drivers.
func (b *Board) Close() error {
	var errs []error
	b.closeOnce.Do(func() {
		b.cancel()
		b.wg.Wait()
		// Each driver's goroutine may be waiting out an interrupt poll:
		// close them together rather than one after another.
		errs = make([]error, len(b.slots))
		var wg sync.WaitGroup
		for i, s := range b.slots {
			if s == nil {
				continue
			}
			s.pcm.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.chip.Close()
			}()
		}
		wg.Wait()
	})
	return errors.Join(errs...)
}
