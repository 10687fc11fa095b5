// Package echo is Tipring's line echo canceller: it removes from the signal
// coming back from the 2-wire line (send-in) the part that is the far end's
// own voice reflected by the SLIC hybrid, before it goes to the network
// (send-out). It follows the structure of ITU-T G.168: an adaptive FIR model
// of the echo path, a double-talk detector that protects the model, a
// non-linear processor (NLP) for the residual, comfort noise, and a tone
// disabler after G.164/G.165.
//
// # Adaptive filter
//
// The echo path is modelled by an FIR filter as long as the tail (32 ms by
// default, up to 128 ms) and adapted by the improved proportionate NLMS
// algorithm (IPNLMS, Benesty and Gay, ICASSP 2002). A hybrid echo path is
// sparse: a flat delay, a few milliseconds of dispersive response, then
// nothing. Plain NLMS spends its step evenly over all taps; proportionate
// variants give each tap a share of the step that grows with its magnitude,
// so the few active taps converge several times faster while the rest stay
// near zero. IPNLMS mixes the proportionate gain with the uniform NLMS gain
// (α = −0.5), so a dispersive path converges no worse than with NLMS, and
// it needs no special start-up rule when all taps are zero. The per-tap gains
// are derived from the current taps inside the filtering pass, so the whole
// update costs two passes over the tail per sample, like NLMS.
//
// The error used to adapt is clipped to a few times its recent RMS (a
// Huber-type robust step), which bounds the damage of the few milliseconds
// of near-end speech that slip past any double-talk detector at its onset.
//
// # Double talk
//
// The detector is Geigel's: near-end speech is declared when a send-in
// sample exceeds half (6 dB below) the largest receive-in magnitude of the
// last tail length, the classic rule that holds whenever the echo return
// loss is at least 6 dB, as G.168 assumes. A detection holds for 30 ms.
// Geigel false-triggers on far-end single talk when the ERL is close to
// 6 dB and the path is dispersive; once the filter cancels well those
// detections are overruled: if both the short-term (2 ms) and medium-term
// (8 ms) residual power lie more than 10 dB below the send-in power, send-in
// is explained by the echo model and is not double talk. Near-end speech
// raises the residual within about 2 ms, which re-arms the detector.
// Adaptation stops during double talk and whenever the far end is silent,
// so nothing leaks away while nobody talks.
//
// # Divergence protection: two echo path models
//
// Two filters model the echo path (the two-path structure of Ochiai,
// Araseki and Ogihara, 1977). The background filter adapts; the foreground
// filter computes send-out and never adapts itself. Every 32 ms of far-end
// activity their errors are compared: the background is copied to the
// foreground when its residual is 3 dB lower and 6 dB below send-in; the
// foreground is copied back into the background when the background's
// residual is 6 dB worse (near-end speech slipped past the detector) or
// exceeds send-in by 3 dB; and a foreground whose residual exceeds send-in
// by 3 dB (the echo path changed) is cleared, so the canceller never adds
// echo while the background learns the new path. Blocks whose send-in is
// below −60 dBm0 (the echo is still on its way) judge nothing. Double talk
// that the detector misses can thus disturb only the background, and the
// output keeps the last good model; the price is a third pass over the tail
// per sample.
//
// # Non-linear processor and comfort noise
//
// With Config.NLP the residual is suppressed while the far end talks alone
// (and for a tail length plus 50 ms after it stops, while its echo dies
// away), no double talk is detected, and the filter is cancelling (residual
// at least 6 dB below send-in). Suppression ramps over 4 ms and releases
// within 1 ms of a double-talk detection. With Config.ComfortNoise the
// suppressed signal is replaced by white noise at the level of the near
// end's background, measured while the far end is silent by a
// minimum-tracking follower of the residual power (falls fast, rises at
// about 3 dB/s), so the listener at the far end hears no gating.
//
// # Tone disabler
//
// Both directions are watched, in 10 ms blocks (exactly 21 cycles of
// 2100 Hz), for a 2100 Hz tone (within ±21 Hz, above −34 dBm0, holding at
// least 70 % of the block's power). Its phase is tracked from block to
// block; a jump of more than 90° beyond the tone's own drift is a phase
// reversal. Following the distinction G.165 and G.168 draw:
//
//   - 2100 Hz with phase reversals (V.25 ANS with reversals, V.8 ANSam,
//     the echo canceller disabling signal) disables the canceller
//     entirely: send-out is send-in, bit for bit, and the filter does not
//     adapt. The first reversal is enough (it comes 450 ms after the tone
//     starts).
//   - 2100 Hz without phase reversals held for 300 ms (V.25 ANS, the fax
//     CED; G.164 echo suppressor disabling) disables only the NLP and the
//     comfort noise; the linear canceller keeps working, as a fax
//     connection needs it.
//
// Either state is held while there is any signal and released once both
// directions have stayed below −36 dBm0 for 250 ms. The filter taps are
// kept, so the canceller resumes converged if the echo path is unchanged.
//
// # Cost
//
// Process allocates nothing. The filters cost about six multiply-adds per
// tap per sample (256 taps for 32 ms, 1024 for 128 ms); see the benchmarks.
package echo

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tipring/tipring/dsp"
)

