package dsptest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp"
)

func TestLevelOfTwoTones(t *testing.T) {
	a, b := Sine(3200, 350, -13, 0.3), Sine(3200, 440, -20, 1.1)
	for i := range a {
		a[i] += b[i]
	}
	if l := Level(a, 350); math.Abs(l+13) > 0.05 {
		t.Errorf("350 Hz at %.3f dBm0, want -13", l)
	}
	if l := Level(a, 440); math.Abs(l+20) > 0.05 {
		t.Errorf("440 Hz at %.3f dBm0, want -20", l)
	}
	if l := Level(a, 1000); l > -60 {
		t.Errorf("1000 Hz at %.1f dBm0 in a signal without it", l)
	}
}

func TestPeak(t *testing.T) {
	x := Sine(1600, 1213.7, -10, 0)
	f, amp := Peak(x, 1150, 1250)
	if math.Abs(f-1213.7) > 0.2 || math.Abs(amp-dsp.PeakFromDBm0(-10)) > 0.01*amp {
		t.Fatalf("peak %.2f Hz amplitude %.0f", f, amp)
	}
}

func TestAddNoise(t *testing.T) {
	x := Sine(8000, 1000, -10, 0)
	clean := append([]int16(nil), x...)
	AddNoise(x, 20, rand.New(rand.NewPCG(1, 2)))
	var ns float64
	for i := range x {
		d := float64(x[i] - clean[i])
		ns += d * d
	}
	snr := 20 * math.Log10(dsp.RMS(clean)/math.Sqrt(ns/float64(len(x))))
	if math.Abs(snr-20) > 0.3 {
		t.Fatalf("SNR %.2f dB, want 20", snr)
	}
}
