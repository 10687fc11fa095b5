package callerid

import (
	"bytes"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/fsk"
	"github.com/tipring/tipring/dsp/g711"
)

var testInfo = Info{Time: when(11, 24, 13, 5), Number: "5551234", Name: "ALICE"}

// play reads a whole Audio in frames of odd sizes.
func play(a *Audio) []int16 {
	out := make([]int16, 0, a.Len())
	buf := make([]int16, 97)
	for !a.Done() {
		n := a.Read(buf)
		out = append(out, buf[:n]...)
	}
	return out
}

// line joins the audio of a sequence's steps into what a telephone hears:
// silence for waits and rings (the ring voltage is not audio), the audio
// of StepAudio, and lead and tail silence.
func line(t testing.TB, seq *Sequence, lead, tail time.Duration) []int16 {
	t.Helper()
	out := make([]int16, durationToSamples(lead))
	for _, st := range seq.Steps {
		if st.Kind == StepAudio {
			pcm := play(st.Audio)
			if len(pcm) != st.Audio.Len() || durationToSamples(st.D) != len(pcm) {
				t.Fatalf("audio of %d samples, Len %d, D %v", len(pcm), st.Audio.Len(), st.D)
			}
			out = append(out, pcm...)
			st.Audio.Rewind()
			continue
		}
		out = append(out, make([]int16, durationToSamples(st.D))...)
	}
	return append(out, make([]int16, durationToSamples(tail))...)
}

// decodeAll runs x through a new Decoder in frames of random size.
func decodeAll(t testing.TB, cfg DecoderConfig, x []int16, rng *rand.Rand) []Result {
	t.Helper()
	d, err := NewDecoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rs []Result
	for len(x) > 0 {
		n := min(len(x), 1+rng.IntN(320))
		if d.Process(x[:n]) {
			for r, ok := d.Next(); ok; r, ok = d.Next() {
				rs = append(rs, r)
			}
		}
		x = x[n:]
	}
	return rs
}

func kinds(seq *Sequence) []StepKind {
	var k []StepKind
	for _, s := range seq.Steps {
		k = append(k, s.Kind)
	}
	return k
}

// dftMag is a single-bin DFT of x at f Hz, written out here so the tests do
// not rely on the package's own Goertzel filters. It returns the amplitude
// of a sine at f that fills x.
func dftMag(x []int16, f float64) float64 {
	var acc complex128
	rot := cmplx.Exp(complex(0, -2*math.Pi*f/dsp.SampleRate))
	z := complex(1, 0)
	for _, v := range x {
		acc += complex(float64(v), 0) * z
		z *= rot
	}
	return cmplx.Abs(acc) * 2 / float64(len(x))
}

// toneSpan returns where the first tone burst in x starts and how long it
// lasts: from the first non-zero sample to the first run of 16 zeros.
func toneSpan(x []int16) (start, n int) {
	start = -1
	zeros := 0
	for i, v := range x {
		if start < 0 {
			if v != 0 {
				start = i
			}
			continue
		}
		if v == 0 {
			zeros++
			if zeros == 16 {
				return start, i - 15 - start
			}
		} else {
			zeros = 0
		}
	}
	return start, len(x) - start
}

// toneExtent measures where tone f is on in x: a 40-sample DFT slides
// along x, and the tone is on where its magnitude is at least half its
// largest (for a burst of L samples that span is L window positions long).
func toneExtent(x []int16, f float64) (start, n int) {
	const w = 40
	mags := make([]float64, max(len(x)-w+1, 0))
	top := 0.0
	for i := range mags {
		mags[i] = dftMag(x[i:i+w], f)
		top = max(top, mags[i])
	}
	start = -1
	for i, m := range mags {
		if m >= top/2 {
			if start < 0 {
				start = i
			}
			n = i - start + 1
		}
	}
	return start + w/2, n
}

// toneLength measures how long tone f sounds in x, which may hold other
// tones too: the DFT over all of x sums the tone's amplitude over its
// duration, and the DFT over the middle half of the burst gives that
// amplitude.
func toneLength(x []int16, f float64) (n float64, amp float64) {
	start, coarse := toneExtent(x, f)
	mid := start + coarse/2
	w := coarse / 2
	amp = dftMag(x[mid-w/2:mid+w/2], f)
	total := dftMag(x, f) * float64(len(x)) / 2
	return 2 * total / amp, amp
}

