package echo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
)

func TestNewTail(t *testing.T) {
	for _, k := range []struct {
		tail time.Duration
		taps int
		err  bool
	}{
		{0, 256, false},
		{32 * time.Millisecond, 256, false},
		{64 * time.Millisecond, 512, false},
		{MaxTail, 1024, false},
		{MaxTail + time.Millisecond, 0, true},
		{-time.Millisecond, 0, true},
		{100 * time.Microsecond, 0, true},
	} {
		c, err := New(Config{Tail: k.tail})
		if k.err {
			if !errors.Is(err, ErrTail) {
				t.Errorf("New(%v): error %v, want ErrTail", k.tail, err)
			}
			continue
		}
		if err != nil || c.Taps() != k.taps {
			t.Errorf("New(%v): %v taps, error %v; want %d", k.tail, c.Taps(), err, k.taps)
		}
	}
}

// Process works in place (sout = sin) and the result does not depend on
// the frame sizes.
func TestProcessInPlaceAndFraming(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	rin := white(ms(1000), -15, rng)
	sin := hybrid(convolve(rin, pathModels[2].impulse(ms(5), 6)), white(ms(1000), -40, rng))
	cfg := Config{NLP: true, ComfortNoise: true}
	want := run(newCanceller(t, cfg), rin, sin)
	c := newCanceller(t, cfg)
	buf := append([]int16(nil), sin...)
	for i := 0; i < len(buf); i += dsp.FrameSamples {
		c.Process(rin[i:i+dsp.FrameSamples], buf[i:i+dsp.FrameSamples], buf[i:i+dsp.FrameSamples])
	}
	for i := range want {
		if want[i] != buf[i] {
			t.Fatalf("sample %d: %d in place, %d with mixed frames", i, buf[i], want[i])
		}
	}
	c.Reset()
	if st := c.Status(); st.Bypassed || st.DoubleTalk || st.Suppressing {
		t.Errorf("status after Reset: %+v", st)
	}
}

func TestProcessLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on slices of different lengths")
		}
	}()
	c := newCanceller(t, Config{})
	c.Process(make([]int16, 160), make([]int16, 160), make([]int16, 80))
}

func TestZeroAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	rin := white(dsp.FrameSamples, -10, rng)
	sin := white(dsp.FrameSamples, -20, rng)
	out := make([]int16, dsp.FrameSamples)
	c := newCanceller(t, Config{Tail: MaxTail, NLP: true, ComfortNoise: true})
	if a := testing.AllocsPerRun(50, func() { c.Process(rin, sin, out) }); a != 0 {
		t.Errorf("%v allocations per frame, want 0", a)
	}
}

func benchmarkProcess(b *testing.B, tail time.Duration) {
	rng := rand.New(rand.NewPCG(15, 15))
	n := ms(1000)
	rin := white(n, -10, rng)
	sin := hybrid(convolve(rin, pathModels[1].impulse(ms(5), 6)), white(n, -40, rng))
	out := make([]int16, dsp.FrameSamples)
	c, err := New(Config{Tail: tail, NLP: true, ComfortNoise: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		c.Process(rin[i:i+dsp.FrameSamples], sin[i:i+dsp.FrameSamples], out)
		if i += dsp.FrameSamples; i == n {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*dsp.FrameSamples), "ns/sample")
}

// BenchmarkProcess32ms measures a 20 ms frame with a 32 ms tail, the far
// end talking so that the filter adapts on every sample (the worst case).
func BenchmarkProcess32ms(b *testing.B) { benchmarkProcess(b, 32*time.Millisecond) }

// BenchmarkProcess128ms is BenchmarkProcess32ms with the longest tail.
func BenchmarkProcess128ms(b *testing.B) { benchmarkProcess(b, MaxTail) }

func Example() {
	c, err := New(Config{Tail: 64 * time.Millisecond, NLP: true, ComfortNoise: true})
	if err != nil {
		panic(err)
	}
	rin := make([]int16, dsp.FrameSamples)  // to the line: the far end's voice
	sin := make([]int16, dsp.FrameSamples)  // from the line: near voice + echo
	sout := make([]int16, dsp.FrameSamples) // to the network
	c.Process(rin, sin, sout)
	fmt.Println(c.Taps(), c.Status().Bypassed)
	// Output: 512 false
}