// Tail limits.
const (
	// DefaultTail is the echo path length covered when Config.Tail is zero.
	DefaultTail = 32 * time.Millisecond
	// MaxTail is the longest echo path the canceller covers.
	MaxTail = 128 * time.Millisecond
)

// ErrTail reports a Config.Tail that is negative, shorter than one sample,
// or longer than MaxTail.
var ErrTail = errors.New("echo: tail out of range")

// Config selects the canceller's tail and its optional stages.
type Config struct {
	// Tail is the longest echo path delay the filter models, including the
	// flat delay of the PCM path. Zero means DefaultTail.
	Tail time.Duration
	// NLP enables the non-linear processor that suppresses residual echo
	// while the far end talks alone.
	NLP bool
	// ComfortNoise fills the gaps the NLP makes with noise at the near
	// end's background level. It has no effect without NLP.
	ComfortNoise bool
	// IgnoreTones turns the 2100 Hz tone disabler off, for paths that
	// never carry modem or fax calls.
	IgnoreTones bool
}

// Status is a snapshot of the canceller's state, for monitoring.
type Status struct {
	// Bypassed is true while a 2100 Hz tone with phase reversals has
	// disabled the canceller.
	Bypassed bool
	// NLPDisabled is true while a 2100 Hz tone without phase reversals
	// has disabled the NLP (or Bypassed is true).
	NLPDisabled bool
	// DoubleTalk is true while near-end speech is detected.
	DoubleTalk bool
	// Suppressing is true while the NLP suppresses send-out.
	Suppressing bool
	// ERLE is the canceller's own estimate of its echo return loss
	// enhancement in dB over the last few tens of milliseconds.
	ERLE float64
}

// Algorithm constants.
const (
	mu       = 0.5  // NLMS step size
	alpha    = -0.5 // IPNLMS proportionality: -1 is NLMS, 1 is PNLMS
	l1Eps    = 1e-3 // keeps the proportionate gain finite when all taps are zero
	geigel   = 0.5  // |sin| > geigel*max|rin| declares double talk (6 dB)
	dtHold   = 240  // double-talk hangover, samples (30 ms)
	clipK    = 3.0  // robust step: error clipped to clipK times its RMS
	blockMax = 16   // block length of the running maximum of |rin|
	ramp     = 1.0 / 32
	release  = 1.0 / 8
	noiseBlk = 64  // samples per comfort-noise level measurement
	toneBlk  = 80  // tone detector block: 10 ms, 21 cycles of 2100 Hz
	cmpBlock = 256 // two-path comparison block, 32 ms
)

