package fax

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/dsp/wav"
)

const rate = dsp.SampleRate

func ms(n int) int { return n * rate / 1000 }

// answerTone synthesizes 2100 Hz (or hz) at level dBm0 for n samples, with
// phase reversals every revMs ms (0: none) and 15 Hz amplitude modulation
// of depth am (V.8 ANSam: 0.2).
func answerTone(n int, hz, level float64, revMs int, am float64) []int16 {
	x := make([]int16, n)
	a := dsp.PeakFromDBm0(level) / (1 + am)
	for k := range x {
		ph := 2 * math.Pi * hz * float64(k) / rate
		if revMs > 0 && (k/ms(revMs))%2 == 1 {
			ph += math.Pi
		}
		env := 1 + am*math.Sin(2*math.Pi*15*float64(k)/rate)
		x[k] = dsp.Saturate(a * env * math.Sin(ph))
	}
	return x
}

// cng synthesizes bursts of CNG: on ms of hz, off ms of silence.
func cng(bursts int, hz, level float64, on, off int) []int16 {
	var x []int16
	for range bursts {
		x = append(x, dsptest.Sine(ms(on), hz, level, 0)...)
		x = append(x, make([]int16, ms(off))...)
	}
	return x
}

// detect runs x through a fresh Detector in 20 ms frames.
func detect(x []int16) []Event {
	d := New()
	var ev []Event
	for i := 0; i < len(x); i += dsp.FrameSamples {
		ev = d.Process(x[i:min(i+dsp.FrameSamples, len(x))], ev)
	}
	// Silence to end a tone still sounding.
	ev = d.Process(make([]int16, ms(100)), ev)
	return ev
}

func count(ev []Event, t Tone) int {
	n := 0
	for _, e := range ev {
		if e.Tone == t {
			n++
		}
	}
	return n
}

func first(ev []Event, t Tone) (Event, bool) {
	for _, e := range ev {
		if e.Tone == t {
			return e, true
		}
	}
	return Event{}, false
}

func noisy(x []int16, snr float64, seed uint64) []int16 {
	dsptest.AddNoise(x, snr, rand.New(rand.NewPCG(seed, seed)))
	return x
}

// T.30 §5.2: CNG, 1100 Hz ±38 Hz, 0.5 s on, 3 s off, is reported once per
// burst, at the burst's end.
func TestT30CNG(t *testing.T) {
	for _, hz := range []float64{1100, 1062, 1138} {
		for _, level := range []float64{-10, -40} {
			x := noisy(cng(2, hz, level, 500, 3000), 20, 1)
			ev := detect(x)
			if count(ev, CNG) != 2 || len(ev) != 2 {
				t.Errorf("%v Hz %v dBm0: events %v, want CNG twice", hz, level, ev)
				continue
			}
			if e := ev[0]; e.At < int64(ms(500)) || e.At > int64(ms(540)) || e.Start > int64(ms(5)) {
				t.Errorf("%v Hz: first CNG at sample %d (start %d), want at the end of the burst, 4000-4320", hz, e.At, e.Start)
			}
		}
	}
	// Off frequency, too short, too long, too faint: not CNG.
	for name, x := range map[string][]int16{
		"1040 Hz":    cng(2, 1040, -10, 500, 3000),
		"1160 Hz":    cng(2, 1160, -10, 500, 3000),
		"1000 Hz":    cng(2, 1000, -10, 500, 3000),
		"1200 Hz":    cng(2, 1200, -10, 500, 3000),
		"300 ms":     cng(2, 1100, -10, 300, 3000),
		"800 ms":     cng(2, 1100, -10, 800, 3000),
		"continuous": dsptest.Sine(ms(5000), 1100, -10, 0),
		"-50 dBm0":   cng(2, 1100, -50, 500, 3000),
	} {
		if ev := detect(x); len(ev) != 0 {
			t.Errorf("%s: events %v", name, ev)
		}
	}
}

