package si321x_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tipring/tipring/board/sim/slicmodel"
	"github.com/tipring/tipring/hal/si321x"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// The golden transcripts in testdata pin the exact register sequence of
// Open: reset, identification, the indirect table and its verification,
// DC-DC bring-up, every calibration and the final configuration. To
// regenerate them after an intended change of the sequence, run
//
//	go test ./hal/si321x/ -run TestOpenSequence -update
//
// which records the driver against the register model with
// InstantBehaviour (every poll loop ends on its first read), and review the
// diff.
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the register model")

// quickTiming keeps the real-time waits of Open negligible; the limits stay
// long so that no poll loop can time out on a loaded machine.
var quickTiming = si321x.Timing{
	ResetHold: time.Microsecond, ResetSettle: time.Microsecond,
	IndirectLimit: time.Second, RampPoll: time.Microsecond, RampLimit: time.Second,
	DCCALSettle: time.Microsecond, DCCALPoll: time.Microsecond, DCCALLimit: time.Second,
	CalPoll: time.Microsecond, CalLimit: time.Second,
	ManualCalSettle: time.Microsecond, ManualCalStep: time.Microsecond,
	LongitudinalSettle: time.Microsecond, Poll: 5 * time.Millisecond, IntWait: 50 * time.Millisecond,
}

// goldenCases are the configurations whose Open sequence is pinned.
var goldenCases = []struct {
	name string
	part slicmodel.Part
	opts si321x.Options
}{
	{"open_si3210", slicmodel.Si3210, si321x.Options{
		PCM: si321x.PCMConfig{Format: si321x.Ulaw, TXSlot: 8, RXSlot: 8},
	}},
	{"open_si3215", slicmodel.Si3215, si321x.Options{
		PCM:           si321x.PCMConfig{Format: si321x.Linear16, TXSlot: 16, RXSlot: 32},
		RingFrequency: 25 * physic.Hertz, RingVoltage: 85 * physic.Volt,
		LoopCurrent: 26 * physic.MilliAmpere, OpenCircuitVoltage: 51 * physic.Volt,
	}},
}

// levelPin records the levels driven on it.
type levelPin struct {
	gpio.PinOut
	levels []gpio.Level
}

func (p *levelPin) Out(l gpio.Level) error {
	p.levels = append(p.levels, l)
	if p.PinOut != nil {
		return p.PinOut.Out(l)
	}
	return nil
}

func (p *levelPin) String() string { return "RESET" }

var _ pin.Pin = (*levelPin)(nil)

func TestOpenSequence(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".golden")
			o := tc.opts
			o.Timing = quickTiming
			if *update {
				clock := slicmodel.NewManualClock(time.Unix(0, 0))
				m := slicmodel.New(slicmodel.Config{Part: tc.part, Behaviour: slicmodel.InstantBehaviour(), Clock: clock})
				rec := newRecorder(m.Conn())
				o.Reset = &levelPin{PinOut: m.ResetPin()}
				c, err := si321x.NewUnstarted(rec, o)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Init(context.Background()); err != nil {
					t.Fatal(err)
				}
				head := "# Open(" + tc.name + "): recorded from slicmodel " + tc.part.String() +
					" with InstantBehaviour;\n# regenerate with: go test ./hal/si321x/ -run TestOpenSequence -update\n"
				if err := os.WriteFile(path, []byte(head+rec.transcript()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			p := playback(t, string(want))
			reset := &levelPin{}
			o.Reset = reset
			c, err := si321x.NewUnstarted(connOf(t, p), o)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Init(context.Background()); err != nil {
				t.Fatalf("Init against %s: %v", path, err)
			}
			done(t, p)
			if len(reset.levels) != 2 || reset.levels[0] != gpio.Low || reset.levels[1] != gpio.High {
				t.Errorf("RESET driven %v, want [Low High]", reset.levels)
			}
		})
	}
}
