package dtmf

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// dft returns the amplitude (peak, PCM units) and the frequency of the
// strongest component of x within ±2 % of f, found by scanning a direct DFT
// in 1 Hz steps and then in 0.01 Hz steps around the best (an independent
// measurement: no Goertzel, no table).
func dft(x []int16, f float64) (amp, freq float64) {
	at := func(g float64) float64 {
		w := 2 * math.Pi * g / dsp.SampleRate
		step := complex(math.Cos(w), -math.Sin(w))
		rot := complex(1, 0)
		var sum complex128
		for n, v := range x {
			if n%256 == 0 { // keep the rotating phasor exact
				s, c := math.Sincos(w * float64(n))
				rot = complex(c, -s)
			}
			sum += complex(float64(v), 0) * rot
			rot *= step
		}
		return 2 * math.Hypot(real(sum), imag(sum)) / float64(len(x))
	}
	scan := func(from, to, step float64) {
		for g := from; g <= to; g += step {
			if a := at(g); a > amp {
				amp, freq = a, g
			}
		}
	}
	scan(f*0.98, f*1.02, 1)
	c := freq
	scan(c-1, c+1, 0.01)
	return amp, freq
}

func TestGeneratorFrequencyAndLevel(t *testing.T) {
	// Q.23: frequencies within ±1.5 % (Tipring promises ±0.5 %); levels
	// within ±1 dB of the configured ones.
	digits := allDigits
	if testing.Short() {
		digits = "1D"
	}
	for _, cfg := range []GenConfig{DefaultGenConfig(), {LowDBm0: -20, TwistDB: 0}, {LowDBm0: -6, TwistDB: -4}} {
		for i := range len(digits) {
			x, err := Synthesize(digits[i:i+1], dsp.SampleRate/4, 0, cfg)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi, _ := Frequencies(digits[i])
			for _, tc := range []struct {
				f   int
				lvl float64
			}{{lo, cfg.LowDBm0}, {hi, cfg.HighDBm0()}} {
				amp, freq := dft(x, float64(tc.f))
				if dev := math.Abs(freq-float64(tc.f)) / float64(tc.f); dev > 0.005 {
					t.Errorf("%c: %v Hz measured %.2f Hz (%.2f %%)", digits[i], tc.f, freq, 100*dev)
				}
				if lvl := 20 * math.Log10(amp/dsp.ZeroDBm0Peak); math.Abs(lvl-tc.lvl) > 1 {
					t.Errorf("%c %+v: %v Hz at %.2f dBm0, want %.2f", digits[i], cfg, tc.f, lvl, tc.lvl)
				}
			}
		}
	}
}

func TestGeneratorTimingAndContinuity(t *testing.T) {
	// Exact on/off lengths, and the same samples whatever the frame size.
	on, off := 413, 251
	ref, err := Synthesize("159#", on, off, DefaultGenConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != 4*(on+off) {
		t.Fatalf("%d samples", len(ref))
	}
	for d := range 4 {
		base := d * (on + off)
		if ref[base] != 0 || ref[base+1] == 0 || ref[base+on-1] == 0 {
			t.Errorf("digit %d: tone edges %d %d %d", d, ref[base], ref[base+1], ref[base+on-1])
		}
		for j := base + on; j < base+on+off; j++ {
			if ref[j] != 0 {
				t.Fatalf("digit %d: pause sample %d = %d", d, j-base, ref[j])
			}
		}
	}
	for _, frame := range []int{1, 7, 160, 161, 1000} {
		g, _ := NewGenerator(DefaultGenConfig())
		if err := g.Play("159#", on, off); err != nil {
			t.Fatal(err)
		}
		var got []int16
		buf := make([]int16, frame)
		for g.Busy() {
			n := g.Read(buf)
			got = append(got, buf[:n]...)
		}
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Errorf("frame %d: output differs (%d samples)", frame, len(got))
		}
	}
}

