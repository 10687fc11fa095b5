package dtmf

import (
	"fmt"
	"math"

	"github.com/tipring/tipring/dsp"
)

// GenConfig sets the levels a [Generator] sends.
type GenConfig struct {
	// LowDBm0 is the level of the low-group (row) tone, in dBm0.
	LowDBm0 float64
	// TwistDB is the level of the high-group (column) tone minus that of
	// the low-group tone, in dB. A little positive twist compensates the
	// loop's loss at high frequencies.
	TwistDB float64
}

// DefaultGenConfig returns the usual sending levels: -10 dBm0 for the low
// tone and -8 dBm0 for the high tone (2 dB twist), within the Q.23/ES 201
// 235-2 sending range and well inside every receiver's operate range.
func DefaultGenConfig() GenConfig { return GenConfig{LowDBm0: -10, TwistDB: 2} }

// HighDBm0 returns the level of the high-group tone.
func (c GenConfig) HighDBm0() float64 { return c.LowDBm0 + c.TwistDB }

// MaxToneSamples bounds one tone or pause given to a Generator (one hour).
const MaxToneSamples = dsp.SampleRate * 3600

// sineTable holds one cycle of a unit sine in dsp.SampleRate steps: every
// Q.23 frequency is a whole number of Hz, so the phase of tone f at sample n
// is exactly n*f mod SampleRate steps and the frequency has no error at all.
var sineTable = func() (t [dsp.SampleRate]float32) {
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / dsp.SampleRate))
	}
	return t
}()

// Generator synthesizes DTMF tones for one line, in frames of any size.
//
// Digits either come from a queue (Play: fixed on and off times, exact to
// the sample) or follow a key held down and released (KeyDown, KeyUp), as a
// gateway does for RFC 4733 events. Each tone starts at zero phase and stays
// phase-continuous across frames. Read does not allocate.
//
// A Generator is not safe for concurrent use.
type Generator struct {
	ampLow, ampHigh float64

	queue []queued // digits still to play after the current one
	head  int      // next entry of queue

	digit  byte // digit sounding or whose pause is running; 0 if idle
	held   bool // the tone lasts until KeyUp
	fLow   int
	fHigh  int
	pLow   int // phase index of the low tone, in 1/SampleRate cycles
	pHigh  int
	toneN  int // tone samples left (ignored while held)
	pauseN int // pause samples left after the tone
}

// NewGenerator returns a Generator sending at the levels of cfg. It fails
// with ErrLevel when the two tones together would clip 16-bit PCM.
func NewGenerator(cfg GenConfig) (*Generator, error) {
	if math.IsNaN(cfg.LowDBm0) || math.IsNaN(cfg.TwistDB) || math.IsInf(cfg.LowDBm0, 0) || math.IsInf(cfg.TwistDB, 0) {
		return nil, fmt.Errorf("%w: %v dBm0, twist %v dB", ErrLevel, cfg.LowDBm0, cfg.TwistDB)
	}
	g := &Generator{
		ampLow:  dsp.PeakFromDBm0(cfg.LowDBm0),
		ampHigh: dsp.PeakFromDBm0(cfg.HighDBm0()),
	}
	if g.ampLow+g.ampHigh > math.MaxInt16 {
		return nil, fmt.Errorf("%w: %.1f dBm0 + %.1f dBm0 clips", ErrLevel, cfg.LowDBm0, cfg.HighDBm0())
	}
	return g, nil
}

// Play queues digits, each sent as a tone of on samples followed by a pause
// of off samples, after whatever is already queued. It checks all digits
// first and queues nothing on error. Play allocates; Read does not.
func (g *Generator) Play(digits string, on, off int) error {
	if on <= 0 || on > MaxToneSamples || off < 0 || off > MaxToneSamples {
		return fmt.Errorf("%w: on %d, off %d samples", ErrTiming, on, off)
	}
	for i := 0; i < len(digits); i++ {
		if !ValidDigit(digits[i]) {
			return fmt.Errorf("play %q: %w", digits, errDigit(digits[i]))
		}
	}
	if g.head == len(g.queue) {
		g.queue, g.head = g.queue[:0], 0
	}
	for i := 0; i < len(digits); i++ {
		g.queue = append(g.queue, queued{digits[i], on, off})
	}
	if g.digit == 0 {
		g.next()
	}
	return nil
}

