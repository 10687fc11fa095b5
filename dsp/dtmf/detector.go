package dtmf

import (
	"math"

	"github.com/tipring/tipring/dsp"
)

// Kind says whether an [Event] marks the beginning or the end of a digit.
type Kind uint8

// Event kinds.
const (
	Begin Kind = iota + 1 // a digit has begun
	End                   // the digit that began earlier has ended
)

func (k Kind) String() string {
	switch k {
	case Begin:
		return "begin"
	case End:
		return "end"
	}
	return "kind?"
}

// Event is one digit boundary reported by a [Detector].
type Event struct {
	Digit byte // '0'-'9', '*', '#', 'A'-'D'
	Kind  Kind
	// Sample is the position of the boundary, counted in samples from the
	// start of the stream (or from the last Reset): for Begin the first
	// sample of the tone, for End the first sample after it.
	Sample int64
	// Start is, for End events, the Sample of the matching Begin event;
	// for Begin events it equals Sample.
	Start int64
	// LowDBm0 and HighDBm0 are the measured levels of the row and column
	// tones, in dBm0, measured over 25 ms near the start of the tone.
	LowDBm0, HighDBm0 float64
}

// Config holds the acceptance limits of a [Detector]. The zero value of any
// field selects its default, so Config{} is the recommended configuration.
type Config struct {
	// MinLevelDBm0 is the weakest tone accepted, per tone, in dBm0.
	// Default -32: Q.24 asks for operation down to -25 dBm0 per tone and for
	// silence at -50; -32 leaves margin both ways and sits near the level
	// (-30 to -36 dBm0) several Q.24 annexes give as the non-operate limit.
	MinLevelDBm0 float64
	// MinTwistDB and MaxTwistDB bound the twist, the level of the high tone
	// minus the level of the low tone, in dB. Defaults -10 and +6: Q.24 asks
	// for -8 to +4 dB (8 dB "normal" twist, 4 dB "reverse" twist); the
	// extra 2 dB each way absorb line and codec tilt.
	MinTwistDB, MaxTwistDB float64
	// FreqTolerance is the largest frequency deviation accepted, as a
	// fraction of the nominal frequency. Default 0.025: Q.24 asks to accept
	// ±1.5 % and reject ±3.5 %; the estimator's worst case error, about
	// 0.6 % with an 8 dB twist and dial tone, fits between those and 2.5 %.
	// Values above 0.03 are treated as 0.03: further off, the analysis
	// window's response is too weak to measure the level.
	FreqTolerance float64
}

