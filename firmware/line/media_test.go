package line

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/fax"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/halfake"
	"github.com/tipring/tipring/sip/media"
)

// digitMedia is a call leg that takes RFC 4733 events and keeps what it
// was sent.
type digitMedia struct {
	audio  []int16
	events []string
	in     chan media.Digit
}

func (m *digitMedia) WriteFrame(f *hal.Frame) error { m.audio = append(m.audio, f[:]...); return nil }
func (m *digitMedia) ReadFrame(f *hal.Frame) error  { *f = hal.Frame{}; return nil }
func (m *digitMedia) Digits() <-chan media.Digit    { return m.in }
func (m *digitMedia) SendDigit(d byte, down bool) error {
	s := "up"
	if down {
		s = "down"
	}
	m.events = append(m.events, string(d)+" "+s)
	return nil
}

// keyPress plays a 100 ms key at −6 dBm0 row level, between silences,
// through the mixer in 20 ms frames.
func keyPress(t *testing.T, m *mixer, digit byte) {
	t.Helper()
	x, err := dtmf.Synthesize(string(digit), 800, 0, dtmf.GenConfig{LowDBm0: -6, TwistDB: 2})
	if err != nil {
		t.Fatal(err)
	}
	x = append(make([]int16, 1600), x...)
	x = append(x, make([]int16, 4000)...)
	for i := 0; i+hal.FrameSamples <= len(x); i += hal.FrameSamples {
		copy(m.in[:], x[i:])
		m.frame()
	}
}

func detect(x []int16) string {
	d := dtmf.NewDetector(dtmf.DefaultConfig())
	var out string
	for _, ev := range d.Flush(d.Process(nil, x)) {
		if ev.Kind == dtmf.Begin {
			out += string(ev.Digit)
		}
	}
	return out
}

// RFC 4733 §2.5.1.2: a key pressed during a call goes out as events, and
// its tone is taken out of the audio, so that the far end does not get the
// digit twice; in-band, the tone stays.
func TestRFC4733Section2KeysAreMutedFromTheAudio(t *testing.T) {
	for _, tc := range []struct {
		relay      DTMFMode
		wantAudio  string
		wantEvents int
	}{{DTMFRFC4733, "", 2}, {DTMFInfo, "", 0}, {DTMFInband, "7", 0}} {
		h := newHarness(t, nil)
		m, _ := h.l.newMixer()
		leg := &digitMedia{in: make(chan media.Digit)}
		p := &plan{relay: tc.relay, detect: true}
		p.addLeg(leg)
		h.l.plan.Store(p)
		keyPress(t, m, '7')
		if got := detect(leg.audio); got != tc.wantAudio {
			t.Errorf("relay %d: the far end's audio holds %q, want %q", tc.relay, got, tc.wantAudio)
		}
		if len(leg.events) != tc.wantEvents || (tc.wantEvents == 2 && (leg.events[0] != "7 down" || leg.events[1] != "7 up")) {
			t.Errorf("relay %d: events %v", tc.relay, leg.events)
		}
		if n := len(h.l.keys); n != 2 {
			t.Errorf("relay %d: %d key events for the control goroutine, want begin and end", tc.relay, n)
		}
	}
}

// Digits the far end sends as RFC 4733 events are played to the phone.
func TestRFC4733FarDigitsArePlayed(t *testing.T) {
	h := newHarness(t, nil)
	m, _ := h.l.newMixer()
	leg := &digitMedia{in: make(chan media.Digit, 4)}
	p := &plan{relay: DTMFRFC4733, detect: true}
	p.addLeg(leg)
	h.l.plan.Store(p)
	var ear []int16
	leg.in <- media.Digit{Digit: '9'}
	for i := range 20 {
		if i == 6 {
			leg.in <- media.Digit{Digit: '9', End: true}
		}
		m.frame()
		ear = append(ear, m.out[:]...)
	}
	if got := detect(ear); got != "9" {
		t.Fatalf("the phone heard %q, want 9", got)
	}
}

