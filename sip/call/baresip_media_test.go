package call

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/wav"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/siptest/baresiptest"
	"github.com/tipring/tipring/sip/siptest/kamailiotest"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// The tones of the audio tests: baresip plays peerHz, we send ourHz, both
// at toneDBm0. They are not harmonically related, so neither end can
// mistake an echo or a harmonic of its own tone for the other's.
const (
	peerHz   = 1000.0
	ourHz    = 440.0
	toneDBm0 = -10.0
)

// Tolerances of the measurements. Nothing on either path changes the
// level on purpose: baresip 1.0 has no software gain between its aufile
// source and its G.711 encoder, nor between its decoder and the sndfile
// filter that records what it heard (its recording of what it sent,
// checked in checkPeerSent, confirms the first), and a media.Session
// applies none. G.711 µ-law quantisation costs well under 0.1 dB on a
// −10 dBm0 tone, so ±2 dB leaves room only for concealed gaps. The
// frequency must survive to 1 %: both ends run their 8 kHz clocks off
// this machine's.
const (
	freqTolerance  = 0.01
	levelTolerance = 2.0
)

// audioPump drives a call's RTPMedia like a line's media loop: every
// 20 ms it runs the queued jobs (key presses), writes a frame of a
// continuous ourHz tone at toneDBm0 and reads a frame, keeping all that
// it read.
type audioPump struct {
	m    *RTPMedia
	jobs chan func(*RTPMedia) error
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	heard []int16
	err   error
}

func startAudioPump(m *RTPMedia) *audioPump {
	p := &audioPump{m: m, jobs: make(chan func(*RTPMedia) error, 16), stop: make(chan struct{}), done: make(chan struct{})}
	amp := dsp.PeakFromDBm0(toneDBm0)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(hal.FrameDuration)
		defer tick.Stop()
		var out, in hal.Frame
		for n := 0; ; n++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			for more := true; more; {
				select {
				case job := <-p.jobs:
					if err := job(m); err != nil {
						p.fail(err)
					}
				default:
					more = false
				}
			}
			for i := range out {
				k := n*hal.FrameSamples + i
				out[i] = dsp.Saturate(amp * math.Sin(2*math.Pi*ourHz*float64(k)/dsp.SampleRate))
			}
			if err := m.WriteFrame(&out); err != nil {
				p.fail(err)
				return
			}
			if err := m.ReadFrame(&in); err != nil {
				p.fail(err)
				return
			}
			p.mu.Lock()
			p.heard = append(p.heard, in[:]...)
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *audioPump) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// do runs job in the pump's loop before its next frame.
func (p *audioPump) do(job func(*RTPMedia) error) { p.jobs <- job }

// samples returns how many samples have been read so far.
func (p *audioPump) samples() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.heard)
}

// last returns the last n samples read.
func (p *audioPump) last(n int) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard[max(0, len(p.heard)-n):]...)
}

// halt stops the pump and returns the first error it met.
func (p *audioPump) halt() error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// checkTone measures the strongest component of x between 300 and
// 2000 Hz and checks it is a tone of hz at toneDBm0. The search is coarse
// over the first 128 ms (bins of 7.8 Hz), then fine over all of x within
// 25 Hz of that: the same answer as one fine search over the band, at a
// twentieth of its cost (which under -race is seconds).
func checkTone(t *testing.T, who string, x []int16, hz float64) {
	t.Helper()
	coarse, _ := dsptest.Peak(x[:min(len(x), 1024)], 300, 2000)
	f, _ := dsptest.Peak(x, coarse-25, coarse+25)
	level := dsptest.Level(x, f)
	t.Logf("%s: %.2f Hz at %.2f dBm0 over %d ms (sent %.0f Hz at %.1f dBm0)", who, f, level, len(x)/8, hz, toneDBm0)
	if math.Abs(f-hz) > freqTolerance*hz {
		t.Errorf("%s: tone at %.2f Hz, want %.0f Hz ±%.0f %%", who, f, hz, 100*freqTolerance)
	}
	if math.Abs(level-toneDBm0) > levelTolerance {
		t.Errorf("%s: tone at %.2f dBm0, want %.1f ±%.0f dB", who, level, toneDBm0, levelTolerance)
	}
}

