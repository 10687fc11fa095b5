package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/sdp"
)

type rtpFields struct {
	version  int
	marker   bool
	pt       uint8
	seq      uint16
	ts, ssrc uint32
	payload  []byte
}

func parseRTP(t *testing.T, b []byte) rtpFields {
	t.Helper()
	if len(b) < 12 {
		t.Fatalf("packet of %d bytes", len(b))
	}
	return rtpFields{
		version: int(b[0] >> 6), marker: b[1]&0x80 != 0, pt: b[1] & 0x7F,
		seq: binary.BigEndian.Uint16(b[2:]), ts: binary.BigEndian.Uint32(b[4:]),
		ssrc: binary.BigEndian.Uint32(b[8:]), payload: b[12:],
	}
}

func TestRFC3550Section5_1HeaderFields(t *testing.T) {
	a := listen(t, Config{})
	peer := newRawPeer(t)
	if err := a.Apply(result(a, nil, leg{remote: peer.addr})); err != nil {
		t.Fatal(err)
	}
	var prev rtpFields
	for n := range 5 {
		f := tone(n)
		if err := a.WriteFrame(&f); err != nil {
			t.Fatal(err)
		}
		p := parseRTP(t, peer.readRTP(time.Second))
		want := make([]byte, hal.FrameSamples)
		g711.EncodeUlaw(want, f[:])
		switch {
		case p.version != 2:
			t.Fatalf("version %d", p.version)
		case p.pt != g711.PayloadPCMU:
			t.Fatalf("payload type %d", p.pt)
		case p.ssrc != a.SSRC():
			t.Fatalf("SSRC %08x, want %08x", p.ssrc, a.SSRC())
		case p.marker != (n == 0):
			t.Fatalf("packet %d marker %v: want it on the first packet only", n, p.marker)
		case !bytes.Equal(p.payload, want):
			t.Fatalf("packet %d payload differs from the G.711 encoding of the frame", n)
		}
		if n > 0 && (p.seq != prev.seq+1 || p.ts != prev.ts+hal.FrameSamples) {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", n, p.seq, p.ts, prev.seq, prev.ts)
		}
		prev = p
	}
}

func TestRFC3551Section4_5Packetization(t *testing.T) {
	for _, tc := range []struct {
		ptime, frames, packets int
	}{{10, 3, 6}, {20, 3, 3}, {30, 6, 4}} {
		a := listen(t, Config{})
		peer := newRawPeer(t)
		if err := a.Apply(result(a, nil, leg{remote: peer.addr, ptime: tc.ptime, codec: sdp.PCMA})); err != nil {
			t.Fatal(err)
		}
		var sent []byte
		for n := range tc.frames {
			f := tone(n)
			a.WriteFrame(&f)
			enc := make([]byte, hal.FrameSamples)
			g711.EncodeAlaw(enc, f[:])
			sent = append(sent, enc...)
		}
		size := tc.ptime * 8
		var got []byte
		var first rtpFields
		for i := range tc.packets {
			b := peer.readRTP(time.Second)
			if b == nil {
				t.Fatalf("ptime %d: packet %d of %d missing", tc.ptime, i, tc.packets)
			}
			p := parseRTP(t, b)
			if i == 0 {
				first = p
			}
			if len(p.payload) != size || p.pt != g711.PayloadPCMA {
				t.Fatalf("ptime %d: packet %d: %d bytes PT %d, want %d bytes PT 8", tc.ptime, i, len(p.payload), p.pt, size)
			}
			if p.ts != first.ts+uint32(i*size) || p.seq != first.seq+uint16(i) {
				t.Fatalf("ptime %d: packet %d ts %d seq %d", tc.ptime, i, p.ts-first.ts, p.seq-first.seq)
			}
			got = append(got, p.payload...)
		}
		if !bytes.Equal(got, sent) {
			t.Fatalf("ptime %d: payloads are not the frames in order", tc.ptime)
		}
		if b := peer.readRTP(50 * time.Millisecond); b != nil {
			t.Fatalf("ptime %d: extra packet", tc.ptime)
		}
	}
}

func TestRFC3264Section6_1DirectionAndReinvite(t *testing.T) {
	a := listen(t, Config{})
	p1, p2 := newRawPeer(t), newRawPeer(t)
	if err := a.Apply(result(a, nil, leg{remote: p1.addr})); err != nil {
		t.Fatal(err)
	}
	f := tone(0)
	a.WriteFrame(&f)
	first := parseRTP(t, p1.readRTP(time.Second))

	// Put on hold: recvonly means we send nothing, but time runs on.
	if err := a.Apply(result(a, nil, leg{remote: p1.addr, dir: sdp.RecvOnly})); err != nil {
		t.Fatal(err)
	}
	a.WriteFrame(&f)
	a.WriteFrame(&f)
	if b := p1.readRTP(50 * time.Millisecond); b != nil {
		t.Fatal("recvonly session sent a packet")
	}
	// Resume at a new address with the other codec: same SSRC, the
	// sequence continues, the timestamp counts the held frames, and the
	// marker starts the new talkspurt.
	if err := a.Apply(result(a, nil, leg{remote: p2.addr, codec: sdp.PCMA})); err != nil {
		t.Fatal(err)
	}
	a.WriteFrame(&f)
	p := parseRTP(t, p2.readRTP(time.Second))
	if p.ssrc != first.ssrc || p.seq != first.seq+1 || p.ts != first.ts+3*hal.FrameSamples || !p.marker || p.pt != g711.PayloadPCMA {
		t.Fatalf("after re-INVITE: ssrc %08x seq +%d ts +%d marker %v pt %d", p.ssrc, p.seq-first.seq, p.ts-first.ts, p.marker, p.pt)
	}
	// Inactive: nothing sent, nothing received.
	if err := a.Apply(result(a, nil, leg{remote: p2.addr, inactive: true})); err != nil {
		t.Fatal(err)
	}
	a.WriteFrame(&f)
	if b := p2.readRTP(50 * time.Millisecond); b != nil {
		t.Fatal("inactive session sent a packet")
	}
	for i := range 4 {
		pkt := rtpPacket(0, 1000+uint16(i), uint32(160*i), 0x1234, make([]byte, 160))
		if err := a.handleRTP(pkt, p2.addr, time.Now()); i > 1 && !errors.Is(err, errDirection) {
			t.Fatalf("packet %d on an inactive session: %v", i, err)
		}
	}
	if d := a.Stats().Buffer.Packets; d != 0 {
		t.Fatalf("inactive session buffered %d packets", d)
	}
}

