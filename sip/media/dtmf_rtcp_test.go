package media

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/sdp"
)

// press is a key press in a test: digit, first frame, frames held.
type press struct {
	digit      byte
	at, frames int
}

// playDigits runs a's media loop with the presses and collects what b's
// Digits channel delivers until the loop ends and the channel is quiet.
func playDigits(t *testing.T, a, b *Session, presses []press, frames int) []Digit {
	t.Helper()
	clock(frames, func(n int) bool {
		for _, p := range presses {
			if n == p.at {
				if err := a.SendDigit(p.digit, true); err != nil {
					t.Errorf("press %c: %v", p.digit, err)
				}
			}
			if n == p.at+p.frames {
				if err := a.SendDigit(p.digit, false); err != nil {
					t.Errorf("release %c: %v", p.digit, err)
				}
			}
		}
		f := tone(n)
		a.WriteFrame(&f)
		var g hal.Frame
		b.ReadFrame(&g)
		return true
	})
	var got []Digit
	for {
		select {
		case d := <-b.Digits():
			got = append(got, d)
		case <-time.After(200 * time.Millisecond):
			return got
		}
	}
}

// checkDigits checks that each press came out as one begin and one end,
// in order, with about the right duration.
func checkDigits(t *testing.T, presses []press, got []Digit, ptime int) {
	t.Helper()
	var seq []string
	for _, d := range got {
		seq = append(seq, fmt.Sprintf("%c%v", d.Digit, map[bool]string{false: "v", true: "^"}[d.End]))
	}
	var want []string
	for _, p := range presses {
		want = append(want, string(p.digit)+"v", string(p.digit)+"^")
	}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("digits %v, want %v", seq, want)
	}
	for i, p := range presses {
		end := got[2*i+1]
		held := time.Duration(p.frames) * hal.FrameDuration
		// The sender reports whole packet intervals.
		slack := time.Duration(ptime) * time.Millisecond
		if end.Lost || end.Duration < held-slack || end.Duration > held+slack {
			t.Errorf("digit %c: duration %v lost %v, want %v ± %v", p.digit, end.Duration, end.Lost, held, slack)
		}
	}
}

func TestRFC4733Section2_5DigitsEndToEnd(t *testing.T) {
	presses := []press{{'1', 5, 5}, {'#', 14, 8}, {'9', 26, 3}, {'A', 33, 4}}
	for _, tc := range []struct {
		name string
		l    leg
	}{{"ptime20", leg{}}, {"ptime10-srtp", leg{ptime: 10, srtp: true}}, {"ptime30", leg{ptime: 30}}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, Config{}, tc.l, tc.l)
			got := playDigits(t, a, b, presses, 50)
			checkDigits(t, presses, got, max(tc.l.ptime, 20))
		})
	}
}

func TestRFC4733Section2_5_1_2EventPackets(t *testing.T) {
	a := listen(t, Config{})
	peer := newRawPeer(t)
	if err := a.Apply(result(a, nil, leg{remote: peer.addr})); err != nil {
		t.Fatal(err)
	}
	f := tone(0)
	a.WriteFrame(&f)
	audio := parseRTP(t, peer.readRTP(time.Second))
	if err := a.SendDigit('5', true); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a.WriteFrame(&f)
	}
	if err := a.SendDigit('5', false); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		a.WriteFrame(&f)
	}
	var ev []rtpFields
	for {
		b := peer.readRTP(100 * time.Millisecond)
		if b == nil {
			break
		}
		ev = append(ev, parseRTP(t, b))
	}
	for i, p := range ev {
		t.Logf("%d: pt %d m %v seq +%d ts +%d % x", i, p.pt, p.marker, p.seq-audio.seq, p.ts-audio.ts, p.payload[:min(4, len(p.payload))])
	}
	// Three updates while down, three final copies, then audio again.
	if len(ev) < 7 {
		t.Fatalf("%d packets after the press", len(ev))
	}
	for i, p := range ev[:6] {
		switch {
		case p.pt != 101 || len(p.payload) != 4:
			t.Fatalf("packet %d: PT %d, %d bytes; want telephone-event", i, p.pt, len(p.payload))
		case p.ssrc != audio.ssrc || p.seq != audio.seq+uint16(i+1):
			t.Fatalf("packet %d: SSRC %08x seq +%d; want the audio stream's, interleaved", i, p.ssrc, p.seq-audio.seq)
		case p.ts != audio.ts+hal.FrameSamples:
			t.Fatalf("packet %d: timestamp +%d, want the event start", i, p.ts-audio.ts)
		case p.marker != (i == 0):
			t.Fatalf("packet %d: marker %v", i, p.marker)
		case (p.payload[1]&0x80 != 0) != (i >= 3):
			t.Fatalf("packet %d: E bit %v", i, p.payload[1]&0x80 != 0)
		}
	}
	if ev[6].pt != 0 {
		t.Fatalf("packet after the finals has PT %d, want audio", ev[6].pt)
	}
	if err := a.SendDigit('5', false); !errors.Is(err, ErrDigit) {
		t.Fatalf("second release: %v", err)
	}
	if err := a.SendDigit('x', true); !errors.Is(err, ErrDigit) {
		t.Fatalf("press x: %v", err)
	}
	if err := a.Apply(result(a, nil, leg{remote: peer.addr, noDTMF: true})); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDigit('5', true); !errors.Is(err, ErrNoDTMF) {
		t.Fatalf("press without telephone-event: %v", err)
	}
}

