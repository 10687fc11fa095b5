package fsk

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/g711"
)

// modulate returns seizure, mark and p (one stop bit) as PCM at level dBm0,
// with lead and tail samples of silence around it.
func modulate(t testing.TB, m Modem, level float64, seizure, mark int, p []byte, lead, tail int) []int16 {
	t.Helper()
	mod, err := NewModulator(m, level)
	if err != nil {
		t.Fatal(err)
	}
	mod.Seizure(seizure)
	mod.Mark(mark)
	mod.Bytes(p, 1)
	out := make([]int16, lead+mod.Len()+tail)
	n := 0
	buf := make([]int16, 37) // odd frame size on purpose
	for !mod.Done() {
		k := mod.Read(buf)
		copy(out[lead+n:], buf[:k])
		n += k
	}
	if n != mod.Len() {
		t.Fatalf("modulator produced %d samples, Len says %d", n, mod.Len())
	}
	return out
}

// demodulate runs x through a fresh receiver in frames of random size.
func demodulate(t testing.TB, cfg DemodulatorConfig, x []int16, rng *rand.Rand) ([]byte, *Demodulator) {
	t.Helper()
	d, err := NewDemodulator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for len(x) > 0 {
		n := min(len(x), 1+rng.IntN(400))
		out = d.Demodulate(x[:n], out)
		x = x[n:]
	}
	return out, d
}

func ulawRoundTrip(x []int16) {
	b := make([]byte, len(x))
	g711.EncodeUlaw(b, x)
	g711.DecodeUlaw(x, b)
}

func alawRoundTrip(x []int16) {
	b := make([]byte, len(x))
	g711.EncodeAlaw(b, x)
	g711.DecodeAlaw(x, b)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.UintN(256))
	}
	return p
}

// zeroCrossingFreq measures the frequency of a tone from the interpolated
// times of its first and last upward zero crossings.
func zeroCrossingFreq(x []int16) float64 {
	first, last, n := -1.0, -1.0, 0
	for i := 1; i < len(x); i++ {
		a, b := float64(x[i-1]), float64(x[i])
		if a < 0 && b >= 0 {
			t := float64(i-1) + a/(a-b)
			if first < 0 {
				first = t
			} else {
				n++
			}
			last = t
		}
	}
	return float64(n) * dsp.SampleRate / (last - first)
}

func TestModemTones(t *testing.T) {
	for _, m := range []Modem{Bell202(), V23()} {
		mark := modulate(t, m, -13.5, 0, 240, nil, 0, 0)
		if f := peak(mark, 900, 2500); math.Abs(f-m.Mark) > m.Mark*0.005 {
			t.Errorf("%s mark at %.1f Hz, want %.0f ± 0.5 %%", m.Name, f, m.Mark)
		}
		if lvl := dsp.DBm0FromRMS(dsp.RMS(mark)); math.Abs(lvl+13.5) > 0.1 {
			t.Errorf("%s level %.2f dBm0, want -13.5", m.Name, lvl)
		}
		// A zero byte is nine bits of space: count its cycles between
		// interpolated zero crossings, leaving the edges out.
		space := modulate(t, m, -13.5, 0, 0, []byte{0}, 0, 0)
		if f := zeroCrossingFreq(space[4:58]); math.Abs(f-m.Space) > m.Space*0.005 {
			t.Errorf("%s space at %.1f Hz, want %.0f ± 0.5 %%", m.Name, f, m.Space)
		}
	}
}

// TestBitTiming checks the bit count and the length of the signal: 300
// seizure bits, 180 marks and one byte are 490 bits, 3266.67 samples.
func TestBitTiming(t *testing.T) {
	m := Bell202()
	x := modulate(t, m, -13.5, SeizureBits, BellcoreMarkBits, []byte{0x80}, 0, 0)
	if want := int(math.Ceil(490 * 8000 / 1200.0)); len(x) != want {
		t.Fatalf("%d samples, want %d", len(x), want)
	}
	// Continuous phase: no step larger than the fastest tone allows.
	amp := dsp.PeakFromDBm0(-13.5)
	lim := amp*2*math.Pi*m.Space/dsp.SampleRate + 2
	for i := 1; i < len(x); i++ {
		if d := math.Abs(float64(x[i]) - float64(x[i-1])); d > lim {
			t.Fatalf("phase jump at sample %d: step %.0f > %.0f", i, d, lim)
		}
	}
	// The seizure is 150 cycles of a 600 Hz square modulating the carrier:
	// decode it and count the alternations.
	// The receiver frames them as 55 (the last one may take a mark as its
	// eighth bit: D5).
	d, _ := NewDemodulator(DemodulatorConfig{})
	out := d.Demodulate(append(x, make([]int16, 100)...), nil)
	n55 := bytes.Count(out, []byte{0x55}) + bytes.Count(out, []byte{0xd5})
	// 300 bits hold 30 characters; carrier detect takes the first one or two.
	if n55 < 27 || n55 > 30 || n55 != len(out)-1 || out[len(out)-1] != 0x80 {
		t.Fatalf("decoded % x: want about 30 × 55 then 80", out)
	}
}