// V.25: the answer tone, 2100 Hz ±15 Hz for 3.3 s, is reported as CED
// within 300 to 500 ms, once; without reversals or modulation nothing
// else is reported.
func TestV25CED(t *testing.T) {
	for _, hz := range []float64{2100, 2085, 2115} {
		for _, level := range []float64{-3, -40} {
			x := noisy(answerTone(ms(3300), hz, level, 0, 0), 20, 2)
			ev := detect(x)
			e, ok := first(ev, CED)
			if !ok || len(ev) != 1 {
				t.Errorf("%v Hz %v dBm0: events %v, want CED once", hz, level, ev)
				continue
			}
			if d := e.At - e.Start; d < int64(ms(300)) || d > int64(ms(500)) || e.Start > int64(ms(5)) {
				t.Errorf("%v Hz %v dBm0: CED after %d ms (start %d)", hz, level, d*1000/rate, e.Start)
			}
		}
	}
	for name, x := range map[string][]int16{
		"2070 Hz":  answerTone(ms(3300), 2070, -10, 0, 0),
		"2130 Hz":  answerTone(ms(3300), 2130, -10, 0, 0),
		"2050 Hz":  answerTone(ms(3300), 2050, -10, 0, 0),
		"2160 Hz":  answerTone(ms(3300), 2160, -10, 0, 0),
		"2180 Hz":  answerTone(ms(3300), 2180, -10, 0, 0),
		"2020 Hz":  answerTone(ms(3300), 2020, -10, 0, 0),
		"2250 Hz":  answerTone(ms(3300), 2250, -10, 0, 0),
		"250 ms":   answerTone(ms(250), 2100, -10, 0, 0),
		"-50 dBm0": answerTone(ms(3300), 2100, -50, 0, 0),
	} {
		if ev := detect(x); len(ev) != 0 {
			t.Errorf("%s: events %v", name, ev)
		}
	}
}

// V.25 ANS with phase reversals every 450 ms, and V.8 ANSam (15 Hz, 20 %)
// with and without them: the reversals and the modulation are told apart
// (G.164/G.165: only the reversals disable echo cancellers).
func TestV25V8Reversals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rev   int
		am    float64
		want  []Tone
		level float64
	}{
		{"ANS", 0, 0, []Tone{CED}, -10},
		{"ANS/", 450, 0, []Tone{CED, ANSReversal}, -10},
		{"ANSam", 0, 0.2, []Tone{CED, ANSam}, -10},
		{"ANSam/", 450, 0.2, []Tone{CED, ANSReversal, ANSam}, -10},
		{"ANS/ faint", 450, 0, []Tone{CED, ANSReversal}, -38},
		{"ANSam/ faint", 450, 0.2, []Tone{CED, ANSReversal, ANSam}, -38},
	} {
		for _, hz := range []float64{2100, 2088, 2112} {
			x := noisy(answerTone(ms(3300), hz, tc.level, tc.rev, tc.am), 20, 3)
			ev := detect(x)
			var got []Tone
			for _, e := range ev {
				got = append(got, e.Tone)
			}
			if !sameSet(got, tc.want) {
				t.Errorf("%s at %v Hz: events %v, want %v", tc.name, hz, ev, tc.want)
				continue
			}
			if e, ok := first(ev, ANSReversal); ok {
				// The first reversal is at 450 ms: reported within a
				// block or two of it.
				if d := e.At - int64(ms(450)); d < -int64(ms(10)) || d > int64(ms(15)) {
					t.Errorf("%s at %v Hz: reversal at %d ms, want 450", tc.name, hz, e.At*1000/rate)
				}
			}
			if e, ok := first(ev, ANSam); ok && e.At > int64(ms(600)) {
				t.Errorf("%s at %v Hz: ANSam reported at %d ms", tc.name, hz, e.At*1000/rate)
			}
			d := New()
			d.Process(x[:ms(3000)], nil)
			on, rev, am := d.AnswerTone()
			if !on || rev != (tc.rev > 0) || am != (tc.am > 0) {
				t.Errorf("%s at %v Hz: AnswerTone %v %v %v", tc.name, hz, on, rev, am)
			}
			d.Process(make([]int16, ms(100)), nil)
			if on, _, _ := d.AnswerTone(); on {
				t.Errorf("%s at %v Hz: AnswerTone on after the tone", tc.name, hz)
			}
		}
	}
}

