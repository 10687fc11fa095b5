package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/cng"
	"github.com/tipring/tipring/hal"
)

// noiseLevel is the background noise of the silence tests: under the
// default VAD threshold of -55 dBm0.
const noiseLevel = -65.0

// noise returns a frame of white Gaussian noise at level dBm0.
func noise(rng *rand.Rand, level float64) hal.Frame {
	var f hal.Frame
	rms := dsp.ZeroDBm0RMS * math.Pow(10, level/20)
	for i := range f {
		f[i] = dsp.Saturate(rms * rng.NormFloat64())
	}
	return f
}

// vadSession is a session with Config.VAD sending to a raw peer with CN
// negotiated.
func vadSession(t testing.TB, l leg) (*Session, *rawPeer) {
	t.Helper()
	a := listen(t, Config{VAD: true})
	peer := newRawPeer(t)
	l.remote, l.cn = peer.addr, true
	if err := a.Apply(result(a, nil, l)); err != nil {
		t.Fatal(err)
	}
	return a, peer
}

// RFC 3389 §4 with RFC 3551 §4.1: with VAD, audio stops after the
// hangover; a CN packet (payload type 13, no marker, the noise level in
// -dBov) goes at the start of the silence with the timestamp of its first
// frame, then about once a second; the first audio packet after it carries
// the marker bit.
func TestRFC3389Section4_SilenceSuppression(t *testing.T) {
	a, peer := vadSession(t, leg{})
	rng := rand.New(rand.NewPCG(3, 4))
	const speech1, silence, speech2 = 20, 130, 10
	for n := range speech1 + silence + speech2 {
		f := tone(n)
		if n >= speech1 && n < speech1+silence {
			f = noise(rng, noiseLevel)
		}
		a.WriteFrame(&f)
	}
	var pkts []rtpFields
	for {
		b := peer.readRTP(300 * time.Millisecond)
		if b == nil {
			break
		}
		pkts = append(pkts, parseRTP(t, append([]byte(nil), b...)))
	}
	hang := int(DefaultVADHangover / hal.FrameDuration)
	var audio, cn int
	var cnTS []uint32
	first := pkts[0].ts
	for i, p := range pkts {
		frame := int((p.ts - first) / hal.FrameSamples)
		switch p.pt {
		case 0:
			audio++
			if want := i == 0 || pkts[i-1].pt == 13; p.marker != want {
				t.Errorf("audio packet %d (frame %d): marker %v, want %v", i, frame, p.marker, want)
			}
			if frame >= speech1+hang && frame < speech1+silence {
				t.Errorf("audio sent in frame %d, during the silence", frame)
			}
		case 13:
			cn++
			cnTS = append(cnTS, p.ts)
			if p.marker {
				t.Errorf("CN packet %d has the marker bit", i)
			}
			pl, err := cng.Parse(p.payload)
			if err != nil {
				t.Fatal(err)
			}
			// -65 dBm0 is 71 dBov below overload (+6.18 dBm0).
			if want := int(math.Round(cng.OverloadDBm0 - noiseLevel)); pl.Level < want-2 || pl.Level > want+2 {
				t.Errorf("CN level %d -dBov, want %d±2", pl.Level, want)
			}
			if pl.Order != cng.DefaultOrder {
				t.Errorf("CN order %d", pl.Order)
			}
		default:
			t.Errorf("payload type %d", p.pt)
		}
	}
	t.Logf("%d frames, %d audio packets, %d CN packets at frames %v", speech1+silence+speech2, audio, cn, framesOf(cnTS, first))
	if want := speech1 + hang + speech2; audio != want {
		t.Errorf("%d audio packets, want %d (speech, hangover, speech)", audio, want)
	}
	// At the start of the silence and then every second: 130-10 frames
	// of silence hold the first and two refreshes.
	if cn != 3 {
		t.Errorf("%d CN packets, want 3", cn)
	}
	if len(cnTS) > 0 && cnTS[0]-first != uint32((speech1+hang)*hal.FrameSamples) {
		t.Errorf("first CN packet at timestamp +%d, want the silence's first frame +%d", cnTS[0]-first, (speech1+hang)*hal.FrameSamples)
	}
	for i := 1; i < len(cnTS); i++ {
		if d := cnTS[i] - cnTS[i-1]; d != uint32(CNInterval/hal.FrameDuration)*hal.FrameSamples {
			t.Errorf("CN packets %d samples apart, want 1 s", d)
		}
	}
	st := a.Stats()
	if st.CNSent != uint64(cn) || st.Suppressed != uint64(silence-hang) {
		t.Errorf("stats: CN sent %d, suppressed %d; want %d, %d", st.CNSent, st.Suppressed, cn, silence-hang)
	}
}

func framesOf(ts []uint32, first uint32) []int {
	var f []int
	for _, t := range ts {
		f = append(f, int((t-first)/hal.FrameSamples))
	}
	return f
}

