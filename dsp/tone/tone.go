// Package tone generates the call progress tones a telephone line plays to
// its user (dial tone, ringback, busy, congestion, stutter dial tone, call
// waiting, howler) and holds, per country, the tables those tones come from
// together with the ring cadence, the caller ID standard and the line
// impedance the country expects.
//
// A Tone is data: a Sound (up to four summed sinusoids, optionally
// amplitude-modulated) and a cadence of on/off segments with a loop point and
// an optional repeat count. A Generator renders a Tone into 16-bit linear
// samples at dsp.SampleRate, one buffer at a time, without allocating.
//
// Every oscillator runs from the start of the tone, through off periods, so
// a tone is a continuous function of time: Read calls of any size join
// seamlessly, and a frequency keeps its phase across the gaps of its
// cadence. Each edge of the cadence is softened by a 1 ms raised-cosine
// ramp centred on the edge, so the 50 % points of the envelope fall exactly
// on the sample boundaries the cadence names.
package tone

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tipring/tipring/dsp"
)

// MaxComponents is the largest number of sinusoids one Sound may sum.
const MaxComponents = 4

// MaxOscillators is the largest number of distinct components (frequency,
// level and modulation) that all the Sounds of one Tone may use together.
const MaxOscillators = 8

// RampSamples is the length of the raised-cosine ramp at each cadence edge:
// 1 ms, half before and half after the edge.
const RampSamples = 8

// Component is one sinusoid of a Sound.
type Component struct {
	// FreqHz is the frequency in Hz, between 0 and dsp.SampleRate/2.
	FreqHz float64
	// Level is the level of the sinusoid in dBm0. For an amplitude-
	// modulated Sound it is the level of the unmodulated carrier; each
	// sideband then lies 20·log10(depth/2) dB below it.
	Level float64
}

// Sound is what plays while a cadence segment is on: the sum of up to
// MaxComponents sinusoids, optionally amplitude-modulated as a whole.
type Sound struct {
	// Components are the summed sinusoids.
	Components []Component
	// ModHz, if not zero, amplitude-modulates every component:
	// s(t)·(1 + ModDepth·cos(2π·ModHz·t)), the "f1×f2" tones of E.180.
	ModHz float64
	// ModDepth is the modulation depth, 0…1.
	ModDepth float64
}

// IsZero reports whether s has no components, which in a Segment means
// "the Tone's own Sound".
func (s Sound) IsZero() bool { return len(s.Components) == 0 }

// Segment is one step of a cadence.
type Segment struct {
	// Duration is how long the step lasts; it is rounded to whole samples.
	Duration time.Duration
	// On tells whether the step sounds or is silent.
	On bool
	// Sound, if not zero, replaces the Tone's Sound during this step, for
	// cadences that change frequency or level from step to step.
	Sound Sound
}

// Tone is a call progress tone: a Sound and the cadence that gates it.
//
// Cadence[:Loop] plays once, then Cadence[Loop:] repeats, forever if
// Repeat is 0, else Repeat times, after which the tone is silent and the
// Generator reports Done. Loop == len(Cadence) makes the whole cadence play
// once. A Tone without a Cadence sounds without interruption.
type Tone struct {
	// Sound is what plays during the on segments that carry no Sound.
	Sound Sound
	// Cadence is the sequence of segments; nil means continuous.
	Cadence []Segment
	// Loop is the index of the first repeating segment.
	Loop int
	// Repeat is how many times Cadence[Loop:] plays; 0 means forever.
	Repeat int
}

// ErrInvalidTone is wrapped by every error of Tone.Validate.
var ErrInvalidTone = errors.New("tone: invalid tone")

// segmentSamples returns the length of a duration in whole samples.
func segmentSamples(d time.Duration) int64 {
	return (d.Nanoseconds()*dsp.SampleRate + int64(time.Second)/2) / int64(time.Second)
}

