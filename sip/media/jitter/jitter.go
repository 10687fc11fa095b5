// Package jitter holds an adaptive playout buffer for one narrowband RTP
// audio stream: packets go in as they arrive, out of order, late, twice or
// not at all, and 20 ms frames come out at the pace of the local PCM clock.
//
// The buffer works on the RTP timestamp line. Decoded samples sit in a ring
// indexed by their timestamp, each with a flag saying it arrived, so that
// reordering, duplicates and packets of any size need no bookkeeping beyond
// the ring. A playout point walks the timeline one frame per Read. The
// distance from the playout point to the end of the newest packet is the
// depth; the buffer steers it towards a target delay taken from the
// interarrival jitter of RFC 3550 §6.4.1, between a minimum and a maximum:
//
//   - fast attack: when the stream runs dry (a late packet, a burst of delay,
//     the sender's clock faster than ours), the next packet to arrive is
//     scheduled a full target delay ahead, so the delay grows at once by
//     what the network just showed it needs, and the target rises with the
//     jitter estimate at once;
//   - when the next sample to play is missing while the buffer holds less
//     than the target (a packet is late, not lost, most likely), playout
//     waits a frame, up to maxStall frames in a row, instead of skipping;
//   - slow decay: the target falls back only gradually, and the buffer drops
//     a 20 ms frame of audio at most once per second when the smallest depth
//     seen over a second exceeds the target by 20 ms or more.
//
// The playout point is set a whole number of frames before the end of a
// packet, so that with packets of 10 or 20 ms a frame holds whole packets
// and a lost packet makes whole frames missing, which ReadMissing reports
// for a concealment such as G.711 Appendix I to replace.
//
// Samples that did not arrive in time are concealed: by repeating the last
// frame played, fading by about 6 dB per frame to silence after three
// frames, or by silence (Config.PLC).
package jitter

import (
	"errors"
	"fmt"
	"time"

	"github.com/tipring/tipring/dsp/g711"
)

// FrameSamples is the number of samples Read returns: 20 ms at 8 kHz.
const FrameSamples = 160

// SampleRate is the RTP clock rate of the streams the buffer carries.
const SampleRate = 8000

// ringSize is the length of the sample ring: 512 ms. It must be a power of
// two and hold the maximum delay plus the largest packet with room to spare.
const ringSize = 4096

const ringMask = ringSize - 1

// maxPacket is the largest packet the buffer accepts, in samples (120 ms).
const maxPacket = 960

// Bounds on the configurable delays.
const (
	// MinDelay is the smallest target delay: one frame.
	MinDelay = 20 * time.Millisecond
	// MaxDelay is the largest target delay.
	MaxDelay = 300 * time.Millisecond
)

// Errors.
var (
	// ErrConfig reports an unusable configuration.
	ErrConfig = errors.New("jitter: bad configuration")
)

// PLC selects how the buffer fills in samples that did not arrive.
type PLC uint8

// Concealment methods.
const (
	// PLCRepeat repeats the last frame played, fading out over three frames.
	PLCRepeat PLC = iota
	// PLCSilence plays silence.
	PLCSilence
)

// Config sets the limits of a Buffer. The zero value means 20 ms to 200 ms
// with repeat-and-fade concealment.
type Config struct {
	// Min and Max bound the target delay. Zero means 20 ms and 200 ms.
	Min, Max time.Duration
	// PLC is the concealment method.
	PLC PLC
}

// Stats describes a Buffer.
type Stats struct {
	// Depth is the audio buffered ahead of the playout point, and Target
	// the delay the buffer steers towards.
	Depth, Target time.Duration
	// Jitter is the interarrival jitter estimate (RFC 3550 §6.4.1).
	Jitter time.Duration
	// Packets counts packets accepted, Late those that came after their
	// playout time, Dropped those refused (empty, oversized).
	Packets, Late, Dropped uint64
	// Underruns counts the times the buffer ran dry while playing.
	Underruns uint64
	// Concealed counts frames that held concealed samples.
	Concealed uint64
	// Stretched counts samples of concealment inserted to let late
	// packets catch up, Shrunk samples dropped to reduce the delay, and
	// Resyncs the times the timeline was restarted after a timestamp jump.
	Stretched, Shrunk, Resyncs uint64
}

