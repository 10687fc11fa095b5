package line

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/halfake"
)

func run(t *testing.T, country string) (*Line, *halfake.Line, *halfake.PCM) {
	t.Helper()
	c, err := tone.Lookup(country)
	if err != nil {
		t.Fatal(err)
	}
	hl, pcm := halfake.NewLine(), halfake.NewPCM(3)
	l := New(hal.Port{Number: 1, Line: hl, PCM: pcm}, c, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		pcm.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l, hl, pcm
}

// frames clocks n PCM periods and returns what the line wrote.
func frames(pcm *halfake.PCM, n int) []int16 {
	var out []int16
	for i := 0; i < n; i++ {
		f := pcm.Tick(hal.Frame{})
		out = append(out, f[:]...)
	}
	return out
}

func waitState(t *testing.T, l *Line, want State) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for State(l.state.Load()) != want {
		if time.Now().After(deadline) {
			t.Fatalf("state %v, want %v", State(l.state.Load()), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDialToneWhileOffHook(t *testing.T) {
	for _, tc := range []struct {
		country string
		hz      []float64
	}{
		{"us", []float64{350, 440}},
		{"de", []float64{425}},
	} {
		t.Run(tc.country, func(t *testing.T) {
			l, hl, pcm := run(t, tc.country)
			if x := frames(pcm, 5); dsp.RMS(x) != 0 {
				t.Fatal("sound while on-hook")
			}
			hl.Inject(hal.Event{Kind: hal.EventOffHook})
			waitState(t, l, StateDialTone)
			frames(pcm, 3) // the queue fills with dial tone
			x := frames(pcm, 25)
			if st := l.Status(); st.Hook != "off" || st.State != "dialtone" {
				t.Fatalf("status %+v", st)
			}
			var sum float64
			for _, hz := range tc.hz {
				lvl := dsptest.Level(x, hz)
				sum += math.Pow(10, lvl/10)
				if lvl < -20 {
					t.Errorf("%v Hz at %.1f dBm0", hz, lvl)
				}
			}
			if total := dsp.DBm0FromRMS(dsp.RMS(x)); math.Abs(10*math.Log10(sum)-total) > 0.3 {
				t.Errorf("the dial tone has power outside %v Hz: total %.2f dBm0", tc.hz, total)
			}
			hl.Inject(hal.Event{Kind: hal.EventOnHook})
			waitState(t, l, StateOnHook)
			frames(pcm, 4)
			if x := frames(pcm, 5); dsp.RMS(x) != 0 {
				t.Fatal("sound after hanging up")
			}
		})
	}
}

// TestMediaAllocatesNothing checks the per-frame media path allocates nothing
// once running.
func TestMediaAllocatesNothing(t *testing.T) {
	l, hl, pcm := run(t, "us")
	hl.Inject(hal.Event{Kind: hal.EventOffHook})
	waitState(t, l, StateDialTone)
	frames(pcm, 10)
	var f hal.Frame
	if n := testing.AllocsPerRun(200, func() { f = pcm.Tick(f) }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}
