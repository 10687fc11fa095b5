package fax

import (
	"math"

	"github.com/tipring/tipring/dsp"
)

// Tone is a fax or modem tone the Detector reports.
type Tone uint8

// Tones.
const (
	// CNG is the calling tone of T.30: a 1100 Hz burst of 0.5 s.
	CNG Tone = iota + 1
	// CED is the answer tone of T.30, ANS of V.25: 2100 Hz.
	CED
	// ANSReversal reports phase reversals in the answer tone (V.25 ANS
	// with reversals, or V.8 ANSam with reversals): the signal that must
	// disable echo cancellers (G.164, G.165).
	ANSReversal
	// ANSam reports the 15 Hz amplitude modulation of V.8 ANSam in the
	// answer tone.
	ANSam
)

// String returns the tone's name.
func (t Tone) String() string {
	switch t {
	case CNG:
		return "CNG"
	case CED:
		return "CED"
	case ANSReversal:
		return "ANS reversal"
	case ANSam:
		return "ANSam"
	}
	return "tone?"
}

// Event is a detection.
type Event struct {
	Tone Tone
	// At is the sample, counted from the first the Detector took (or from
	// Reset), at which the detection was made: the end of the 5 ms block
	// that completed it. For ANSReversal it is the block of the reversal.
	At int64
	// Start is the first sample of the tone's first 5 ms block.
	Start int64
}

// Detection parameters.
const (
	// MinLevel is the lowest level, in dBm0, of a tone the Detector hears.
	MinLevel = -43.0
	// CEDDuration is how long 2100 Hz must last before CED is reported.
	CEDDuration = 350 // ms
	// CNGMin and CNGMax bound the length of a CNG burst.
	CNGMin, CNGMax = 400, 650 // ms

	block     = 40 // samples in a block: 5 ms
	tableLen  = 80 // the oscillator table: 10 ms
	q14       = 1 << 14
	minPurity = 0.7
	maxGap    = 3 // blocks missed inside a tone: 15 ms
	// cedMaxOffset and cngMaxOffset are the accepted frequency offsets.
	cedMaxOffset = 20.0 // Hz
	cngMaxOffset = 45.0 // Hz
	// envBlocks is the window of the ANSam envelope analysis: 200 ms,
	// three periods of 15 Hz.
	envBlocks  = 40
	amHz       = 15.0
	minAMDepth = 0.1
	// refractory is how many blocks after a reversal no other is taken.
	refractory      = 4
	blocksPerSecond = dsp.SampleRate / block
)

var (
	cosTab, sinTab [tableLen]int64
	// amTab is e^{-i2π·15 Hz·t} over the envelope window, one per block.
	amTab [envBlocks]complex128
	// minEnergy is the energy of a block at MinLevel.
	minEnergy int64
)

func init() {
	for i := range tableLen {
		w := 2 * math.Pi * float64(i) / tableLen
		cosTab[i] = int64(math.Round(q14 * math.Cos(w)))
		sinTab[i] = int64(math.Round(q14 * math.Sin(w)))
	}
	for k := range envBlocks {
		w := -2 * math.Pi * amHz * float64(k) / blocksPerSecond
		amTab[k] = complex(math.Cos(w), math.Sin(w))
	}
	rms := dsp.ZeroDBm0RMS * math.Pow(10, MinLevel/20)
	minEnergy = int64(rms * rms * block)
}

// channel follows one tone frequency.
type channel struct {
	step   int // table step per sample: cycles per 80 samples
	idx    int
	zr, zi int64 // the block sums

	z   [2]complex128 // the last two blocks' phasors, newest first
	hit [2]bool

	run, gap int        // hit blocks in the tone, misses since the last hit
	start    int64      // first sample of the tone
	last     int64      // end of the last hit block
	freq     complex128 // accumulated rotation
	reported bool

	// 2100 Hz only.
	env      [envBlocks]float64 // |z| of the last blocks, a ring
	envN     int
	rev      int64 // sample of the first reversal, -1 before one
	revSent  bool
	amSent   bool
	sinceRev int
}

func (c *channel) reset(step int) {
	*c = channel{step: step, rev: -1, sinceRev: refractory}
}

// Detector finds CNG and CED/ANS tones in a stream of samples. It is not
// safe for concurrent use.
type Detector struct {
	cng, ans channel
	e        int64 // block energy
	n        int   // samples in the block
	pos      int64 // samples taken
}

// New returns a Detector.
func New() *Detector {
	d := &Detector{}
	d.Reset()
	return d
}

// Reset forgets the signal so far and restarts the sample count.
func (d *Detector) Reset() {
	*d = Detector{}
	d.cng.reset(11)
	d.ans.reset(21)
}

// AnswerTone reports whether an answer tone is sounding (CED has been
// reported and the tone has not ended), and whether phase reversals and
// the 15 Hz modulation have been reported in it.
func (d *Detector) AnswerTone() (on, reversals, modulated bool) {
	c := &d.ans
	on = c.run > 0 && c.reported
	return on, on && c.revSent, on && c.amSent
}

// Process takes the next samples and appends the events they complete to
// events, which it returns.
func (d *Detector) Process(x []int16, events []Event) []Event {
	c1, c2 := &d.cng, &d.ans
	for _, s := range x {
		v := int64(s)
		d.e += v * v
		c1.zr += v * cosTab[c1.idx]
		c1.zi -= v * sinTab[c1.idx]
		c2.zr += v * cosTab[c2.idx]
		c2.zi -= v * sinTab[c2.idx]
		if c1.idx += c1.step; c1.idx >= tableLen {
			c1.idx -= tableLen
		}
		if c2.idx += c2.step; c2.idx >= tableLen {
			c2.idx -= tableLen
		}
		d.pos++
		if d.n++; d.n == block {
			events = d.block(events)
		}
	}
	return events
}