func TestGeneratorKeyDownUp(t *testing.T) {
	g, _ := NewGenerator(DefaultGenConfig())
	if err := g.KeyDown('0'); err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 800)
	if n := g.Read(buf); n != 800 || !g.Busy() {
		t.Fatalf("held key: %d samples, busy %v", n, g.Busy())
	}
	g.KeyUp()
	if n := g.Read(buf); n != 0 || g.Busy() || dsp.RMS(buf) != 0 {
		t.Fatalf("after KeyUp: %d samples, RMS %v", n, dsp.RMS(buf))
	}
	if err := g.KeyDown('x'); !errors.Is(err, ErrDigit) {
		t.Errorf("KeyDown x: %v", err)
	}
}

func TestGeneratorErrors(t *testing.T) {
	if _, err := NewGenerator(GenConfig{LowDBm0: 0, TwistDB: 0}); !errors.Is(err, ErrLevel) {
		t.Errorf("two tones at 0 dBm0 clip: %v", err)
	}
	if _, err := NewGenerator(GenConfig{LowDBm0: math.NaN()}); !errors.Is(err, ErrLevel) {
		t.Errorf("NaN: %v", err)
	}
	g, _ := NewGenerator(DefaultGenConfig())
	if err := g.Play("12x", 400, 400); !errors.Is(err, ErrDigit) || g.Busy() {
		t.Errorf("bad digit: %v, busy %v", err, g.Busy())
	}
	if err := g.Play("1", 0, 400); !errors.Is(err, ErrTiming) {
		t.Errorf("zero on time: %v", err)
	}
	if _, _, err := Frequencies('E'); !errors.Is(err, ErrDigit) {
		t.Errorf("Frequencies(E): %v", err)
	}
}

func TestGeneratorAllocs(t *testing.T) {
	g, _ := NewGenerator(DefaultGenConfig())
	g.Play("0123456789", 400, 400)
	buf := make([]int16, dsp.FrameSamples)
	if a := testing.AllocsPerRun(100, func() { g.Read(buf) }); a != 0 {
		t.Errorf("Read allocates %v times per frame", a)
	}
}

func TestDetectorDecodesGenerator(t *testing.T) {
	// Everything the generator makes within Q.24's accept range comes back.
	rng := rand.New(rand.NewPCG(30, 30))
	for _, cfg := range []GenConfig{
		DefaultGenConfig(), {LowDBm0: -25, TwistDB: 0}, {LowDBm0: -3, TwistDB: -8},
		{LowDBm0: -25, TwistDB: 4}, {LowDBm0: -7, TwistDB: 4}, {LowDBm0: -17, TwistDB: -8},
	} {
		for _, tm := range [][2]int{{ms(40), ms(40)}, {ms(50), ms(50)}, {ms(100), ms(60)}} {
			x, err := Synthesize(allDigits, tm[0], tm[1], cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range codecs {
				ev := detect(t, rng, roundTrip(x, c), Config{})
				if got := digitsOf(ev); got != allDigits {
					t.Errorf("%+v %v %v: got %q", cfg, tm, c, got)
					continue
				}
				for i := 0; i < len(ev); i += 2 {
					if math.Abs(ev[i].LowDBm0-cfg.LowDBm0) > 1 || math.Abs(ev[i].HighDBm0-cfg.HighDBm0()) > 1 {
						t.Errorf("%+v %v: %c measured %.2f/%.2f dBm0", cfg, c, ev[i].Digit, ev[i].LowDBm0, ev[i].HighDBm0)
					}
				}
			}
		}
	}
}

func ExampleGenerator() {
	g, err := NewGenerator(DefaultGenConfig())
	if err != nil {
		panic(err)
	}
	// "42" at 50 ms on, 50 ms off, read in 20 ms frames as a line's
	// media loop would.
	if err := g.Play("42", 400, 400); err != nil {
		panic(err)
	}
	d := NewDetector(Config{})
	frame := make([]int16, 160)
	var events []Event
	for g.Busy() {
		g.Read(frame)
		events = d.Process(events, frame)
	}
	events = d.Flush(events)
	for _, e := range events {
		fmt.Printf("%c %v at %d ms\n", e.Digit, e.Kind, (e.Sample+4)/8)
	}
	// Output:
	// 4 begin at 0 ms
	// 4 end at 50 ms
	// 2 begin at 100 ms
	// 2 end at 150 ms
}
