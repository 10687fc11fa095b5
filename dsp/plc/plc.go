package plc

import (
	"math"

	"github.com/tipring/tipring/dsp"
)

// Numbers of G.711 Appendix I, in samples at 8 kHz.
const (
	// FrameSamples is the size of the frames Good and Lost take (20 ms).
	FrameSamples = dsp.FrameSamples
	// HistorySamples is the length of the history buffer (48.75 ms).
	HistorySamples = 390
	// Delay is the delay of the output behind the input (3.75 ms).
	Delay = 30
	// MinPitch and MaxPitch bound the pitch period search (5 and 15 ms).
	MinPitch = 40
	MaxPitch = 120

	// block is the appendix's frame: 10 ms.
	block = 80
	// corrLen is the length of the correlation window (20 ms).
	corrLen = 160
	// attenSamples is the length over which the gain falls by 1: 20 % per
	// 10 ms is 1/400 per sample.
	attenSamples = 5 * block
	// maxPeriods is the most pitch periods the synthesis repeats.
	maxPeriods = 3
	// minEnergy floors the energy of a lagged segment in the normalised
	// correlation, so silence does not divide by zero. It is the energy of
	// 80 samples (every second one of the window) of amplitude 1.
	minEnergy = corrLen / 2
	// subMultiple is the fraction of the best score a half or a third of
	// the period must reach to be preferred.
	subMultiple = 0.85
)

// Concealer conceals lost frames of one stream. The zero value is not
// ready; use New. A Concealer is not safe for concurrent use.
type Concealer struct {
	hist   [HistorySamples]int16
	pbuf   [maxPeriods * MaxPitch]float32 // the last 3P samples, ending at the end
	olaq   [MaxPitch / 4]float32          // old continuation across a period change
	pitch  int                            // P of the current or last loss, 0 before any
	nper   int                            // periods repeated
	pos    int                            // read position within the last nper·P of pbuf
	erased int                            // consecutive lost 10 ms blocks
}

// New returns a Concealer with an empty (silent) history.
func New() *Concealer { return &Concealer{} }

// Reset forgets the history and any loss in progress.
func (c *Concealer) Reset() { *c = Concealer{} }

// Pitch returns the pitch period, in samples, found at the start of the
// current or most recent loss, or 0 if nothing has been lost yet.
func (c *Concealer) Pitch() int { return c.pitch }

// Good takes a frame that arrived. It merges the frame into the concealment
// if frames were lost just before, adds it to the history and replaces it
// with the output, Delay samples behind.
func (c *Concealer) Good(frame *[FrameSamples]int16) {
	c.goodBlock((*[block]int16)(frame[:block]))
	c.goodBlock((*[block]int16)(frame[block:]))
}

// Lost fills frame, whose content is ignored, with the output for a frame
// that did not arrive: the delayed history followed by the concealment.
func (c *Concealer) Lost(frame *[FrameSamples]int16) {
	c.lostBlock((*[block]int16)(frame[:block]))
	c.lostBlock((*[block]int16)(frame[block:]))
}

// push appends x to the history and replaces it with the output.
func (c *Concealer) push(x *[block]int16) {
	h := &c.hist
	copy(h[:HistorySamples-block], h[block:])
	copy(h[HistorySamples-block:], x[:])
	copy(x[:], h[HistorySamples-Delay-block:HistorySamples-Delay])
}

func (c *Concealer) goodBlock(x *[block]int16) {
	if c.erased > 0 {
		// Carry the synthesis on as if this block were lost too and fade
		// it into the real signal: 4 ms plus 4 ms per further lost 10 ms,
		// at most 10 ms.
		n := min(c.erased*32, block)
		k := c.erased + 1
		for i := range n {
			s := gain(k, i) * c.next()
			w := (float32(i) + 0.5) / float32(n)
			x[i] = dsp.Saturate(float64(s*(1-w) + float32(x[i])*w))
		}
		c.erased = 0
	}
	c.push(x)
}

