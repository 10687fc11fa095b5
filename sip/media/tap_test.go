package media

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// tapLog records what a Config.Tap sees.
type tapLog struct {
	mu      sync.Mutex
	sent    map[netip.AddrPort]int // by local address
	recv    map[netip.AddrPort]int
	lastRTP int // length of the last RTP packet sent from rtpFrom
	rtpFrom netip.AddrPort
}

func (l *tapLog) tap(dir int, local, remote netip.AddrPort, pkt []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if dir == TapSent {
		l.sent[local]++
		if local == l.rtpFrom {
			l.lastRTP = len(pkt)
		}
	} else {
		l.recv[local]++
	}
}

func (l *tapLog) counts(local netip.AddrPort) (sent, recv int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent[local], l.recv[local]
}

// Every RTP packet sent and received passes the tap, and so do the RTCP
// reports on their own port; with SRTP the tap sees the packets as on the
// wire, authentication tag included.
func TestTapSeesRTPAndRTCP(t *testing.T) {
	for _, srtp := range []bool{false, true} {
		l := &tapLog{sent: map[netip.AddrPort]int{}, recv: map[netip.AddrPort]int{}}
		a, b := pair(t, Config{Tap: l.tap}, leg{srtp: srtp}, leg{srtp: srtp})
		l.mu.Lock()
		l.rtpFrom = a.LocalRTP()
		l.mu.Unlock()
		f := tone(0)
		for range 10 {
			a.WriteFrame(&f)
		}
		waitFor(t, 2*time.Second, "b's tap to see 10 RTP packets", func() bool {
			_, r := l.counts(b.LocalRTP())
			return r >= 10
		})
		if s, _ := l.counts(a.LocalRTP()); s != 10 {
			t.Errorf("srtp %v: the tap saw %d RTP packets sent by a, want 10", srtp, s)
		}
		want := headerSize + 160
		if srtp {
			want += 10 // AES_CM_128_HMAC_SHA1_80's tag
		}
		l.mu.Lock()
		if l.lastRTP != want {
			t.Errorf("srtp %v: tapped RTP packet of %d bytes, want %d", srtp, l.lastRTP, want)
		}
		l.mu.Unlock()
		waitFor(t, 3*time.Second, "RTCP both ways through the tap", func() bool {
			s, _ := l.counts(a.LocalRTCP())
			_, r := l.counts(b.LocalRTCP())
			return s > 0 && r > 0
		})
	}
}

// A session with a tap still sends without allocating, when the tap
// itself does not allocate.
func TestTapWriteFrameZeroAllocs(t *testing.T) {
	var n int
	var last [maxDatagram]byte
	var mu sync.Mutex
	a := listen(t, Config{Tap: func(dir int, local, remote netip.AddrPort, pkt []byte) {
		mu.Lock()
		n++
		copy(last[:], pkt)
		mu.Unlock()
	}})
	peer := newRawPeer(t)
	if err := a.Apply(result(a, nil, leg{remote: peer.addr})); err != nil {
		t.Fatal(err)
	}
	f := tone(0)
	a.WriteFrame(&f)
	if allocs := testing.AllocsPerRun(200, func() { a.WriteFrame(&f) }); allocs != 0 {
		t.Errorf("WriteFrame with a tap allocates %.1f times per frame", allocs)
	}
	mu.Lock()
	defer mu.Unlock()
	if n < 200 {
		t.Errorf("the tap saw %d packets, want at least 200", n)
	}
}