// Without CN negotiated, or without Config.VAD, every frame is sent.
func TestVADNeedsCN(t *testing.T) {
	for name, tc := range map[string]struct {
		vad, cn bool
	}{"vad-without-cn": {true, false}, "cn-without-vad": {false, true}} {
		a := listen(t, Config{VAD: tc.vad})
		peer := newRawPeer(t)
		if err := a.Apply(result(a, nil, leg{remote: peer.addr, cn: tc.cn})); err != nil {
			t.Fatal(err)
		}
		var f hal.Frame
		for range 30 {
			a.WriteFrame(&f)
		}
		if st := a.Stats(); st.PacketsSent != 30 || st.CNSent != 0 {
			t.Errorf("%s: %d packets, %d CN for 30 silent frames", name, st.PacketsSent, st.CNSent)
		}
	}
}

// RFC 3389 end to end on loopback: a suppresses its silence, b plays
// comfort noise at the level a measured, ±3 dB, and the tone again when
// a talks.
func TestRFC3389ComfortNoiseLoopback(t *testing.T) {
	a, b := pair(t, Config{VAD: true}, leg{cn: true}, leg{cn: true})
	rng := rand.New(rand.NewPCG(5, 6))
	const speech1, silence, speech2 = 25, 100, 40
	var in, out []int16
	var sentSilence uint64
	clock(speech1+silence+speech2, func(n int) bool {
		f := tone(n)
		if n >= speech1 && n < speech1+silence {
			f = noise(rng, noiseLevel)
			in = append(in, f[:]...)
		}
		if n == speech1 {
			sentSilence = a.Stats().PacketsSent
		}
		if n == speech1+silence {
			sentSilence = a.Stats().PacketsSent - sentSilence
		}
		a.WriteFrame(&f)
		var g hal.Frame
		b.ReadFrame(&g)
		out = append(out, g[:]...)
		var h hal.Frame
		b.WriteFrame(&h)
		return true
	})
	sa, sb := a.Stats(), b.Stats()
	t.Logf("a: sent %d packets (%d during %d silent frames), %d CN, %d suppressed; b: received %d, %d CN, %d comfort noise frames, %d concealed",
		sa.PacketsSent, sentSilence, silence, sa.CNSent, sa.Suppressed, sb.PacketsReceived, sb.CNReceived, sb.ComfortNoise, sb.Concealed)
	if sentSilence > uint64(DefaultVADHangover/hal.FrameDuration)+4 {
		t.Errorf("%d packets during %d frames of silence", sentSilence, silence)
	}
	if sb.CNReceived < 2 || sb.CNReceived != sa.CNSent {
		t.Errorf("b received %d CN packets, a sent %d", sb.CNReceived, sa.CNSent)
	}
	if sb.ComfortNoise < silence/2 {
		t.Errorf("b played %d frames of comfort noise", sb.ComfortNoise)
	}
	// The second half of the silence, well after the hangover and the
	// jitter buffer's delay, is comfort noise at the level a heard.
	want := dsp.DBm0FromRMS(dsp.RMS(in))
	mid := (speech1 + silence/2) * hal.FrameSamples
	got := dsp.DBm0FromRMS(dsp.RMS(out[mid : mid+silence/2*hal.FrameSamples-20*hal.FrameSamples]))
	t.Logf("noise sent at %.1f dBm0, comfort noise played at %.1f dBm0", want, got)
	if math.Abs(got-want) > 3 {
		t.Errorf("comfort noise at %.1f dBm0, want %.1f ±3 dB", got, want)
	}
	// The tone comes back.
	end := len(out) - 10*hal.FrameSamples
	if lvl := dsp.DBm0FromRMS(dsp.RMS(out[end:])); lvl < toneLevel-3 {
		t.Errorf("tone after the silence at %.1f dBm0", lvl)
	}
}

// The silence paths allocate nothing either: WriteFrame suppressing and
// sending CN, handleRTP taking CN, ReadFrame playing comfort noise and
// concealing.
func TestCNZeroAllocs(t *testing.T) {
	a, _ := vadSession(t, leg{})
	rng := rand.New(rand.NewPCG(7, 8))
	quiet := noise(rng, noiseLevel)
	for range 20 {
		a.WriteFrame(&quiet)
	}
	if n := leastAllocs(func() {}, 200, func() { a.WriteFrame(&quiet) }); n != 0 {
		t.Errorf("WriteFrame in a silence allocates %.1f times per frame", n)
	}

	s := offline(t, leg{cn: true})
	p := &stream{ssrc: 0xCAFE, seq: 1}
	for range 5 {
		s.handleRTP(p.next(t), loopbackPeer, time.Now())
	}
	cnPkt := rtpPacket(13, p.seq, p.ts, 0xCAFE, []byte{71, 100, 130, 127, 127})
	var f hal.Frame
	seq := p.seq
	if n := testing.AllocsPerRun(100, func() {
		cnPkt[2], cnPkt[3] = byte(seq>>8), byte(seq)
		seq++
		if err := s.handleRTP(cnPkt, loopbackPeer, time.Now()); err != nil {
			t.Fatal(err)
		}
		s.ReadFrame(&f)
	}); n != 0 {
		t.Errorf("receiving CN allocates %.1f times per frame", n)
	}
	if st := s.Stats(); st.ComfortNoise == 0 || st.CNReceived == 0 {
		t.Errorf("no comfort noise played: %+v", st)
	}
	s.jbMu.Lock()
	s.cnOn = false
	s.jbMu.Unlock()
	if n := testing.AllocsPerRun(100, func() { s.ReadFrame(&f) }); n != 0 {
		t.Errorf("concealing allocates %.1f times per frame", n)
	}
}
