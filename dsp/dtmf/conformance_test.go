package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// The receiver conformance suite. Each test builds synthetic signals for the
// limits of ITU-T Q.24 (with ETSI ES 201 235-3 and Bellcore values where Q.24
// leaves a choice), runs every case at random tone phases, random positions
// relative to the detector's 5 ms sub-blocks and random frame sizes, and
// repeats it through G.711 µ-law and A-law.

const allDigits = "0123456789*#ABCD"

// reps returns n, or short in -short mode: fewer alignments, same cases.
func reps(n, short int) int {
	if testing.Short() {
		return short
	}
	return n
}

// tally counts the runs of one conformance item for the log.
type tally struct {
	t          *testing.T
	name       string
	cases, run int
	failed     int
}

func newTally(t *testing.T, name string) *tally { return &tally{t: t, name: name} }

// check records one run; want is the expected digit string.
func (ty *tally) check(what string, ev []Event, want string) {
	ty.t.Helper()
	ty.run++
	if got := digitsOf(ev); got != want {
		ty.failed++
		if ty.failed <= 10 {
			ty.t.Errorf("%s: %s: got %q, want %q (events %v)", ty.name, what, got, want, ev)
		}
	}
}

func (ty *tally) done() {
	ty.t.Logf("%s: %d cases, %d runs (phases × alignments × codecs), %d failed",
		ty.name, ty.cases, ty.run, ty.failed)
}

// lead returns a random leading silence, which sets the alignment of the
// tones against the detector's sub-blocks.
func lead(rng *rand.Rand) int { return ms(20) + rng.IntN(2*subLen*5) }

// single builds one digit of on samples with the given offsets and levels,
// framed by silence, through codec c.
func single(rng *rand.Rand, digit byte, on int, offL, offH, lowDB, highDB float64, c codec) []int16 {
	start := lead(rng)
	s := make(signal, start+on+ms(120))
	s.addDigit(rng, digit, start, on, offL, offH, lowDB, highDB)
	return s.pcm(c)
}

func TestQ24SixteenDigitsTenTimes(t *testing.T) {
	// 16 digits × 10 at 50 ms on / 50 ms off; timing to within 2 ms.
	ty := newTally(t, "16 digits x10, 50/50 ms")
	ty.cases = 160
	rng := rand.New(rand.NewPCG(1, 1))
	var want string
	for range 10 {
		want += allDigits
	}
	on, off := ms(50), ms(50)
	var worstBegin, worstEnd int64
	for rep := range reps(10, 1) {
		for _, c := range codecs {
			start := lead(rng)
			s := make(signal, start+len(want)*(on+off)+ms(100))
			for i := range len(want) {
				s.addDigit(rng, want[i], start+i*(on+off), on, 0, 0, -10, -8)
			}
			ev := detect(t, rng, s.pcm(c), Config{})
			ty.check(fmt.Sprintf("rep %d %v", rep, c), ev, want)
			if len(ev) != 2*len(want) {
				continue
			}
			for i := range len(want) {
				b := ev[2*i].Sample - int64(start+i*(on+off))
				e := ev[2*i+1].Sample - int64(start+i*(on+off)+on)
				worstBegin = max(worstBegin, b, -b)
				worstEnd = max(worstEnd, e, -e)
			}
		}
	}
	ty.done()
	t.Logf("worst begin error %d samples, worst end error %d samples", worstBegin, worstEnd)
	if worstBegin > 16 || worstEnd > 16 {
		t.Errorf("boundaries off by up to %d/%d samples, want ≤ 16 (2 ms)", worstBegin, worstEnd)
	}
}

func TestQ24FrequencyAcceptOnePointFivePercent(t *testing.T) {
	ty := newTally(t, "±1.5 % offset accepted")
	rng := rand.New(rand.NewPCG(2, 2))
	offs := [][2]float64{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}}
	for _, o := range offs {
		for i := range len(allDigits) {
			ty.cases++
			for rep := range reps(10, 1) {
				for _, c := range codecs {
					x := single(rng, allDigits[i], ms(50), 0.015*o[0], 0.015*o[1], -10, -8, c)
					ty.check(fmt.Sprintf("%c %+.1f%%/%+.1f%% rep %d %v", allDigits[i], 1.5*o[0], 1.5*o[1], rep, c),
						detect(t, rng, x, Config{}), string(allDigits[i]))
				}
			}
		}
	}
	ty.done()
}

