package echo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
)

// The tests in this file follow the numbering of ITU-T G.168 §6.4.2. The
// requirements held here (ERLE is measured independently, as
// 10·log10(P(echo)/P(send-out − near-end signal)) over 100 ms windows):
//
//   - Test 2 (convergence, NLP off): ERLE ≥ 20 dB in the window ending at
//     1 s, and ≥ 30 dB steady state (mean over 2–3 s), for ERL 6, 10 and
//     20 dB, tails of 32 and 128 ms, white noise and CSS from −10 to
//     −30 dBm0. G.168 asks a combined loss ERL + ERLE of 20 dB at 1 s;
//     ERLE ≥ 20 dB alone is stricter by the ERL.
//   - Test 3 (double talk): near-end speech at the far end's level does
//     not take the ERLE below 15 dB while it lasts, and 200 ms after it
//     ends the ERLE is within 3 dB of before; near-end speech present from
//     the start, 12 dB under the echo, does not prevent convergence.
//   - Test 4 (leak rate): after 2 s of silence from the far end the ERLE
//     on its return is within 3 dB of what it was.
//   - Test 5 (infinite return loss): send-in silent gives send-out silent.
//   - Test 6 (narrow-band signals): 3 s of tones on receive-in leave the
//     ERLE on broadband signals within 10 dB of before and ≥ 25 dB.

type pathCase struct {
	tail  time.Duration
	model int
	delay int // ms
	erl   float64
	sig   string
	level float64
}

func (k pathCase) String() string {
	return fmt.Sprintf("%v/%s/d%dms/erl%g/%s%g", k.tail, pathModels[k.model].name, k.delay, k.erl, k.sig, k.level)
}

func (k pathCase) signal(n int, rng *rand.Rand) []int16 {
	switch k.sig {
	case "css":
		return css(n, k.level, rng)
	case "speech":
		return speechLike(n, k.level, rng)
	}
	return white(n, k.level, rng)
}

// Test 2B: convergence with the NLP disabled.
func TestG168Test2Convergence(t *testing.T) {
	var cases []pathCase
	for mi := range pathModels {
		for _, erl := range []float64{6, 10, 20} {
			cases = append(cases, pathCase{32 * time.Millisecond, mi, 5 + 6*mi, erl, "white", -10})
		}
	}
	cases = append(cases,
		pathCase{32 * time.Millisecond, 1, 20, 6, "white", -20},
		pathCase{32 * time.Millisecond, 2, 0, 6, "white", -30},
		pathCase{32 * time.Millisecond, 0, 26, 6, "css", -10},
		pathCase{32 * time.Millisecond, 3, 10, 10, "css", -20},
		pathCase{32 * time.Millisecond, 2, 3, 6, "css", -30},
		pathCase{128 * time.Millisecond, 0, 110, 6, "white", -10},
		pathCase{128 * time.Millisecond, 2, 60, 10, "css", -10},
		pathCase{128 * time.Millisecond, 3, 100, 20, "css", -20},
	)
	if testing.Short() {
		cases = []pathCase{cases[4], cases[17]}
	}
	for _, k := range cases {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(k.model), uint64(k.delay)))
			rin := k.signal(ms(3000), rng)
			echo := echoOf(rin, pathModels[k.model], ms(k.delay), k.erl)
			sout := run(newCanceller(t, Config{Tail: k.tail}), rin, hybrid(echo, nil))
			res := residual(sout, nil)
			at1s := erle(echo, res, ms(900), ms(1000))
			steady := erle(echo, res, ms(2000), ms(3000))
			t.Logf("ERLE per 100 ms: %.1f", erleTrack(echo, res, ms(100)))
			if at1s < 20 {
				t.Errorf("ERLE %.1f dB at 1 s, want ≥ 20", at1s)
			}
			if steady < 30 {
				t.Errorf("steady-state ERLE %.1f dB, want ≥ 30", steady)
			}
		})
	}
}

