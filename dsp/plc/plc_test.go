package plc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
)

// harmonic returns n samples of a voiced-like signal: every harmonic of f0
// below 3400 Hz, the k-th at amplitude 1/k, random phases, peaking near
// -10 dBm0.
func harmonic(n int, f0 float64, rng *rand.Rand) []int16 {
	x := make([]float64, n)
	for k := 1; float64(k)*f0 < 3400; k++ {
		ph := 2 * math.Pi * rng.Float64()
		for i := range x {
			x[i] += math.Sin(2*math.Pi*float64(k)*f0*float64(i)/dsp.SampleRate+ph) / float64(k)
		}
	}
	return scale(x, dsp.PeakFromDBm0(-10))
}

// speechLike returns n samples of a synthetic voice: a glottal pulse train
// whose fundamental glides between 100 and 160 Hz, through three formant
// resonators, in syllables of 250 ms with 50 ms pauses.
func speechLike(n int, rng *rand.Rand) []int16 {
	type res struct{ a1, a2, y1, y2 float64 }
	formants := []res{}
	for _, f := range [][2]float64{{600, 90}, {1400, 120}, {2600, 180}} {
		r := math.Exp(-math.Pi * f[1] / dsp.SampleRate)
		formants = append(formants, res{a1: 2 * r * math.Cos(2*math.Pi*f[0]/dsp.SampleRate), a2: -r * r})
	}
	x := make([]float64, n)
	var phase, glottal float64
	for i := range x {
		t := float64(i) / dsp.SampleRate
		f0 := 130 + 30*math.Sin(2*math.Pi*0.7*t+1)
		e := 0.0
		if phase += f0 / dsp.SampleRate; phase >= 1 {
			phase--
			e = 1
		}
		glottal = e + 0.9*glottal + 0.01*rng.NormFloat64()
		v := glottal
		for k := range formants {
			f := &formants[k]
			y := v + f.a1*f.y1 + f.a2*f.y2
			f.y2, f.y1 = f.y1, y
			v = y
		}
		syl := math.Mod(t, 0.3)
		env := 0.0
		if syl < 0.25 {
			env = math.Sin(math.Pi * syl / 0.25)
		}
		x[i] = v * env
	}
	return scale(x, dsp.PeakFromDBm0(-6))
}

func scale(x []float64, peak float64) []int16 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	y := make([]int16, len(x))
	for i, v := range x {
		y[i] = dsp.Saturate(v * peak / m)
	}
	return y
}

// run passes x through c frame by frame, losing the frames for which lost
// returns true, and returns the output advanced by Delay so that it lines
// up with x (the last Delay samples are zero).
func run(c *Concealer, x []int16, lost func(frame int) bool) []int16 {
	out := make([]int16, len(x))
	var f [FrameSamples]int16
	for i := 0; i+FrameSamples <= len(x); i += FrameSamples {
		if lost(i / FrameSamples) {
			c.Lost(&f)
		} else {
			copy(f[:], x[i:])
			c.Good(&f)
		}
		copy(out[i:], f[:])
	}
	copy(out, out[Delay:])
	clear(out[len(out)-Delay:])
	return out
}

func never(int) bool { return false }

// Without losses the output is the input, Delay samples late.
func TestDelayWithoutLoss(t *testing.T) {
	x := speechLike(8000, rand.New(rand.NewPCG(1, 1)))
	y := run(New(), x, never)
	for i := range len(x) - Delay {
		if y[i] != x[i] {
			t.Fatalf("sample %d: %d, want %d", i, y[i], x[i])
		}
	}
}

// Appendix I pitch detection: the period of a harmonic series with a
// fundamental from 100 to 200 Hz is found within ±1 sample.
func TestAppendixIPitchDetection(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	worst := 0.0
	for f0 := 100.0; f0 <= 200; f0 += 3.7 {
		x := harmonic(4*FrameSamples, f0, rng)
		c := New()
		var f [FrameSamples]int16
		for i := 0; i < 3*FrameSamples; i += FrameSamples {
			copy(f[:], x[i:])
			c.Good(&f)
		}
		c.Lost(&f)
		want := dsp.SampleRate / f0
		err := math.Abs(float64(c.Pitch()) - want)
		worst = max(worst, err)
		if err > 1 {
			t.Errorf("f0 %.1f Hz: pitch %d samples, want %.2f ± 1", f0, c.Pitch(), want)
		}
	}
	t.Logf("largest pitch error %.2f samples", worst)
}