func TestRFC3550Section6_4ReportsAndRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    leg
	}{{"separate", leg{}}, {"mux", leg{mux: true}}, {"srtcp", leg{srtp: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, Config{RTCPInterval: 100 * time.Millisecond}, tc.l, tc.l)
			clock(40, func(n int) bool {
				f := tone(n)
				a.WriteFrame(&f)
				b.WriteFrame(&f)
				var g hal.Frame
				a.ReadFrame(&g)
				b.ReadFrame(&g)
				return true
			})
			waitFor(t, 2*time.Second, "round-trip times", func() bool {
				return a.Stats().RTT > 0 && b.Stats().RTT > 0
			})
			sa, sb := a.Stats(), b.Stats()
			t.Logf("a: sent %d reports, got %d, RTT %v; b: RTT %v, remote loss %d jitter %v",
				sa.ReportsSent, sa.ReportsReceived, sa.RTT, sb.RTT, sb.RemoteLost, sb.RemoteJitter)
			for _, s := range []Stats{sa, sb} {
				if s.ReportsSent == 0 || s.ReportsReceived == 0 || !s.RemoteReport {
					t.Fatalf("reports: %+v", s)
				}
				if s.RTT > 100*time.Millisecond {
					t.Errorf("RTT %v on loopback", s.RTT)
				}
				if s.RemoteLost != 0 || s.RemoteFractionLost != 0 || s.DroppedAuth != 0 {
					t.Errorf("loss on loopback: %+v", s)
				}
			}
			b.Close()
			waitFor(t, time.Second, "BYE", func() bool { return a.Stats().ByeReceived })
		})
	}
}

func TestRFC4961SymmetricRTP(t *testing.T) {
	dead := newRawPeer(t)
	a := listen(t, Config{Symmetric: true})
	b := listen(t, Config{})
	// a was told the wrong address (a NAT rewrote it); b sends to a.
	if err := a.Apply(result(a, nil, leg{remote: dead.addr})); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(result(b, a, leg{})); err != nil {
		t.Fatal(err)
	}
	clock(30, func(n int) bool {
		f := tone(n)
		b.WriteFrame(&f)
		a.WriteFrame(&f)
		var g hal.Frame
		b.ReadFrame(&g)
		return true
	})
	waitFor(t, time.Second, "a's audio at b", func() bool { return b.Stats().PacketsReceived > 10 })
	if got := a.Stats(); got.PacketsSent == 0 {
		t.Fatal("a sent nothing")
	}
}

func TestRFC3550Section8_2OwnSSRCIsALoop(t *testing.T) {
	a := listen(t, Config{})
	if err := a.Apply(result(a, nil, leg{remote: newRawPeer(t).addr})); err != nil {
		t.Fatal(err)
	}
	pkt := rtpPacket(0, 1, 160, a.SSRC(), make([]byte, 160))
	if err := a.handleRTP(pkt, a.LocalRTP(), time.Now()); !errors.Is(err, errLoop) {
		t.Fatalf("own SSRC: %v", err)
	}
}

func TestRFC3550AppendixA1SourceChange(t *testing.T) {
	a := listen(t, Config{})
	if err := a.Apply(result(a, nil, leg{remote: newRawPeer(t).addr, dir: sdp.SendRecv})); err != nil {
		t.Fatal(err)
	}
	from := newRawPeer(t).addr
	send := func(ssrc uint32, seq uint16, ts uint32) error {
		return a.handleRTP(rtpPacket(0, seq, ts, ssrc, make([]byte, 160)), from, time.Now())
	}
	// Probation: the first packet of a source is held back (A.1).
	if err := send(1, 100, 0); !errors.Is(err, errSequence) {
		t.Fatalf("first packet: %v", err)
	}
	for i := 1; i < 10; i++ {
		if err := send(1, 100+uint16(i), uint32(160*i)); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	// A stray packet of another SSRC does not take over; two in sequence do.
	if err := send(2, 5000, 9999); !errors.Is(err, errSequence) {
		t.Fatalf("new SSRC first packet: %v", err)
	}
	if err := send(1, 110, 1600); err != nil {
		t.Fatalf("old source after the stray: %v", err)
	}
	if err := send(2, 5001, 9999+160); err != nil {
		t.Fatalf("new SSRC second packet: %v", err)
	}
	if st := a.Stats(); st.RemoteSSRC != 2 || st.Expected != 1 {
		t.Fatalf("after the change: %+v", st)
	}
}