func (s Sound) validate() error {
	if len(s.Components) == 0 {
		return fmt.Errorf("%w: a sounding segment has no components", ErrInvalidTone)
	}
	if len(s.Components) > MaxComponents {
		return fmt.Errorf("%w: %d components, at most %d", ErrInvalidTone, len(s.Components), MaxComponents)
	}
	for _, c := range s.Components {
		if !(c.FreqHz > 0 && c.FreqHz < dsp.SampleRate/2) {
			return fmt.Errorf("%w: frequency %g Hz outside (0, %d)", ErrInvalidTone, c.FreqHz, dsp.SampleRate/2)
		}
		if !(c.Level <= 3.17 && c.Level > -90) {
			return fmt.Errorf("%w: level %g dBm0 outside (-90, +3.17]", ErrInvalidTone, c.Level)
		}
	}
	if !(s.ModHz >= 0 && s.ModHz < dsp.SampleRate/2) {
		return fmt.Errorf("%w: modulation frequency %g Hz", ErrInvalidTone, s.ModHz)
	}
	if !(s.ModDepth >= 0 && s.ModDepth <= 1) {
		return fmt.Errorf("%w: modulation depth %g outside [0, 1]", ErrInvalidTone, s.ModDepth)
	}
	return nil
}

// Validate checks that t can be generated: sounds within range, at most
// MaxOscillators distinct components, segments at least one sample long,
// and the loop point inside the cadence.
func (t Tone) Validate() error {
	if len(t.Cadence) == 0 {
		return t.Sound.validate()
	}
	if t.Loop < 0 || t.Loop > len(t.Cadence) {
		return fmt.Errorf("%w: loop point %d outside a cadence of %d segments", ErrInvalidTone, t.Loop, len(t.Cadence))
	}
	if t.Repeat < 0 {
		return fmt.Errorf("%w: negative repeat count %d", ErrInvalidTone, t.Repeat)
	}
	var bank oscBank
	for i, seg := range t.Cadence {
		if segmentSamples(seg.Duration) < 1 {
			return fmt.Errorf("%w: segment %d lasts %v, less than one sample", ErrInvalidTone, i, seg.Duration)
		}
		if !seg.On {
			continue
		}
		s := t.soundOf(i)
		if err := s.validate(); err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
		if !bank.add(s) {
			return fmt.Errorf("%w: more than %d distinct components", ErrInvalidTone, MaxOscillators)
		}
	}
	return nil
}

// soundOf returns the Sound of segment i.
func (t *Tone) soundOf(i int) Sound {
	if s := t.Cadence[i].Sound; !s.IsZero() {
		return s
	}
	return t.Sound
}

// Duration returns how long a finite tone lasts, and false for a tone that
// never ends.
func (t Tone) Duration() (time.Duration, bool) {
	n, ok := t.samples()
	return time.Duration(n) * time.Second / dsp.SampleRate, ok
}

// samples returns the length of a finite tone in samples.
func (t Tone) samples() (int64, bool) {
	if len(t.Cadence) == 0 {
		return 0, false
	}
	var once, loop int64
	for i, seg := range t.Cadence {
		if i < t.Loop {
			once += segmentSamples(seg.Duration)
		} else {
			loop += segmentSamples(seg.Duration)
		}
	}
	switch {
	case t.Loop == len(t.Cadence):
		return once, true
	case t.Repeat > 0:
		return once + int64(t.Repeat)*loop, true
	}
	return 0, false
}

// key identifies one oscillator: a component together with the modulation
// of its Sound.
type key struct {
	freq, level, modHz, depth float64
}

// oscBank is the set of distinct oscillators a Tone needs.
type oscBank struct {
	keys [MaxOscillators]key
	n    int
}

// add registers the components of s and reports false if they do not fit.
func (b *oscBank) add(s Sound) bool {
	for _, c := range s.Components {
		if _, ok := b.find(s, c); ok {
			continue
		}
		if b.n == MaxOscillators {
			return false
		}
		b.keys[b.n] = keyOf(s, c)
		b.n++
	}
	return true
}

// mask returns the set of oscillators that sound s uses.
func (b *oscBank) mask(s Sound) uint8 {
	var m uint8
	for _, c := range s.Components {
		if i, ok := b.find(s, c); ok {
			m |= 1 << i
		}
	}
	return m
}

func (b *oscBank) find(s Sound, c Component) (int, bool) {
	k := keyOf(s, c)
	for i := 0; i < b.n; i++ {
		if b.keys[i] == k {
			return i, true
		}
	}
	return 0, false
}

func keyOf(s Sound, c Component) key {
	k := key{freq: c.FreqHz, level: c.Level}
	if s.ModHz != 0 && s.ModDepth != 0 {
		k.modHz, k.depth = s.ModHz, s.ModDepth
	}
	return k
}