// The pitch search also works on the speech-like signal: the period it
// finds matches the fundamental the signal had just before the loss.
func TestAppendixIPitchOfSpeechLike(t *testing.T) {
	x := speechLike(8000, rand.New(rand.NewPCG(3, 3)))
	for _, at := range []int{5, 12, 20, 33} { // frames inside syllables
		c := New()
		run(c, x[:(at+1)*FrameSamples], func(f int) bool { return f == at })
		tt := float64(at*FrameSamples) / dsp.SampleRate
		want := dsp.SampleRate / (130 + 30*math.Sin(2*math.Pi*0.7*tt+1))
		if math.Abs(float64(c.Pitch())-want) > 2 {
			t.Errorf("loss at frame %d: pitch %d, want about %.1f", at, c.Pitch(), want)
		}
	}
}

// maxStep returns the largest |y[i]-y[i-1]| for i in [lo, hi).
func maxStep(y []int16, lo, hi int) float64 {
	m := 0.0
	for i := max(lo, 1); i < hi; i++ {
		m = max(m, math.Abs(float64(y[i])-float64(y[i-1])))
	}
	return m
}

// Appendix I continuity: the concealment joins the history and the real
// signal after it without a step larger than the signal's own steepest one
// (times 1.3). Zero insertion would step by the full amplitude.
func TestAppendixIContinuity(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, f0 := range []float64{103, 137, 171, 197} {
		for _, n := range []int{1, 2, 4} { // lost frames
			x := harmonic(20*FrameSamples, f0, rng)
			from := 8
			y := run(New(), x, func(f int) bool { return f >= from && f < from+n })
			bound := 1.3 * maxStep(x, 0, len(x))
			start := from * FrameSamples
			end := (from + n) * FrameSamples
			if s := maxStep(y, start-Delay-8, start+40); s > bound {
				t.Errorf("f0 %.0f Hz, %d lost: step %.0f at the loss start, bound %.0f", f0, n, s, bound)
			}
			if s := maxStep(y, end-8, end+90); s > bound {
				t.Errorf("f0 %.0f Hz, %d lost: step %.0f at recovery, bound %.0f", f0, n, s, bound)
			}
			if s := maxStep(y, 0, len(y)-Delay); s > bound {
				t.Errorf("f0 %.0f Hz, %d lost: step %.0f somewhere, bound %.0f", f0, n, s, bound)
			}
		}
	}
}

// Appendix I attenuation: the synthetic signal keeps the level for the
// first 10 ms, then falls linearly by 20 % per 10 ms (100 % → 80 % over the
// second 10 ms, 80 % → 60 % over the third, …) and is silent from 60 ms on.
// The signal has a period of exactly 80 samples, so the concealment repeats
// it exactly and the level of each 10 ms can be predicted: the level of the
// original 10 ms under the ideal ramp.
func TestAppendixIAttenuation(t *testing.T) {
	const from = 8
	x := harmonic(20*FrameSamples, 100, rand.New(rand.NewPCG(5, 5)))
	y := run(New(), x, func(f int) bool { return f >= from })
	for k := 1; k <= 8; k++ {
		lo := from*FrameSamples + (k-1)*block
		a, b := 1.0, 1.0 // gain at the start and the end of the block
		if k >= 2 {
			a, b = max(1-0.2*float64(k-2), 0), max(1-0.2*float64(k-1), 0)
		}
		ideal := make([]int16, block)
		for i := range ideal {
			g := 1.0
			if k >= 2 {
				g = max(a-0.2*float64(i+1)/block, 0)
			}
			ideal[i] = dsp.Saturate(g * float64(x[lo+i]))
		}
		ref := dsp.RMS(x[lo : lo+block])
		got, want := dsp.RMS(y[lo:lo+block])/ref, dsp.RMS(ideal)/ref
		t.Logf("10 ms block %d: gain %3.0f %% → %3.0f %%, level %.3f (want %.3f)", k, 100*a, 100*b, got, want)
		switch {
		case want == 0 && got != 0:
			t.Errorf("block %d (after 60 ms): level %.4f, want silence", k, got)
		case want > 0 && math.Abs(20*math.Log10(got/want)) > 0.1:
			t.Errorf("block %d: level %.3f, want %.3f ± 0.1 dB", k, got, want)
		}
	}
}

