package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/wav"
)

// The talk-off test: speech must never make the receiver report a digit.
// The corpus is synthesized at test time with espeak-ng in many languages,
// voices, pitches and speeds, resampled to 8 kHz with a windowed-sinc
// polyphase filter written here (so sox is not needed), set to levels from
// -25 to -5 dBm0 and passed through G.711.

// talkoffTexts are sentences per espeak-ng language, written for this test.
var talkoffTexts = map[string][]string{
	"en": {
		"Please hold the line while we connect your call to the next available operator.",
		"Seven hundred and seventy apples were sold on the ninth of November, twelve thousand in total.",
		"She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
		"Hello? Hello! Can you hear me now? The weather is lovely and warm this afternoon.",
		"One two three four five six seven eight nine zero, star, pound, hash.",
	},
	"en-us": {
		"Thank you for calling. Your call is important to us, so please stay on the line.",
		"Whoa, wait a minute! Meet me at the airport at a quarter past eight, okay?",
		"Mmm, yeah, I think so too. Ooh, that sounds really, really interesting.",
	},
	"de": {
		"Guten Tag, hier spricht der automatische Anrufbeantworter, bitte sprechen Sie nach dem Ton.",
		"Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
		"Eins, zwei, drei, vier, fünf, sechs, sieben, acht, neun, null.",
	},
	"fr": {
		"Bonjour, vous êtes bien sur la messagerie vocale, laissez votre message après le bip sonore.",
		"Le vieux juge blond boit du whisky et mange des kiwis au bord de la mer.",
		"Un, deux, trois, quatre, cinq, six, sept, huit, neuf, zéro.",
	},
	"es": {
		"Buenos días, gracias por llamar, todos nuestros agentes están ocupados en este momento.",
		"El veloz murciélago hindú comía feliz cardillo y kiwi mientras la cigüeña tocaba el saxofón.",
	},
	"it": {
		"Buongiorno, il numero da lei chiamato non è al momento raggiungibile, riprovi più tardi.",
		"Quel vituperabile xenofobo zelante assaggia il whisky ed esclama: alleluja!",
	},
	"nl": {
		"Goedemiddag, u spreekt met de voicemail, spreek uw bericht in na de piep.",
		"Pa's wijze lynx bezag vroom het fikse aquaduct, terwijl de zon onderging.",
	},
	"pt": {
		"Bom dia, a chamada está a ser reencaminhada para a caixa de correio, aguarde por favor.",
	},
	"sv": {
		"God dag, du har kommit till röstbrevlådan, lämna ett meddelande efter tonen.",
	},
	"pl": {
		"Dzień dobry, abonent jest czasowo niedostępny, proszę zadzwonić później.",
	},
}

// talkoffVariants are espeak-ng voice variants mixed into the languages.
var talkoffVariants = []string{"", "+m1", "+m3", "+m7", "+f1", "+f2", "+f4", "+croak", "+whisper", "+klatt", "+klatt2", "+klatt4"}

func TestTalkOff(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("espeak-ng is needed for the talk-off corpus (CI is set): %v", err)
		}
		t.Skipf("espeak-ng not installed: %v", err)
	}
	target := 8 * 60 * dsp.SampleRate // eight minutes of speech
	if testing.Short() {
		target = 60 * dsp.SampleRate
	}
	rng := rand.New(rand.NewPCG(20, 20))
	langs := make([]string, 0, len(talkoffTexts))
	for l := range talkoffTexts {
		langs = append(langs, l)
	}
	// Map iteration order is random; sort for a repeatable corpus.
	sortStrings(langs)
	dir := t.TempDir()
	rs := newResampler(22050, dsp.SampleRate)
	var total, utterances int
	var falses []string
	for i := 0; total < target; i++ {
		lang := langs[i%len(langs)]
		texts := talkoffTexts[lang]
		text := texts[(i/len(langs))%len(texts)]
		voice := lang + talkoffVariants[rng.IntN(len(talkoffVariants))]
		pitch := rng.IntN(100)
		speed := 110 + rng.IntN(150)
		out := filepath.Join(dir, "u.wav")
		cmd := exec.Command(espeak, "-v", voice, "-p", fmt.Sprint(pitch), "-s", fmt.Sprint(speed), "-w", out, text)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng %v: %v: %s", cmd.Args, err, msg)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		a, err := wav.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if a.Rate != 22050 {
			t.Fatalf("espeak-ng wrote %d Hz, want 22050", a.Rate)
		}
		x := rs.resample(a.Samples)
		// Set the speech's RMS (over the utterance, pauses included) to a
		// level between -25 and -5 dBm0.
		lvl := -25 + 20*rng.Float64()
		g := dsp.ZeroDBm0RMS * math.Pow(10, lvl/20) / math.Max(rmsF(x), 1e-9)
		s := make(signal, len(x))
		for j, v := range x {
			s[j] = v * g
		}
		c := codecs[rng.IntN(len(codecs))]
		ev := detect(t, rng, s.pcm(c), Config{})
		if len(ev) > 0 {
			falses = append(falses, fmt.Sprintf("%q voice %s -p %d -s %d at %.1f dBm0 %v: %v", text, voice, pitch, speed, lvl, c, ev))
		}
		total += len(x)
		utterances++
	}
	t.Logf("talk-off corpus: %d utterances, %.1f minutes of speech, %d false digits",
		utterances, float64(total)/dsp.SampleRate/60, len(falses))
	for _, f := range falses {
		t.Errorf("false digit on speech: %s", f)
	}
}