// fade (read-only) is the gain applied to the repeated frame in the n-th consecutive
// concealed frame, in 1/256.
var fade = [...]int32{181, 90, 45}

// shrinkWindow is how many Reads the buffer watches the depth before it
// decides to drop audio: one second.
const shrinkWindow = 50

// shrinkStep is what the buffer drops at a time: one frame, 20 ms, which
// keeps frames aligned with packets (see anchor).
const shrinkStep = FrameSamples

// maxStall is how many frames in a row playout waits for a late packet.
const maxStall = 3

// Buffer is an adaptive jitter buffer. It is not safe for concurrent use:
// callers that Put from a network goroutine and Read from a media loop
// serialise the calls. Put and Read do not allocate.
type Buffer struct {
	min, max int32 // target bounds, samples
	plc      PLC

	pcm   [ringSize]int16
	valid [ringSize]bool

	started bool
	play    uint32 // timestamp of the next sample to play
	latest  uint32 // end timestamp of the newest packet
	drained bool   // the buffer ran dry and has not refilled

	target      int32 // current target delay, samples
	fixed       bool  // SetFixed: the delay no longer adapts
	jit         int32 // jitter estimate ×16, samples
	transit     int32
	haveTransit bool

	last    [FrameSamples]int16 // last frame played, for concealment
	lossRun int
	fresh   bool // nothing played since the timeline (re)started
	stalls  int  // frames waited in a row for a late packet

	winMin    int32
	winFrames int

	st Stats
}

// New returns an empty Buffer.
func New(cfg Config) (*Buffer, error) {
	if cfg.Min == 0 {
		cfg.Min = MinDelay
	}
	if cfg.Max == 0 {
		cfg.Max = 200 * time.Millisecond
	}
	if cfg.Min < MinDelay || cfg.Max > MaxDelay || cfg.Min > cfg.Max {
		return nil, fmt.Errorf("%w: delay %v to %v, want within %v to %v", ErrConfig, cfg.Min, cfg.Max, MinDelay, MaxDelay)
	}
	if cfg.PLC > PLCSilence {
		return nil, fmt.Errorf("%w: concealment %d", ErrConfig, cfg.PLC)
	}
	b := &Buffer{min: samples(cfg.Min), max: samples(cfg.Max), plc: cfg.PLC}
	b.target = b.min
	return b, nil
}

func samples(d time.Duration) int32 { return int32(d * SampleRate / time.Second) }

func duration(n int32) time.Duration { return time.Duration(n) * time.Second / SampleRate }

// Reset empties the buffer and forgets the stream, as when its source
// changes. The target delay and the counters stay.
func (b *Buffer) Reset() {
	b.started = false
	b.drained = false
	b.haveTransit = false
	b.valid = [ringSize]bool{}
	b.winFrames, b.winMin = 0, 0
}

// gcd of a packet size and the frame size, for the smallest delay that
// lets every Read find a whole frame when packets of n samples arrive on
// time.
func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// PutG711 decodes a G.711 payload whose first sample has RTP timestamp ts
// and stores it. arrival is the local time the packet arrived, in samples
// of any fixed origin (the difference to ts measures transit, RFC 3550
// §6.4.1).
func (b *Buffer) PutG711(ts, arrival uint32, law g711.Law, payload []byte) {
	n := len(payload)
	if n == 0 || n > maxPacket {
		b.st.Dropped++
		return
	}
	if !b.place(ts, arrival, int32(n)) {
		return
	}
	var dec [FrameSamples]int16
	for off := 0; off < n; off += FrameSamples {
		chunk := payload[off:min(n, off+FrameSamples)]
		law.Decode(dec[:len(chunk)], chunk)
		b.store(ts+uint32(off), dec[:len(chunk)])
	}
	b.advanceLatest(ts + uint32(n))
}

