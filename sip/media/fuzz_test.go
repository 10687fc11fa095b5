package media

import (
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/dsp/cng"
	"github.com/tipring/tipring/dsp/dtmf/rfc4733"
	"github.com/tipring/tipring/dsp/plc"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/media/jitter"
)

// offline makes a configured session without sockets, for feeding the
// packet handlers directly.
func offline(t testing.TB, l leg) *Session {
	t.Helper()
	jb, err := jitter.New(jitter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	s := &Session{cfg: Config{Logger: log}, log: log, ssrc: 0x5E55_1011, epoch: time.Now(), digits: make(chan Digit, 4), jb: jb,
		plc: plc.New(), cng: cng.NewGenerator(1)}
	s.rx.ev = rfc4733.NewReceiver(rfc4733.ReceiverConfig{})
	s.rx.notes = make([]rfc4733.Notice, 0, 8)
	var ctx *srtp.Context
	if l.rm != nil {
		if ctx, err = l.rm.NewContext(srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)); err != nil {
			t.Fatal(err)
		}
	}
	s.rx.apply(result(s, nil, l), false, ctx)
	return s
}

// stream produces the valid packets of a peer, optionally SRTP-protected.
type stream struct {
	ssrc uint32
	seq  uint16
	ts   uint32
	ctx  *srtp.Context
	out  []byte
	hdr  rtp.Header
}

func (p *stream) next(t testing.TB) []byte {
	pkt := rtpPacket(0, p.seq, p.ts, p.ssrc, make([]byte, 160))
	p.seq++
	p.ts += 160
	if p.ctx == nil {
		return pkt
	}
	out, err := p.ctx.EncryptRTP(p.out[:0], pkt, &p.hdr)
	if err != nil {
		t.Fatal(err)
	}
	p.out = out
	return out
}

func fuzzSeeds(f *testing.F) {
	audio := rtpPacket(0, 7, 160, 0xCAFE, make([]byte, 160))
	padded := rtpPacket(8, 8, 320, 0xCAFE, append(make([]byte, 160), 0, 0, 3))
	padded[0] |= 0x20
	csrc := rtpPacket(0, 9, 480, 0xCAFE, append([]byte{0, 0, 0, 1, 0, 0, 0, 2}, make([]byte, 160)...))
	csrc[0] |= 2
	ext := rtpPacket(0, 10, 640, 0xCAFE, append([]byte{0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0}, make([]byte, 80)...))
	ext[0] |= 0x10
	event := rtpPacket(101, 11, 800, 0xCAFE, []byte{5, 0x0A, 0, 160})
	events := rtpPacket(101|0x80, 12, 800, 0xCAFE, []byte{5, 0x8A, 3, 0x20, 6, 0x0A, 0, 160})
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 0xCAFE, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 0x5E551011, LastSenderReport: 5, Delay: 2}}},
		rtcp.NewCNAMESourceDescription(0xCAFE, "peer"),
		&rtcp.Goodbye{Sources: []uint32{0xCAFE}},
	})
	for _, s := range [][]byte{audio, padded, csrc, ext, event, events, sr, {0x80}, {0x80, 0xC8, 0, 1}, {}} {
		f.Add(s)
	}
}

// checkSane checks that the session still takes its peer's packets and
// plays frames after malformed input.
func checkSane(t *testing.T, s *Session, p *stream) {
	t.Helper()
	if err := s.handleRTP(p.next(t), loopbackPeer, time.Now()); err != nil {
		t.Fatalf("valid packet refused after malformed input: %v", err)
	}
	var f hal.Frame
	if err := s.ReadFrame(&f); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Buffer.Depth > 600*time.Millisecond || st.Buffer.Target > 200*time.Millisecond {
		t.Fatalf("buffer out of bounds: %+v", st.Buffer)
	}
}

var loopbackPeer = netip.MustParseAddrPort("127.0.0.1:4000")