func rmsF(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// resampler converts between two rates with a Blackman-windowed sinc low
// pass at 0.45 of the lower rate, as a polyphase table: output sample n
// lies at input position n*in/out, whose fractional part repeats every
// out samples.
type resampler struct {
	in, out int         // rates, reduced by their gcd
	taps    int         // half-width in input samples
	phase   [][]float64 // per output phase: 2*taps coefficients
}

func newResampler(inRate, outRate int) *resampler {
	g := gcd(inRate, outRate)
	r := &resampler{in: inRate / g, out: outRate / g, taps: 48}
	cut := 0.45 * float64(min(inRate, outRate)) / float64(inRate) // cycles per input sample
	r.phase = make([][]float64, r.out)
	for p := range r.phase {
		// Output n = q*out + p sits at input position (q*out+p)*in/out;
		// its fractional part depends on p only.
		pos := float64(p*r.in) / float64(r.out)
		frac := pos - math.Floor(pos)
		h := make([]float64, 2*r.taps)
		for k := range h {
			tau := float64(k-r.taps+1) - frac // input offset from pos
			var v float64
			if tau == 0 {
				v = 2 * cut
			} else {
				v = math.Sin(2*math.Pi*cut*tau) / (math.Pi * tau)
			}
			x := math.Pi * tau / float64(r.taps)
			w := 0.42 + 0.5*math.Cos(x) + 0.08*math.Cos(2*x) // Blackman
			if math.Abs(tau) >= float64(r.taps) {
				w = 0
			}
			h[k] = v * w
		}
		r.phase[p] = h
	}
	return r
}

func (r *resampler) resample(x []int16) []float64 {
	n := len(x) * r.out / r.in
	y := make([]float64, n)
	for i := range y {
		p := i % r.out
		base := (i / r.out) * r.in
		base += (p * r.in) / r.out // integer part of the input position
		h := r.phase[p]
		var acc float64
		for k, c := range h {
			j := base + k - r.taps + 1
			if j >= 0 && j < len(x) {
				acc += c * float64(x[j])
			}
		}
		y[i] = acc
	}
	return y
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func TestResampler(t *testing.T) {
	// A 1 kHz tone at 22050 Hz comes out as 1 kHz at 8 kHz with its
	// amplitude; a 5 kHz tone (above the new Nyquist rate) is removed.
	rs := newResampler(22050, 8000)
	for _, tc := range []struct {
		f    float64
		gain float64
	}{{1000, 1}, {2500, 1}, {5000, 0}, {6000, 0}} {
		x := make([]int16, 22050)
		for i := range x {
			x[i] = int16(10000 * math.Sin(2*math.Pi*tc.f*float64(i)/22050))
		}
		y := rs.resample(x)[400:7600]
		g := rmsF(y) / (10000 / math.Sqrt2)
		if math.Abs(g-tc.gain) > 0.02 {
			t.Errorf("%v Hz: gain %.4f, want %v", tc.f, g, tc.gain)
		}
	}
}

// speechPCM synthesizes about seconds of speech with espeak-ng the way the
// talk-off corpus does, at -15 dBm0 through µ-law, for the benchmark. It
// returns nil if espeak-ng is not installed.
func speechPCM(tb testing.TB, seconds int) []int16 {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		return nil
	}
	dir := tb.TempDir()
	rs := newResampler(22050, dsp.SampleRate)
	var out []int16
	for i := 0; len(out) < seconds*dsp.SampleRate; i++ {
		text := talkoffTexts["en"][i%len(talkoffTexts["en"])]
		file := filepath.Join(dir, "u.wav")
		if msg, err := exec.Command(espeak, "-v", "en"+talkoffVariants[i%len(talkoffVariants)], "-w", file, text).CombinedOutput(); err != nil {
			tb.Fatalf("espeak-ng: %v: %s", err, msg)
		}
		f, err := os.Open(file)
		if err != nil {
			tb.Fatal(err)
		}
		a, err := wav.Decode(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		x := rs.resample(a.Samples)
		g := dsp.ZeroDBm0RMS * math.Pow(10, -15.0/20) / math.Max(rmsF(x), 1e-9)
		s := make(signal, len(x))
		for j, v := range x {
			s[j] = v * g
		}
		out = append(out, s.pcm(ulaw)...)
	}
	return out
}
