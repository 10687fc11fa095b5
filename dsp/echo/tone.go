package echo

import "math"

// Tone disabler timing, in 10 ms blocks.
const (
	toneMinRun  = 10 // tone present this long before a reversal counts
	toneNLPRun  = 30 // plain 2100 Hz this long disables the NLP
	toneMiss    = 3  // blocks a tone may drop out (a reversal) and continue
	revSpacing  = 15 // reversals closer than this are one reversal
	quietBlocks = 25 // 250 ms below quietPower re-enables the canceller
	toneShare   = 0.7
)

// toneDetector finds a 2100 Hz tone and its phase reversals in one
// direction, from the single DFT bin of each 10 ms block.
type toneDetector struct {
	re, im, energy float64 // current block's DFT bin and energy

	pr, pi   float64 // bin of the last block that held the tone
	havePrev bool
	gap      int // blocks without tone since then
	trend    float64
	trendOK  bool
	run      int // blocks of tone, bridging short dropouts
	miss     int
	sinceRev int
	power    float64 // last block's mean power
}

// end closes a block. It reports whether the tone is present and whether a
// phase reversal was seen in this block.
func (t *toneDetector) end() (present, reversal bool) {
	p := t.energy / toneBlk
	tp := 2 * (t.re*t.re + t.im*t.im) / (toneBlk * toneBlk)
	re, im := t.re, t.im
	t.re, t.im, t.energy, t.power = 0, 0, 0, p
	if p < tonePower || tp < toneShare*p {
		t.miss++
		if t.miss > toneMiss {
			*t = toneDetector{power: p}
			return false, false
		}
		t.gap++
		return t.run > 0, false
	}
	t.miss = 0
	t.run++
	t.sinceRev++
	if t.havePrev {
		m := float64(t.gap + 1)
		ph := math.Atan2(im*t.pr-re*t.pi, re*t.pr+im*t.pi) // arg(X · conj(Xprev))
		switch {
		case !t.trendOK:
			if t.gap == 0 {
				t.trend, t.trendOK = ph, true
			}
		case math.Abs(wrap(ph-m*t.trend)) > math.Pi/2:
			if t.run > toneMinRun && t.sinceRev > revSpacing {
				reversal = true
				t.sinceRev = 0
			}
		case t.gap == 0:
			t.trend += 0.3 * wrap(ph-t.trend)
		}
	}
	t.pr, t.pi, t.havePrev, t.gap = re, im, true, 0
	return true, reversal
}

// wrap brings a phase difference into [-π, π].
func wrap(p float64) float64 {
	return math.Remainder(p, 2*math.Pi)
}

// toneSample feeds one sample of each direction to the tone disabler and
// updates its state at the end of each block.
func (c *Canceller) toneSample(x, d float64) {
	k := c.tblk
	cs, sn := c.cosT[k], c.sinT[k]
	r, s := &c.tone[0], &c.tone[1]
	r.re += x * cs
	r.im -= x * sn
	r.energy += x * x
	s.re += d * cs
	s.im -= d * sn
	s.energy += d * d
	if k++; k < toneBlk {
		c.tblk = k
		return
	}
	c.tblk = 0
	for i := range c.tone {
		t := &c.tone[i]
		present, rev := t.end()
		if rev {
			c.bypass, c.nlpOff = true, true
		}
		if present && t.run >= toneNLPRun {
			c.nlpOff = true
		}
	}
	if !c.bypass && !c.nlpOff {
		return
	}
	if c.tone[0].power < quietPower && c.tone[1].power < quietPower {
		c.quietRun++
		if c.quietRun >= quietBlocks {
			c.bypass, c.nlpOff, c.quietRun = false, false, 0
		}
	} else {
		c.quietRun = 0
	}
}