// Test 2C: convergence in the presence of near-end background noise
// (white, −50 dBm0, so the echo at −16 dBm0 stands 34 dB above it).
func TestG168Test2Noise(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	n := ms(3000)
	rin := css(n, -10, rng)
	near := white(n, -50, rng)
	echo := echoOf(rin, pathModels[1], ms(8), 6)
	sout := run(newCanceller(t, Config{}), rin, hybrid(echo, near))
	res := residual(sout, near)
	at1s, steady := erle(echo, res, ms(700), ms(1000)), erle(echo, res, ms(2000), ms(3000))
	t.Logf("ERLE per 100 ms: %.1f", erleTrack(echo, res, ms(100)))
	if at1s < 20 || steady < 25 {
		t.Errorf("ERLE %.1f dB at 1 s and %.1f dB steady, want ≥ 20 and ≥ 25", at1s, steady)
	}
}

// Test 3B: double talk after convergence. Far end: CSS at −10 dBm0
// throughout; near end: speech-like bursts at −10 dBm0 from 2 s to 3.5 s.
// The residual echo is send-out minus the near-end signal.
func TestG168Test3DoubleTalk(t *testing.T) {
	erls := []float64{6, 10, 20}
	if testing.Short() {
		erls = erls[:1]
	}
	for mi, erl := range erls {
		t.Run(fmt.Sprintf("erl%g", erl), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(3, uint64(mi)))
			n := ms(5000)
			rin := css(n, -10, rng)
			near := make([]int16, n)
			copy(near[ms(2000):ms(3500)], speechLike(ms(1500), -10, rng))
			echo := echoOf(rin, pathModels[mi], ms(4+4*mi), erl)
			c := newCanceller(t, Config{})
			sout := run(c, rin, hybrid(echo, near))
			res := residual(sout, near)
			before := erle(echo, res, ms(1500), ms(2000))
			during := erle(echo, res, ms(2000), ms(3500))
			after := erle(echo, res, ms(3700), ms(4200))
			t.Logf("ERLE before %.1f, during %.1f, after %.1f dB; per 100 ms: %.1f",
				before, during, after, erleTrack(echo, res, ms(100)))
			if during < 15 {
				t.Errorf("ERLE fell to %.1f dB during double talk, want ≥ 15", during)
			}
			if after < min(before, 45)-3 {
				t.Errorf("ERLE %.1f dB 200 ms after double talk, %.1f before", after, before)
			}
			for i, v := range erleTrack(echo, res, ms(100)) {
				if i >= 10 && v < 0 {
					t.Errorf("window %d: ERLE %.1f dB: the canceller adds echo", i, v)
				}
			}
		})
	}
}

// Test 3A: near-end speech 12 dB below the echo from the very start, too
// weak for the Geigel detector; the canceller must converge regardless.
func TestG168Test3LowLevelNearEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 1))
	n := ms(4000)
	rin := css(n, -10, rng)
	near := speechLike(n, -10-6-12, rng)
	echo := echoOf(rin, pathModels[2], ms(10), 6)
	sout := run(newCanceller(t, Config{}), rin, hybrid(echo, near))
	res := residual(sout, near)
	end := erle(echo, res, ms(3000), ms(4000))
	t.Logf("ERLE per 100 ms: %.1f", erleTrack(echo, res, ms(100)))
	if end < 15 {
		t.Errorf("ERLE %.1f dB after 3 s with low-level double talk, want ≥ 15", end)
	}
}

// Test 4: leak rate. Converge on white noise, 2 s of far-end silence with
// only near-end background noise, then the far end returns.
func TestG168Test4Leak(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := ms(5000)
	rin := white(n, -10, rng)
	clear(rin[ms(2000):ms(4000)])
	near := white(n, -55, rng)
	echo := echoOf(rin, pathModels[3], ms(12), 6)
	sout := run(newCanceller(t, Config{}), rin, hybrid(echo, near))
	res := residual(sout, near)
	before, back := erle(echo, res, ms(1800), ms(2000)), erle(echo, res, ms(4000), ms(4100))
	t.Logf("ERLE %.1f dB before the silence, %.1f dB in the first 100 ms after", before, back)
	if back < before-3 {
		t.Errorf("ERLE %.1f dB after 2 s of silence, %.1f before: the filter leaked", back, before)
	}
}

