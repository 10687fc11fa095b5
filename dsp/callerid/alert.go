package callerid

import (
	"math"
	"time"

	"github.com/tipring/tipring/dsp"
)

const (
	alertBlock = 80 // 10 ms Goertzel blocks
	// alertPurity is the least share of a block's power the two tones must
	// hold together: speech and noise spread theirs.
	alertPurity = 0.8
	// alertTwist is the largest level difference of the two tones, dB.
	alertTwist = 6.0
)

// AlertDetectorConfig sets the limits of an AlertDetector. Zero fields
// select the defaults.
type AlertDetectorConfig struct {
	// MinLevelDBm0 is the weakest tone accepted, per tone (default −40:
	// GR-30 and EN 300 659 ask for −32 dBm at the telephone).
	MinLevelDBm0 float64
	// MinDuration and MaxDuration bound the tone's length (defaults 50 and
	// 150 ms: CAS is 80 ms, DT-AS 100 ms, the BT tone alert 88–110 ms).
	MinDuration, MaxDuration time.Duration
}

// AlertDetector detects the dual-tone alerting signal, 2130 + 2750 Hz: the
// CPE alerting signal (CAS) of caller ID on call waiting, the ETSI DT-AS and
// the BT tone alert. A virtual telephone acknowledges a CAS when Detect
// reports its end. The detector works on 10 ms blocks through two Goertzel
// filters and asks for both tones, within 6 dB of each other, to hold at
// least 80 % of the block's power. It does not allocate.
type AlertDetector struct {
	cfg        AlertDetectorConfig
	c1, c2     float64 // Goertzel coefficients
	cos1, cos2 float64
	sin1, sin2 float64
	minPow     float64
	minBlocks  int
	maxBlocks  int
	s1, s2     [2]float64
	energy     float64
	n          int
	run        int // consecutive blocks with the tones
	last       time.Duration
}

// NewAlertDetector returns a detector with the limits of cfg.
func NewAlertDetector(cfg AlertDetectorConfig) *AlertDetector {
	if cfg.MinLevelDBm0 == 0 || math.IsNaN(cfg.MinLevelDBm0) {
		cfg.MinLevelDBm0 = -40
	}
	if cfg.MinDuration <= 0 {
		cfg.MinDuration = 50 * time.Millisecond
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 150 * time.Millisecond
	}
	d := &AlertDetector{cfg: cfg}
	w1 := 2 * math.Pi * AlertLowHz / dsp.SampleRate
	w2 := 2 * math.Pi * AlertHighHz / dsp.SampleRate
	d.c1, d.cos1, d.sin1 = 2*math.Cos(w1), math.Cos(w1), math.Sin(w1)
	d.c2, d.cos2, d.sin2 = 2*math.Cos(w2), math.Cos(w2), math.Sin(w2)
	a := dsp.PeakFromDBm0(cfg.MinLevelDBm0)
	d.minPow = a * a / 2
	block := time.Duration(alertBlock) * time.Second / dsp.SampleRate
	// A tone that spans k blocks fills k-1 of them whatever its alignment.
	d.minBlocks = max(int(cfg.MinDuration/block)-1, 1)
	d.maxBlocks = int(cfg.MaxDuration/block) + 1
	return d
}

// Reset forgets any tone in progress.
func (d *AlertDetector) Reset() {
	d.s1, d.s2, d.energy, d.n, d.run = [2]float64{}, [2]float64{}, 0, 0, 0
}

// Present reports whether the tones are on now (as of the last full block).
func (d *AlertDetector) Present() bool { return d.run > 0 }

// LastDuration returns the length, to 10 ms, of the last tone Detect
// reported.
func (d *AlertDetector) LastDuration() time.Duration { return d.last }

// Detect consumes samples and reports whether an alerting signal of
// acceptable length ended within them.
func (d *AlertDetector) Detect(samples []int16) bool {
	ended := false
	for _, s := range samples {
		x := float64(s)
		d.s1[0], d.s1[1] = x+d.c1*d.s1[0]-d.s1[1], d.s1[0]
		d.s2[0], d.s2[1] = x+d.c2*d.s2[0]-d.s2[1], d.s2[0]
		d.energy += x * x
		d.n++
		if d.n < alertBlock {
			continue
		}
		if d.block() {
			d.run++
		} else {
			if d.run >= d.minBlocks && d.run <= d.maxBlocks {
				ended = true
				d.last = time.Duration(d.run*alertBlock) * time.Second / dsp.SampleRate
			}
			d.run = 0
		}
		d.s1, d.s2, d.energy, d.n = [2]float64{}, [2]float64{}, 0, 0
	}
	return ended
}

// block judges the finished block: both tones present, strong and pure.
func (d *AlertDetector) block() bool {
	// Power of a sine of peak A at the filter frequency is A²/2 = 2|X|²/N².
	p := func(s [2]float64, cw, sw float64) float64 {
		re := s[0] - s[1]*cw
		im := s[1] * sw
		return 2 * (re*re + im*im) / (alertBlock * alertBlock)
	}
	p1 := p(d.s1, d.cos1, d.sin1)
	p2 := p(d.s2, d.cos2, d.sin2)
	total := d.energy / alertBlock
	if p1 < d.minPow || p2 < d.minPow || p1+p2 < alertPurity*total {
		return false
	}
	twist := 10 * math.Log10(p2/p1)
	return math.Abs(twist) <= alertTwist
}