// The sending side adds no frame of its own: a mouthpiece frame goes to
// the call in the period it is read, in-band and with keys sent as events
// alike, unless it could hold the start of a key (see
// TestKeyToneLeaksAtMost20ms).
func TestMouthToWireFrames(t *testing.T) {
	for _, relay := range []DTMFMode{DTMFInband, DTMFRFC4733, DTMFInfo} {
		h := newHarness(t, nil)
		m, _ := h.l.newMixer()
		leg := &digitMedia{}
		p := &plan{relay: relay, detect: true}
		p.addLeg(leg)
		h.l.plan.Store(p)
		burst := dsptest.Sine(hal.FrameSamples, 1000, -10, 0)
		for i := range 10 {
			clear(m.in[:])
			if i == 5 {
				copy(m.in[:], burst)
			}
			m.frame()
		}
		got := -1
		for i := 0; (i+1)*hal.FrameSamples <= len(leg.audio); i++ {
			if dsptest.Level(leg.audio[i*hal.FrameSamples:(i+1)*hal.FrameSamples], 1000) > -20 {
				got = i
				break
			}
		}
		if got != 5 {
			t.Errorf("relay %d: the frame read in period 5 went out in period %d", relay, got)
		}
	}
}

// RFC 4733 §2.5.1.2 asks for a key's tone to be kept out of the audio when
// it goes as events. Wherever in a frame the key starts, at most 20 ms of
// its tone reaches the call (Q.24: no receiver may take 20 ms for a
// digit); the mouthpiece goes one frame late from the key's first 5 ms and
// is back in step after it, and speech before and after goes through
// whole.
func TestKeyToneLeaksAtMost20ms(t *testing.T) {
	key, err := dtmf.Synthesize("5", 800, 0, dtmf.GenConfig{LowDBm0: -10, TwistDB: 2})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < hal.FrameSamples; off += 8 {
		h := newHarness(t, nil)
		m, _ := h.l.newMixer()
		leg := &digitMedia{}
		p := &plan{relay: DTMFRFC4733, detect: true}
		p.addLeg(leg)
		h.l.plan.Store(p)
		x := append(make([]int16, 10*hal.FrameSamples+off), key...)
		x = append(x, make([]int16, 20*hal.FrameSamples-len(x)%hal.FrameSamples)...)
		for i := 0; i+hal.FrameSamples <= len(x); i += hal.FrameSamples {
			copy(m.in[:], x[i:])
			m.frame()
		}
		// The key's tone, 5 ms at a time, in what the call got.
		tone := 0
		for i := 0; i+40 <= len(leg.audio); i += 40 {
			if dsptest.Level(leg.audio[i:i+40], 1336) > -30 {
				tone += 40
			}
		}
		if tone > 160 {
			t.Errorf("key starting %d samples into a frame: %d samples of its tone reached the call", off, tone)
		}
		if m.lag {
			t.Errorf("key starting %d samples into a frame: still a frame late after it", off)
		}
	}
}

type nullMedia struct{}

func (nullMedia) WriteFrame(*hal.Frame) error { return nil }
func (nullMedia) ReadFrame(*hal.Frame) error  { return nil }