func (c *Concealer) lostBlock(x *[block]int16) {
	c.erased++
	q := 0 // length of the cross-fade at the start of this block
	switch {
	case c.erased == 1:
		c.start()
	case c.erased <= maxPeriods:
		q = c.addPeriod()
	}
	for i := range block {
		s := c.next()
		if i < q {
			w := (float32(i) + 0.5) / float32(q)
			s = c.olaq[i]*(1-w) + s*w
		}
		x[i] = dsp.Saturate(float64(gain(c.erased, i) * s))
	}
	c.push(x)
}

// gain is the attenuation of sample i of lost block k (1-based): 1 in the
// first, then falling by 1/400 per sample to 0 at the end of the sixth.
func gain(k, i int) float32 {
	if k <= 1 {
		return 1
	}
	g := 1 - float32((k-2)*block+i+1)/attenSamples
	return max(g, 0)
}

// next returns the next synthetic sample before attenuation.
func (c *Concealer) next() float32 {
	n := c.nper * c.pitch
	v := c.pbuf[len(c.pbuf)-n+c.pos]
	if c.pos++; c.pos == n {
		c.pos = 0
	}
	return v
}

// start begins a concealment: find the pitch, copy the last three periods
// of the history and cross-fade the last quarter period of the history
// (not yet played) into the samples one period before it.
func (c *Concealer) start() {
	p := findPitch(&c.hist)
	c.pitch, c.nper, c.pos = p, 1, 0
	h := &c.hist
	for j := range maxPeriods * p {
		c.pbuf[len(c.pbuf)-maxPeriods*p+j] = float32(h[HistorySamples-maxPeriods*p+j])
	}
	q := p / 4
	for j := range q {
		t := HistorySamples - q + j
		w := (float32(j) + 0.5) / float32(q)
		v := float32(h[t])*(1-w) + float32(h[t-p])*w
		c.pbuf[len(c.pbuf)-q+j] = v
		h[t] = dsp.Saturate(float64(v))
	}
}

// addPeriod extends the repeated stretch by one period further back,
// keeping the phase. It saves the old continuation for the cross-fade and
// returns its length, a quarter period.
func (c *Concealer) addPeriod() int {
	q := c.pitch / 4
	pos := c.pos
	for j := range q {
		c.olaq[j] = c.next()
	}
	c.nper++
	c.pos = pos
	return q
}

// findPitch returns the period, MinPitch to MaxPitch, at which the end of
// the history best matches itself.
func findPitch(h *[HistorySamples]int16) int {
	a := h[HistorySamples-corrLen:]
	// Coarse: every second lag, every second sample.
	best, bestScore := MinPitch, math.Inf(-1)
	for tau := MinPitch; tau <= MaxPitch; tau += 2 {
		if s := score(a, h[HistorySamples-corrLen-tau:HistorySamples-tau], 2); s > bestScore {
			best, bestScore = tau, s
		}
	}
	best, bestScore = refine(h, best)
	// Prefer a third or a half of the period when it matches nearly as
	// well: a period between integers lines up better over two periods.
	if bestScore > 0 {
		for m := 3; m >= 2; m-- {
			t := (best + m/2) / m
			if t < MinPitch {
				continue
			}
			if p, s := refine(h, t); s >= subMultiple*bestScore {
				return p
			}
		}
	}
	return best
}

// refine searches tau±1 at full resolution.
func refine(h *[HistorySamples]int16, tau int) (int, float64) {
	a := h[HistorySamples-corrLen:]
	best, bestScore := tau, math.Inf(-1)
	for t := max(tau-1, MinPitch); t <= min(tau+1, MaxPitch); t++ {
		if s := score(a, h[HistorySamples-corrLen-t:HistorySamples-t], 1); s > bestScore {
			best, bestScore = t, s
		}
	}
	return best, bestScore
}

// score is the correlation of a and b over every step-th sample divided by
// the square root of the energy of b.
func score(a, b []int16, step int) float64 {
	b = b[:len(a)]
	var cross, energy int64
	for j := 0; j < len(a); j += step {
		x, y := int64(a[j]), int64(b[j])
		cross += x * y
		energy += y * y
	}
	return float64(cross) / math.Sqrt(float64(max(energy, minEnergy)))
}