// Appendix I: after 60 ms of loss the output is silent for good.
func TestAppendixISilenceAfter60ms(t *testing.T) {
	x := speechLike(40*FrameSamples, rand.New(rand.NewPCG(6, 6)))
	y := run(New(), x, func(f int) bool { return f >= 6 })
	for i := 6*FrameSamples + 60*dsp.SampleRate/1000; i < len(y); i++ {
		if y[i] != 0 {
			t.Fatalf("sample %d, %d ms into the loss: %d, want 0", i, (i-6*FrameSamples)/8, y[i])
		}
	}
}

// With no history the concealment is silence, and the first good frame
// fades in from it.
func TestFirstFrameLost(t *testing.T) {
	c := New()
	var f [FrameSamples]int16
	for range 3 {
		for i := range f {
			f[i] = 1000
		}
		c.Lost(&f)
		for i, v := range f {
			if v != 0 {
				t.Fatalf("sample %d of a concealed frame without history: %d", i, v)
			}
		}
	}
	x := dsptest.Sine(FrameSamples, 400, -10, 0)
	copy(f[:], x)
	c.Good(&f)
	if s := maxStep(f[:], 0, FrameSamples); s > 1.3*maxStep(x, 0, FrameSamples) {
		t.Errorf("step %.0f fading in after silence", s)
	}
}

// Recovery cross-fade length: 4 ms plus 4 ms per further lost 10 ms, at
// most 10 ms. A loss of one 20 ms frame is two lost 10 ms blocks: 8 ms.
func TestAppendixIRecoveryLength(t *testing.T) {
	for _, k := range []struct{ lostFrames, want int }{{1, 64}, {2, 80}, {5, 80}} {
		c := New()
		var f [FrameSamples]int16
		// Silence then a loss: the continuation is zero, so the recovery
		// frame shows the fade-in ramp itself.
		for range 3 {
			clear(f[:])
			c.Good(&f)
		}
		for range k.lostFrames {
			c.Lost(&f)
		}
		for i := range f {
			f[i] = 10000
		}
		c.Good(&f)
		// The first Delay output samples are still concealment.
		n := 0
		for _, v := range f[Delay:] {
			if v == 10000 {
				break
			}
			n++
		}
		if n != k.want {
			t.Errorf("%d lost frames: fade-in over %d samples, want %d", k.lostFrames, n, k.want)
		}
	}
}

func snr(x, y []int16) float64 {
	var s, e float64
	for i := range x {
		d := float64(x[i]) - float64(y[i])
		s += float64(x[i]) * float64(x[i])
		e += d * d
	}
	return 10 * math.Log10(s/e)
}

// segSNR is the mean over 10 ms segments with signal above -50 dBm0 of the
// SNR in dB, each clamped to [-10, 35] dB.
func segSNR(x, y []int16) float64 {
	var sum float64
	n := 0
	for i := 0; i+block <= len(x); i += block {
		if dsp.DBm0FromRMS(dsp.RMS(x[i:i+block])) < -50 {
			continue
		}
		sum += min(max(snr(x[i:i+block], y[i:i+block]), -10), 35)
		n++
	}
	return sum / float64(n)
}