// Test 5: infinite return loss. Nothing comes back from the line; nothing
// may be sent, whether or not the NLP and comfort noise are on.
func TestG168Test5InfiniteReturnLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	rin := css(ms(3000), -10, rng)
	sin := make([]int16, len(rin))
	cfgs := []Config{{}, {NLP: true}, {NLP: true, ComfortNoise: true}, {Tail: MaxTail, NLP: true, ComfortNoise: true}}
	if testing.Short() {
		cfgs = cfgs[2:3]
	}
	for _, cfg := range cfgs {
		sout := run(newCanceller(t, cfg), rin, sin)
		for i, v := range sout {
			if v != 0 {
				t.Fatalf("%+v: send-out[%d] = %d with silent send-in", cfg, i, v)
			}
		}
	}
}

// Test 6: narrow-band signals on receive-in (a single tone, then a DTMF
// pair) must not leave the filter diverged for broadband signals.
func TestG168Test6NarrowBand(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	n := ms(6000)
	rin := white(n, -10, rng)
	for i := ms(2000); i < ms(5000); i++ {
		tt := float64(i) / dsp.SampleRate
		var v float64
		if i < ms(3500) {
			v = dsp.PeakFromDBm0(-10) * math.Sin(2*math.Pi*1004*tt)
		} else {
			v = dsp.PeakFromDBm0(-13)*math.Sin(2*math.Pi*852*tt) + dsp.PeakFromDBm0(-13)*math.Sin(2*math.Pi*1477*tt)
		}
		rin[i] = dsp.Saturate(v)
	}
	echo := echoOf(rin[:ms(2000)], pathModels[2], ms(6), 6)
	// echoOf scales on the first part; the same path applies throughout.
	h := pathModels[2].impulse(ms(6), 6)
	full := convolve(rin, h)
	g := echo[ms(1000)] / full[ms(1000)]
	for i := range full {
		full[i] *= g
	}
	sout := run(newCanceller(t, Config{}), rin, hybrid(full, nil))
	res := residual(sout, nil)
	before, after := erle(full, res, ms(1800), ms(2000)), erle(full, res, ms(5000), ms(5200))
	t.Logf("ERLE %.1f dB before the tones, %.1f dB on the first 200 ms of noise after", before, after)
	if after < 25 || after < min(before, 45)-10 {
		t.Errorf("ERLE %.1f dB after narrow-band signals, %.1f before", after, before)
	}
}

// G.711: the same convergence through µ-law on every interface, as on a
// real PCM highway. Quantization noise on send-in bounds the ERLE.
func TestG711Ulaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := ms(3000)
	rin := ulaw(white(n, -10, rng))
	echo := echoOf(rin, pathModels[1], ms(9), 6)
	sin := ulaw(hybrid(echo, nil))
	sout := ulaw(run(newCanceller(t, Config{}), rin, sin))
	res := residual(sout, nil)
	at1s, steady := erle(echo, res, ms(900), ms(1000)), erle(echo, res, ms(2000), ms(3000))
	t.Logf("µ-law ERLE per 100 ms: %.1f", erleTrack(echo, res, ms(100)))
	if at1s < 20 || steady < 25 {
		t.Errorf("µ-law ERLE %.1f dB at 1 s, %.1f dB steady; want ≥ 20 and ≥ 25", at1s, steady)
	}
}