func TestQ24FrequencyRejectThreePointFivePercent(t *testing.T) {
	ty := newTally(t, "±3.5 % offset of one tone rejected")
	rng := rand.New(rand.NewPCG(3, 3))
	offs := [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, -1}}
	for _, o := range offs {
		for i := range len(allDigits) {
			ty.cases++
			for rep := range reps(10, 1) {
				for _, c := range codecs {
					x := single(rng, allDigits[i], ms(80), 0.035*o[0], 0.035*o[1], -10, -8, c)
					ty.check(fmt.Sprintf("%c %+.1f%%/%+.1f%% rep %d %v", allDigits[i], 3.5*o[0], 3.5*o[1], rep, c),
						detect(t, rng, x, Config{}), "")
				}
			}
		}
	}
	ty.done()
}

func TestQ24Twist(t *testing.T) {
	// Twist (high − low) from −8 to +4 dB, with both tones kept between 0
	// and −25 dBm0: at the loud end and at the quiet end.
	ty := newTally(t, "twist -8…+4 dB accepted")
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tw := range []float64{-8, -6, -4, -2, 0, 2, 4} {
		loud := math.Min(0, -tw)       // low level with the louder tone at 0 dBm0
		quiet := math.Max(-25, -25-tw) // low level with the weaker tone at −25
		for _, low := range []float64{loud, quiet} {
			for i := range len(allDigits) {
				ty.cases++
				for rep := range reps(6, 1) {
					for _, c := range codecs {
						x := single(rng, allDigits[i], ms(50), 0, 0, low, low+tw, c)
						ty.check(fmt.Sprintf("%c twist %+v low %v rep %d %v", allDigits[i], tw, low, rep, c),
							detect(t, rng, x, Config{}), string(allDigits[i]))
					}
				}
			}
		}
	}
	ty.done()
}

func TestQ24TwistWithOffset(t *testing.T) {
	// The corners together: extreme twist with both tones 1.5 % off.
	ty := newTally(t, "twist extremes with ±1.5 % offsets")
	rng := rand.New(rand.NewPCG(14, 14))
	for _, tw := range []float64{-8, 4} {
		for _, o := range [][2]float64{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
			for i := range len(allDigits) {
				ty.cases++
				for rep := range reps(6, 1) {
					for _, c := range codecs {
						low := -10.0
						x := single(rng, allDigits[i], ms(50), 0.015*o[0], 0.015*o[1], low, low+tw, c)
						ty.check(fmt.Sprintf("%c twist %+v offs %v rep %d %v", allDigits[i], tw, o, rep, c),
							detect(t, rng, x, Config{}), string(allDigits[i]))
					}
				}
			}
		}
	}
	ty.done()
}

func TestQ24Level(t *testing.T) {
	ty := newTally(t, "0…−25 dBm0 per tone accepted")
	rng := rand.New(rand.NewPCG(5, 5))
	for _, lvl := range []float64{0, -5, -10, -15, -20, -25} {
		for i := range len(allDigits) {
			ty.cases++
			for rep := range reps(6, 1) {
				for _, c := range codecs {
					x := single(rng, allDigits[i], ms(50), 0, 0, lvl, lvl, c)
					ev := detect(t, rng, x, Config{})
					ty.check(fmt.Sprintf("%c at %v dBm0 rep %d %v", allDigits[i], lvl, rep, c), ev, string(allDigits[i]))
					// Two tones at 0 dBm0 peak at 45298 and clip in 16-bit PCM
					// (and in G.711); check the measured levels where they fit.
					clipped := 2*dsp.PeakFromDBm0(lvl) > math.MaxInt16
					if len(ev) == 2 && !clipped && (math.Abs(ev[0].LowDBm0-lvl) > 1 || math.Abs(ev[0].HighDBm0-lvl) > 1) {
						t.Errorf("%c at %v dBm0 %v: measured %.2f/%.2f dBm0", allDigits[i], lvl, c, ev[0].LowDBm0, ev[0].HighDBm0)
					}
				}
			}
		}
	}
	ty.done()
	ty = newTally(t, "−36 and −50 dBm0 per tone rejected")
	for _, lvl := range []float64{-36, -40, -50} {
		for i := range len(allDigits) {
			ty.cases++
			for rep := range reps(6, 1) {
				for _, c := range codecs {
					x := single(rng, allDigits[i], ms(100), 0, 0, lvl, lvl, c)
					ty.check(fmt.Sprintf("%c at %v dBm0 rep %d %v", allDigits[i], lvl, rep, c), detect(t, rng, x, Config{}), "")
				}
			}
		}
	}
	ty.done()
}