// Under 20 % random loss of 20 ms frames the concealment tracks a voice
// better than playing silence and better than repeating the last frame:
// a higher SNR over the whole signal, and a higher segmental SNR over the
// 10 ms segments of the lost frames. (The segmental SNR over all segments
// is logged, not checked: the recovery cross-fade spends 8 to 10 ms of the
// first good frame on a smooth join, which waveform measures count as
// error that silence and repetition, with their steps, do not make.)
func TestRandomLoss20Percent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := speechLike(10*dsp.SampleRate, rng)
	frames := len(x) / FrameSamples
	lost := make([]bool, frames)
	for i := 2; i < frames; i++ {
		lost[i] = rng.Float64() < 0.2
	}
	y := run(New(), x, func(f int) bool { return lost[f] })
	zero := append([]int16(nil), x...)
	rep := append([]int16(nil), x...)
	for f := range frames {
		if lost[f] {
			clear(zero[f*FrameSamples : (f+1)*FrameSamples])
			copy(rep[f*FrameSamples:(f+1)*FrameSamples], rep[(f-1)*FrameSamples:f*FrameSamples])
		}
	}
	n := frames*FrameSamples - Delay
	x, y, zero, rep = x[:n], y[:n], zero[:n], rep[:n]
	only := func(v []int16) []int16 { // the lost frames, end to end
		var o []int16
		for f := range frames - 1 {
			if lost[f] {
				o = append(o, v[f*FrameSamples:(f+1)*FrameSamples]...)
			}
		}
		return o
	}
	p, z, r := snr(x, y), snr(x, zero), snr(x, rep)
	pl, zl, rl := segSNR(only(x), only(y)), segSNR(only(x), only(zero)), segSNR(only(x), only(rep))
	ps, zs, rs := segSNR(x, y), segSNR(x, zero), segSNR(x, rep)
	t.Logf("%d of %d frames lost", len(only(x))/FrameSamples, frames)
	t.Logf("SNR: concealment %.2f dB, zero insertion %.2f dB, frame repetition %.2f dB", p, z, r)
	t.Logf("segmental SNR of lost frames: concealment %.2f dB, zero insertion %.2f dB, frame repetition %.2f dB", pl, zl, rl)
	t.Logf("segmental SNR of everything: concealment %.2f dB, zero insertion %.2f dB, frame repetition %.2f dB", ps, zs, rs)
	if p <= z || p <= r {
		t.Errorf("SNR %.2f dB not above zero insertion (%.2f) and repetition (%.2f)", p, z, r)
	}
	if pl <= zl || pl <= rl {
		t.Errorf("segmental SNR of lost frames %.2f dB not above zero insertion (%.2f) and repetition (%.2f)", pl, zl, rl)
	}
}

func TestReset(t *testing.T) {
	x := speechLike(4*FrameSamples, rand.New(rand.NewPCG(8, 8)))
	c := New()
	run(c, x, func(f int) bool { return f == 3 })
	c.Reset()
	var f [FrameSamples]int16
	c.Lost(&f)
	for _, v := range f {
		if v != 0 {
			t.Fatal("concealment after Reset is not silent")
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	x := speechLike(FrameSamples, rand.New(rand.NewPCG(9, 9)))
	c := New()
	var f [FrameSamples]int16
	if a := testing.AllocsPerRun(100, func() {
		copy(f[:], x)
		c.Good(&f)
	}); a != 0 {
		t.Errorf("Good: %.1f allocations per frame", a)
	}
	i := 0
	if a := testing.AllocsPerRun(100, func() {
		if i++; i%3 == 0 {
			c.Lost(&f)
		} else {
			copy(f[:], x)
			c.Good(&f)
		}
	}); a != 0 {
		t.Errorf("Good and Lost mixed: %.1f allocations per frame", a)
	}
}

func benchReport(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*FrameSamples), "ns/sample")
}

// BenchmarkGood is the cost of a frame when nothing is lost.
func BenchmarkGood(b *testing.B) {
	x := speechLike(FrameSamples, rand.New(rand.NewPCG(10, 10)))
	c := New()
	var f [FrameSamples]int16
	for b.Loop() {
		copy(f[:], x)
		c.Good(&f)
	}
	benchReport(b)
}

// BenchmarkLostFirst is the cost of the first lost frame of a loss, which
// carries the pitch search, and of the good frame that ends it.
func BenchmarkLostFirst(b *testing.B) {
	x := speechLike(FrameSamples, rand.New(rand.NewPCG(11, 11)))
	c := New()
	var f [FrameSamples]int16
	copy(f[:], x)
	c.Good(&f)
	for b.Loop() {
		c.Lost(&f)
		copy(f[:], x)
		c.Good(&f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*FrameSamples), "ns/sample")
}

// BenchmarkLost is the cost of a frame deep into a loss.
func BenchmarkLost(b *testing.B) {
	x := speechLike(FrameSamples, rand.New(rand.NewPCG(12, 12)))
	c := New()
	var f [FrameSamples]int16
	copy(f[:], x)
	c.Good(&f)
	c.Lost(&f)
	c.Lost(&f)
	for b.Loop() {
		c.Lost(&f)
	}
	benchReport(b)
}