func sameSet(a, b []Tone) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range b {
		found := false
		for _, u := range a {
			found = found || t == u
		}
		if !found {
			return false
		}
	}
	return true
}

// Telephony that is not fax: the sixteen DTMF digits, the US call
// progress tones, white noise. Nothing is detected.
func TestNotFax(t *testing.T) {
	g, err := dtmf.NewGenerator(dtmf.DefaultGenConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Play("0123456789*#ABCD", ms(100), ms(100)); err != nil {
		t.Fatal(err)
	}
	digits := make([]int16, ms(3300))
	g.Read(digits)
	// Long presses too: a digit held for 600 ms.
	if err := g.Play("1590", ms(600), ms(200)); err != nil {
		t.Fatal(err)
	}
	long := make([]int16, ms(3300))
	g.Read(long)
	signals := map[string][]int16{"DTMF": digits, "DTMF 600 ms": long}
	us, err := tone.Lookup("us")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tone.ToneNames() {
		tn, err := us.Tone(name)
		if err != nil || tn.Validate() != nil {
			continue
		}
		x := make([]int16, ms(10000))
		tone.NewGenerator(tn).Read(x)
		signals["US "+name] = x
	}
	noise := make([]int16, ms(10000))
	noise[0] = 1000
	signals["noise"] = noisy(noise, 0, 4)
	for name, x := range signals {
		if ev := detect(x); len(ev) != 0 {
			t.Errorf("%s: events %v", name, ev)
		}
	}
}

// Speech (espeak-ng in several languages and voices) is not fax.
func TestSpeechNotFax(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("espeak-ng is needed for the speech corpus (CI is set): %v", err)
		}
		t.Skipf("espeak-ng not installed: %v", err)
	}
	texts := []struct{ voice, text string }{
		{"en-us", "Hello, you have reached the fax machine of the accounts department. Please hold the line."},
		{"en+f2", "Please send your document after the tone, or press one to speak to an operator."},
		{"de+m3", "Guten Tag, bitte senden Sie Ihr Fax nach dem Signalton, vielen Dank für Ihren Anruf."},
		{"fr+f4", "Bonjour, veuillez patienter, votre correspondant va vous répondre dans un instant."},
		{"es+m7", "Buenos días, el número marcado no está disponible en este momento, inténtelo más tarde."},
		{"it+klatt", "Buongiorno, la preghiamo di attendere, la sua chiamata è importante per noi."},
		{"sv+whisper", "God dag, du har kommit till röstbrevlådan, lämna ett meddelande efter tonen."},
		{"en+croak", "Ooooh, eeeee, aaaah, mmmmm, the quick brown fox jumps over the lazy dog."},
	}
	if testing.Short() {
		texts = texts[:3]
	}
	total := 0
	for i, tc := range texts {
		for _, pitch := range []int{20, 50, 90} {
			cmd := exec.Command(espeak, "--stdout", "-v", tc.voice, "-p", itoa(pitch), "-s", itoa(120+20*i), tc.text)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("espeak-ng %v: %v", cmd.Args, err)
			}
			a, err := wav.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("espeak-ng output: %v", err)
			}
			x := resample(a.Samples, a.Rate)
			// Loud speech: peaks near full scale.
			setRMS(x, dsp.ZeroDBm0RMS*math.Pow(10, -12.0/20))
			total += len(x)
			if ev := detect(x); len(ev) != 0 {
				t.Errorf("%s pitch %d: events %v", tc.voice, pitch, ev)
			}
		}
	}
	t.Logf("%.1f s of speech", float64(total)/rate)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func setRMS(x []int16, rms float64) {
	g := rms / max(dsp.RMS(x), 1)
	for i, v := range x {
		x[i] = dsp.Saturate(float64(v) * g)
	}
}