// Levels in linear power (16-bit units squared).
var (
	farActivePower = power(-45) // far end counts as talking above this
	regPower       = power(-45) // NLMS regularization per tap
	tonePower      = power(-34) // minimum 2100 Hz tone level
	quietPower     = power(-36) // tone disabler release level
	floorPower     = power(-75) // residual power floor for ratios
	judgePower     = power(-60) // send-in power needed to call a filter diverged
)

func power(dBm0 float64) float64 {
	r := dsp.ZeroDBm0RMS * math.Pow(10, dBm0/20)
	return r * r
}

// Canceller is one line's echo canceller. It is not safe for concurrent use;
// the line's media goroutine owns it.
type Canceller struct {
	cfg  Config
	taps int

	h    []float64 // background (adapting) echo path model; h[k] applies to rin(n-k)
	hf   []float64 // foreground model, which send-out is computed with
	xbuf []float64 // rin history, written twice so xbuf[pos:pos+taps] is contiguous
	pos  int

	// running max of |rin| over the tail, for Geigel
	bmax    []float64
	bidx    int
	bcount  int
	bcur    float64
	fullMax float64

	// short-term powers (exponential averages)
	prin, psin, pe, peFast, peSlow, psinSlow float64
	errPow                                   float64

	dtHang  int
	farHang int
	farHold int

	// two-path comparison over a block
	sEb, sEf, sD float64
	sN           int

	// NLP and comfort noise
	gain     float64
	noise    float64
	nblkAcc  float64
	nblkN    int
	rng      uint32
	suppress bool

	// tone disabler
	tone     [2]toneDetector
	cosT     [toneBlk]float64
	sinT     [toneBlk]float64
	tblk     int
	bypass   bool
	nlpOff   bool
	quietRun int
}

// New returns a canceller for cfg.
func New(cfg Config) (*Canceller, error) {
	if cfg.Tail == 0 {
		cfg.Tail = DefaultTail
	}
	taps := int(cfg.Tail * dsp.SampleRate / time.Second)
	if cfg.Tail < 0 || taps < 1 || cfg.Tail > MaxTail {
		return nil, fmt.Errorf("%w: %v (want up to %v)", ErrTail, cfg.Tail, MaxTail)
	}
	c := &Canceller{
		cfg:  cfg,
		taps: taps,
		h:    make([]float64, taps),
		hf:   make([]float64, taps),
		xbuf: make([]float64, 2*taps),
		bmax: make([]float64, taps/blockMax+1),
		rng:  0x9e3779b9,
		gain: 1,
	}
	c.farHold = taps + 50*dsp.SampleRate/1000
	for k := range c.cosT {
		w := 2 * math.Pi * 2100 * float64(k) / dsp.SampleRate
		c.cosT[k], c.sinT[k] = math.Cos(w), math.Sin(w)
	}
	c.Reset()
	return c, nil
}

// Reset forgets the echo path and all state, as at the start of a call.
func (c *Canceller) Reset() {
	clear(c.h)
	clear(c.hf)
	clear(c.xbuf)
	clear(c.bmax)
	c.pos = 0
	c.bidx, c.bcount, c.bcur, c.fullMax = 0, 0, 0, 0
	c.prin, c.psin, c.pe, c.peFast, c.peSlow, c.psinSlow = 0, 0, 0, 0, 0, 0
	c.errPow = 0
	c.dtHang, c.farHang = 0, 0
	c.sEb, c.sEf, c.sD, c.sN = 0, 0, 0, 0
	c.gain, c.noise, c.nblkAcc, c.nblkN, c.suppress = 1, 0, 0, 0, false
	c.tone = [2]toneDetector{}
	c.tblk, c.bypass, c.nlpOff, c.quietRun = 0, false, false, 0
}

// Taps returns the number of filter taps, the tail in samples.
func (c *Canceller) Taps() int { return c.taps }

// Status returns the canceller's current state.
func (c *Canceller) Status() Status {
	return Status{
		Bypassed:    c.bypass,
		NLPDisabled: c.bypass || c.nlpOff,
		DoubleTalk:  c.dtHang > 0,
		Suppressing: c.suppress,
		ERLE:        10 * math.Log10((c.psinSlow+floorPower)/(c.peSlow+floorPower)),
	}
}