func FuzzReceiveRTP(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := offline(t, leg{})
		p := &stream{ssrc: 0xCAFE, seq: 1, ts: 0}
		for range 3 {
			s.handleRTP(p.next(t), loopbackPeer, time.Now())
		}
		s.handleRTP(b, loopbackPeer, time.Now())
		// The fuzzed packet may carry the peer's SSRC: the stream must
		// still be accepted afterwards (as reordering, at worst).
		checkSane(t, s, p)
	})
}

func FuzzReceiveSRTP(f *testing.F) {
	fuzzSeeds(f)
	ka, kb := keys(f, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := offline(t, leg{local: ka, rm: kb})
		ctx, err := kb.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		p := &stream{ssrc: 0xCAFE, seq: 1, ctx: ctx}
		for range 3 {
			s.handleRTP(p.next(t), loopbackPeer, time.Now())
		}
		// Forged or mangled packets never authenticate.
		if err := s.handleRTP(b, loopbackPeer, time.Now()); err == nil {
			t.Fatalf("unauthenticated packet accepted: % x", b)
		}
		checkSane(t, s, p)
	})
}

func FuzzReceiveRTCP(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := offline(t, leg{})
		p := &stream{ssrc: 0xCAFE, seq: 1}
		for range 3 {
			s.handleRTP(p.next(t), loopbackPeer, time.Now())
		}
		s.handleRTCP(b, loopbackPeer, time.Now())
		if st := s.Stats(); st.RTT < 0 {
			t.Fatalf("negative RTT %v", st.RTT)
		}
		checkSane(t, s, p)
	})
}

func TestMalformedPacketsCounted(t *testing.T) {
	s := offline(t, leg{})
	for _, tc := range []struct {
		b    []byte
		want error
	}{
		{[]byte{0x80, 0}, errShort},
		{append([]byte{0x40}, make([]byte, 20)...), errVersion},
		{rtpPacket(9, 1, 0, 1, make([]byte, 160)), errPayload},
		{rtpPacket(100, 1, 0, 1, make([]byte, 4)), errPayload},
		{func() []byte { b := rtpPacket(0, 1, 0, 1, []byte{1, 2, 9}); b[0] |= 0x20; return b }(), errPadding},
		{func() []byte { b := rtpPacket(0, 1, 0, 1, nil); b[0] |= 0x0F; return b }(), errShort},
	} {
		if err := s.handleRTP(tc.b, loopbackPeer, time.Now()); !errors.Is(err, tc.want) {
			t.Errorf("% x: %v, want %v", tc.b, err, tc.want)
		}
	}
	st := s.Stats()
	if st.DroppedMalformed != 4 || st.DroppedPayloadType != 2 {
		t.Errorf("counters: %+v", st)
	}
	if err := s.handleRTCP([]byte{0x80, 0xC9, 0, 9, 1, 2, 3, 4}, loopbackPeer, time.Now()); !errors.Is(err, errRTCP) {
		t.Errorf("truncated RR: %v", err)
	}
}

func TestRFC3711Section3_3AuthenticationFailure(t *testing.T) {
	ka, kb := keys(t, false)
	s := offline(t, leg{local: ka, rm: kb})
	wrong, _ := keys(t, false)
	ctx, err := wrong.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	p := &stream{ssrc: 0xCAFE, seq: 1, ctx: ctx}
	if err := s.handleRTP(p.next(t), loopbackPeer, time.Now()); !errors.Is(err, errAuth) {
		t.Fatalf("packet under the wrong key: %v", err)
	}
	// A replayed packet is refused too (RFC 3711 §3.3.2).
	good, _ := kb.NewContext()
	q := &stream{ssrc: 0xCAFE, seq: 1, ctx: good}
	var pkts [][]byte
	for range 3 {
		pkts = append(pkts, append([]byte(nil), q.next(t)...))
	}
	for _, b := range pkts {
		s.handleRTP(b, loopbackPeer, time.Now())
	}
	if err := s.handleRTP(pkts[2], loopbackPeer, time.Now()); !errors.Is(err, errAuth) {
		t.Fatalf("replayed packet: %v", err)
	}
	if got := s.Stats().DroppedAuth; got != 2 {
		t.Fatalf("DroppedAuth %d", got)
	}
}