// The NLP removes the residual during far-end single talk, and comfort
// noise replaces it at the near end's background level; near-end speech
// passes during double talk.
func TestNLPAndComfortNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	n := ms(6000)
	rin := make([]int16, n)
	copy(rin[ms(1000):], white(ms(5000), -10, rng))
	bg := white(n, -50, rng)
	near := append([]int16(nil), bg...)
	speech := speechLike(ms(1000), -12, rng)
	for i, v := range speech {
		near[ms(4500)+i] += v
	}
	echo := echoOf(rin, pathModels[0], ms(5), 10)
	sin := hybrid(echo, near)

	cns := []bool{false, true}
	if testing.Short() {
		cns = cns[1:]
	}
	for _, cn := range cns {
		c := newCanceller(t, Config{NLP: true, ComfortNoise: cn})
		sout := run(c, rin, sin)
		// Far-end single talk, converged: 3.0 to 4.5 s.
		lvl := dsp.DBm0FromRMS(dsp.RMS(sout[ms(3000):ms(4500)]))
		bgl := dsp.DBm0FromRMS(dsp.RMS(bg[ms(3000):ms(4500)]))
		t.Logf("comfort noise %v: send-out %.1f dBm0 during far-end single talk, background %.1f dBm0", cn, lvl, bgl)
		if cn && math.Abs(lvl-bgl) > 3 {
			t.Errorf("comfort noise at %.1f dBm0, background at %.1f", lvl, bgl)
		}
		if !cn && lvl > -65 {
			t.Errorf("send-out at %.1f dBm0 with the NLP suppressing, want ≤ -65", lvl)
		}
		// Double talk: near-end speech must come through.
		var ps, pn float64
		for i := ms(4500); i < ms(5500); i++ {
			d := float64(sout[i]) - float64(near[i])
			ps += d * d
			pn += float64(speech[i-ms(4500)]) * float64(speech[i-ms(4500)])
		}
		if snr := 10 * math.Log10(pn/ps); snr < 10 {
			t.Errorf("near-end speech through the NLP with %.1f dB SNR, want ≥ 10 (clipped)", snr)
		}
	}
}

// Stability: a long run of changing material — white noise, CSS,
// speech-like bursts, tones, silence, double talk, level changes from −10
// to −30 dBm0 and an echo path change half way — must never make send-out
// carry more echo than send-in did, and must end converged.
func TestStability(t *testing.T) {
	secs := 60
	switch {
	case testing.Short():
		secs = 4
	case raceEnabled:
		secs = 20
	}
	rng := rand.New(rand.NewPCG(9, 9))
	n := ms(1000 * secs)
	rin := make([]int16, n)
	near := make([]int16, n)
	kinds := []string{"white", "css", "speech", "tone", "silence", "css", "speech", "white"}
	for s := range secs {
		seg := rin[ms(1000*s):ms(1000*(s+1))]
		level := -10 - 20*rng.Float64()
		switch kinds[s%len(kinds)] {
		case "white":
			copy(seg, white(len(seg), level, rng))
		case "css":
			copy(seg, css(len(seg), level, rng))
		case "speech":
			copy(seg, speechLike(len(seg), level, rng))
		case "tone":
			f := 300 + 3000*rng.Float64()
			for i := range seg {
				seg[i] = dsp.Saturate(dsp.PeakFromDBm0(level) * math.Sin(2*math.Pi*f*float64(i)/dsp.SampleRate))
			}
		}
		if s%5 == 3 {
			copy(near[ms(1000*s):], speechLike(ms(1000), level, rng))
		}
	}
	bg := white(n, -60, rng)
	for i := range near {
		near[i] += bg[i]
	}
	half := n / 2
	e1 := echoOf(rin[:half], pathModels[1], ms(7), 10)
	e2 := echoOf(rin[half:], pathModels[3], ms(15), 6)
	echo := append(e1, e2...)
	c := newCanceller(t, Config{})
	sout := run(c, rin, hybrid(echo, near))
	res := residual(sout, near)
	for i := 0; i+ms(500) <= n; i += ms(500) {
		if i < ms(1500) || (i >= half && i < half+ms(1500)) {
			continue // convergence after a reset or a path change
		}
		pe, pr := meanSquare(echo, i, i+ms(500)), meanSquare(res, i, i+ms(500))
		if pe < rmsFor(-55)*rmsFor(-55) {
			continue
		}
		if 10*math.Log10(pe/pr) < 0 {
			t.Errorf("at %.1f s: residual %.1f dB above the echo: diverged", float64(i)/dsp.SampleRate, 10*math.Log10(pr/pe))
		}
	}
	for _, v := range c.h {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite filter tap")
		}
	}
	// End converged: white noise after the run.
	tail := white(ms(1000), -15, rng)
	h := pathModels[3].impulse(ms(15), 6)
	te := convolve(tail, h)
	tout := run(c, tail, hybrid(te, nil))
	if v := erle(te, residual(tout, nil), ms(500), ms(1000)); v < 25 {
		t.Errorf("ERLE %.1f dB after the stability run, want ≥ 25", v)
	}
}