// receiveTone waits until the pump has read 1.5 s of loud audio and
// checks the last second of it is baresip's tone.
func receiveTone(t *testing.T, p *audioPump) {
	t.Helper()
	start := -1
	eventually(t, 10*time.Second, "1.5 s of audio from baresip", func() bool {
		if start < 0 {
			x := p.last(p.samples())
			for i, v := range x {
				if v > 1000 || v < -1000 {
					start = i
					break
				}
			}
			return false
		}
		return p.samples() >= start+12000
	})
	checkTone(t, "we heard baresip", p.last(8000), peerHz)
	// baresip's own recording of our tone needs 1.5 s too, and it starts
	// later than ours (its recorder opens on its side of the answer):
	// keep the call up a little longer before the caller hangs up.
	time.Sleep(700 * time.Millisecond)
}

// readWAV decodes an 8 kHz recording of baresip's.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := wav.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if a.Rate != 8000 {
		t.Fatalf("%s: %d Hz, want 8000", path, a.Rate)
	}
	return a.Samples
}

// toneSecond returns one second of x from 200 ms after its first loud
// sample, or nil when x has no such second.
func toneSecond(x []int16) []int16 {
	for i, v := range x {
		if v > 1000 || v < -1000 {
			if i+1600+8000 > len(x) {
				return nil
			}
			return x[i+1600 : i+1600+8000]
		}
	}
	return nil
}

// checkPeerHeard waits for baresip's recording of the call that just
// ended and checks it heard our tone.
func checkPeerHeard(t *testing.T, peer *baresiptest.Peer) {
	t.Helper()
	var x []int16
	eventually(t, 5*time.Second, "baresip's recording", func() bool {
		heard := peer.HeardFile()
		if heard == "" {
			return false
		}
		fi, err := os.Stat(heard)
		if err != nil || fi.Size() < 44+2*12000 {
			return false
		}
		x = toneSecond(readWAV(t, heard))
		return x != nil
	})
	checkTone(t, "baresip heard us", x, ourHz)
}

// checkPeerSent checks baresip's recording of what it encoded: the tone
// of its source, level unchanged (the premise of levelTolerance).
func checkPeerSent(t *testing.T, peer *baresiptest.Peer) {
	t.Helper()
	sent := peer.SentFile()
	if sent == "" {
		t.Fatal("baresip recorded nothing it sent")
	}
	x := toneSecond(readWAV(t, sent))
	if x == nil {
		t.Fatalf("%s: no second of tone", sent)
	}
	checkTone(t, "baresip sent", x, peerHz)
}

// peerTone is the source of a baresip sending peerHz at toneDBm0.
func peerTone() []int16 { return dsptest.Sine(30*8000, peerHz, toneDBm0, 0) }

// rtpMediaOf returns the call's media as the RTPMedia the factory made.
func rtpMediaOf(t *testing.T, c *Call, rf *rtpFactory) *RTPMedia {
	t.Helper()
	m, ok := c.Media().(*recMedia)
	if !ok || m != rf.get(t, 0) {
		t.Fatalf("call media %T is not the factory's", c.Media())
	}
	if r := m.last(); r == nil || r.Codec.Name() != "PCMU" {
		t.Fatalf("media result %+v", r)
	}
	return m.RTPMedia
}

// RFC 3261 §13.3 and RFC 3551 §4.5.14: baresip calls our line straight
// at our agent over UDP and the line answers with RTP media; baresip's
// 1000 Hz tone at −10 dBm0 is measured in what we read, and our 440 Hz
// tone at −10 dBm0 in what baresip recorded, both by frequency and level.
func TestRFC3551Section4_5_14ToneFromBaresipCallingUs(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{Source: peerTone()})
	var rf rtpFactory
	f := newFixture(t, func(c *Config) { rf.install(t, c) })
	if _, err := peer.Command("dial", "sip:1001@"+f.agent.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	c := incoming(t, f.line, 5*time.Second)
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p := startAudioPump(rtpMediaOf(t, c, &rf))
	defer p.halt()
	receiveTone(t, p)
	if _, err := peer.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	if ev := wait(t, c, EventEnded, 5*time.Second); ev.Cause != EndRemote {
		t.Errorf("end cause %v", ev.Cause)
	}
	if err := p.halt(); err != nil {
		t.Logf("media loop after the call: %v", err)
	}
	checkPeerHeard(t, peer)
	checkPeerSent(t, peer)
}

// RFC 3261 §13.2 and RFC 3551 §4.5.14: our line calls baresip, which
// answers; the same measurements both ways.
func TestRFC3551Section4_5_14ToneBetweenUsAndBaresipWeCall(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true, Source: peerTone()})
	var rf rtpFactory
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr; rf.install(t, c) })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p := startAudioPump(rtpMediaOf(t, c, &rf))
	defer p.halt()
	receiveTone(t, p)
	if err := p.halt(); err != nil {
		t.Fatal(err)
	}
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	checkPeerHeard(t, peer)
	checkPeerSent(t, peer)
}