// block ends a 5 ms block.
func (d *Detector) block(events []Event) []Event {
	events = d.cngBlock(events)
	events = d.ansBlock(events)
	d.e, d.n = 0, 0
	d.cng.zr, d.cng.zi, d.ans.zr, d.ans.zi = 0, 0, 0, 0
	return events
}

// take turns the block sums into the phasor, scaled to the tone's peak
// amplitude, and decides whether the block is a hit. It shifts the
// phasor history.
func (d *Detector) take(c *channel) (z complex128, hit bool) {
	const scale = 2.0 / (q14 * block)
	z = complex(float64(c.zr)*scale, float64(c.zi)*scale)
	if d.e >= minEnergy {
		// A pure tone of amplitude A: |z|² = A², energy = N·A²/2.
		p := real(z)*real(z) + imag(z)*imag(z)
		hit = p*block >= minPurity*2*float64(d.e)
	}
	return z, hit
}

func (c *channel) push(z complex128, hit bool) {
	c.z[1], c.hit[1] = c.z[0], c.hit[0]
	c.z[0], c.hit[0] = z, hit
}

// offset returns the frequency offset in Hz of the accumulated rotation,
// measured on the phasor raised to the power pow.
func (c *channel) offset(pow int) float64 {
	if c.freq == 0 {
		return math.Inf(1)
	}
	ang := math.Atan2(imag(c.freq), real(c.freq)) / float64(pow)
	return ang * blocksPerSecond / (2 * math.Pi)
}

func (d *Detector) cngBlock(events []Event) []Event {
	c := &d.cng
	z, hit := d.take(c)
	if hit {
		if c.run == 0 {
			c.start = d.pos - block
			c.freq = 0
		} else if c.hit[0] {
			c.freq += z * conj(c.z[0])
		}
		c.run++
		c.gap = 0
		c.last = d.pos
	} else if c.run > 0 {
		if c.gap++; c.gap > maxGap {
			// The burst ended: CNG if it lasted half a second.
			ms := (c.last - c.start) * 1000 / dsp.SampleRate
			if ms >= CNGMin && ms <= CNGMax && math.Abs(c.offset(1)) <= cngMaxOffset {
				events = append(events, Event{Tone: CNG, At: d.pos, Start: c.start})
			}
			c.run, c.gap = 0, 0
		}
	}
	c.push(z, hit)
	return events
}

func (d *Detector) ansBlock(events []Event) []Event {
	c := &d.ans
	z, hit := d.take(c)
	mag := math.Hypot(real(z), imag(z))
	if hit {
		if c.run == 0 {
			c.start = d.pos - block
			c.freq = 0
			c.envN = 0
			c.rev, c.revSent, c.amSent, c.reported = -1, false, false, false
			c.sinceRev = refractory
		} else if c.hit[0] {
			z2, p2 := z*z, c.z[0]*c.z[0]
			c.freq += z2 * conj(p2)
		}
		c.run++
		c.gap = 0
		c.last = d.pos
	} else if c.run > 0 {
		if c.gap++; c.gap > maxGap {
			c.run, c.gap = 0, 0
		}
	}
	if c.run > 0 {
		c.env[c.envN%envBlocks] = mag
		c.envN++
		c.sinceRev++
		// A reversal: the phasor two blocks back, turned by the
		// measured frequency offset, points the other way.
		if hit && c.hit[1] && c.sinceRev > refractory && c.freq != 0 {
			rot := c.freq / complex(cmplxAbs(c.freq), 0) // e^{i·2·Δφ}
			dz := z * conj(c.z[1]) * conj(rot)
			if real(dz) < -0.5*cmplxAbs(dz) {
				c.sinceRev = 0
				if c.rev < 0 {
					c.rev = d.pos - block
				}
			}
		}
	}
	c.push(z, hit)
	if c.run == 0 {
		return events
	}
	if !c.reported && c.run*1000/blocksPerSecond >= CEDDuration && math.Abs(c.offset(2)) <= cedMaxOffset {
		c.reported = true
		events = append(events, Event{Tone: CED, At: d.pos, Start: c.start})
	}
	if !c.reported {
		return events
	}
	if c.rev >= 0 && !c.revSent {
		c.revSent = true
		events = append(events, Event{Tone: ANSReversal, At: c.rev, Start: c.start})
	}
	if !c.amSent && hit && c.envN >= envBlocks+4 && c.modulation() >= minAMDepth {
		c.amSent = true
		events = append(events, Event{Tone: ANSam, At: d.pos, Start: c.start})
	}
	return events
}

// modulation returns the depth of the 15 Hz modulation of the envelope
// over the last envBlocks blocks.
func (c *channel) modulation() float64 {
	var s complex128
	var sum float64
	for k := range envBlocks {
		e := c.env[(c.envN+k)%envBlocks] // oldest first
		s += complex(e, 0) * amTab[k]
		sum += e
	}
	if sum == 0 {
		return 0
	}
	return 2 * cmplxAbs(s) / sum
}

func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }

func cmplxAbs(z complex128) float64 { return math.Hypot(real(z), imag(z)) }