// Put stores linear samples whose first has RTP timestamp ts; see PutG711.
func (b *Buffer) Put(ts, arrival uint32, pcm []int16) {
	n := len(pcm)
	if n == 0 || n > maxPacket {
		b.st.Dropped++
		return
	}
	if !b.place(ts, arrival, int32(n)) {
		return
	}
	b.store(ts, pcm)
	b.advanceLatest(ts + uint32(n))
}

// place updates the jitter estimate and the timeline for a packet of n
// samples at ts, and reports whether its samples are to be stored.
func (b *Buffer) place(ts, arrival uint32, n int32) bool {
	b.estimate(ts, arrival, n)
	end := ts + uint32(n)
	if !b.started {
		b.restart(end)
		b.st.Packets++
		return true
	}
	ahead := int32(end - b.play)
	switch {
	case ahead > ringSize-maxPacket || ahead < -ringSize:
		// A timestamp jump the ring cannot span: the sender restarted
		// its timeline. Start again from this packet.
		b.valid = [ringSize]bool{}
		b.restart(end)
		b.st.Resyncs++
	case int32(b.latest-b.play) <= 0:
		// The buffer ran dry. A packet newer than anything played is
		// scheduled a target delay ahead, never before the end of what
		// was played: after a delay spike this stretches the delay (the
		// concealment already played fills the gap); after a pause in
		// the stream it skips the silence.
		if int32(end-b.latest) <= 0 {
			b.st.Late++
			return false
		}
		p := b.anchor(end)
		if int32(p-b.latest) < 0 {
			p = b.latest
		}
		b.play = p
		b.drained = false
	case ahead <= 0:
		b.st.Late++
		return false
	}
	b.st.Packets++
	return true
}

// anchor returns the playout point for a packet that ends at end: the
// target delay ahead, rounded to whole frames, so that frames start where
// packets of 10 or 20 ms start and a lost packet is a lost frame, not
// parts of two.
func (b *Buffer) anchor(end uint32) uint32 {
	d := max((b.target+FrameSamples/2)/FrameSamples*FrameSamples, FrameSamples)
	return end - uint32(d)
}

func (b *Buffer) restart(end uint32) {
	b.started = true
	b.drained = false
	b.play = b.anchor(end)
	b.latest = b.play
	b.lossRun = len(fade)
	b.fresh = true
	b.stalls = 0
	b.winFrames, b.winMin = 0, 0
}

// SetFixed stops (or restarts) the adaptation of the delay, for a call
// that carries fax or modem signals in G.711 (ITU-T V.152's voiceband
// data): a modem tolerates a steady delay, not one that changes under it.
// Fixing raises the delay to at least 60 ms first, since it can no longer
// grow when the network's jitter does.
func (b *Buffer) SetFixed(on bool) {
	if on && !b.fixed {
		b.target = min(max(b.target, 3*FrameSamples), b.max)
	}
	b.fixed = on
}

// estimate runs the interarrival jitter filter of RFC 3550 §6.4.1 and
// moves the target: up at once, down slowly.
func (b *Buffer) estimate(ts, arrival uint32, n int32) {
	transit := int32(arrival - ts)
	if b.haveTransit {
		d := transit - b.transit
		if d < 0 {
			d = -d
		}
		// A jump of more than a second is a new timeline, not jitter.
		if d < SampleRate {
			b.jit += d - (b.jit+8)>>4
		}
	}
	b.transit, b.haveTransit = transit, true

	if b.fixed {
		return // the estimate goes on for the statistics; the target stays
	}
	base := max(b.min, FrameSamples+n-gcd(n, FrameSamples))
	want := min(max(base+3*(b.jit>>4), b.min), b.max)
	if want > b.target {
		b.target = want
	} else if want < b.target {
		b.target -= (b.target - want + 127) / 128
	}
}