// checkTones measures a tone burst: its length and its frequencies to
// ±0.5 %, and its level per tone to ±1 dB. When isolated, the burst is
// the only sound in x and its length is the span of non-zero samples.
func checkTones(t *testing.T, what string, x []int16, want time.Duration, f1, f2, level float64, isolated bool) {
	t.Helper()
	w := float64(durationToSamples(want))
	for _, f := range []float64{f1, f2} {
		if f == 0 {
			continue
		}
		n, amp := toneLength(x, f)
		if isolated {
			_, span := toneSpan(x)
			n = float64(span)
		}
		if math.Abs(n-w) > w*0.005 {
			t.Errorf("%s: %.0f Hz lasts %.1f samples, want %.0f (%v) ± 0.5 %%", what, f, n, w, want)
		}
		if lvl := 20 * math.Log10(amp/dsp.ZeroDBm0Peak); math.Abs(lvl-level) > 1 {
			t.Errorf("%s: %.0f Hz at %.1f dBm0, want %.1f", what, f, lvl, level)
		}
		start, coarse := toneExtent(x, f)
		if got, _ := dsptest.Peak(x[start:start+coarse], f-60, f+60); math.Abs(got-f) > f*0.005 {
			t.Errorf("%s: tone at %.1f Hz, want %.0f ± 0.5 %%", what, got, f)
		}
	}
}