// The media loop allocates nothing per frame: tones, a call, a conference.
func TestMediaAllocatesNothing(t *testing.T) {
	h := newHarness(t, nil)
	m, _ := h.l.newMixer()
	for _, p := range []*plan{
		{toneKey: "dial", tone: h.l.cfg.Country.Dial, detect: true},
		{legs: [2]Media{nullMedia{}}, nlegs: 1, detect: true, relay: DTMFRFC4733},
		{legs: [2]Media{nullMedia{}, nullMedia{}}, nlegs: 2, detect: true, cwBurst: 1, cwTone: h.l.cfg.Country.CallWaiting},
	} {
		h.l.plan.Store(p)
		m.frame()
		if n := testing.AllocsPerRun(200, m.frame); n != 0 {
			t.Errorf("%v allocations per frame with plan %+v", n, *p)
		}
	}
	// A key pressed and released in a call: the receiver's suspicion, the
	// hold-back with its made-up frame, the muting, the event, the
	// catching up.
	key, err := dtmf.Synthesize("5", 800, 0, dtmf.GenConfig{LowDBm0: -10, TwistDB: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := append(append(make([]int16, 800+37), key...), make([]int16, 1600)...)
	leg := &countingDigitMedia{}
	h.l.plan.Store(&plan{legs: [2]Media{leg}, nlegs: 1, detect: true, relay: DTMFRFC4733})
	m.frame()
	lagged := false
	// One run is the whole key press: any allocation on its way counts.
	if n := testing.AllocsPerRun(1, func() {
		for i := 0; (i+1)*hal.FrameSamples <= len(x); i++ {
			copy(m.in[:], x[i*hal.FrameSamples:])
			m.frame()
			lagged = lagged || m.lag
			for len(h.l.keys) > 0 {
				<-h.l.keys
			}
		}
	}); n != 0 || !lagged || leg.events != 4 {
		t.Errorf("%v allocations through a key press, twice (held back: %v, events %d, want 4)", n, lagged, leg.events)
	}
}

// countingDigitMedia is a call leg that counts the RFC 4733 events it is
// sent and keeps nothing, so that it allocates nothing itself.
type countingDigitMedia struct {
	nullMedia
	events int
}

func (*countingDigitMedia) Digits() <-chan media.Digit { return nil }
func (m *countingDigitMedia) SendDigit(byte, bool) error {
	m.events++
	return nil
}

// BenchmarkMediaFrame is the line's part of the media path per 20 ms frame
// (the DTMF receiver, the one-frame hold-back for muting keys, mixing,
// tones), in a two-party call and in a conference.
func BenchmarkMediaFrame(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    *plan
	}{
		{"call", &plan{legs: [2]Media{nullMedia{}}, nlegs: 1, detect: true, relay: DTMFRFC4733}},
		{"conference", &plan{legs: [2]Media{nullMedia{}, nullMedia{}}, nlegs: 2, detect: true, relay: DTMFRFC4733}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, _ := tone.Lookup("us")
			l, err := New(Config{Port: hal.Port{Number: 1, Line: halfake.NewLine(), PCM: halfake.NewPCM(3)}, Country: c})
			if err != nil {
				b.Fatal(err)
			}
			m, _ := l.newMixer()
			l.plan.Store(tc.p)
			for i := range m.in {
				m.in[i] = int16(i * 37 % 2000)
			}
			b.ReportAllocs()
			for b.Loop() {
				m.frame()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/hal.FrameSamples, "ns/sample")
		})
	}
}

type liveCheck struct {
	mu           sync.Mutex
	beats        int
	unregistered bool
}

func (c *liveCheck) Beat()       { c.mu.Lock(); c.beats++; c.mu.Unlock() }
func (c *liveCheck) Unregister() { c.mu.Lock(); c.unregistered = true; c.mu.Unlock() }