// Sine table: one period in sineSize steps, each with its value and the
// slope to the next, for linear interpolation of a 32-bit phase. The error
// of the interpolation stays below 5e-6 of full scale (−106 dB).
const (
	sineBits  = 10
	sineSize  = 1 << sineBits
	fracBits  = 32 - sineBits
	fracScale = 1.0 / (1 << fracBits)
)

type sinePoint struct{ v, d float64 }

var sineTable = func() (t [sineSize]sinePoint) {
	for i := range t {
		a := math.Sin(2 * math.Pi * float64(i) / sineSize)
		b := math.Sin(2 * math.Pi * float64(i+1) / sineSize)
		t[i] = sinePoint{a, b - a}
	}
	return t
}()

// sine returns sin(2π·ph/2³²).
func sine(ph uint32) float64 {
	p := &sineTable[ph>>fracBits]
	return p.v + float64(ph&(1<<fracBits-1))*fracScale*p.d
}

// rampTable maps the gate history of an oscillator (bit 0 the newest, for
// sample n+3; bit 7 the oldest, for sample n−4) to the gain of sample n:
// the gate convolved with a normalized symmetric raised-cosine window, so
// that a step edge becomes a 1 ms S-curve passing 0.5 at the edge.
var rampTable = func() (t [256]float64) {
	var w [RampSamples]float64
	var sum float64
	for i := range w {
		s := math.Sin(math.Pi * (float64(i) + 0.5) / RampSamples)
		w[i] = s * s
		sum += w[i]
	}
	for h := range t {
		var g float64
		for b := 0; b < RampSamples; b++ {
			if h>>b&1 != 0 {
				g += w[b] / sum
			}
		}
		t[h] = g
	}
	t[255] = 1 // exactly, whatever the rounding of the sum
	return t
}()

// phaseInc returns the 32-bit phase increment per sample of a frequency.
func phaseInc(hz float64) uint32 {
	return uint32(int64(math.Round(hz / dsp.SampleRate * (1 << 32))))
}

// oscillator is one sinusoid, optionally amplitude-modulated, with its own
// gate history.
type oscillator struct {
	ph, inc   uint32
	mph, minc uint32
	amp       float64
	depth     float64
	hist      uint8
}

// Generator renders a Tone into samples. The zero value is silent; use
// NewGenerator or Reset to give it a tone. A Generator must not be used by
// several goroutines at once.
type Generator struct {
	tone Tone
	bank oscBank
	osc  [MaxOscillators]oscillator

	// The cadence clock runs RampSamples/2 samples ahead of the output so
	// that ramps can start before an edge.
	seg     int   // index of the segment of the cadence clock
	segLeft int64 // samples left in it
	reps    int   // completed plays of the looping part
	mask    uint8 // oscillators gated on in the current segment
	ended   bool  // the cadence clock is past the end of a finite tone

	acc [blockSamples]float64 // scratch for fillSteady

	pos    int64 // samples read so far
	total  int64 // length of a finite tone
	finite bool
}

// NewGenerator returns a Generator positioned at the start of t. It panics
// if t is not valid; check tones from outside with Tone.Validate first.
func NewGenerator(t Tone) *Generator {
	g := new(Generator)
	g.Reset(t)
	return g
}

// Reset restarts the Generator on t, at time zero, without allocating. It
// panics if t is not valid; check tones from outside with Tone.Validate.
func (g *Generator) Reset(t Tone) {
	if err := t.Validate(); err != nil {
		panic(err)
	}
	*g = Generator{tone: t, seg: -1}
	if len(t.Cadence) == 0 {
		g.bank.add(t.Sound)
		g.mask = g.bank.mask(t.Sound)
	} else {
		for i, seg := range t.Cadence {
			if seg.On {
				g.bank.add(t.soundOf(i))
			}
		}
	}
	for i := 0; i < g.bank.n; i++ {
		k := g.bank.keys[i]
		g.osc[i] = oscillator{
			inc:   phaseInc(k.freq),
			minc:  phaseInc(k.modHz),
			amp:   dsp.PeakFromDBm0(k.level),
			depth: k.depth,
			// The modulator starts at its crest, as cos(0).
			mph: 1 << 30,
		}
	}
	g.total, g.finite = t.samples()
	// Prime the gate histories with samples 0 … RampSamples/2−1.
	for range RampSamples / 2 {
		g.shiftGate()
	}
}

