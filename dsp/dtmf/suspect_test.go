package dtmf

import (
	"math/rand/v2"
	"testing"

	"github.com/tipring/tipring/dsp/dsptest"
)

// Suspect answers within 5 ms of a key's onset, for every key, at the
// twists Q.24 asks receivers to accept, at −20 dBm0 per tone with and
// without noise 15 dB down, wherever in a 20 ms frame the key starts: the
// tone before the first frame found suspect is at most 48 samples (6 ms).
func TestSuspectEarlyOnKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, noisy := range []bool{false, true} {
		for _, twist := range []float64{-8, 0, 4} {
			worst := 0
			for _, dig := range "0123456789*#ABCD" {
				for off := 0; off < 160; off += 13 {
					y, err := Synthesize(string(dig), 400, 0, GenConfig{LowDBm0: -20, TwistDB: twist})
					if err != nil {
						t.Fatal(err)
					}
					sig := append(make([]int16, 800+off), y...)
					if noisy {
						dsptest.AddNoise(sig[800+off:], 15, rng)
					}
					d := NewDetector(DefaultConfig())
					first := -1
					for i := 0; i+160 <= len(sig) && first < 0; i += 160 {
						pos := d.Position()
						d.Process(nil, sig[i:i+160])
						if d.Suspect(pos) {
							first = i
						}
					}
					switch {
					case first < 0:
						t.Errorf("key %c, twist %v dB, noise %v, %d samples into a frame: never suspect", dig, twist, noisy, off)
					case first-(800+off) > worst:
						worst = first - (800 + off)
					}
				}
			}
			if worst > 48 {
				t.Errorf("twist %v dB, noise %v: %d samples of tone before the first suspect frame, want ≤ 48", twist, noisy, worst)
			}
			t.Logf("twist %v dB, noise %v: at most %d samples of tone before the first suspect frame", twist, noisy, worst)
		}
	}
}

// Speech is seldom suspect: on a minute of espeak-ng speech at −15 dBm0,
// at most 15 % of the frames that carry speech (above −45 dBm0), so that a
// sender holding audio back only on suspicion rarely does.
func TestSuspectSeldomOnSpeech(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes a minute of speech")
	}
	x := speechPCM(t, 60)
	if x == nil {
		t.Skip("espeak-ng not installed")
	}
	d := NewDetector(DefaultConfig())
	active, suspect := 0, 0
	for i := 0; i+160 <= len(x); i += 160 {
		pos := d.Position()
		d.Process(nil, x[i:i+160])
		var e float64
		for _, v := range x[i : i+160] {
			e += float64(v) * float64(v)
		}
		if e/160 < 100*100 { // about −45 dBm0
			continue
		}
		active++
		if d.Suspect(pos) {
			suspect++
		}
	}
	share := float64(suspect) / float64(active)
	t.Logf("speech: %d of %d frames suspect (%.1f %%)", suspect, active, 100*share)
	if share > 0.15 {
		t.Errorf("%.1f %% of speech frames suspect, want ≤ 15 %%", 100*share)
	}
}