// Process cancels echo from one stretch of audio of any length: rin is what
// was sent to the line (the far end's voice), sin what came back from it at
// the same sample times, and sout receives sin with the echo removed. The
// three slices must have the same length; sout may be sin itself. Calls
// continue one stream: frames of any size can follow one another.
func (c *Canceller) Process(rin, sin, sout []int16) {
	if len(rin) != len(sin) || len(sin) != len(sout) {
		panic(fmt.Sprintf("echo: Process with lengths %d, %d, %d", len(rin), len(sin), len(sout)))
	}
	for i := range sout {
		sout[i] = c.sample(rin[i], sin[i])
	}
}

func (c *Canceller) sample(rs, ss int16) int16 {
	x, d := float64(rs), float64(ss)
	c.push(x)
	if !c.cfg.IgnoreTones {
		c.toneSample(x, d)
	}
	if c.bypass {
		return ss
	}

	// Background echo estimate, with the sums the proportionate step
	// needs, and the foreground estimate that send-out uses.
	n := c.taps
	xw := c.xbuf[c.pos : c.pos+n : c.pos+n]
	h := c.h[:n]
	hf := c.hf[:n]
	var y, yf, l1, hx2, ex float64
	for k, hk := range h {
		xk := xw[k]
		y += hk * xk
		yf += hf[k] * xk
		a := math.Abs(hk)
		l1 += a
		x2 := xk * xk
		hx2 += a * x2
		ex += x2
	}
	eb := d - y
	e := d - yf

	// Powers: rin and sin over ~8 ms, residual over 2 ms and 8 ms, and
	// slower ones for Status.
	const a8, a2, a64 = 1.0 / 64, 1.0 / 16, 1.0 / 512
	c.prin += a8 * (x*x - c.prin)
	c.psin += a8 * (d*d - c.psin)
	c.pe += a8 * (e*e - c.pe)
	c.peFast += a2 * (e*e - c.peFast)
	c.peSlow += a64 * (e*e - c.peSlow)
	c.psinSlow += a64 * (d*d - c.psinSlow)

	far := c.prin > farActivePower
	if far {
		c.farHang = c.farHold
	} else if c.farHang > 0 {
		c.farHang--
	}

	// Geigel, overruled when the model explains send-in.
	if math.Abs(d) > geigel*c.maxRin() {
		explained := c.pe < 0.1*c.psin && c.peFast < 0.1*c.psin
		if !explained {
			c.dtHang = dtHold
		}
	}
	dt := c.dtHang > 0
	if dt {
		c.dtHang--
	}

	// Adapt the background filter.
	if c.farHang > 0 && !dt {
		if c.errPow == 0 {
			c.errPow = eb * eb
		}
		lim := clipK * math.Sqrt(c.errPow+floorPower)
		ec := max(-lim, min(lim, eb))
		c.errPow += a8 * (ec*ec - c.errPow)
		const gu = (1 - alpha) / 2
		gp := (1 + alpha) / (2*l1 + l1Eps)
		den := gu/float64(n)*ex + gp*hx2 + gu*regPower
		s := mu * ec / den
		cu, cp := s*gu/float64(n), s*gp
		for k := range h {
			h[k] += xw[k] * (cu + cp*math.Abs(h[k]))
		}
	}
	c.compare(c.farHang > 0, eb, e, d)

	out := e
	c.nlp(far, dt, e)
	if c.gain < 1 {
		cn := 0.0
		if c.cfg.ComfortNoise {
			cn = c.comfort()
		}
		out = c.gain*e + (1-c.gain)*cn
	}
	return dsp.Saturate(out)
}