func TestQ24Duration(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, tc := range []struct {
		ms     float64
		accept bool
	}{{40, true}, {45, true}, {25, false}, {20, false}, {10, false}} {
		name := fmt.Sprintf("%v ms tone rejected", tc.ms)
		if tc.accept {
			name = fmt.Sprintf("%v ms tone accepted", tc.ms)
		}
		ty := newTally(t, name)
		for i := range len(allDigits) {
			ty.cases++
			want := ""
			if tc.accept {
				want = string(allDigits[i])
			}
			for rep := range reps(16, 2) {
				for _, c := range codecs {
					x := single(rng, allDigits[i], ms(tc.ms), 0, 0, -10, -8, c)
					ty.check(fmt.Sprintf("%c rep %d %v", allDigits[i], rep, c), detect(t, rng, x, Config{}), want)
				}
			}
		}
		ty.done()
	}
}

// interrupted builds digit as on1 samples of tone, a gap, and on2 more
// samples, the tones continuing their phase across the gap as a dropout on
// the line would leave them.
func interrupted(rng *rand.Rand, digit byte, on1, gap, on2 int, c codec) []int16 {
	start := lead(rng)
	s := make(signal, start+on1+gap+on2+ms(120))
	lo, hi, _ := Frequencies(digit)
	for _, f := range []float64{float64(lo), float64(hi)} {
		ph := rng.Float64() * 2 * math.Pi
		lvl := -10.0
		if f > 1000 {
			lvl = -8
		}
		s.addTone(start, on1, f, lvl, ph)
		ph2 := ph + 2*math.Pi*f/dsp.SampleRate*float64(on1+gap)
		s.addTone(start+on1+gap, on2, f, lvl, ph2)
	}
	return s.pcm(c)
}

func TestQ24Interruption(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		gap  float64
		want int // digits reported
	}{{5, 1}, {10, 1}, {15, 1}, {30, 2}, {40, 2}, {50, 2}} {
		ty := newTally(t, fmt.Sprintf("%v ms interruption gives %d digit(s)", tc.gap, tc.want))
		for i := range len(allDigits) {
			ty.cases++
			d := string(allDigits[i])
			want := d
			if tc.want == 2 {
				want = d + d
			}
			for rep := range reps(10, 1) {
				for _, c := range codecs {
					on1 := ms(45) + rng.IntN(ms(30))
					x := interrupted(rng, allDigits[i], on1, ms(tc.gap), ms(60), c)
					ty.check(fmt.Sprintf("%c rep %d %v", allDigits[i], rep, c), detect(t, rng, x, Config{}), want)
				}
			}
		}
		ty.done()
	}
}

func TestQ24FortyOnFortyOff(t *testing.T) {
	ty := newTally(t, "40 ms on / 40 ms off, all digits")
	rng := rand.New(rand.NewPCG(8, 8))
	on := ms(40)
	// Repeat each digit twice so that equal neighbours must split on the
	// 40 ms pause alone.
	var want string
	for i := range len(allDigits) {
		want += string(allDigits[i]) + string(allDigits[i])
	}
	ty.cases = len(want)
	for rep := range reps(16, 2) {
		for _, c := range codecs {
			start := lead(rng)
			s := make(signal, start+len(want)*2*on+ms(100))
			for i := range len(want) {
				s.addDigit(rng, want[i], start+i*2*on, on, 0, 0, -10, -8)
			}
			ty.check(fmt.Sprintf("rep %d %v", rep, c), detect(t, rng, s.pcm(c), Config{}), want)
		}
	}
	ty.done()
}