// store writes samples from ts on, keeping those inside the ring window.
func (b *Buffer) store(ts uint32, pcm []int16) {
	for i, s := range pcm {
		t := ts + uint32(i)
		if d := int32(t - b.play); d < 0 || d >= ringSize {
			continue
		}
		b.pcm[t&ringMask] = s
		b.valid[t&ringMask] = true
	}
}

func (b *Buffer) advanceLatest(end uint32) {
	if int32(end-b.latest) > 0 {
		b.latest = end
	}
}

// Read fills f with the next 20 ms of audio, concealing what is missing.
// Before the first packet it plays silence.
func (b *Buffer) Read(f *[FrameSamples]int16) { b.ReadMissing(f) }

// ReadMissing is Read that also says how many samples of f did not
// arrive in time and were concealed, from 0 to FrameSamples, and whether
// the buffer is playing a stream at all (false before the first packet
// and after Reset, when f is silence). A caller with a concealment of its
// own replaces a frame with FrameSamples missing; the buffer's own
// concealment has filled the gaps of a partly missing one.
func (b *Buffer) ReadMissing(f *[FrameSamples]int16) (missing int, playing bool) {
	if !b.started {
		*f = [FrameSamples]int16{}
		return FrameSamples, false
	}
	depth := int32(b.latest - b.play)
	if depth <= 0 {
		if !b.drained {
			b.drained = true
			b.st.Underruns++
		}
		b.conceal(f)
		b.play += FrameSamples
		return FrameSamples, true
	}
	if !b.valid[b.play&ringMask] && depth < b.target && b.stalls < maxStall && !b.fresh {
		// The next packet is late: wait for it rather than skip it.
		b.stalls++
		b.conceal(f)
		b.st.Stretched += FrameSamples
		return FrameSamples, true
	}
	b.stalls = 0
	b.shrink(depth)
	playing = true
	for i := range f {
		k := (b.play + uint32(i)) & ringMask
		if b.valid[k] {
			f[i] = b.pcm[k]
			b.valid[k] = false
		} else {
			missing++
			f[i] = b.concealed(i)
		}
	}
	b.play += FrameSamples
	switch {
	case b.fresh:
		// Before the first sample of a new timeline: lead-in, not loss.
		if missing < FrameSamples {
			b.fresh = false
		} else {
			playing = false
		}
	case missing > 0:
		b.st.Concealed++
		b.lossRun++
	default:
		b.lossRun = 0
	}
	if missing < FrameSamples {
		b.last = *f
	}
	return missing, playing
}

// shrink watches the depth over a window and drops a frame of audio when
// the buffer holds more than the target needs.
func (b *Buffer) shrink(depth int32) {
	if b.fixed {
		return // dropping audio would corrupt a modem's signal
	}
	if b.winFrames == 0 || depth < b.winMin {
		b.winMin = depth
	}
	b.winFrames++
	if b.winFrames < shrinkWindow {
		return
	}
	b.winFrames = 0
	excess := b.winMin - b.target
	if excess < shrinkStep {
		return
	}
	drop := min(excess, shrinkStep)
	for i := uint32(0); i < uint32(drop); i++ {
		b.valid[(b.play+i)&ringMask] = false
	}
	b.play += uint32(drop)
	b.st.Shrunk += uint64(drop)
}

// conceal fills all of f.
func (b *Buffer) conceal(f *[FrameSamples]int16) {
	for i := range f {
		f[i] = b.concealed(i)
	}
	b.st.Concealed++
	b.lossRun++
}

// concealed returns the replacement for sample i of the current frame.
func (b *Buffer) concealed(i int) int16 {
	if b.plc == PLCSilence || b.lossRun >= len(fade) {
		return 0
	}
	return int16(int32(b.last[i]) * fade[b.lossRun] >> 8)
}

// Stats returns the buffer's state and counters.
func (b *Buffer) Stats() Stats {
	s := b.st
	if b.started {
		s.Depth = duration(max(int32(b.latest-b.play), 0))
	}
	s.Target = duration(b.target)
	s.Jitter = duration(b.jit >> 4)
	return s
}