// DefaultConfig returns the configuration that Config{} selects.
func DefaultConfig() Config {
	return Config{
		MinLevelDBm0:  -32,
		MinTwistDB:    -10,
		MaxTwistDB:    6,
		FreqTolerance: 0.025,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MinLevelDBm0 == 0 || math.IsNaN(c.MinLevelDBm0) {
		c.MinLevelDBm0 = d.MinLevelDBm0
	}
	if c.MinTwistDB == 0 || math.IsNaN(c.MinTwistDB) {
		c.MinTwistDB = d.MinTwistDB
	}
	if c.MaxTwistDB == 0 || math.IsNaN(c.MaxTwistDB) {
		c.MaxTwistDB = d.MaxTwistDB
	}
	if c.FreqTolerance <= 0 || math.IsNaN(c.FreqTolerance) {
		c.FreqTolerance = d.FreqTolerance
	}
	c.FreqTolerance = math.Min(c.FreqTolerance, 0.03)
	return c
}

// Analysis geometry. See the Detector documentation.
const (
	subLen    = 40 // samples per sub-block (5 ms); f*subLen/8000 = f/200 cycles
	rotPeriod = 200
	winSubs   = 5  // sub-blocks per analysis window (25 ms)
	histLen   = 16 // sub-blocks of history kept (power of two)
	beginRun  = 3  // consecutive valid windows that make a digit
	endRun    = 9  // consecutive other windows that end it
	nTones    = 8
)

// Decision thresholds that are not configurable.
const (
	steadyMin = 0.4 // weakest sub-block amplitude / strongest, in a valid window
	// The two tones' share of the window's power must be at least fracMin,
	// and at least fracDirect unless their share of the power through the
	// dial-tone notch is at least fracNotch.
	fracMin    = 0.35
	fracDirect = 0.85
	fracNotch  = 0.7
	// notchHz is the zero of the dial-tone notch x[n] - 2cos(θ)x[n-1] +
	// x[n-2], between the 350 and 440 Hz of US dial tone (and near 425 Hz).
	notchHz = 400
	// preCheckDB is the slack of the cheap level pre-checks, in dB: the
	// window loses up to 11 dB on a tone 3 % off.
	preCheckDB = 12
	// neighbourMax bounds the second strongest tone of a group against
	// the strongest, as a power ratio (-10 dB).
	neighbourMax = 0.1
)

// winWeights taper the 5 sub-blocks of a window: the sum of the two 4-block
// windows [.5 1 1 .5] that the frequency estimate compares.
var winWeights = [winSubs]float64{0.5, 1.5, 2, 1.5, 0.5}

const winWeightSum = 6.0

// rotTable[m] = exp(-2πi m/200): every Q.23 frequency advances by a whole
// number of 1/200 cycles per sub-block, so sub-block phases are exact.
var rotTable = func() (t [rotPeriod]complex128) {
	for m := range t {
		s, c := math.Sincos(-2 * math.Pi * float64(m) / rotPeriod)
		t[m] = complex(c, s)
	}
	return t
}()

// rotIndex[i][m] is the index in rotTable of tone i's phase turn after m
// sub-blocks: the tone advances by f mod 200 1/200 cycles per sub-block.
var rotIndex = func() (t [nTones][rotPeriod]uint8) {
	for i := range t {
		step := toneFreq(i) % rotPeriod
		for m := range t[i] {
			t[i][m] = uint8(m * step % rotPeriod)
		}
	}
	return t
}()

// subBlock is the analysis of 5 ms of signal.
type subBlock struct {
	p [nTones]complex128 // DFT at each tone, phase referred to time 0
	// h is the tapered 20 ms window ending with this sub-block (weights
	// .5 1 1 .5 over the three before it and itself). A 25 ms window is the
	// sum of two consecutive ones, and the frequency estimate compares
	// them, so each is computed once, when its last sub-block ends.
	h      [nTones]complex128
	energy float64 // sum of squared samples
	// nEnergy is the energy through the dial-tone notch; only the last
	// check of a window needs it, so it is computed then (see notchEnergy).
	nEnergy float64
	// The rows are analysed as each sub-block ends; the columns only when
	// a window's rows look like a digit's (see Detector.cols), which most
	// windows of speech and noise do not. x keeps the samples for that.
	x       [subLen]int16
	hasCols bool // p[4:8] are set
	hasColH bool // h[4:8] are set
	hasNE   bool // nEnergy is set
}

// Detector is a streaming DTMF receiver for one line.
//
// # Design
//
// Eight Goertzel filters, one per Q.23 frequency, run over 5 ms sub-blocks
// (40 samples). Each sub-block yields a complex DFT value per tone whose
// phase is referred to the start of the stream, so that sub-blocks can be
// combined coherently. Every 5 ms the detector examines the window of the
// last five sub-blocks (25 ms) and decides whether it holds a digit:
//
//   - Selection: the sub-block values are summed with a taper (weights
//     .5 1.5 2 1.5 .5: a 25 ms window whose response is at least 20 dB
//     down at the spacing of neighbouring tones of a group and 27 dB down
//     beyond the 268 Hz between the nearest row and column); the strongest
//     row and column win.
//   - Frequency: a tone's frequency offset is the phase advance between the
//     two overlapping tapered 20 ms windows that make up the 25 ms one,
//     5 ms apart (a pulse-pair estimate). It is unambiguous to ±100 Hz,
//     beyond the spacing of neighbouring Q.23 tones, and its worst error
//     with 8 dB of twist, dial tone and the other tone leaking in is about
//     0.6 % of the nominal frequency. A fixed-length Goertzel can only
//     judge frequency by amplitude, and a 102-sample one loses just 0.3 dB
//     at 1.5 % and 1.4 dB at 3.5 % off 697 Hz, which at an unknown level
//     cannot tell the two apart; measuring phase can: both tones must lie
//     within FreqTolerance (2.5 %).
//   - Level: each tone's amplitude, corrected for the window's response
//     at the measured offset, must reach MinLevelDBm0, and the twist must
//     lie within [MinTwistDB, MaxTwistDB].
//   - Talk-off guards: the second strongest frequency of each group must
//     be 10 dB below the strongest (a DTMF tone leaves its neighbours at
//     least 12 dB down even 1.5 % off; voiced speech spreads harmonics over
//     them), and the two tones must carry 85 % of the window's power, or,
//     when dial tone is present, 70 % of the power seen through a notch at
//     400 Hz that removes dial tone (and at least 35 % in any case). With
//     noise 15 dB down the tones carry about 95 %; speech rarely exceeds
//     60 % by either measure.
//   - Steadiness: the tone amplitude in the five sub-blocks may not dip
//     below 40 % of its strongest sub-block. This makes a window valid only
//     once the tone fills it, so the count of valid windows measures the
//     tone's duration to a sub-block regardless of its level.
//
// A digit begins after 3 consecutive valid windows with the same digit,
// which a tone fills when it lasts about 30 ms (35 ms with the least
// favourable alignment): tones of 40 ms or more always begin, tones of
// 25 ms or less never (Q.24: accept ≥ 40 ms, reject ≤ 20 ms). It then
// ends after 9 consecutive windows without it: an interruption of 15 ms or
// less is always bridged, a pause of 30 ms or more always ends the digit
// (Q.24: bridge ≤ 10 ms, split at ≥ 40 ms). The
// reported sample positions are refined inside the edge sub-blocks from the
// sub-block amplitudes, to about a millisecond. A Begin event is reported
// 30-40 ms after the tone's onset; an End event 45-50 ms after its end.
//
// The cost is the 4 row Goertzel updates per sample, with the energy
// summed in integers beside them, and a few hundred operations per 5 ms;
// the 4 column filters run, over the samples kept with each sub-block,
// only for sub-blocks of windows whose rows pass the selection, frequency
// and level checks (every window of a digit, few of speech or noise), with
// the same result as if they had run at once. The energy through the
// dial-tone notch is likewise computed only for the windows that need it.
// Sub-blocks 20 dB below the weakest accepted tone skip the filters, and
// while a digit holds, every other window is examined only when the one
// after it is not valid (see endSubBlock). There is no allocation.
//
// A Detector is not safe for concurrent use; give each line its own.
type Detector struct {
	cfg Config

	// Acceptance limits derived from cfg.
	minAmp2 float64           // squared peak amplitude at MinLevelDBm0
	preAmp2 float64           // pre-check bound, preCheckDB below
	quiet   float64           // sub-block energy below which filtering is skipped
	twistLo float64           // power ratio high/low, lower bound
	twistHi float64           // power ratio high/low, upper bound
	cosTol  [nTones]float64   // cos of the largest phase step accepted
	coef    [nTones]float64   // Goertzel coefficient 2cos(ω)
	cosW    [nTones]float64   // cos(ω)
	sinW    [nTones]float64   // sin(ω)
	s1, s2  [nTones]float64   // row Goertzel states of the last sub-block
	energy  float64           // energy of the last sub-block
	notchC  float64           // notch coefficient 2cos(θ)
	nGain   [nTones]float64   // power gain of the notch at each tone
	n       int               // samples in the current sub-block
	subs    int64             // sub-blocks completed
	hist    [histLen]subBlock // the last sub-blocks, indexed by k%histLen

	// Digit state machine, in window indices (a window is named after its
	// last sub-block).
	active    byte  // digit in progress, 0 if none
	startS    int64 // its Begin sample
	lastValid int64 // last window that held it
	miss      int   // consecutive windows without it
	levels    [2]float64
	ref       float64 // reference sub-block amplitude of the active digit
	row, col  int     // tones of the active digit
	cand      byte    // candidate digit, 0 if none
	candRun   int     // consecutive windows holding cand
	candFirst int64   // first of them
	// deferred says the window ending with the last sub-block has not been
	// examined yet (see endSubBlock).
	deferred bool
	// suspectAt is the position just after the last sub-block that could
	// be the start of a digit (see Suspect).
	suspectAt int64
}

// NewDetector returns a Detector with the limits of cfg (zero fields take
// their defaults).
func NewDetector(cfg Config) *Detector {
	d := &Detector{}
	d.cfg = cfg.withDefaults()
	amp := dsp.PeakFromDBm0(d.cfg.MinLevelDBm0)
	d.minAmp2 = amp * amp
	d.preAmp2 = d.minAmp2 * math.Pow(10, -preCheckDB/10)
	// A sub-block 20 dB below a tone at the minimum level.
	d.quiet = subLen * d.minAmp2 / 2 / 100
	d.twistLo = math.Pow(10, d.cfg.MinTwistDB/10)
	d.twistHi = math.Pow(10, d.cfg.MaxTwistDB/10)
	d.notchC = 2 * math.Cos(2*math.Pi*notchHz/dsp.SampleRate)
	for i := 0; i < nTones; i++ {
		f := toneFreq(i)
		w := 2 * math.Pi * float64(f) / dsp.SampleRate
		d.cosW[i], d.sinW[i] = math.Cos(w), math.Sin(w)
		d.coef[i] = 2 * d.cosW[i]
		d.nGain[i] = 4 * (d.cosW[i] - d.notchC/2) * (d.cosW[i] - d.notchC/2)
		// Phase step between windows 5 ms apart at the tolerance limit.
		d.cosTol[i] = math.Cos(2 * math.Pi * d.cfg.FreqTolerance * float64(f) * subLen / dsp.SampleRate)
	}
	d.Reset()
	return d
}

// Config returns the limits the detector applies, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Reset returns the detector to its initial state, forgetting any digit in
// progress; sample positions count from zero again.
func (d *Detector) Reset() {
	d.s1, d.s2 = [nTones]float64{}, [nTones]float64{}
	d.energy = 0
	d.n, d.subs = 0, 0
	d.hist = [histLen]subBlock{}
	d.active, d.miss, d.cand, d.candRun = 0, 0, 0, 0
	d.deferred = false
	d.suspectAt = -1
}

// Position returns the number of samples processed since the start of the
// stream or the last Reset.
func (d *Detector) Position() int64 { return d.subs*subLen + int64(d.n) }

func toneFreq(i int) int {
	if i < 4 {
		return lowFreqs[i]
	}
	return highFreqs[i-4]
}

// Process analyses samples, the next part of the line's signal, and appends
// the digit boundaries it finds to dst, returning the extended slice.
// Samples may come in slices of any length; the result does not depend on
// how the stream is cut. Process does not allocate when dst has room for
// the events (two per 5 ms of samples at most, usually none).
func (d *Detector) Process(dst []Event, samples []int16) []Event {
	for len(samples) > 0 {
		sb := d.sub(d.subs)
		n := copy(sb.x[d.n:], samples)
		d.n += n
		samples = samples[n:]
		if d.n == subLen {
			d.goertzel(&sb.x)
			dst = d.endSubBlock(dst)
		}
	}
	return dst
}

// Flush ends the stream: it reports the End of a digit still in progress,
// placed no later than the last sample processed, appends it to dst, and
// resets the detector.
func (d *Detector) Flush(dst []Event) []Event {
	if d.deferred {
		k := d.subs - 1
		dst = d.step(dst, k, d.window(k))
	}
	if d.active != 0 {
		end := d.endSample(d.lastValid, d.subs-1)
		if pos := d.Position(); end > pos {
			end = pos
		}
		dst = d.emitEnd(dst, end)
	}
	d.Reset()
	return dst
}

// goertzel measures the energy of the complete sub-block x and runs the
// four row filters over it; the column filters run later, if at all (see
// cols). Filtering whole sub-blocks, whatever the caller's frame size,
// makes the arithmetic, and so the result, independent of it.
func (d *Detector) goertzel(x *[subLen]int16) {
	// A sub-block far below the weakest tone accepted cannot be part of a
	// valid window, so its DFT values may as well be zero (endSubBlock and
	// cols set them so) and the filters need not run. After a quiet
	// sub-block the energy is measured first, in case this one is quiet
	// too; otherwise the filters measure it as they run, for free.
	if d.sub(d.subs-1).energy < d.quiet {
		// int64, not int: on 32-bit ARM two squared full-scale samples
		// already overflow an int.
		var e0, e1 int64
		for n := 0; n < subLen; n += 4 {
			a, b, c, f := int64(x[n]), int64(x[n+1]), int64(x[n+2]), int64(x[n+3])
			e0 += a*a + b*b
			e1 += c*c + f*f
		}
		d.energy = float64(e0 + e1)
		if d.energy < d.quiet {
			return
		}
	}
	d.energy = float64(goertzel4(x, (*[4]float64)(d.coef[0:4]), &d.s1, &d.s2))
}

// goertzel4 runs four Goertzel recursions s[n] = x[n] + c*s[n-1] - s[n-2]
// over a sub-block from zero state and stores their last two states in s1
// and s2 (the first four elements). c holds the coefficients. Each
// recursion's critical path is one multiply and one add per sample; four
// of them interleaved keep the floating-point units busy without running
// out of registers, which more would. It returns the sub-block's energy,
// the sum of the squared samples: exact in integers, which run beside
// the floating-point recursions at no cost.
func goertzel4(x *[subLen]int16, c *[4]float64, s1, s2 *[nTones]float64) int64 {
	// Two samples per pass, the states trading places rather than moving:
	// q holds s[n-2] and p s[n-1] before each pass. The coefficients are
	// read from memory, as operands of the multiplies, which leaves the
	// registers to the states.
	var p0, p1, p2, p3 float64
	var q0, q1, q2, q3 float64
	var e int64 // not int: 40 squared samples overflow 32 bits
	for n := 0; n < subLen; n += 2 {
		a, b := int64(x[n]), int64(x[n+1])
		e += a*a + b*b
		v := float64(a)
		q0 = (v - q0) + c[0]*p0
		q1 = (v - q1) + c[1]*p1
		q2 = (v - q2) + c[2]*p2
		q3 = (v - q3) + c[3]*p3
		w := float64(b)
		p0 = (w - p0) + c[0]*q0
		p1 = (w - p1) + c[1]*q1
		p2 = (w - p2) + c[2]*q2
		p3 = (w - p3) + c[3]*q3
	}
	s1[0], s1[1], s1[2], s1[3] = p0, p1, p2, p3
	s2[0], s2[1], s2[2], s2[3] = q0, q1, q2, q3
	return e
}

// notchEnergy returns the energy of sub-block k through the dial-tone notch
// y = x[n] - 2cos(θ)x[n-1] + x[n-2], computing it on first use from the
// samples kept with it and its predecessor.
func (d *Detector) notchEnergy(k int64) float64 {
	sb := d.sub(k)
	if sb.hasNE {
		return sb.nEnergy
	}
	var x1, x2 float64
	if k > 0 {
		prev := &d.sub(k - 1).x
		x1, x2 = float64(prev[subLen-1]), float64(prev[subLen-2])
	}
	x := &sb.x
	nc := d.notchC
	var n0, n1 float64
	for n := 0; n < subLen; n += 2 {
		v, w := float64(x[n]), float64(x[n+1])
		y := (v + x2) - nc*x1
		z := (w + x1) - nc*v
		n0 += y * y
		n1 += z * z
		x1, x2 = w, v
	}
	sb.nEnergy, sb.hasNE = n0+n1, true
	return sb.nEnergy
}

// endSubBlock turns the filter states into the sub-block's DFT values,
// examines the window that ends with it, and runs the state machine.
func (d *Detector) endSubBlock(dst []Event) []Event {
	k := d.subs
	sb := d.sub(k)
	if d.energy < d.quiet {
		sb.p[0], sb.p[1], sb.p[2], sb.p[3] = 0, 0, 0, 0
	} else {
		d.dft(sb, k, 0, &d.s1, &d.s2)
	}
	sb.hasCols, sb.hasColH, sb.hasNE = false, false, false
	p1, p2, p3 := &d.sub(k-1).p, &d.sub(k-2).p, &d.sub(k-3).p
	for i := range 4 {
		sb.h[i] = 0.5*(sb.p[i]+p3[i]) + (p1[i] + p2[i])
	}
	sb.energy = d.energy
	if d.energy >= d.quiet && d.suspect(sb, k) {
		d.suspectAt = (k + 1) * subLen
	}
	d.n = 0
	d.subs++
	if k < winSubs-1 {
		return dst
	}
	// While a digit holds, every other window is examined only if the
	// next one is not valid. Skipping it changes nothing: after a window
	// that held the active digit, the next window cannot report anything
	// (one missing window neither ends the digit nor completes a new
	// one's run of three), and once the window after it holds the digit
	// again, the state is the same whatever the skipped window held.
	if d.deferred {
		d.deferred = false
		digit := d.window(k)
		if digit != d.active {
			dst = d.step(dst, k-1, d.window(k-1))
		}
		return d.step(dst, k, digit)
	}
	if d.active != 0 && d.lastValid == k-1 {
		d.deferred = true
		return dst
	}
	return d.step(dst, k, d.window(k))
}

// Suspect thresholds: the strongest row and the strongest column of a 5 ms
// sub-block, each measured as a share of the sub-block's power (1 for a
// pure tone at the filter's frequency), must each reach suspectEach and
// together suspectBoth. A key's two tones share the power by their twist
// (−8 dB: 14 % and 86 %) and carry all of it, less noise and what the
// 40-sample filters leak; speech and noise seldom put half their power
// into one row and one column at once.
const (
	suspectEach = 0.08
	suspectBoth = 0.6
)

// suspect tells whether sub-block k, whose rows are in sb, holds what could
// be the start of a key: a strong row tone and a strong column tone that
// carry most of its power. It runs the column filters for it only when
// its rows pass.
func (d *Detector) suspect(sb *subBlock, k int64) bool {
	full := d.energy * subLen / 2 // a pure tone's |X|² at its own frequency
	var row float64
	for i := range 4 {
		row = max(row, real(sb.p[i])*real(sb.p[i])+imag(sb.p[i])*imag(sb.p[i]))
	}
	if row < suspectEach*full {
		return false
	}
	p := &d.cols(k).p
	var col float64
	for i := 4; i < nTones; i++ {
		col = max(col, real(p[i])*real(p[i])+imag(p[i])*imag(p[i]))
	}
	return col >= suspectEach*full && row+col >= suspectBoth*full
}

// Suspect tells whether the signal since sample position pos (see
// Position) could hold a key being pressed: a 5 ms sub-block ending after
// pos in which one row and one column tone carry most of the power, or a
// digit in progress or about to begin. It answers within 5 ms of a tone's
// onset, long before the digit itself is known (30–40 ms), and errs on the
// side of yes: speech that looks like the start of a key is suspect too.
// A caller that holds audio back only while this is true can cut a key's
// tone out of what it sends without delaying all the rest.
func (d *Detector) Suspect(pos int64) bool {
	return d.active != 0 || d.cand != 0 || d.suspectAt > pos
}

// dft turns the final Goertzel states s1[j], s2[j] (j = 0..3) of the
// four tones from index from (0 rows, 4 columns) into sub-block k's DFT
// values in sb.
func (d *Detector) dft(sb *subBlock, k int64, from int, s1, s2 *[nTones]float64) {
	m := (k + 1) % rotPeriod
	for j := range 4 {
		i := from + j
		// y = s[N-1] - e^{-iω} s[N-2] = e^{iω(N-1)} Σ x[n] e^{-iωn};
		// turning it by e^{-iω(k+1)N} refers the phase to sample 0
		// (up to a constant per tone, which cancels everywhere).
		y := complex(s1[j]-d.cosW[i]*s2[j], d.sinW[i]*s2[j])
		sb.p[i] = y * rotTable[rotIndex[i][m]]
	}
}

// cols runs the column filters over sub-block k, if not done yet, from
// the samples kept with it. The results are the same as if they had run
// when the sub-block ended.
func (d *Detector) cols(k int64) *subBlock {
	sb := d.sub(k)
	if sb.hasCols {
		return sb
	}
	sb.hasCols = true
	if k < 0 || k <= d.subs-histLen || sb.energy < d.quiet {
		sb.p[4], sb.p[5], sb.p[6], sb.p[7] = 0, 0, 0, 0
		return sb
	}
	var s1, s2 [nTones]float64
	goertzel4(&sb.x, (*[4]float64)(d.coef[4:8]), &s1, &s2)
	d.dft(sb, k, 4, &s1, &s2)
	return sb
}

// colH returns sub-block k's tapered window sums with the column part
// filled in.
func (d *Detector) colH(k int64) *[nTones]complex128 {
	sb := d.sub(k)
	if !sb.hasColH {
		p3, p2, p1 := &d.cols(k-3).p, &d.cols(k-2).p, &d.cols(k-1).p
		p := &d.cols(k).p
		for i := 4; i < nTones; i++ {
			sb.h[i] = 0.5*(p[i]+p3[i]) + (p1[i] + p2[i])
		}
		sb.hasColH = true
	}
	return &sb.h
}

// h returns tone i's tapered window sum ending at sub-block k.
func (d *Detector) h(k int64, i int) complex128 {
	if i < 4 {
		return d.sub(k).h[i]
	}
	return d.colH(k)[i]
}

// sub returns sub-block k from the history (zero before the stream).
func (d *Detector) sub(k int64) *subBlock { return &d.hist[k&(histLen-1)] }

// window decides whether the window ending at sub-block k holds a digit and
// returns it, or 0.
func (d *Detector) window(k int64) byte {
	first := k - (winSubs - 1)
	var wEnergy float64
	for j := 0; j < winSubs; j++ {
		wEnergy += winWeights[j] * d.sub(first+int64(j)).energy
	}
	meanSq := wEnergy * (1 / (subLen * winWeightSum))
	if meanSq < d.preAmp2 {
		return 0 // too little power for two tones at the minimum level
	}
	// Talk-off guard: a DTMF tone leaves the other frequencies of its
	// group well down; voiced speech spreads harmonics over them. The rows
	// are tried first, since most windows hold no digit.
	r, rp, r2 := strongest(&d.sub(k-1).h, &d.sub(k).h, 0)
	if r2 > neighbourMax*rp || rp < d.preAmp2*scale2 {
		return 0
	}
	// The row's frequency and level, and the bound they put on the two
	// tones' share of the power (the column tone is at most twistHi times
	// the row tone), are checked before the columns are filtered.
	ar2 := rp / scale2
	gr, ok := d.offsetGain(first, r)
	if !ok {
		return 0
	}
	ar2 /= gr * gr
	if ar2 < d.minAmp2 || ar2*(1+d.twistHi)/2 < fracMin*(1-1e-9)*meanSq {
		return 0
	}
	col, cp, c2 := strongest(d.colH(k-1), d.colH(k), 4)
	if c2 > neighbourMax*cp {
		return 0
	}
	ac2 := cp / scale2
	// Cheap pre-checks on uncorrected amplitudes: a tone within tolerance
	// loses less than preCheckDB in the window.
	if ac2 < d.preAmp2 || (rp/scale2+ac2)/2 < fracMin/16*meanSq {
		return 0
	}
	if !d.steady(first, r, col) {
		return 0
	}
	gc, ok := d.offsetGain(first, col)
	if !ok {
		return 0
	}
	ac2 /= gc * gc
	if ac2 < d.minAmp2 {
		return 0
	}
	if ac2 < d.twistLo*ar2 || ac2 > d.twistHi*ar2 {
		return 0
	}
	if (ar2+ac2)/2 < fracMin*meanSq {
		return 0
	}
	// The tones must carry most of the power, either of the whole signal
	// or of the signal through the dial-tone notch.
	if (ar2+ac2)/2 < fracDirect*meanSq {
		var nEnergy float64
		for j := 0; j < winSubs; j++ {
			nEnergy += winWeights[j] * d.notchEnergy(first+int64(j))
		}
		nMeanSq := nEnergy / (subLen * winWeightSum)
		if (ar2*d.nGain[r]+ac2*d.nGain[col])/2 < fracNotch*nMeanSq {
			return 0
		}
	}
	return keypad[4*r+col-4]
}

// scale2 is the squared amplitude scale of a window: a tone of peak
// amplitude A on its nominal frequency gives |c| = A/2 * subLen *
// winWeightSum.
const scale2 = (subLen * winWeightSum / 2) * (subLen * winWeightSum / 2)

// strongest sums the two halves ha and hb of a window for the four tones
// from index from (0 rows, 4 columns) and returns the strongest one's index
// and squared magnitude, and the squared magnitude of the second strongest.
func strongest(ha, hb *[nTones]complex128, from int) (best int, p1, p2 float64) {
	p1, p2 = -1, -1
	for i := from; i < from+4; i++ {
		v := ha[i] + hb[i]
		p := real(v)*real(v) + imag(v)*imag(v)
		switch {
		case p > p1:
			best, p1, p2 = i, p, p1
		case p > p2:
			p2 = p
		}
	}
	return best, p1, p2
}

// steady reports whether tones r and c keep at least steadyMin of their
// strongest sub-block amplitude through the window starting at first. It
// compares powers, the stronger tone dominating their sum, so that the
// beating of the weaker tone with leakage from the stronger one matters
// little.
func (d *Detector) steady(first int64, r, c int) bool {
	lo, hi := math.Inf(1), 0.0
	for j := int64(0); j < winSubs; j++ {
		p := &d.cols(first + j).p
		q := real(p[r])*real(p[r]) + imag(p[r])*imag(p[r]) + real(p[c])*real(p[c]) + imag(p[c])*imag(p[c])
		lo = min(lo, q)
		hi = max(hi, q)
	}
	return lo >= steadyMin*steadyMin*hi
}

// q is the summed amplitude of tones r and c in sub-block k; the stronger
// tone dominates it, so leakage beating in the weaker one matters little.
func (d *Detector) q(k int64, r, c int) float64 {
	sb := d.cols(k)
	return cmplxAbs(sb.p[r]) + cmplxAbs(sb.p[c])
}

func cmplxAbs(v complex128) float64 {
	return math.Sqrt(real(v)*real(v) + imag(v)*imag(v))
}

// offsetGain estimates the frequency offset of tone i from the phase advance
// between the two tapered 20 ms windows in the window starting at first,
// rejects it beyond the tolerance, and returns the gain of the 25 ms window
// at that offset relative to the nominal frequency (≤ 1).
func (d *Detector) offsetGain(first int64, i int) (float64, bool) {
	a, b := d.h(first+winSubs-2, i), d.h(first+winSubs-1, i)
	rr := b * complex(real(a), -imag(a))
	m := cmplxAbs(rr)
	if m == 0 || real(rr) < d.cosTol[i]*m {
		return 0, false
	}
	return windowGain(real(rr) / m), true
}

// windowGain is the amplitude response of the tapered 25 ms window to a tone
// whose phase advances by α radians per sub-block more than nominal,
// relative to its response at the nominal frequency; c = cos α. It needs
// no trigonometry: the taper's response Σ w_j e^{ijα} has, for the
// symmetric weights .5 1.5 2 1.5 .5, the magnitude |cos 2α + 3cos α + 2| =
// |(2c+1)(c+1)|, and the sub-block's, sin(α/2)/(subLen·sin(α/2subLen)), is
// within 0.1 % of sinc(α/2), evaluated from c by series (|α| < 1.6 here).
func windowGain(c float64) float64 {
	s2 := 0.5 * (1 - c) // sin²(α/2)
	x2 := s2 * (1 + s2*(1.0/3+s2*(8.0/45)))
	sinc := 1 - x2*(1.0/6)*(1-x2*(1.0/20))
	return sinc * math.Abs((2*c+1)*(c+1)) * (1 / winWeightSum)
}

// step runs the digit state machine on the decision for window k.
func (d *Detector) step(dst []Event, k int64, digit byte) []Event {
	if d.active != 0 && digit == d.active {
		d.lastValid, d.miss = k, 0
		d.cand, d.candRun = 0, 0
		return dst
	}
	// Track a run of windows holding a digit other than the active one.
	switch {
	case digit == 0:
		d.cand, d.candRun = 0, 0
	case digit == d.cand:
		d.candRun++
	default:
		d.cand, d.candRun, d.candFirst = digit, 1, k
	}
	if d.active != 0 {
		d.miss++
		if d.candRun == beginRun {
			r, c, _ := position(d.cand)
			onset := d.onsetSample(d.candFirst, r, c+4, d.refAmp(d.candFirst, r, c+4))
			end := d.endSample(d.lastValid, k)
			if end > onset {
				end = onset
			}
			dst = d.emitEnd(dst, end)
			return d.emitBegin(dst, k)
		}
		if d.miss >= endRun {
			dst = d.emitEnd(dst, d.endSample(d.lastValid, k))
		}
		return dst
	}
	if d.candRun == beginRun {
		dst = d.emitBegin(dst, k)
	}
	return dst
}

// emitBegin starts the candidate digit, whose third valid window is k.
func (d *Detector) emitBegin(dst []Event, k int64) []Event {
	digit := d.cand
	first := d.candFirst
	r, c, _ := position(digit)
	d.row, d.col = r, c+4
	d.ref = d.refAmp(first, d.row, d.col)
	// Sub-blocks first-3 .. first+1 lie inside valid windows, so the tone
	// fills them: the levels are measured there.
	d.levels[0] = d.level(first-3, d.row)
	d.levels[1] = d.level(first-3, d.col)
	d.startS = d.onsetSample(first, d.row, d.col, d.ref)
	d.active, d.lastValid, d.miss = digit, k, 0
	d.cand, d.candRun = 0, 0
	return append(dst, Event{
		Digit: digit, Kind: Begin, Sample: d.startS, Start: d.startS,
		LowDBm0: d.levels[0], HighDBm0: d.levels[1],
	})
}

// refAmp is the mean summed amplitude of tones r and c over the sub-blocks
// that the valid windows first, first+1 and first+2 have in common with
// their neighbours: first-3 .. first+1, which the tone fills.
func (d *Detector) refAmp(first int64, r, c int) float64 {
	var sum float64
	for j := first - 3; j <= first+1; j++ {
		sum += d.q(j, r, c)
	}
	return sum / 5
}

func (d *Detector) emitEnd(dst []Event, end int64) []Event {
	if end < d.startS {
		end = d.startS
	}
	dst = append(dst, Event{
		Digit: d.active, Kind: End, Sample: end, Start: d.startS,
		LowDBm0: d.levels[0], HighDBm0: d.levels[1],
	})
	d.active, d.miss = 0, 0
	return dst
}

// level measures tone i, in dBm0, over the window of sub-blocks starting at
// first, correcting for its frequency offset.
func (d *Detector) level(first int64, i int) float64 {
	c := d.h(first+winSubs-2, i) + d.h(first+winSubs-1, i)
	amp := cmplxAbs(c) / (subLen * winWeightSum / 2)
	if g, ok := d.offsetGain(first, i); ok && g > 0 {
		amp /= g
	}
	return dsp.DBm0FromRMS(amp / math.Sqrt2)
}

// coverage estimates the part of sub-block k that tones r and c fill,
// given their amplitude ref in a filled sub-block.
func (d *Detector) coverage(k int64, r, c int, ref float64) float64 {
	if k < 0 || k >= d.subs || k < d.subs-histLen || ref <= 0 {
		return 0
	}
	return math.Max(0, math.Min(1, d.q(k, r, c)/ref))
}

// onsetSample places the start of a tone whose first valid window is first:
// that window's first sub-block is at least 40 % filled, the one before it
// less, so the onset lies within those two.
func (d *Detector) onsetSample(first int64, r, c int, ref float64) int64 {
	s := first - (winSubs - 1)
	cov := d.coverage(s-1, r, c, ref) + d.coverage(s, r, c, ref)
	return max(0, (s+1)*subLen-int64(math.Round(cov*subLen)))
}

// endSample places the end of the active tone whose last valid window is e
// (its last sub-block at least 40 % filled), looking no further than
// sub-block limit.
func (d *Detector) endSample(e, limit int64) int64 {
	var covered float64
	for j := e; j <= e+2 && j <= limit; j++ {
		v := d.coverage(j, d.row, d.col, d.ref)
		covered += v
		if v < 0.5 {
			break
		}
	}
	return e*subLen + int64(math.Round(covered*subLen))
}
