package callerid

import (
	"math"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/fsk"
)

type partKind uint8

const (
	partSilence partKind = iota
	partTones
	partFSK
	partPCM
)

// part is one piece of an Audio: silence, a pair of tones, FSK or samples.
type part struct {
	kind   partKind
	n      int     // samples
	f1, f2 float64 // tone frequencies, Hz
	w1, w2 float64 // tone steps, radians per sample
	a1, a2 float64 // tone peaks
	mod    *fsk.Modulator
	pcm    []int16
}

// Audio is a prepared caller-ID line signal: a list of silences, tone pairs
// and FSK bursts played one after the other. Read it frame by frame; it
// does not allocate while playing.
type Audio struct {
	parts []part
	cur   int // current part
	pos   int // samples of the current part already played
}

// Read writes the next samples into dst and returns how many; fewer than
// len(dst) means the audio has ended.
func (a *Audio) Read(dst []int16) int {
	n := 0
	for n < len(dst) && a.cur < len(a.parts) {
		p := &a.parts[a.cur]
		k := min(len(dst)-n, p.n-a.pos)
		out := dst[n : n+k]
		switch p.kind {
		case partSilence:
			clear(out)
		case partTones:
			for i := range out {
				t := float64(a.pos + i)
				out[i] = dsp.Saturate(p.a1*math.Sin(p.w1*t) + p.a2*math.Sin(p.w2*t))
			}
		case partFSK:
			// p.n is the modulator's Len, so it fills out; pad if not.
			got := p.mod.Read(out)
			clear(out[got:])
		case partPCM:
			copy(out, p.pcm[a.pos:])
		}
		n += k
		a.pos += k
		if a.pos == p.n {
			a.cur++
			a.pos = 0
		}
	}
	return n
}

// Done reports whether the audio has been played out.
func (a *Audio) Done() bool { return a.cur >= len(a.parts) }

// Rewind makes the audio play again from its start.
func (a *Audio) Rewind() {
	a.cur, a.pos = 0, 0
	for _, p := range a.parts {
		if p.mod != nil {
			p.mod.Rewind()
		}
	}
}

// Len returns the length of the audio in samples.
func (a *Audio) Len() int {
	n := 0
	for _, p := range a.parts {
		n += p.n
	}
	return n
}

// Duration returns the length of the audio.
func (a *Audio) Duration() time.Duration { return samplesToDuration(a.Len()) }

// Segment describes one piece of an Audio for tests and logs.
type Segment struct {
	Kind     string        // "silence", "tones", "fsk" or "pcm"
	Start    int           // first sample
	Samples  int           // length in samples
	Freqs    [2]float64    // tones: Hz (second 0 for a single tone)
	Bits     int           // fsk: bits sent
	Duration time.Duration // length
}

// Segments lists the pieces of the audio in order.
func (a *Audio) Segments() []Segment {
	var out []Segment
	start := 0
	for _, p := range a.parts {
		s := Segment{Start: start, Samples: p.n, Duration: samplesToDuration(p.n)}
		switch p.kind {
		case partSilence:
			s.Kind = "silence"
		case partTones:
			s.Kind = "tones"
			s.Freqs = [2]float64{p.f1, p.f2}
		case partFSK:
			s.Kind = "fsk"
			s.Bits = p.mod.Bits()
		case partPCM:
			s.Kind = "pcm"
		}
		out = append(out, s)
		start += p.n
	}
	return out
}

func (a *Audio) addSilence(d time.Duration) {
	if n := durationToSamples(d); n > 0 {
		a.parts = append(a.parts, part{kind: partSilence, n: n})
	}
}

// addTones adds f1 and f2 (f2 may be 0) at level dBm0 each for d.
func (a *Audio) addTones(f1, f2, level float64, d time.Duration) {
	n := durationToSamples(d)
	if n == 0 {
		return
	}
	p := part{kind: partTones, n: n, f1: f1,
		w1: 2 * math.Pi * f1 / dsp.SampleRate, a1: dsp.PeakFromDBm0(level)}
	if f2 > 0 {
		p.f2, p.w2, p.a2 = f2, 2*math.Pi*f2/dsp.SampleRate, p.a1
	}
	a.parts = append(a.parts, p)
}

func (a *Audio) addFSK(mod *fsk.Modulator) {
	if n := mod.Len(); n > 0 {
		a.parts = append(a.parts, part{kind: partFSK, n: n, mod: mod})
	}
}

func (a *Audio) addPCM(pcm []int16) {
	if len(pcm) > 0 {
		a.parts = append(a.parts, part{kind: partPCM, n: len(pcm), pcm: pcm})
	}
}

func durationToSamples(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((int64(d)*dsp.SampleRate + int64(time.Second)/2) / int64(time.Second))
}

func samplesToDuration(n int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / dsp.SampleRate)
}