// A running line beats its watchdog checks, once per PCM frame for the
// media loop, and unregisters them when it stops.
func TestLivenessChecks(t *testing.T) {
	c, _ := tone.Lookup("us")
	pcm := halfake.NewPCM(3)
	checks := map[string]*liveCheck{}
	var mu sync.Mutex
	l, err := New(Config{Port: hal.Port{Number: 1, Line: halfake.NewLine(), PCM: pcm}, Country: c,
		Liveness: func(name string, _ time.Duration) Check {
			mu.Lock()
			defer mu.Unlock()
			checks[name] = &liveCheck{}
			return checks[name]
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for range 10 {
		pcm.Tick(hal.Frame{})
	}
	cancel()
	pcm.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	m, ctl := checks["line 1 media"], checks["line 1 control"]
	if m == nil || ctl == nil {
		t.Fatalf("checks %v", checks)
	}
	if m.beats < 9 || !m.unregistered || !ctl.unregistered {
		t.Fatalf("media beat %d times (want ≥ 9), unregistered %v/%v", m.beats, m.unregistered, ctl.unregistered)
	}
}

// farEnd is a call leg whose far end talks: band-limited noise at about
// −20 dBm0, the same every run.
type farEnd struct {
	seed    uint32
	written []hal.Frame
}

func (f *farEnd) ReadFrame(fr *hal.Frame) error {
	for i := range fr {
		// the sum of four uniform variables: near-Gaussian, RMS about
		// 1600 (−20 dBm0)
		var v int32
		for range 4 {
			f.seed = f.seed*1664525 + 1013904223
			v += int32(f.seed>>20) - 2048
		}
		fr[i] = int16(v * 1600 / 2365)
	}
	return nil
}

func (f *farEnd) WriteFrame(fr *hal.Frame) error { f.written = append(f.written, *fr); return nil }

func power(fs []hal.Frame) float64 {
	var s float64
	for _, f := range fs {
		for _, v := range f {
			s += float64(v) * float64(v)
		}
	}
	return s / float64(len(fs)*hal.FrameSamples)
}

// G.168 style, on the line's own media loop: a hybrid reflects what the
// phone hears back into its mouthpiece 2 ms later with 12 dB of loss
// (ERL); once converged, the far end hears its own echo at least 30 dB
// further down, while a fax calling tone turns the canceller off so the
// tone passes untouched.
func TestEchoCancelledOnTheLine(t *testing.T) {
	h := newHarness(t, nil)
	m, _ := h.l.newMixer()
	leg := &farEnd{seed: 1}
	p := &plan{relay: DTMFRFC4733, detect: true}
	p.addLeg(leg)
	h.l.plan.Store(p)
	var prev [hal.FrameSamples + 16]int16
	hybrid := func() {
		// echo of the frame the phone heard one period ago
		copy(prev[:16], prev[hal.FrameSamples:])
		copy(prev[16:], m.prevOut[:])
		for i := range m.in {
			m.in[i] = prev[i] / 4
		}
	}
	echoPower := 0.0
	for k := range 250 {
		hybrid()
		if k >= 200 {
			var e hal.Frame
			copy(e[:], m.in[:])
			echoPower += power([]hal.Frame{e}) / 50
		}
		m.frame()
	}
	// The far end hears its echo delayed by the one-frame hold-back.
	residual := power(leg.written[201:250])
	erle := 10 * math.Log10(echoPower/max(residual, 1e-3))
	t.Logf("echo %.1f dB below full scale, residual %.1f: ERLE %.1f dB", 10*math.Log10(echoPower/(32768*32768)), 10*math.Log10(max(residual, 1e-3)/(32768*32768)), erle)
	if erle < 30 {
		t.Errorf("ERLE %.1f dB, want ≥ 30", erle)
	}

	// A fax machine on the phone port calls: CNG, 1100 Hz for 0.5 s.
	h2 := newHarness(t, nil)
	m2, _ := h2.l.newMixer()
	leg2 := &farEnd{seed: 2}
	p2 := &plan{relay: DTMFRFC4733, detect: true}
	p2.addLeg(leg2)
	h2.l.plan.Store(p2)
	amp := dsp.PeakFromDBm0(-10)
	for k := range 60 {
		for i := range m2.in {
			n := k*hal.FrameSamples + i
			m2.in[i] = 0
			if n < 4000 || k >= 40 {
				m2.in[i] = int16(amp * math.Sin(2*math.Pi*1100*float64(n)/8000))
			}
		}
		m2.frame()
	}
	select {
	case tone := <-h2.l.faxTones:
		if tone != fax.CNG {
			t.Errorf("heard %v, want CNG", tone)
		}
	default:
		t.Fatal("no fax tone reported")
	}
	var tail []int16
	for _, f := range leg2.written[45:58] {
		tail = append(tail, f[:]...)
	}
	if lvl := dsptest.Level(tail, 1100); math.Abs(lvl+10) > 0.5 {
		t.Errorf("after CNG the fax tone reaches the far end at %.2f dBm0, want −10 (untouched)", lvl)
	}
}