// sequence builds digits at 50/50 ms over a background, from a random lead.
func sequence(rng *rand.Rand, digits string, lowDB, highDB float64, bg func(n int) []float64) signal {
	on := ms(50)
	start := lead(rng)
	s := make(signal, start+len(digits)*2*on+ms(100))
	for i := range len(digits) {
		s.addDigit(rng, digits[i], start+i*2*on, on, 0, 0, lowDB, highDB)
	}
	if bg != nil {
		for i, v := range bg(len(s)) {
			s[i] += v
		}
	}
	return s
}

// tonePower is the mean square, in PCM units, of two tones at these levels.
func tonePower(lowDB, highDB float64) float64 {
	a, b := dsp.PeakFromDBm0(lowDB), dsp.PeakFromDBm0(highDB)
	return (a*a + b*b) / 2
}

func TestQ24Noise(t *testing.T) {
	// Gaussian noise band-limited to 300-3400 Hz, 15 dB below the total
	// power of the two tones, present throughout (also in the pauses).
	for _, lv := range [][2]float64{{-10, -8}, {-20, -20}, {-18, -22}} {
		ty := newTally(t, fmt.Sprintf("15 dB SNR, tones %v/%v dBm0", lv[0], lv[1]))
		ty.cases = len(allDigits)
		rng := rand.New(rand.NewPCG(9, 9))
		rms := math.Sqrt(tonePower(lv[0], lv[1]) / math.Pow(10, 1.5))
		for rep := range reps(10, 1) {
			for _, c := range codecs {
				s := sequence(rng, allDigits, lv[0], lv[1], func(n int) []float64 { return bandNoise(rng, n, rms) })
				ty.check(fmt.Sprintf("rep %d %v", rep, c), detect(t, rng, s.pcm(c), Config{}), allDigits)
			}
		}
		ty.done()
	}
}

func TestQ24DialTone(t *testing.T) {
	// US dial tone, 350 + 440 Hz, whose total power equals that of the
	// digit (each component at the mean level of the two DTMF tones),
	// present throughout.
	for _, lv := range [][2]float64{{-10, -8}, {-20, -20}, {-8, -16}, {-14, -10}} {
		ty := newTally(t, fmt.Sprintf("under equal-level dial tone, tones %v/%v dBm0", lv[0], lv[1]))
		ty.cases = len(allDigits)
		rng := rand.New(rand.NewPCG(10, 10))
		each := dsp.DBm0FromRMS(math.Sqrt(tonePower(lv[0], lv[1]) / 2))
		for rep := range reps(10, 1) {
			for _, c := range codecs {
				s := sequence(rng, allDigits, lv[0], lv[1], func(n int) []float64 {
					bg := make(signal, n)
					bg.addTone(0, n, 350, each, rng.Float64()*7)
					bg.addTone(0, n, 440, each, rng.Float64()*7)
					return bg
				})
				ty.check(fmt.Sprintf("rep %d %v", rep, c), detect(t, rng, s.pcm(c), Config{}), allDigits)
			}
		}
		ty.done()
	}
}

func TestDialToneAloneIsNotADigit(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, c := range codecs {
		s := make(signal, ms(3000))
		s.addTone(0, len(s), 350, -13, 0)
		s.addTone(0, len(s), 440, -13, 1)
		if ev := detect(t, rng, s.pcm(c), Config{}); len(ev) != 0 {
			t.Errorf("%v: dial tone gave %v", c, ev)
		}
	}
}

func TestBeginLatency(t *testing.T) {
	// Q.24 leaves the recognition time open; Tipring promises a Begin event
	// no later than 45 ms after the tone starts. Feed sample by sample and
	// note the position at which Begin appears.
	rng := rand.New(rand.NewPCG(12, 12))
	var worst, sum, n int
	for i := range len(allDigits) {
		for range reps(16, 2) {
			for _, c := range codecs {
				start := lead(rng)
				s := make(signal, start+ms(100))
				s.addDigit(rng, allDigits[i], start, ms(60), 0, 0, -10, -8)
				x := s.pcm(c)
				d := NewDetector(Config{})
				var ev []Event
				at := -1
				for j := range x {
					ev = d.Process(ev[:0], x[j:j+1])
					if len(ev) > 0 && ev[0].Kind == Begin {
						at = j + 1
						break
					}
				}
				if at < 0 {
					t.Fatalf("%c %v: no Begin", allDigits[i], c)
				}
				lat := at - start
				worst = max(worst, lat)
				sum += lat
				n++
			}
		}
	}
	t.Logf("Begin latency: mean %.1f ms, worst %.1f ms over %d runs",
		float64(sum)/float64(n)/8, float64(worst)/8, n)
	if worst > ms(45) {
		t.Errorf("worst Begin latency %.1f ms, want ≤ 45 ms", float64(worst)/8)
	}
}

func TestFrameSizeInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	s := sequence(rng, "159D*0#", -12, -9, func(n int) []float64 { return bandNoise(rng, n, 300) })
	x := s.pcm(linear)
	var ref []Event
	for _, size := range []int{1, 7, 40, 80, 160, 161, 1000, len(x)} {
		d := NewDetector(Config{})
		var ev []Event
		for p := 0; p < len(x); p += size {
			ev = d.Process(ev, x[p:min(p+size, len(x))])
		}
		ev = d.Flush(ev)
		if ref == nil {
			ref = ev
			if digitsOf(ev) != "159D*0#" {
				t.Fatalf("got %q", digitsOf(ev))
			}
			continue
		}
		if fmt.Sprint(ev) != fmt.Sprint(ref) {
			t.Errorf("frame size %d: %v, want %v", size, ev, ref)
		}
	}
}

func TestDetectorAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	x := sequence(rng, allDigits, -10, -8, nil).pcm(linear)
	d := NewDetector(Config{})
	ev := make([]Event, 0, 8)
	p := 0
	allocs := testing.AllocsPerRun(200, func() {
		if p+dsp.FrameSamples > len(x) {
			p = 0
		}
		ev = d.Process(ev[:0], x[p:p+dsp.FrameSamples])
		p += dsp.FrameSamples
	})
	if allocs != 0 {
		t.Errorf("Process allocates %v times per frame", allocs)
	}
}

func TestFlushEndsDigitInProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	s := make(signal, ms(200))
	s.addDigit(rng, '7', ms(100), ms(100), 0, 0, -10, -8)
	d := NewDetector(Config{})
	ev := d.Process(nil, s.pcm(linear))
	if len(ev) != 1 || ev[0].Kind != Begin {
		t.Fatalf("got %v, want one Begin", ev)
	}
	ev = d.Flush(ev)
	if len(ev) != 2 || ev[1].Kind != End || ev[1].Sample > int64(len(s)) || ev[1].Sample < int64(len(s))-16 {
		t.Fatalf("after Flush %v", ev)
	}
	if d.Position() != 0 {
		t.Errorf("Position after Flush = %d", d.Position())
	}
}

// BenchmarkDetector measures the receiver on the worst steady load, digits
// at 50/50 ms in band-limited noise (every 5 ms window gets the full
// analysis), on speech (espeak-ng, if installed), and on silence (the
// common case on a line).
func BenchmarkDetector(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 17))
	rms := math.Sqrt(tonePower(-10, -8) / math.Pow(10, 1.5))
	busy := sequence(rng, allDigits, -10, -8, func(n int) []float64 { return bandNoise(rng, n, rms) }).pcm(linear)
	speech := speechPCM(b, 20)
	for _, bc := range []struct {
		name string
		x    []int16
	}{{"digits+noise", busy}, {"speech", speech}, {"silence", make([]int16, len(busy))}} {
		b.Run(bc.name, func(b *testing.B) {
			if len(bc.x) < dsp.FrameSamples {
				b.Skip("espeak-ng not installed")
			}
			d := NewDetector(Config{})
			ev := make([]Event, 0, 8)
			b.SetBytes(dsp.FrameSamples * 2)
			p := 0
			for range b.N {
				if p+dsp.FrameSamples > len(bc.x) {
					p = 0
				}
				ev = d.Process(ev[:0], bc.x[p:p+dsp.FrameSamples])
				p += dsp.FrameSamples
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/dsp.FrameSamples, "ns/sample")
		})
	}
}