type channel struct {
	name string
	fn   func([]int16, *rand.Rand)
}

func TestLoopback(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	channels := []channel{
		{"clean", func([]int16, *rand.Rand) {}},
		{"ulaw", func(x []int16, _ *rand.Rand) { ulawRoundTrip(x) }},
		{"alaw", func(x []int16, _ *rand.Rand) { alawRoundTrip(x) }},
		{"snr20", func(x []int16, r *rand.Rand) { dsptest.AddNoise(x, 20, r) }},
		{"snr20+ulaw", func(x []int16, r *rand.Rand) { dsptest.AddNoise(x, 20, r); ulawRoundTrip(x) }},
	}
	levels := []float64{0, -14, -30, -40, -45}
	skews := []struct {
		name        string
		scale, plus float64
	}{
		{"nominal", 1, 0}, {"+1%", 1.01, 0}, {"-1%", 0.99, 0}, {"+10Hz", 1, 10}, {"-10Hz", 1, -10},
	}
	if testing.Short() {
		levels = []float64{-14, -40}
		skews = skews[:2]
	}
	for _, base := range []Modem{Bell202(), V23()} {
		for _, sk := range skews {
			m := base
			m.Mark = m.Mark*sk.scale + sk.plus
			m.Space = m.Space*sk.scale + sk.plus
			m.Baud = m.Baud * sk.scale
			for _, lvl := range levels {
				for _, ch := range channels {
					p := randomBytes(rng, 40)
					x := modulate(t, m, lvl, 0, ETSIMarkBits, p, 400, 400)
					ch.fn(x, rng)
					got, d := demodulate(t, DemodulatorConfig{}, x, rng)
					if !bytes.HasSuffix(got, p) || len(got) > len(p)+2 {
						t.Errorf("%s %s %g dBm0 %s: sent % x\n got % x", base.Name, sk.name, lvl, ch.name, p, got)
						continue
					}
					if f, ok := d.MarkFrequency(); !ok || math.Abs(f-m.Mark) > 15 {
						t.Errorf("%s %s %g dBm0 %s: mark estimate %.1f Hz (%v), sent %.1f",
							base.Name, sk.name, lvl, ch.name, f, ok, m.Mark)
					}
				}
			}
		}
	}
}

// TestBER measures character errors at 20 dB SNR through µ-law over many
// short bursts, the way caller ID arrives.
func TestBER(t *testing.T) {
	bursts := 60
	if testing.Short() {
		bursts = 8
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []Modem{Bell202(), V23()} {
		var sent, bad, lost int
		for range bursts {
			p := randomBytes(rng, 64)
			x := modulate(t, m, -13.5, 0, ETSIMarkBits, p, 200, 200)
			dsptest.AddNoise(x, 20, rng)
			ulawRoundTrip(x)
			got, _ := demodulate(t, DemodulatorConfig{}, x, rng)
			sent += len(p)
			if len(got) < len(p) {
				lost++
				continue
			}
			got = got[len(got)-len(p):]
			for i := range p {
				if got[i] != p[i] {
					bad++
				}
			}
		}
		t.Logf("%s at 20 dB SNR + µ-law: %d characters, %d wrong, %d of %d bursts short", m.Name, sent, bad, lost, bursts)
		if bad != 0 || lost != 0 {
			t.Errorf("%s: %d character errors, %d bursts lost at 20 dB SNR", m.Name, bad, lost)
		}
	}
}

// TestThreshold checks that carrier detect ignores signals below its
// threshold and white noise, and that the Bell 202 receiver's mark estimate
// separates the two modems.
func TestThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := []byte("0123456789")
	x := modulate(t, Bell202(), -60, 0, 80, p, 100, 100)
	if got, _ := demodulate(t, DemodulatorConfig{}, x, rng); len(got) != 0 {
		t.Errorf("-60 dBm0 signal decoded as % x", got)
	}
	noise := make([]int16, 8000)
	for i := range noise {
		noise[i] = dsp.Saturate(rng.NormFloat64() * dsp.ZeroDBm0RMS * 0.1) // -20 dBm0
	}
	if got, d := demodulate(t, DemodulatorConfig{}, noise, rng); len(got) != 0 || d.Stats().Carriers != 0 {
		t.Errorf("white noise gave carrier %d times and % x", d.Stats().Carriers, got)
	}
	if _, err := NewDemodulator(DemodulatorConfig{MinLevelDBm0: 5}); err == nil {
		t.Error("positive threshold accepted")
	}
	if _, err := NewModulator(Modem{Mark: 1200, Space: 1200, Baud: 1200}, -10); err == nil {
		t.Error("mark == space accepted")
	}
}

func TestStopBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	mod, _ := NewModulator(V23(), -13.5)
	p := []byte("extra stop bits")
	mod.Mark(80)
	mod.Bytes(p, 3)
	if mod.Bits() != 80+len(p)*12 {
		t.Fatalf("Bits = %d", mod.Bits())
	}
	x := make([]int16, mod.Len()+200)
	mod.Read(x)
	got, _ := demodulate(t, DemodulatorConfig{Modem: V23()}, x, rng)
	if !bytes.Equal(got, p) {
		t.Fatalf("got %q", got)
	}
}

func TestAllocs(t *testing.T) {
	mod, _ := NewModulator(Bell202(), -13.5)
	payload := randomBytes(rand.New(rand.NewPCG(1, 1)), 200)
	frame := make([]int16, dsp.FrameSamples)
	if a := testing.AllocsPerRun(200, func() {
		if mod.Done() {
			mod.Rewind()
		}
		mod.Read(frame)
	}); a != 0 {
		t.Errorf("Modulator.Read: %v allocs per frame", a)
	}
	mod.Reset()
	mod.Mark(80)
	mod.Bytes(payload, 1)
	d, _ := NewDemodulator(DemodulatorConfig{})
	out := make([]byte, 0, 8)
	if a := testing.AllocsPerRun(200, func() {
		if mod.Done() {
			mod.Rewind()
		}
		mod.Read(frame)
		out = d.Demodulate(frame, out[:0])
	}); a != 0 {
		t.Errorf("Demodulator.Demodulate: %v allocs per frame", a)
	}
}

func BenchmarkModulator(b *testing.B) {
	mod, _ := NewModulator(Bell202(), -13.5)
	payload := make([]byte, 4096)
	mod.Bytes(payload, 1)
	frame := make([]int16, dsp.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if mod.Done() {
			mod.Rewind()
		}
		mod.Read(frame)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frame)), "ns/sample")
}

func BenchmarkDemodulator(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := modulate(b, Bell202(), -13.5, 0, 80, randomBytes(rng, 150), 0, 0)
	x = x[:len(x)/dsp.FrameSamples*dsp.FrameSamples]
	d, _ := NewDemodulator(DemodulatorConfig{})
	out := make([]byte, 0, 8)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		out = d.Demodulate(x[i:i+dsp.FrameSamples], out[:0])
		i += dsp.FrameSamples
		if i == len(x) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*dsp.FrameSamples), "ns/sample")
}

// FuzzDemodulator feeds arbitrary audio in arbitrary frames: the receiver
// must neither panic nor deliver more characters than the audio can hold.
func FuzzDemodulator(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint8(7))
	f.Add(bytes.Repeat([]byte{0x7f, 0xff, 0x80, 0x00}, 500), uint8(160))
	rng := rand.New(rand.NewPCG(1, 1))
	x := modulate(f, V23(), -20, 0, 80, []byte("fuzz"), 50, 50)
	seed := make([]byte, 2*len(x))
	for i, v := range x {
		seed[2*i], seed[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	f.Add(seed, uint8(33))
	_ = rng
	f.Fuzz(func(t *testing.T, raw []byte, frame uint8) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		d, err := NewDemodulator(DemodulatorConfig{})
		if err != nil {
			t.Fatal(err)
		}
		n := max(int(frame), 1)
		var out []byte
		for i := 0; i < len(pcm); i += n {
			out = d.Demodulate(pcm[i:min(i+n, len(pcm))], out)
		}
		if max := len(pcm)/60 + 1; len(out) > max {
			t.Fatalf("%d characters from %d samples", len(out), len(pcm))
		}
	})
}

// peak is the frequency of the strongest component of x between lo and hi.
func peak(x []int16, lo, hi float64) float64 {
	f, _ := dsptest.Peak(x, lo, hi)
	return f
}
