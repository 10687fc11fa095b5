package media

import (
	"context"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/sdes"
	"github.com/tipring/tipring/sip/sdp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// listen opens a session on 127.0.0.1 with a short report interval.
func listen(t testing.TB, cfg Config) *Session {
	t.Helper()
	cfg.Addr = loopback
	if cfg.PortMin == 0 {
		cfg.PortMin, cfg.PortMax = 20000, 59999
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = 200 * time.Millisecond
	}
	s, err := Listen(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// leg describes one side's negotiation outcome in a test.
type leg struct {
	codec     sdp.Codec
	ptime     int
	dir       sdp.Direction // zero means sendrecv
	inactive  bool
	mux       bool
	srtp      bool
	mki       bool
	remote    netip.AddrPort // overrides the peer's address
	rtcp      netip.AddrPort
	noDTMF    bool
	cn        bool // comfort noise negotiated, payload type 13
	local, rm *sdes.Crypto
}

// keys makes a pair of SDES attributes, optionally with MKIs.
func keys(t testing.TB, mki bool) (a, b *sdes.Crypto) {
	t.Helper()
	ca, err := sdes.Generate(1, sdes.AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := sdes.Generate(1, sdes.AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mki {
		ca.Keys[0].MKI = []byte{0, 7}
		cb.Keys[0].MKI = []byte{0, 9}
	}
	return &ca, &cb
}

// result builds the sdp.Result with which the session at self talks to
// the one at peer.
func result(self, peer *Session, l leg) *sdp.Result {
	if l.ptime == 0 {
		l.ptime = 20
	}
	if l.dir == 0 {
		l.dir = sdp.SendRecv
	}
	if l.inactive {
		l.dir = sdp.Inactive
	}
	r := &sdp.Result{
		Codec: l.codec, PayloadType: uint8(l.codec), RecvPayloadType: uint8(l.codec),
		DTMF: !l.noDTMF, DTMFPayloadType: 101, RecvDTMFPayloadType: 101, DTMFEvents: "0-16",
		Ptime: l.ptime, Direction: l.dir, RTCPMux: l.mux,
		LocalCrypto: l.local, RemoteCrypto: l.rm,
	}
	if l.cn {
		r.ComfortNoise, r.CNPayloadType, r.RecvCNPayloadType = true, 13, 13
	}
	if peer != nil {
		r.Remote, r.RemoteRTCP = peer.LocalRTP(), peer.LocalRTCP()
	}
	if l.mux && peer != nil {
		r.RemoteRTCP = peer.LocalRTP()
	}
	if l.remote.IsValid() {
		r.Remote = l.remote
		r.RemoteRTCP = l.remote
		if l.rtcp.IsValid() {
			r.RemoteRTCP = l.rtcp
		}
	}
	return r
}

// pair makes two sessions that talk to each other.
func pair(t testing.TB, cfg Config, la, lb leg) (a, b *Session) {
	t.Helper()
	a, b = listen(t, cfg), listen(t, cfg)
	if la.srtp || lb.srtp {
		ka, kb := keys(t, la.mki || lb.mki)
		la.local, la.rm = ka, kb
		lb.local, lb.rm = kb, ka
	}
	ra, rb := result(a, b, la), result(b, a, lb)
	if err := a.Apply(ra); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(rb); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// toneLevel is the level of the test tone.
const toneLevel = -10.0

// tone returns frame n of a 1 kHz tone at toneLevel dBm0.
func tone(n int) hal.Frame {
	var f hal.Frame
	amp := dsp.PeakFromDBm0(toneLevel)
	for i := range f {
		k := n*hal.FrameSamples + i
		f[i] = dsp.Saturate(amp * math.Sin(2*math.Pi*1000*float64(k)/8000))
	}
	return f
}

// clock drives sessions like a line's media loop: every 20 ms it calls
// step with the frame number. It returns when step returns false or
// after frames frames.
func clock(frames int, step func(n int) bool) {
	tick := time.NewTicker(hal.FrameDuration)
	defer tick.Stop()
	for n := 0; n < frames; n++ {
		<-tick.C
		if !step(n) {
			return
		}
	}
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawPeer is a plain UDP socket standing in for a remote endpoint.
type rawPeer struct {
	conn *net.UDPConn
	addr netip.AddrPort
}

func newRawPeer(t testing.TB) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{conn: c, addr: addrPortOf(c)}
}

// read returns the next datagram, or nil after d.
func (p *rawPeer) read(d time.Duration) []byte {
	buf := make([]byte, maxDatagram)
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// readRTP returns the next datagram that is not RTCP.
func (p *rawPeer) readRTP(d time.Duration) []byte {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b := p.read(time.Until(deadline))
		if b == nil {
			return nil
		}
		if len(b) >= 2 && (b[1] < 192 || b[1] > 223) {
			return b
		}
	}
	return nil
}

// counter is a goroutine-safe tally for relays.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(k string, d int) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k] += d
	c.mu.Unlock()
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}