// resample converts x from rate `from` to 8 kHz with a Hann-windowed sinc
// low-pass at 3.6 kHz: enough for a test corpus.
func resample(x []int16, from int) []int16 {
	if from == rate {
		return x
	}
	ratio := float64(from) / rate
	fc := 3600.0 / float64(from) // cut-off, cycles per input sample
	const half = 24
	out := make([]int16, int(float64(len(x))/ratio))
	for n := range out {
		t := float64(n) * ratio
		c := int(t)
		var acc, wsum float64
		for k := c - half + 1; k <= c+half; k++ {
			if k < 0 || k >= len(x) {
				continue
			}
			d := t - float64(k)
			w := 0.5 + 0.5*math.Cos(math.Pi*d/half)
			s := 2 * fc
			if d != 0 {
				s = math.Sin(2*math.Pi*fc*d) / (math.Pi * d)
			}
			acc += float64(x[k]) * s * w
			wsum += s * w
		}
		if wsum != 0 {
			out[n] = dsp.Saturate(acc / wsum)
		}
	}
	return out
}

func TestProcessZeroAllocs(t *testing.T) {
	x := answerTone(ms(3300), 2100, -10, 450, 0.2)
	d := New()
	ev := make([]Event, 0, 16)
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		ev = d.Process(x[i:i+dsp.FrameSamples], ev[:0])
		i += dsp.FrameSamples
	}); n != 0 {
		t.Errorf("Process allocates %.1f times per frame", n)
	}
}

func BenchmarkProcess(b *testing.B) {
	x := noisy(answerTone(ms(3300), 2100, -10, 450, 0.2), 20, 5)
	d := New()
	ev := make([]Event, 0, 16)
	b.ReportAllocs()
	samples := 0
	for b.Loop() {
		for i := 0; i+dsp.FrameSamples <= len(x); i += dsp.FrameSamples {
			ev = d.Process(x[i:i+dsp.FrameSamples], ev[:0])
		}
		samples += len(x) / dsp.FrameSamples * dsp.FrameSamples
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}

// A sweep across each tone's band: inside the standard's tolerance every
// frequency is detected, from a margin outside it none is, with no window
// of aliasing further out.
func TestFrequencySweep(t *testing.T) {
	var acceptCED, acceptCNG []float64
	for hz := 1900.0; hz <= 2300; hz += 2.5 {
		ev := detect(answerTone(ms(1000), hz, -10, 0, 0))
		got := count(ev, CED) == 1
		off := math.Abs(hz - 2100)
		switch {
		case off <= 15 && !got:
			t.Errorf("%v Hz: CED not detected", hz)
		case off >= 25 && got:
			t.Errorf("%v Hz: CED detected", hz)
		}
		if got {
			acceptCED = append(acceptCED, hz)
		}
	}
	for hz := 900.0; hz <= 1300; hz += 2.5 {
		ev := detect(cng(1, hz, -10, 500, 500))
		got := count(ev, CNG) == 1
		off := math.Abs(hz - 1100)
		switch {
		case off <= 38 && !got:
			t.Errorf("%v Hz: CNG not detected", hz)
		case off >= 55 && got:
			t.Errorf("%v Hz: CNG detected", hz)
		}
		if got {
			acceptCNG = append(acceptCNG, hz)
		}
	}
	if len(acceptCED) > 0 && len(acceptCNG) > 0 {
		t.Logf("CED accepted %v-%v Hz, CNG %v-%v Hz", acceptCED[0], acceptCED[len(acceptCED)-1], acceptCNG[0], acceptCNG[len(acceptCNG)-1])
	}
}
