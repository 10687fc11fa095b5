package dsp

import (
	"math"
	"testing"
)

// TestDigitalMilliwatt checks the 0 dBm0 reference against the µ-law digital
// milliwatt of ITU-T G.711 Table 5 (0x1E 0x0B 0x0B 0x1E 0x9E 0x8B 0x8B 0x9E),
// whose decoded values (G.711 Table 2a) are ±8828 and ±20860 on the 16-bit
// scale.
func TestDigitalMilliwatt(t *testing.T) {
	dmw := []int16{8828, 20860, 20860, 8828, -8828, -20860, -20860, -8828}
	got := DBm0FromRMS(RMS(dmw))
	if math.Abs(got) > 0.05 {
		t.Fatalf("digital milliwatt measures %.3f dBm0, want 0 ± 0.05", got)
	}
}

func TestPeakFromDBm0(t *testing.T) {
	if p := PeakFromDBm0(-13); math.Abs(p-5070.3) > 1 {
		t.Fatalf("-13 dBm0 peak = %.1f, want 5070.3", p)
	}
	if v := Saturate(40000); v != math.MaxInt16 {
		t.Fatalf("Saturate(40000) = %d", v)
	}
	if v := Saturate(-1.6); v != -2 {
		t.Fatalf("Saturate(-1.6) = %d", v)
	}
}
