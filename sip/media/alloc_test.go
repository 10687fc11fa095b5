package media

import (
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
)

// The media path must not allocate per frame (DESIGN.md): these tests
// prove it for the send path (plain, SRTP, every ptime, during a DTMF
// event), the receive path (plain and SRTP, audio and events) and
// ReadFrame.

func sendingSession(t testing.TB, l leg) *Session {
	t.Helper()
	a := listen(t, Config{})
	peer := newRawPeer(t)
	if l.srtp {
		l.local, l.rm = keys(t, l.mki)
	}
	l.remote = peer.addr
	if err := a.Apply(result(a, nil, l)); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestWriteFrameZeroAllocs(t *testing.T) {
	f := tone(0)
	for name, l := range map[string]leg{
		"plain": {}, "ptime10": {ptime: 10}, "ptime30": {ptime: 30}, "srtp": {srtp: true}, "srtp-mki": {srtp: true, mki: true},
	} {
		a := sendingSession(t, l)
		a.WriteFrame(&f)
		if n := testing.AllocsPerRun(200, func() { a.WriteFrame(&f) }); n != 0 {
			t.Errorf("%s: WriteFrame allocates %.1f times per frame", name, n)
		}
		// While a key is down and during the final copies.
		if n := leastAllocs(func() {
			_ = a.SendDigit('7', true) // an error: still down from before
		}, 20, func() { a.WriteFrame(&f) }); n != 0 {
			t.Errorf("%s: WriteFrame allocates %.1f times per frame during an event", name, n)
		}
		if n := leastAllocs(func() {
			_ = a.SendDigit('7', true)
			a.WriteFrame(&f)
			a.SendDigit('7', false)
		}, 5, func() { a.WriteFrame(&f) }); n != 0 {
			t.Errorf("%s: WriteFrame allocates %.1f times per frame sending the end", name, n)
		}
	}
}

// leastAllocs runs setup and then measures f over runs runs, three
// times, and returns the smallest average. testing.AllocsPerRun counts
// the allocations of every goroutine, so a short measurement can catch
// the session's RTCP or receive goroutine at work; an allocation of f
// itself shows in every attempt.
func leastAllocs(setup func(), runs int, f func()) float64 {
	least := -1.0
	for range 3 {
		setup()
		n := testing.AllocsPerRun(runs, f)
		if least < 0 || n < least {
			least = n
		}
		if least == 0 {
			break
		}
	}
	return least
}

func TestReceiveZeroAllocs(t *testing.T) {
	for name, l := range map[string]leg{"plain": {}, "srtp": {}} {
		var p *stream
		var s *Session
		if name == "srtp" {
			ka, kb := keys(t, true)
			s = offline(t, leg{local: ka, rm: kb})
			ctx, err := kb.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			p = &stream{ssrc: 0xCAFE, seq: 1, ctx: ctx}
		} else {
			s = offline(t, l)
			p = &stream{ssrc: 0xCAFE, seq: 1}
		}
		// Packets are made beforehand: making them allocates, taking
		// them must not.
		pkts := make([][]byte, 400)
		for i := range pkts {
			pkts[i] = append([]byte(nil), p.next(t)...)
		}
		for _, b := range pkts[:10] {
			s.handleRTP(b, loopbackPeer, time.Now())
		}
		i := 10
		var f hal.Frame
		n := testing.AllocsPerRun(300, func() {
			if err := s.handleRTP(pkts[i], loopbackPeer, time.Now()); err != nil {
				t.Fatal(err)
			}
			i++
			s.ReadFrame(&f)
		})
		if n != 0 {
			t.Errorf("%s: receiving allocates %.1f times per frame", name, n)
		}
	}
}

func TestReceiveEventsZeroAllocs(t *testing.T) {
	s := offline(t, leg{})
	s.digits = make(chan Digit, 1024)
	seq := uint16(1)
	pkt := func(ts uint32, dur uint16, end bool) []byte {
		e := byte(10)
		if end {
			e |= 0x80
		}
		b := rtpPacket(101, seq, ts, 0xCAFE, []byte{3, e, byte(dur >> 8), byte(dur)})
		seq++
		return b
	}
	var pkts [][]byte
	for k := range 40 {
		ts := uint32(k * 4000)
		for d := uint16(160); d <= 800; d += 160 {
			pkts = append(pkts, pkt(ts, d, false))
		}
		for range 3 {
			pkts = append(pkts, pkt(ts, 960, true))
		}
	}
	s.handleRTP(pkts[0], loopbackPeer, time.Now())
	s.handleRTP(pkts[1], loopbackPeer, time.Now())
	i := 2
	if n := testing.AllocsPerRun(len(pkts)-4, func() {
		s.handleRTP(pkts[i], loopbackPeer, time.Now())
		i++
	}); n != 0 {
		t.Errorf("receiving events allocates %.2f times per packet", n)
	}
	if len(s.digits) < 70 {
		t.Errorf("only %d notices", len(s.digits))
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	for _, tc := range []struct {
		name string
		l    leg
	}{{"plain", leg{}}, {"ptime10", leg{ptime: 10}}, {"srtp", leg{srtp: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			a := sendingSession(b, tc.l)
			f := tone(0)
			b.ReportAllocs()
			for b.Loop() {
				a.WriteFrame(&f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

func BenchmarkReadFrame(b *testing.B) {
	s := offline(b, leg{})
	p := &stream{ssrc: 0xCAFE, seq: 1}
	for range 5 {
		s.handleRTP(p.next(b), loopbackPeer, time.Now())
	}
	var f hal.Frame
	b.ReportAllocs()
	for b.Loop() {
		s.ReadFrame(&f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// BenchmarkReceiveFrame is the receive path for one 20 ms frame: a packet
// taken in (validated, decrypted, decoded into the jitter buffer) and a
// frame read out. Making the packet is outside the timing.
func BenchmarkReceiveFrame(b *testing.B) {
	for _, name := range []string{"plain", "srtp"} {
		b.Run(name, func(b *testing.B) {
			var s *Session
			p := &stream{ssrc: 0xCAFE, seq: 1}
			if name == "srtp" {
				ka, kb := keys(b, false)
				s = offline(b, leg{local: ka, rm: kb})
				p.ctx, _ = kb.NewContext()
			} else {
				s = offline(b, leg{})
			}
			var f hal.Frame
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				pkt := p.next(b)
				b.StartTimer()
				s.handleRTP(pkt, loopbackPeer, time.Now())
				s.ReadFrame(&f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

// mediaLoop is one side's media work for a 20 ms frame, the way the line
// runs it: WriteFrame on a session (encode, SRTP, send), the peer taking
// the packet in (receive from the socket, SRTP, validation, jitter
// buffer) and its ReadFrame (playout through the concealment). Every
// tenth packet is lost on the way, so the concealment runs as well. All
// of it happens on the calling goroutine: receiving is done by hand on an
// offline session instead of by a receiving goroutine.
type mediaLoop struct {
	a    *Session
	peer *rawPeer
	c    *Session
	f, g hal.Frame
	buf  []byte
	n    int
}

func newMediaLoop(t testing.TB, srtp bool) *mediaLoop {
	m := &mediaLoop{a: listen(t, Config{}), peer: newRawPeer(t), buf: make([]byte, maxDatagram), f: tone(0)}
	var send, recv leg
	if srtp {
		ka, kb := keys(t, false)
		send = leg{local: kb, rm: ka}
		recv = leg{local: ka, rm: kb}
	}
	send.remote = m.peer.addr
	if err := m.a.Apply(result(m.a, nil, send)); err != nil {
		t.Fatal(err)
	}
	m.c = offline(t, recv)
	for range 10 {
		m.step()
	}
	return m
}

func (m *mediaLoop) step() {
	m.a.WriteFrame(&m.f)
	for {
		// The packet is on the loopback already; skip the RTCP.
		k, _, err := m.peer.conn.ReadFromUDPAddrPort(m.buf)
		if err != nil {
			panic(err)
		}
		if k > 1 && (m.buf[1] < 192 || m.buf[1] > 223) {
			if m.n%10 != 9 {
				m.c.handleRTP(m.buf[:k], loopbackPeer, time.Now())
			}
			break
		}
	}
	m.n++
	m.c.ReadFrame(&m.g)
}

// BenchmarkMediaFrame is mediaLoop: WriteFrame and ReadFrame with the
// packet's trip and the concealment, plain and SRTP. 0 allocs/op is the
// requirement.
func BenchmarkMediaFrame(b *testing.B) {
	for _, name := range []string{"plain", "srtp"} {
		b.Run(name, func(b *testing.B) {
			m := newMediaLoop(b, name == "srtp")
			c0 := m.c.Stats().Concealed
			b.ReportAllocs()
			for b.Loop() {
				m.step()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
			b.ReportMetric(float64(m.c.Stats().Concealed-c0)/float64(b.N), "concealed/frame")
		})
	}
}

// TestMediaFrameZeroAllocs runs BenchmarkMediaFrame's loop under
// AllocsPerRun.
func TestMediaFrameZeroAllocs(t *testing.T) {
	for _, name := range []string{"plain", "srtp"} {
		m := newMediaLoop(t, name == "srtp")
		if allocs := leastAllocs(func() {}, 200, m.step); allocs != 0 {
			t.Errorf("%s: WriteFrame+ReadFrame allocate %.1f times per frame", name, allocs)
		}
		// Every tenth packet is lost; how many frames that makes depends
		// on how many rounds AllocsPerRun ran.
		st, lost := m.c.Stats(), uint64(m.n/10)
		if st.Concealed < lost*8/10 || st.Concealed > lost*12/10+5 {
			t.Errorf("%s: %d frames concealed of %d, %d lost", name, st.Concealed, m.n, m.n/10)
		}
	}
}