// KeyDown starts sending digit until KeyUp, cancelling anything queued or
// sounding.
func (g *Generator) KeyDown(digit byte) error {
	if !ValidDigit(digit) {
		return fmt.Errorf("key down: %w", errDigit(digit))
	}
	g.queue, g.head = g.queue[:0], 0
	g.start(digit, 0, 0)
	g.held = true
	return nil
}

// KeyUp ends the tone started by KeyDown; the next sample is silent.
func (g *Generator) KeyUp() {
	if g.held {
		g.held = false
		g.digit = 0
	}
}

// Busy reports whether a tone, a pause between queued digits, or queued
// digits remain.
func (g *Generator) Busy() bool { return g.digit != 0 }

// Reset stops at once and empties the queue.
func (g *Generator) Reset() {
	g.queue, g.head = g.queue[:0], 0
	g.digit = 0
	g.held = false
}

func (g *Generator) start(digit byte, on, off int) {
	lo, hi, _ := Frequencies(digit)
	g.digit = digit
	g.fLow, g.fHigh = lo, hi
	g.pLow, g.pHigh = 0, 0
	g.toneN, g.pauseN = on, off
}

// next takes the next queued digit, or goes idle.
func (g *Generator) next() {
	if g.head == len(g.queue) {
		g.digit = 0
		return
	}
	q := g.queue[g.head]
	g.head++
	g.start(q.digit, q.on, q.off)
}

// queued is one digit waiting in a Generator's queue.
type queued struct {
	digit   byte
	on, off int
}

// Read fills dst with the next samples: tones, pauses, and silence once the
// queue is done. It returns how many samples of dst belong to tones or
// pauses; the rest, if any, are silence written after the last pause.
func (g *Generator) Read(dst []int16) int {
	n := 0
	for n < len(dst) {
		if g.digit == 0 {
			clear(dst[n:])
			return n
		}
		switch {
		case g.held || g.toneN > 0:
			m := len(dst) - n
			if !g.held && m > g.toneN {
				m = g.toneN
			}
			g.tone(dst[n : n+m])
			n += m
			if !g.held {
				g.toneN -= m
			}
		case g.pauseN > 0:
			m := min(len(dst)-n, g.pauseN)
			clear(dst[n : n+m])
			n += m
			g.pauseN -= m
		default:
			g.next()
		}
	}
	if g.digit != 0 && !g.held && g.toneN == 0 && g.pauseN == 0 {
		g.next()
	}
	return n
}

// tone writes len(dst) samples of the current digit.
func (g *Generator) tone(dst []int16) {
	pl, ph := g.pLow, g.pHigh
	fl, fh := g.fLow, g.fHigh
	al, ah := float32(g.ampLow), float32(g.ampHigh)
	for i := range dst {
		dst[i] = dsp.Saturate(float64(al*sineTable[pl] + ah*sineTable[ph]))
		pl += fl
		if pl >= dsp.SampleRate {
			pl -= dsp.SampleRate
		}
		ph += fh
		if ph >= dsp.SampleRate {
			ph -= dsp.SampleRate
		}
	}
	g.pLow, g.pHigh = pl, ph
}

// Synthesize returns the complete signal for digits, each a tone of on
// samples followed by off samples of silence, at the levels of cfg.
func Synthesize(digits string, on, off int, cfg GenConfig) ([]int16, error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	if len(digits) == 0 {
		return nil, nil
	}
	if err := g.Play(digits, on, off); err != nil {
		return nil, err
	}
	out := make([]int16, len(digits)*(on+off))
	g.Read(out)
	return out, nil
}