func TestApplyRejects(t *testing.T) {
	a := listen(t, Config{})
	ka, _ := keys(t, false)
	for name, r := range map[string]*sdp.Result{
		"nil":      nil,
		"codec":    {Codec: 18, Ptime: 20},
		"ptime":    {Codec: sdp.PCMU, Ptime: 40},
		"halfSRTP": {Codec: sdp.PCMU, Ptime: 20, LocalCrypto: ka},
	} {
		if err := a.Apply(r); !errors.Is(err, ErrResult) {
			t.Errorf("%s: %v, want ErrResult", name, err)
		}
	}
	if err := a.SendDigit('1', true); !errors.Is(err, ErrNotStarted) {
		t.Errorf("SendDigit before Apply: %v", err)
	}
	a.Close()
	var f hal.Frame
	if err := a.WriteFrame(&f); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrame after Close: %v", err)
	}
	if err := a.ReadFrame(&f); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrame after Close: %v", err)
	}
}

// rtpPacket builds a plain RTP packet.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// runTone plays silence then a tone from a into b through their media
// loops and returns what b played and the frame at which the tone began.
func runTone(a, b *Session, frames int) (out []int16, onset int) {
	onset = 10
	clock(frames, func(n int) bool {
		var f hal.Frame
		if n >= onset {
			f = tone(n - onset)
		}
		a.WriteFrame(&f)
		var g hal.Frame
		b.ReadFrame(&g)
		out = append(out, g[:]...)
		return true
	})
	return out, onset
}

// firstLoud returns the index of the first sample above half the tone's
// peak.
func firstLoud(x []int16) int {
	thr := int16(dsp.PeakFromDBm0(toneLevel) / 2)
	for i, v := range x {
		if v > thr || v < -thr {
			return i
		}
	}
	return -1
}

func TestRFC3551Section4_5_14ToneEndToEnd(t *testing.T) {
	frames := 75
	if testing.Short() {
		frames = 50
	}
	for _, tc := range []struct {
		name string
		l    leg
	}{
		{"plain", leg{}},
		{"pcma-ptime10-mux", leg{codec: sdp.PCMA, ptime: 10, mux: true}},
		{"ptime30", leg{ptime: 30}},
		{"srtp", leg{srtp: true}},
		{"srtp-mki", leg{srtp: true, mki: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, Config{}, tc.l, tc.l)
			out, onset := runTone(a, b, frames)
			st := b.Stats()
			start := firstLoud(out)
			if start < 0 {
				t.Fatalf("no tone came through; stats %+v", st)
			}
			latency := time.Duration(start-onset*hal.FrameSamples) * time.Second / 8000
			ptime := time.Duration(max(tc.l.ptime, 20)) * time.Millisecond
			if tc.l.ptime == 0 {
				ptime = 20 * time.Millisecond
			}
			bound := ptime + st.Buffer.Target + hal.FrameDuration
			t.Logf("latency %v (bound %v: ptime + target %v + a frame of phase), jitter %v, depth %v", latency, bound, st.Buffer.Target, st.Jitter, st.Buffer.Depth)
			if latency < 0 || latency > bound {
				t.Errorf("latency %v, want at most %v", latency, bound)
			}
			// Level over the last 20 frames, the transition excluded.
			tail := out[len(out)-20*hal.FrameSamples:]
			level := dsp.DBm0FromRMS(dsp.RMS(tail))
			if math.Abs(level-toneLevel) > 0.5 {
				t.Errorf("level %.2f dBm0, want %.1f ± 0.5", level, toneLevel)
			}
			if st.DroppedAuth+st.DroppedMalformed+st.DroppedPayloadType > 0 {
				t.Errorf("dropped packets: %+v", st)
			}
		})
	}
}

func TestRFC3550AppendixA1SequenceWrap(t *testing.T) {
	a, b := pair(t, Config{}, leg{}, leg{})
	a.txMu.Lock()
	a.tx.seq = 0xFFF0
	a.txMu.Unlock()
	n := 40
	for i := range n {
		f := tone(i)
		a.WriteFrame(&f)
		time.Sleep(time.Millisecond)
	}
	waitFor(t, 2*time.Second, "all packets", func() bool { return b.Stats().PacketsReceived >= uint64(n-1) })
	st := b.Stats()
	// The first packet is the probation packet; the other 39 count.
	if st.Lost != 0 || st.Expected != uint32(n-1) {
		t.Fatalf("expected %d lost %d, want %d and 0", st.Expected, st.Lost, n-1)
	}
	if want := uint32(1<<16) | uint32(uint16(0xFFF0+n-1)); st.HighestSeq != want {
		t.Fatalf("extended highest sequence %#x, want %#x", st.HighestSeq, want)
	}
}