func TestBellcoreSequence(t *testing.T) {
	msg := NewCallSetup(testInfo)
	seq, err := OnHook(Bellcore, msg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := kinds(seq); !reflect.DeepEqual(k, []StepKind{StepRing, StepWait, StepAudio}) {
		t.Fatalf("steps %v", k)
	}
	if seq.Steps[0].D != DefaultFirstRing || seq.Steps[1].D < 500*time.Millisecond {
		t.Fatalf("ring %v, then data after %v", seq.Steps[0].D, seq.Steps[1].D)
	}
	raw, _ := msg.MarshalBinary()
	segs := seq.Steps[2].Audio.Segments()
	wantBits := 300 + 180 + 10*len(raw)
	if len(segs) != 1 || segs[0].Kind != "fsk" || segs[0].Bits != wantBits {
		t.Fatalf("audio %+v, want one FSK burst of %d bits", segs, wantBits)
	}
	if n := segs[0].Samples; n != int(math.Ceil(float64(wantBits)*8000/1200)) {
		t.Errorf("FSK of %d samples for %d bits at 1200 baud", n, wantBits)
	}
	// US cadence: 2 s ring, 4 s silence.
	after := seq.AfterFirstRing()
	t.Logf("Bellcore MDMF of %d octets: data ends %v after the first ring (+%v guard)", len(raw), after-seq.Guard, seq.Guard)
	if err := seq.Fits(4 * time.Second); err != nil {
		t.Error(err)
	}
	if err := seq.Fits(time.Second); !errors.Is(err, ErrNoFit) {
		t.Errorf("Fits(1s) = %v", err)
	}
	if _, err := OnHook(Bellcore, msg, Options{Delay: 400 * time.Millisecond}); !errors.Is(err, ErrBadOption) {
		t.Errorf("400 ms after the ring accepted: %v", err)
	}

	// The FSK level is −13.5 dBm0 and the bursts decode bit-exact.
	pcm := play(seq.Steps[2].Audio)
	if lvl := dsp.DBm0FromRMS(dsp.RMS(pcm)); math.Abs(lvl-DefaultLevel) > 0.1 {
		t.Errorf("FSK at %.2f dBm0", lvl)
	}
	seq.Steps[2].Audio.Rewind()
	rs := decodeAll(t, DecoderConfig{}, line(t, seq, 0, 300*time.Millisecond), rand.New(rand.NewPCG(1, 1)))
	if len(rs) != 1 || rs[0].Standard != Bellcore || !bytes.Equal(rs[0].Raw, raw) || !reflect.DeepEqual(rs[0].Message, msg) {
		t.Fatalf("decoded %+v", rs)
	}
}

func TestETSISequences(t *testing.T) {
	msg := NewCallSetup(testInfo)
	raw, _ := msg.MarshalBinary()
	cases := []struct {
		std   Standard
		opt   Options
		steps []StepKind
		tones bool // audio starts with the 2130 + 2750 Hz alert
		seize int
		mark  int
	}{
		{ETSI, Options{Alert: AlertDTAS, PolarityReversal: true},
			[]StepKind{StepReversePolarity, StepWait, StepAudio}, true, 0, 80},
		{ETSI, Options{Alert: AlertDTAS}, []StepKind{StepAudio}, true, 0, 80},
		{ETSI, Options{Alert: AlertRPAS}, []StepKind{StepRingPulse, StepWait, StepAudio}, false, 300, 180},
		{ETSI, Options{Alert: AlertRing}, []StepKind{StepRing, StepWait, StepAudio}, false, 300, 180},
		{BT, Options{}, []StepKind{StepReversePolarity, StepWait, StepAudio}, true, 300, 80},
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range cases {
		name := c.std.String() + "/" + c.opt.Alert.String()
		seq, err := OnHook(c.std, msg, c.opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k := kinds(seq); !reflect.DeepEqual(k, c.steps) {
			t.Errorf("%s: steps %v, want %v", name, k, c.steps)
			continue
		}
		for i, st := range seq.Steps {
			switch {
			case st.Kind == StepWait && i > 0 && seq.Steps[i-1].Kind == StepReversePolarity && st.D < ReversalToAlert:
				t.Errorf("%s: alert %v after the reversal", name, st.D)
			case st.Kind == StepRingPulse && (st.D < 200*time.Millisecond || st.D > 300*time.Millisecond):
				t.Errorf("%s: RP-AS of %v", name, st.D)
			case st.Kind == StepWait && i > 0 && seq.Steps[i-1].Kind == StepRingPulse &&
				(st.D < 500*time.Millisecond || st.D > 800*time.Millisecond):
				t.Errorf("%s: %v from RP-AS to data", name, st.D)
			}
		}
		audio := seq.Steps[len(seq.Steps)-1].Audio
		segs := audio.Segments()
		fskSeg := segs[len(segs)-1]
		if fskSeg.Bits != max(c.seize, 0)+c.mark+10*len(raw) {
			t.Errorf("%s: %d FSK bits, want %d seizure + %d mark + %d", name, fskSeg.Bits, c.seize, c.mark, 10*len(raw))
		}
		pcm := play(audio)
		audio.Rewind()
		if c.tones {
			checkTones(t, name+" alert", pcm[:fskSeg.Start], DTASDuration, AlertLowHz, AlertHighHz, DefaultAlertLevel, true)
			_, n := toneSpan(pcm)
			gap := fskSeg.Start - n
			if d := samplesToDuration(gap); d < 45*time.Millisecond || d > 75*time.Millisecond {
				t.Errorf("%s: %v from alert to FSK", name, d)
			}
		}
		x := line(t, seq, 100*time.Millisecond, 300*time.Millisecond)
		for _, ch := range []struct {
			name string
			fn   func([]int16)
		}{{"linear", func([]int16) {}}, {"ulaw", ulaw}, {"alaw", alaw}} {
			y := append([]int16(nil), x...)
			ch.fn(y)
			rs := decodeAll(t, DecoderConfig{}, y, rng)
			if len(rs) != 1 || rs[0].Standard != ETSI || !bytes.Equal(rs[0].Raw, raw) {
				t.Errorf("%s %s: decoded %+v", name, ch.name, rs)
			}
		}
	}
}

func ulaw(x []int16) {
	b := make([]byte, len(x))
	g711.EncodeUlaw(b, x)
	g711.DecodeUlaw(x, b)
}

func alaw(x []int16) {
	b := make([]byte, len(x))
	g711.EncodeAlaw(b, x)
	g711.DecodeAlaw(x, b)
}

// scale changes the level of x by db.
func scale(x []int16, db float64) {
	g := math.Pow(10, db/20)
	for i, v := range x {
		x[i] = dsp.Saturate(float64(v) * g)
	}
}

// TestLoopbackLevels sends random call set-ups at −14 dBm0 and lower,
// through both G.711 laws and with noise at 20 dB SNR, and expects every
// octet back.
func TestLoopbackLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	levels := []float64{-14, -30, -40}
	n := 6
	if testing.Short() {
		levels, n = []float64{-14, -40}, 2
	}
	for _, std := range []Standard{Bellcore, ETSI} {
		for _, lvl := range levels {
			for range n {
				msg := randomMessage(rng)
				if msg.Type == TypeSDMFMessageWaiting || msg.Type == TypeMessageWaiting {
					msg = NewCallSetup(testInfo)
				}
				raw, _ := msg.MarshalBinary()
				seq, err := OnHook(std, msg, Options{Level: lvl})
				if err != nil {
					t.Fatal(err)
				}
				x := line(t, seq, 50*time.Millisecond, 200*time.Millisecond)
				switch rng.IntN(3) {
				case 0:
					ulaw(x)
				case 1:
					alaw(x)
				}
				// White noise 20 dB below the FSK (not the louder DT-AS).
				noisy := append([]int16(nil), x...)
				sigma := dsp.ZeroDBm0RMS * math.Pow(10, (lvl-20)/20)
				for i, v := range noisy {
					noisy[i] = dsp.Saturate(float64(v) + rng.NormFloat64()*sigma)
				}
				for _, y := range [][]int16{x, noisy} {
					rs := decodeAll(t, DecoderConfig{}, y, rng)
					if len(rs) != 1 || rs[0].Standard != std || !bytes.Equal(rs[0].Raw, raw) || !reflect.DeepEqual(rs[0].Message, msg) {
						t.Errorf("%v at %g dBm0: sent % X, decoded %+v", std, lvl, raw, rs)
					}
				}
			}
		}
	}
}

func TestMessageWaitingOnHook(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		std   Standard
		msg   Message
		opt   Options
		steps []StepKind
	}{
		{Bellcore, Message{Type: TypeSDMFMessageWaiting, Waiting: Waiting{Active: true}}, Options{}, []StepKind{StepAudio}},
		{Bellcore, NewMessageWaiting(false), Options{}, []StepKind{StepAudio}},
		{ETSI, NewMessageWaiting(true), Options{PolarityReversal: true},
			[]StepKind{StepReversePolarity, StepWait, StepAudio, StepNormalPolarity}},
		{BT, NewMessageWaiting(true), Options{}, []StepKind{StepReversePolarity, StepWait, StepAudio, StepNormalPolarity}},
	} {
		seq, err := OnHook(c.std, c.msg, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if k := kinds(seq); !reflect.DeepEqual(k, c.steps) {
			t.Errorf("%v %v: steps %v, want %v", c.std, c.msg.Type, k, c.steps)
		}
		rs := decodeAll(t, DecoderConfig{}, line(t, seq, 0, 200*time.Millisecond), rng)
		if len(rs) != 1 || !reflect.DeepEqual(rs[0].Message, c.msg) {
			t.Errorf("%v %v: decoded %+v", c.std, c.msg.Type, rs)
		}
	}
}

func TestDTMFSequence(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []struct {
		info  Info
		opt   Options
		steps []StepKind
	}{
		{Info{Number: "4512345678"}, Options{PolarityReversal: true}, []StepKind{StepReversePolarity, StepWait, StepAudio}},
		{Info{NumberAbsence: Private}, Options{}, []StepKind{StepAudio}},
		{Info{NumberAbsence: Unavailable}, Options{Alert: AlertRing}, []StepKind{StepRing, StepWait, StepAudio}},
	} {
		seq, err := OnHook(DTMF, NewCallSetup(c.info), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if k := kinds(seq); !reflect.DeepEqual(k, c.steps) {
			t.Errorf("%+v: steps %v, want %v", c.info, k, c.steps)
		}
		x := line(t, seq, 50*time.Millisecond, 200*time.Millisecond)
		ulaw(x)
		rs := decodeAll(t, DecoderConfig{}, x, rng)
		if len(rs) != 1 || rs[0].Standard != DTMF || rs[0].Message.Info != c.info {
			t.Errorf("%+v: decoded %+v", c.info, rs)
		}
	}
	if _, err := OnHook(DTMF, NewCallSetup(Info{Number: "12AB"}), Options{}); !errors.Is(err, ErrBadText) {
		t.Errorf("letters in a DTMF number: %v", err)
	}
}

// TestAlertDetector checks the CAS/DT-AS detector against its limits.
func TestAlertDetector(t *testing.T) {
	tone := func(f1, f2, l1, l2 float64, d time.Duration) []int16 {
		x := make([]int16, 400+durationToSamples(d)+400)
		a1, a2 := dsp.PeakFromDBm0(l1), dsp.PeakFromDBm0(l2)
		for i := range durationToSamples(d) {
			tt := float64(i) / dsp.SampleRate
			x[400+i] = dsp.Saturate(a1*math.Sin(2*math.Pi*f1*tt) + a2*math.Sin(2*math.Pi*f2*tt))
		}
		return x
	}
	cases := []struct {
		name string
		x    []int16
		want bool
	}{
		{"CAS 80 ms -15", tone(2130, 2750, -15, -15, 80*time.Millisecond), true},
		{"CAS 80 ms -38", tone(2130, 2750, -38, -38, 80*time.Millisecond), true},
		{"DT-AS 110 ms +0.5 %", tone(2130*1.005, 2750*1.005, -20, -20, 110*time.Millisecond), true},
		{"CAS twist 5 dB", tone(2130, 2750, -15, -20, 80*time.Millisecond), true},
		{"30 ms", tone(2130, 2750, -15, -15, 30*time.Millisecond), false},
		{"300 ms", tone(2130, 2750, -15, -15, 300*time.Millisecond), false},
		{"2130 alone", tone(2130, 2750, -15, -80, 80*time.Millisecond), false},
		{"-50 dBm0", tone(2130, 2750, -50, -50, 80*time.Millisecond), false},
		{"DTMF D", tone(941, 1633, -10, -10, 80*time.Millisecond), false},
	}
	for _, c := range cases {
		d := NewAlertDetector(AlertDetectorConfig{})
		got := false
		for i := 0; i < len(c.x); i += 73 {
			got = d.Detect(c.x[i:min(i+73, len(c.x))]) || got
		}
		if got != c.want {
			t.Errorf("%s: detected %v", c.name, got)
		}
	}
	rng := rand.New(rand.NewPCG(6, 6))
	noise := make([]int16, 16000)
	dsptest.AddNoise(append(noise[:0:0], make([]int16, 1)...), 0, rng)
	for i := range noise {
		noise[i] = dsp.Saturate(rng.NormFloat64() * 3000)
	}
	if NewAlertDetector(AlertDetectorConfig{}).Detect(noise) {
		t.Error("white noise detected as an alert")
	}
}

// virtualPhone answers CAS like a caller-ID telephone: it hears the
// line's audio, and when a CAS ends it waits delay and sends DTMF ack for
// 60 ms; it decodes what follows.
type virtualPhone struct {
	alert   *AlertDetector
	dec     *Decoder
	ack     []int16
	ackPos  int
	waiting int
	delay   int
	results []Result
}

func newVirtualPhone(t testing.TB, ack string, delay time.Duration) *virtualPhone {
	pcm, err := dtmf.Synthesize(ack, durationToSamples(60*time.Millisecond), 0, dtmf.GenConfig{LowDBm0: -10, TwistDB: 2})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(DecoderConfig{NoDTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	return &virtualPhone{alert: NewAlertDetector(AlertDetectorConfig{}), dec: dec, ack: pcm, ackPos: -1, delay: durationToSamples(delay)}
}

// frame hears one frame of line audio and returns the phone's audio for it.
func (p *virtualPhone) frame(heard []int16, say []int16) {
	clear(say)
	if p.alert.Detect(heard) && p.ack != nil && p.ackPos < 0 {
		p.ackPos, p.waiting = 0, p.delay
	}
	for i := range say {
		if p.ackPos < 0 || p.ackPos >= len(p.ack) {
			break
		}
		if p.waiting > 0 {
			p.waiting--
			continue
		}
		say[i] = p.ack[p.ackPos]
		p.ackPos++
	}
	if p.dec.Process(heard) {
		for r, ok := p.dec.Next(); ok; r, ok = p.dec.Next() {
			p.results = append(p.results, r)
		}
	}
}

func TestOffHook(t *testing.T) {
	msg := NewCallSetup(testInfo)
	raw, _ := msg.MarshalBinary()
	for _, c := range []struct {
		name   string
		modem  fsk.Modem
		ack    string
		delay  time.Duration
		want   OffHookState
		digit  byte
		decode Standard
	}{
		{"bellcore D", fsk.Bell202(), "D", 20 * time.Millisecond, OffHookDone, 'D', Bellcore},
		{"ADSI A", fsk.Bell202(), "A", 60 * time.Millisecond, OffHookDone, 'A', Bellcore},
		{"ETSI D", fsk.V23(), "D", 40 * time.Millisecond, OffHookDone, 'D', ETSI},
		{"no ACK", fsk.Bell202(), "", 0, OffHookNoAck, 0, 0},
		{"wrong digit", fsk.Bell202(), "5", 20 * time.Millisecond, OffHookNoAck, 0, 0},
		{"ACK too late", fsk.Bell202(), "D", 200 * time.Millisecond, OffHookNoAck, 0, 0},
	} {
		oh, err := NewOffHook(msg, OffHookOptions{Modem: c.modem})
		if err != nil {
			t.Fatal(err)
		}
		phone := newVirtualPhone(t, c.ack, c.delay)
		if c.ack == "" {
			phone.ack = nil
		}
		heard := make([]int16, dsp.FrameSamples)
		said := make([]int16, dsp.FrameSamples)
		var all []int16
		var states []OffHookState
		st := oh.State()
		for i := 0; i < 200 && !st.Finished(); i++ {
			st = oh.Process(said, heard)
			all = append(all, heard...)
			if len(states) == 0 || states[len(states)-1] != st {
				states = append(states, st)
			}
			phone.frame(heard, said)
		}
		for range 10 { // let the phone's decoder see the end
			clear(heard)
			phone.frame(heard, said)
		}
		if st != c.want || oh.Ack() != c.digit {
			t.Errorf("%s: ended %v with ACK %q (states %v), want %v", c.name, st, oh.Ack(), states, c.want)
			continue
		}
		if c.want != OffHookDone {
			if len(phone.results) != 0 {
				t.Errorf("%s: data sent without ACK", c.name)
			}
			continue
		}
		if len(phone.results) != 1 || phone.results[0].Standard != c.decode || !bytes.Equal(phone.results[0].Raw, raw) {
			t.Errorf("%s: phone decoded %+v", c.name, phone.results)
		}
		// SAS 440 Hz 300 ms, then CAS 2130 + 2750 Hz 80 ms at once.
		sas := durationToSamples(SASDuration)
		// The CAS follows the SAS at once: measure the SAS at 440 Hz, the
		// two together by their span, and the CAS alone from a sequence
		// without SAS.
		checkTones(t, c.name+" SAS", all[:sas+400], SASDuration, SASHz, 0, DefaultSASLevel, false)
		if _, n := toneSpan(all); n < sas+durationToSamples(CASDuration)-1 || n > sas+durationToSamples(CASDuration)+1 {
			t.Errorf("%s: SAS and CAS last %d samples", c.name, n)
		}
		noSAS, _ := NewOffHook(msg, OffHookOptions{Modem: c.modem, NoSAS: true})
		checkTones(t, c.name+" CAS", play(noSAS.Alert()), CASDuration, AlertLowHz, AlertHighHz, DefaultAlertLevel, true)
		// FSK starts 50–500 ms after the ACK ends, with 80 mark bits.
		seg := oh.Data().Segments()[0]
		if seg.Bits != 80+10*len(raw) {
			t.Errorf("%s: %d FSK bits, want 80 mark + %d", c.name, seg.Bits, 10*len(raw))
		}
		casEnd := sas + durationToSamples(CASDuration)
		fskStart, _ := toneSpan(all[casEnd:])
		ackEnd := durationToSamples(c.delay) + durationToSamples(60*time.Millisecond) + dsp.FrameSamples // the phone answers in the next frame
		gap := samplesToDuration(fskStart - ackEnd)
		if gap < 50*time.Millisecond || gap > 500*time.Millisecond {
			t.Errorf("%s: FSK %v after the ACK", c.name, gap)
		}
		t.Logf("%s: states %v, FSK %v after the end of the ACK", c.name, states, gap)
	}
}

func TestOffHookAllocs(t *testing.T) {
	oh, _ := NewOffHook(NewCallSetup(testInfo), OffHookOptions{})
	in := make([]int16, dsp.FrameSamples)
	out := make([]int16, dsp.FrameSamples)
	if a := testing.AllocsPerRun(20, func() { oh.Process(in, out) }); a != 0 {
		t.Errorf("OffHook.Process: %v allocs per frame", a)
	}
}

func TestDecoderAllocs(t *testing.T) {
	seq, _ := OnHook(Bellcore, NewCallSetup(testInfo), Options{})
	x := line(t, seq, 0, 0)
	d, _ := NewDecoder(DecoderConfig{})
	// Everything up to the last frame: the message has not completed yet.
	frames := len(x)/dsp.FrameSamples - 2
	i := 0
	if a := testing.AllocsPerRun(frames-1, func() {
		d.Process(x[i*dsp.FrameSamples : (i+1)*dsp.FrameSamples])
		i++
	}); a != 0 {
		t.Errorf("Decoder.Process: %v allocs per frame", a)
	}
	audio := seq.Steps[2].Audio
	audio.Rewind()
	frame := make([]int16, dsp.FrameSamples)
	if a := testing.AllocsPerRun(100, func() {
		if audio.Done() {
			audio.Rewind()
		}
		audio.Read(frame)
	}); a != 0 {
		t.Errorf("Audio.Read: %v allocs per frame", a)
	}
}

func BenchmarkDecoder(b *testing.B) {
	seq, _ := OnHook(ETSI, NewCallSetup(testInfo), Options{})
	x := line(b, seq, 0, 100*time.Millisecond)
	x = x[:len(x)/dsp.FrameSamples*dsp.FrameSamples]
	d, _ := NewDecoder(DecoderConfig{})
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if d.Process(x[i : i+dsp.FrameSamples]) {
			d.Next()
		}
		i += dsp.FrameSamples
		if i == len(x) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*dsp.FrameSamples), "ns/sample")
}

// FuzzDecoder feeds arbitrary audio: the decoder never panics and whatever
// it reports encodes back to the octets it read.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4}, uint8(160))
	seq, _ := OnHook(BT, NewCallSetup(testInfo), Options{})
	x := line(f, seq, 0, 10*time.Millisecond)
	seed := make([]byte, 2*len(x))
	for i, v := range x {
		seed[2*i], seed[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	f.Add(seed, uint8(37))
	f.Fuzz(func(t *testing.T, raw []byte, frame uint8) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		d, err := NewDecoder(DecoderConfig{})
		if err != nil {
			t.Fatal(err)
		}
		n := max(int(frame), 1)
		for i := 0; i < len(pcm); i += n {
			d.Process(pcm[i:min(i+n, len(pcm))])
		}
		for r, ok := d.Next(); ok; r, ok = d.Next() {
			if r.Standard == DTMF {
				continue
			}
			enc, err := r.Message.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded %+v does not encode: %v", r.Message, err)
			}
			var back Message
			if err := back.UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(back, r.Message) {
				t.Fatalf("%+v does not round-trip: %v", r.Message, err)
			}
		}
	})
}

// TestDecoderForcedModem checks the configured modem: a V.23 receiver
// names what it hears ETSI, and a Bell 202 signal read as V.23 still
// decodes (the two share their centre frequency) but is named by the
// configuration.
func TestDecoderForcedModem(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	msg := NewCallSetup(testInfo)
	for _, c := range []struct {
		send Standard
		cfg  fsk.Modem
		want Standard
	}{
		{ETSI, fsk.V23(), ETSI},
		{Bellcore, fsk.Bell202(), Bellcore},
		{Bellcore, fsk.V23(), ETSI},
	} {
		seq, _ := OnHook(c.send, msg, Options{})
		rs := decodeAll(t, DecoderConfig{Modem: c.cfg, NoDTMF: true}, line(t, seq, 0, 100*time.Millisecond), rng)
		if len(rs) != 1 || rs[0].Standard != c.want || !reflect.DeepEqual(rs[0].Message, msg) {
			t.Errorf("%v read as %s: %+v", c.send, c.cfg.Name, rs)
		}
	}
}