// nextGate advances the cadence clock by one sample and returns the set of
// oscillators on at that sample.
func (g *Generator) nextGate() uint8 {
	cad := g.tone.Cadence
	if len(cad) == 0 {
		return g.mask
	}
	if g.ended {
		return 0
	}
	for g.segLeft == 0 {
		g.seg++
		if g.seg == len(cad) {
			if g.tone.Loop == len(cad) {
				g.ended = true
				return 0
			}
			g.reps++
			if g.tone.Repeat > 0 && g.reps >= g.tone.Repeat {
				g.ended = true
				return 0
			}
			g.seg = g.tone.Loop
		}
		s := &cad[g.seg]
		g.segLeft = segmentSamples(s.Duration)
		g.mask = 0
		if s.On {
			g.mask = g.bank.mask(g.tone.soundOf(g.seg))
		}
	}
	g.segLeft--
	return g.mask
}

// shiftGate pushes the next gate bit into every oscillator's history.
func (g *Generator) shiftGate() {
	m := g.nextGate()
	for i := range g.osc[:g.bank.n] {
		o := &g.osc[i]
		o.hist = o.hist<<1 | m>>i&1
	}
}

// Read fills buf with the next len(buf) samples of the tone. After a finite
// tone has ended it fills buf with silence. It never allocates.
func (g *Generator) Read(buf []int16) {
	for n := 0; n < len(buf); {
		if run := g.steadyRun(); run > 0 {
			k := min(run, int64(len(buf)-n), blockSamples)
			g.fillSteady(buf[n : n+int(k)])
			if len(g.tone.Cadence) > 0 && !g.ended {
				g.segLeft -= k
			}
			n += int(k)
			continue
		}
		buf[n] = g.sample()
		g.shiftGate()
		n++
	}
	g.pos += int64(len(buf))
}

// blockSamples bounds the work of one fillSteady call.
const blockSamples = 256

// steadyRun returns for how many samples nothing but the oscillators
// change: every gate history is all on or all off in agreement with the
// cadence clock, and the clock stays in its segment. It returns 0 when the
// next sample needs the general path.
func (g *Generator) steadyRun() int64 {
	var m uint8
	run := int64(math.MaxInt64)
	switch {
	case len(g.tone.Cadence) == 0:
		m = g.mask
	case g.ended:
		m = 0
	default:
		m, run = g.mask, g.segLeft
	}
	for i, o := range g.osc[:g.bank.n] {
		want := uint8(0)
		if m>>i&1 != 0 {
			want = 0xFF
		}
		if o.hist != want {
			return 0
		}
	}
	return run
}

// sample computes one output sample through the ramps and advances the
// oscillators.
func (g *Generator) sample() int16 {
	var acc float64
	for i := range g.osc[:g.bank.n] {
		o := &g.osc[i]
		if o.hist != 0 {
			v := sine(o.ph) * o.amp * rampTable[o.hist]
			if o.depth != 0 {
				v *= 1 + o.depth*sine(o.mph)
			}
			acc += v
		}
		o.ph += o.inc
		o.mph += o.minc
	}
	return dsp.Saturate(acc)
}

// fillSteady fills buf (at most blockSamples long) while no gate changes,
// one oscillator at a time.
func (g *Generator) fillSteady(buf []int16) {
	acc := g.acc[:len(buf)]
	clear(acc)
	k := uint32(len(buf))
	for i := range g.osc[:g.bank.n] {
		o := &g.osc[i]
		switch {
		case o.hist == 0:
			// Silent: the phase runs on all the same.
		case o.depth == 0:
			ph, inc, amp := o.ph, o.inc, o.amp
			for j := range acc {
				acc[j] += amp * sine(ph)
				ph += inc
			}
		default:
			ph, inc, mph, minc, amp, d := o.ph, o.inc, o.mph, o.minc, o.amp, o.depth
			for j := range acc {
				acc[j] += amp * sine(ph) * (1 + d*sine(mph))
				ph += inc
				mph += minc
			}
		}
		o.ph += k * o.inc
		o.mph += k * o.minc
	}
	for j, v := range acc {
		buf[j] = dsp.Saturate(v)
	}
}

// Done reports whether a finite tone has played to its end, ramps
// included. It is always false for a tone that never ends.
func (g *Generator) Done() bool {
	if !g.finite || g.pos < g.total {
		return false
	}
	for _, o := range g.osc[:g.bank.n] {
		if o.hist != 0 {
			return false
		}
	}
	return true
}

// Tone returns the tone the Generator plays.
func (g *Generator) Tone() Tone { return g.tone }