// push stores x as the newest receive-in sample and updates the running
// maximum of |rin| over the tail.
func (c *Canceller) push(x float64) {
	c.pos--
	if c.pos < 0 {
		c.pos = c.taps - 1
	}
	c.xbuf[c.pos] = x
	c.xbuf[c.pos+c.taps] = x

	c.bcur = max(c.bcur, math.Abs(x))
	c.bcount++
	if c.bcount == blockMax {
		c.bmax[c.bidx] = c.bcur
		c.bidx++
		if c.bidx == len(c.bmax) {
			c.bidx = 0
		}
		c.bcount, c.bcur = 0, 0
		m := 0.0
		for _, v := range c.bmax {
			m = max(m, v)
		}
		c.fullMax = m
	}
}

func (c *Canceller) maxRin() float64 { return max(c.fullMax, c.bcur) }

// compare runs the two-path logic: over blocks of cmpBlock samples in
// which the far end talked it compares the errors of the background filter
// (which adapts) and the foreground filter (which makes send-out).
func (c *Canceller) compare(far bool, eb, ef, d float64) {
	if !far {
		return
	}
	c.sEb += eb * eb
	c.sEf += ef * ef
	c.sD += d * d
	c.sN++
	if c.sN < cmpBlock {
		return
	}
	// A floor keeps blocks without echo (the far end has just started and
	// its echo is still on its way) from deciding anything.
	fl := floorPower * cmpBlock
	c.sEb += fl
	c.sEf += fl
	c.sD += fl
	heard := c.sD > judgePower*cmpBlock
	switch {
	case c.sEb < 0.5*c.sEf && c.sEb < 0.25*c.sD:
		// The background models the echo clearly better: promote it.
		copy(c.hf, c.h)
	case !heard:
		// Too little came back to judge either filter by.
	case c.sEb > 4*c.sEf || c.sEb > 2*c.sD:
		// The background has gone astray (near-end speech slipped past the
		// detector): start it again from the foreground.
		copy(c.h, c.hf)
		c.errPow = 0
	}
	if heard && c.sEf > 2*c.sD {
		// The foreground adds echo instead of removing it; the echo path
		// must have changed. Send send-in as it is until the background has
		// learnt the new path.
		clear(c.hf)
	}
	c.sEb, c.sEf, c.sD, c.sN = 0, 0, 0, 0
}

// nlp updates the suppression gain and the background noise estimate.
func (c *Canceller) nlp(far, dt bool, e float64) {
	c.suppress = c.cfg.NLP && !c.nlpOff && c.farHang > 0 && !dt &&
		c.pe < 0.25*c.psin
	switch {
	case c.suppress:
		c.gain = max(0, c.gain-ramp)
	case dt:
		c.gain = min(1, c.gain+release)
	default:
		c.gain = min(1, c.gain+ramp)
	}
	// The background is measured only while the far end is silent (and
	// its echo has died away): then the residual is the near end's own
	// room noise. While the far end talks it also holds whatever echo the
	// filter has not yet learnt, and a level taken then would be played
	// as comfort noise louder than the residual it replaces.
	if c.suppress || !c.cfg.ComfortNoise || c.farHang > 0 {
		return
	}
	c.nblkAcc += e * e
	c.nblkN++
	if c.nblkN == noiseBlk {
		p := c.nblkAcc / noiseBlk
		if p < c.noise || c.noise == 0 {
			c.noise += 0.25 * (p - c.noise)
		} else {
			c.noise *= 1.005 // about 2.7 dB/s at 125 blocks/s
		}
		c.nblkAcc, c.nblkN = 0, 0
	}
}

// comfort returns one sample of white noise at the background level: the
// sum of four uniform variates, close enough to Gaussian.
func (c *Canceller) comfort() float64 {
	var s float64
	for range 4 {
		c.rng ^= c.rng << 13
		c.rng ^= c.rng >> 17
		c.rng ^= c.rng << 5
		s += float64(int32(c.rng)) / (1 << 31)
	}
	// Each uniform on [-1, 1) has variance 1/3; four of them, 4/3.
	return s * math.Sqrt(c.noise*0.75)
}
