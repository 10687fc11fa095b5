// Package capture records the SIP messages and RTP/RTCP packets the
// gateway sends and receives, for a limited time, into a libpcap file the
// maintenance page offers for download — without root and without a
// packet socket: the SIP agent and the media sessions call Tap (their
// AgentConfig.Tap and Config.Tap) with every message as on the wire.
//
// Tap runs on the media path, so it never allocates and never blocks for
// long: packets are copied into a byte arena and a table of records, both
// allocated once when the Capture is made. A capture ends when its time is
// up or the arena is full; later packets are counted as dropped.
//
// The file has LINKTYPE_RAW: each packet gets a synthesized IPv4 (or IPv6)
// and UDP header with the addresses and ports of the socket and the peer.
// SIP over TCP or TLS is recorded as the chunks read and written (after
// TLS decryption), each in a UDP datagram of its own; SRTP stays
// encrypted, as on the wire.
package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of New.
const (
	// DefaultMaxBytes bounds the packet data one capture keeps.
	DefaultMaxBytes = 8 << 20
	// DefaultMaxPackets bounds the packets one capture keeps.
	DefaultMaxPackets = 64 << 10
	// maxPacket is the largest packet kept whole; longer ones are cut.
	maxPacket = 65535 - 48
)

// Directions of Tap, the same values as media.TapReceived/TapSent and
// ua.TapReceived/TapSent.
const (
	Received = 0
	Sent     = 1
)

// ErrBusy is returned by Start while a capture runs.
var ErrBusy = errors.New("capture: a capture is already running")

// record is one packet in the arena.
type record struct {
	at            time.Time
	local, remote netip.AddrPort
	dir           uint8
	off, n        int
}

// Capture is a packet capture buffer. The zero value is not usable; call New.
type Capture struct {
	active atomic.Bool // Tap's fast path

	mu      sync.Mutex
	arena   []byte   // allocated by the first Start
	size    int      // the arena's size
	maxRecs int      // the record table's size
	recs    []record // len = packets kept, cap = the limit
	used    int
	until   time.Time
	started time.Time
	dropped int
	now     func() time.Time
}

// New returns a capture buffer holding at most maxBytes of packet data
// and maxPackets packets (zero means the defaults). The memory is taken
// once, by the first Start.
func New(maxBytes, maxPackets int) *Capture {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxPackets <= 0 {
		maxPackets = DefaultMaxPackets
	}
	return &Capture{size: maxBytes, maxRecs: maxPackets, now: time.Now}
}

// Start begins a new capture lasting d, discarding the last one.
func (c *Capture) Start(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.active.Load() && now.Before(c.until) {
		return ErrBusy
	}
	if c.arena == nil {
		c.arena, c.recs = make([]byte, c.size), make([]record, 0, c.maxRecs)
	}
	c.recs, c.used, c.dropped = c.recs[:0], 0, 0
	c.started, c.until = now, now.Add(d)
	c.active.Store(true)
	return nil
}

// Stop ends the capture in progress, keeping what it holds.
func (c *Capture) Stop() {
	c.mu.Lock()
	c.active.Store(false)
	if c.now().Before(c.until) {
		c.until = c.now()
	}
	c.mu.Unlock()
}

// Tap records one packet while a capture runs. It has the shape of
// media.Config.Tap and ua.AgentConfig.Tap, copies pkt and does not
// allocate.
func (c *Capture) Tap(dir int, local, remote netip.AddrPort, pkt []byte) {
	if !c.active.Load() {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.active.Load() {
		return
	}
	if !now.Before(c.until) {
		c.active.Store(false)
		return
	}
	n := min(len(pkt), maxPacket)
	if c.used+n > len(c.arena) || len(c.recs) == cap(c.recs) {
		c.dropped++
		return
	}
	copy(c.arena[c.used:], pkt[:n])
	c.recs = append(c.recs, record{at: now, local: local, remote: remote, dir: uint8(dir), off: c.used, n: n})
	c.used += n
}

// Status describes the current or last capture.
type Status struct {
	Running bool
	Started time.Time // zero before the first capture
	Until   time.Time // when it ends or ended
	Packets int
	Bytes   int
	Dropped int // packets not kept: the buffer was full
	Max     int // the buffer's size in bytes
}

// Status returns the state of the current or last capture.
func (c *Capture) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	running := c.active.Load() && c.now().Before(c.until)
	return Status{Running: running, Started: c.started, Until: c.until, Packets: len(c.recs), Bytes: c.used,
		Dropped: c.dropped, Max: c.size}
}

// pcap constants.
const (
	pcapMagic   = 0xa1b2c3d4 // microsecond timestamps
	linkTypeRaw = 101
	snapLen     = 65535
)

// WritePCAP writes what the current or last capture holds as a libpcap
// file (LINKTYPE_RAW, IPv4 or IPv6 with UDP headers).
func (c *Capture) WritePCAP(w io.Writer) error {
	c.mu.Lock()
	recs := append([]record(nil), c.recs...)
	data := append([]byte(nil), c.arena[:c.used]...)
	c.mu.Unlock()
	bw := bufio.NewWriter(w)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], pcapMagic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], snapLen)
	binary.LittleEndian.PutUint32(hdr[20:], linkTypeRaw)
	bw.Write(hdr[:])
	var pkt []byte
	for _, r := range recs {
		src, dst := r.remote, r.local
		if r.dir == Sent {
			src, dst = r.local, r.remote
		}
		pkt = packet(pkt[:0], src, dst, data[r.off:r.off+r.n])
		var rh [16]byte
		binary.LittleEndian.PutUint32(rh[0:], uint32(r.at.Unix()))
		binary.LittleEndian.PutUint32(rh[4:], uint32(r.at.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(pkt)))
		bw.Write(rh[:])
		bw.Write(pkt)
	}
	return bw.Flush()
}

// packet appends an IP/UDP datagram from src to dst carrying payload.
func packet(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if !s.IsValid() {
		s = netip.IPv4Unspecified()
	}
	if !d.IsValid() {
		d = netip.IPv4Unspecified()
	}
	v6 := s.Is6() || d.Is6()
	if v6 {
		s, d = netip.AddrFrom16(s.As16()), netip.AddrFrom16(d.As16())
	}
	udpLen := 8 + len(payload)
	if v6 {
		var h [40]byte
		h[0] = 6 << 4
		binary.BigEndian.PutUint16(h[4:], uint16(udpLen))
		h[6], h[7] = 17, 64
		s16, d16 := s.As16(), d.As16()
		copy(h[8:], s16[:])
		copy(h[24:], d16[:])
		b = append(b, h[:]...)
	} else {
		var h [20]byte
		h[0] = 4<<4 | 5
		binary.BigEndian.PutUint16(h[2:], uint16(20+udpLen))
		h[8], h[9] = 64, 17
		s4, d4 := s.As4(), d.As4()
		copy(h[12:], s4[:])
		copy(h[16:], d4[:])
		binary.BigEndian.PutUint16(h[10:], checksum(h[:]))
		b = append(b, h[:]...)
	}
	var u [8]byte
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(udpLen))
	// The UDP checksum stays 0: "none" in IPv4; readers accept it in
	// IPv6 captures too.
	b = append(b, u[:]...)
	return append(b, payload...)
}

// checksum is the IPv4 header checksum (RFC 791).
func checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