// RFC 4733 §2 both ways with baresip: digits pressed on our line reach
// baresip as telephone-events (its CALL_DTMF_START events name each key
// once, in order), and digits baresip sends ("sndcode") come out of our
// session's Digits once each, a begin and an end per key.
func TestRFC4733Section2DigitsWithBaresip(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true})
	var rf rtpFactory
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr; rf.install(t, c) })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := rtpMediaOf(t, c, &rf)
	p := startAudioPump(m)
	defer p.halt()
	eventually(t, 5*time.Second, "RTP both ways", func() bool {
		st := m.Stats()
		return st.PacketsSent >= 10 && st.PacketsReceived >= 10
	})

	// Our line to baresip: 100 ms presses, 100 ms apart.
	const ours = "159#"
	for _, d := range []byte(ours) {
		p.do(func(m *RTPMedia) error { return m.SendDigit(d, true) })
		time.Sleep(100 * time.Millisecond)
		p.do(func(m *RTPMedia) error { return m.SendDigit(d, false) })
		time.Sleep(100 * time.Millisecond)
	}
	var got []string
	for range ours {
		ev, err := peer.WaitEvent("CALL_DTMF_START", 3*time.Second)
		if err != nil {
			t.Errorf("baresip received %q of %q: %v", strings.Join(got, ""), ours, err)
			break
		}
		got = append(got, ev.Param)
	}
	time.Sleep(300 * time.Millisecond) // any duplicate would show by now
	starts, ends := peer.Events("CALL_DTMF_START"), peer.Events("CALL_DTMF_END")
	t.Logf("baresip received %q: %d CALL_DTMF_START, %d CALL_DTMF_END", strings.Join(got, ""), len(starts), len(ends))
	if strings.Join(got, "") != ours || len(starts) != len(ours) {
		t.Errorf("baresip received keys %q in %d CALL_DTMF_START events, want %q once each", strings.Join(got, ""), len(starts), ours)
	}
	if len(ends) != len(ours) {
		t.Errorf("baresip reported %d key releases, want %d", len(ends), len(ours))
	}

	// baresip to our line.
	const theirs = "2580*"
	for _, d := range theirs {
		if _, err := peer.Command("sndcode", string(d)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// All presses and releases, then 300 ms more for any duplicate.
	var seq []string
	timeout := time.After(3 * time.Second)
	var quiet <-chan time.Time
collect:
	for {
		select {
		case d := <-m.Digits():
			seq = append(seq, fmt.Sprintf("%c%s", d.Digit, map[bool]string{false: "v", true: "^"}[d.End]))
			if d.Lost {
				t.Errorf("digit %c: end decided by timeout", d.Digit)
			}
			if len(seq) == 2*len(theirs) {
				quiet = time.After(300 * time.Millisecond)
			}
		case <-quiet:
			break collect
		case <-timeout:
			break collect
		}
	}
	var want []string
	for _, d := range theirs {
		want = append(want, string(d)+"v", string(d)+"^")
	}
	t.Logf("we received %v from baresip's %q", seq, theirs)
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Errorf("we received %v, want %v", seq, want)
	}
	if err := p.halt(); err != nil {
		t.Fatal(err)
	}
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// packetsIn returns how many RTP packets m receives over d, and how many
// it sends.
func packetsIn(m *RTPMedia, d time.Duration) (received, sent uint64) {
	before := m.Stats()
	time.Sleep(d)
	after := m.Stats()
	return after.PacketsReceived - before.PacketsReceived, after.PacketsSent - before.PacketsSent
}

// RFC 3264 §8.4 with baresip, measured: our line holds baresip
// (sendonly), baresip's RTP stops by our session's packet counters and
// its tone is gone from what we read while ours keeps flowing; resumed,
// its packets and its tone come back.
func TestRFC3264Section8_4HoldStopsBaresipsAudio(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true, Source: peerTone()})
	var rf rtpFactory
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr; rf.install(t, c) })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	m := rtpMediaOf(t, c, &rf)
	p := startAudioPump(m)
	defer p.halt()
	receiveTone(t, p)
	if rx, tx := packetsIn(m, 500*time.Millisecond); rx < 20 || tx < 20 {
		t.Fatalf("before hold: %d packets in, %d out over 500 ms", rx, tx)
	}

	if err := c.Hold(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := rf.get(t, 0).last(); r.Direction.Receives() || !r.Direction.Sends() {
		t.Errorf("on hold: direction %v", r.Direction)
	}
	time.Sleep(200 * time.Millisecond) // packets already on their way
	rx, tx := packetsIn(m, 600*time.Millisecond)
	t.Logf("on hold: %d packets in, %d out over 600 ms", rx, tx)
	if rx != 0 {
		t.Errorf("baresip still sends on hold: %d packets in 600 ms", rx)
	}
	if tx < 20 {
		t.Errorf("we stopped sending on hold (sendonly): %d packets in 600 ms", tx)
	}
	held := p.last(4000)
	if level := dsptest.Level(held, peerHz); level > -50 {
		t.Errorf("baresip's tone still heard on hold at %.1f dBm0", level)
	} else {
		t.Logf("on hold: baresip's tone at %.1f dBm0 in what we read", level)
	}

	if err := c.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := rf.get(t, 0).last(); !r.Direction.Receives() || !r.Direction.Sends() {
		t.Errorf("resumed: direction %v", r.Direction)
	}
	rx, tx = packetsIn(m, 600*time.Millisecond)
	t.Logf("resumed: %d packets in, %d out over 600 ms", rx, tx)
	if rx < 20 || tx < 20 {
		t.Errorf("after resume: %d packets in, %d out over 600 ms", rx, tx)
	}
	time.Sleep(time.Second) // then the last second read is all after resume
	checkTone(t, "we heard baresip after resume", p.last(8000), peerHz)
	if err := p.halt(); err != nil {
		t.Fatal(err)
	}
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// RFC 3261 §16, RFC 4568 and RFC 3551 §4.5.14: baresip, registered with
// Kamailio over TLS and demanding SRTP, calls our line's number through
// Kamailio; the line answers and the tones are measured both ways, as
// for the direct calls.
func TestRFC3261Section16ToneFromBaresipThroughKamailioOverTLS(t *testing.T) {
	ca, err := testca.New("call test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv := kamailiotest.Start(t, kamailiotest.Config{CA: ca, Users: []kamailiotest.User{
		{Name: "2007", Password: "pw2007"}, {Name: "2008", Password: "pw2008"},
	}})
	leaf, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "baresip.pem")
	if err := os.WriteFile(certFile, append(append([]byte{}, leaf.CertPEM...), leaf.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	peer := baresiptest.Start(t, baresiptest.Config{
		User: "2007", Password: "pw2007", Registrar: srv.TLSAddr, Transport: "tls",
		CertFile: certFile, CAFile: srv.CAFile, MediaEnc: "srtp-mand", Source: peerTone(),
	})
	eventually(t, 10*time.Second, "baresip registered", func() bool {
		cs, err := srv.Contacts(t.Context(), "2007")
		return err == nil && len(cs) > 0
	})
	b := newProxiedLine(t, srv, ca, "2008", sdp.Config{SRTP: sdp.SRTPRequired})
	if _, err := peer.Command("dial", "sip:2008@"+srv.TLSAddr+";transport=tls"); err != nil {
		t.Fatal(err)
	}
	c := incoming(t, b.line, 10*time.Second)
	if c.Remote().Number != "2007" {
		t.Errorf("caller %+v", c.Remote())
	}
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := rtpMediaOf(t, c, b.media)
	if r := b.media.get(t, 0).last(); r.LocalCrypto == nil || r.RemoteCrypto == nil {
		t.Fatalf("no SRTP: %+v", r)
	}
	p := startAudioPump(m)
	defer p.halt()
	receiveTone(t, p)
	// baresip, starting the stream as the offerer, sends one plain
	// 16-byte RTCP APP packet ("PING", "PONG") to open NAT pinholes
	// before its SRTCP is in place; the session rightly drops it as
	// unauthenticated. Nothing else may fail.
	if st := m.Stats(); st.DroppedAuth > 1 || st.PacketsReceived < 50 {
		t.Errorf("%d packets failed SRTP authentication (want at most baresip's pinhole packet), %d received", st.DroppedAuth, st.PacketsReceived)
	}
	if _, err := peer.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	if ev := wait(t, c, EventEnded, 5*time.Second); ev.Cause != EndRemote {
		t.Errorf("end cause %v", ev.Cause)
	}
	if !srv.WaitLog("WITHINDLG BYE", time.Second) {
		t.Error("the BYE did not pass through Kamailio")
	}
	if err := p.halt(); err != nil {
		t.Logf("media loop after the call: %v", err)
	}
	checkPeerHeard(t, peer)
	checkPeerSent(t, peer)
}
