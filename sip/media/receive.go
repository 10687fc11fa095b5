package media

import (
	"net/netip"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/dsp/cng"
	"github.com/tipring/tipring/dsp/dtmf/rfc4733"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/sip/sdp"
)

// Digit is a key press received as RFC 4733 events.
type Digit struct {
	// Digit is '0'-'9', '*', '#' or 'A'-'D', or 0 for an event that is
	// not a DTMF digit; Code is the event code.
	Digit byte
	Code  uint8
	// End is false when the key went down and true when it came up.
	End bool
	// Duration is, for End, how long the key was down; for a begin, how
	// long the first packet seen says it has been down.
	Duration time.Duration
	// Lost marks an End decided by a timeout or by the next key because
	// the event's final packets never came.
	Lost bool
}

// recvState is the receiving half of a session, owned by rxMu.
type recvState struct {
	configured bool
	ctx        *srtp.Context
	receives   bool
	dtmf       bool
	// Telephone-event payload types: the one we asked for and the one we
	// send with, which a peer may use as well.
	dtmfPT, dtmfPT2 uint8
	// Comfort noise (RFC 3389) and its payload types, as for DTMF.
	cn          bool
	cnPT, cnPT2 uint8
	cnPackets   uint64

	src     source // the current source, valid when have
	have    bool
	cand    source // a new SSRC on probation
	hasCand bool

	hdr     rtp.Header
	dec     [maxDatagram]byte
	rtcpDec [maxDatagram]byte

	packets, octets uint64
	ev              *rfc4733.Receiver
	notes           []rfc4733.Notice
	lastFrom        netip.AddrPort
	lastRTCPFrom    netip.AddrPort

	// RTCP state.
	lsr          uint32    // middle of the NTP time of the peer's last SR
	lsrAt        time.Time // when it arrived
	rtt          time.Duration
	haveRemote   bool // the peer reported on our stream
	remoteFrac   uint8
	remoteLost   int32
	remoteJitter uint32
	remoteMax    uint32
	lastFrac     uint8 // fraction lost in our last report
	reports      uint64
	bye          bool
}

func (r *recvState) apply(res *sdp.Result, keep bool, ctx *srtp.Context) {
	if !keep {
		r.ctx = ctx
	}
	r.receives = res.Direction.Receives()
	r.dtmf = res.DTMF
	r.dtmfPT, r.dtmfPT2 = res.RecvDTMFPayloadType, res.DTMFPayloadType
	r.cn = res.ComfortNoise
	r.cnPT, r.cnPT2 = res.RecvCNPayloadType, res.CNPayloadType
	// Latch again from the next packet: the new description may have
	// moved the peer.
	r.lastFrom = netip.AddrPort{}
	r.lastRTCPFrom = netip.AddrPort{}
	r.configured = true
}

// handleRTP takes one datagram from the RTP socket, received at at from
// from. RTCP multiplexed on the port (RFC 5761 §4: the second byte is an
// RTCP packet type, 192-223) goes to handleRTCP. It returns why a packet
// was dropped, for tests; the reasons are also counted in Stats.
func (s *Session) handleRTP(b []byte, from netip.AddrPort, at time.Time) error {
	if len(b) < headerSize {
		s.dropMalformed.Add(1)
		return errShort
	}
	if b[0]>>6 != 2 {
		s.dropMalformed.Add(1)
		return errVersion
	}
	if b[1] >= 192 && b[1] <= 223 {
		return s.handleRTCP(b, from, at)
	}
	arrival := uint32(at.Sub(s.epoch) / (time.Second / sdp.ClockRate))
	s.rxMu.Lock()
	latch, err := s.receiveRTP(b, from, arrival)
	s.rxMu.Unlock()
	if latch {
		s.latch(from, false)
	}
	return err
}

// receiveRTP does the work of handleRTP under rxMu and reports whether the
// sending address should follow the packet's source.
func (s *Session) receiveRTP(b []byte, from netip.AddrPort, arrival uint32) (latch bool, err error) {
	r := &s.rx
	if !r.configured {
		return false, errNotReady
	}
	pt := b[1] & 0x7F
	law, audio, noise := g711.Law(0), false, false
	switch {
	case pt == g711.PayloadPCMU:
		law, audio = g711.Ulaw, true
	case pt == g711.PayloadPCMA:
		law, audio = g711.Alaw, true
	case r.cn && (pt == r.cnPT || pt == r.cnPT2):
		noise = true
	case r.dtmf && (pt == r.dtmfPT || pt == r.dtmfPT2):
	default:
		s.dropPayload.Add(1)
		return false, errPayload
	}
	pkt := b
	if r.ctx != nil {
		out, err := r.ctx.DecryptRTP(r.dec[:0], b, &r.hdr)
		if err != nil {
			s.dropAuth.Add(1)
			return false, errAuth
		}
		pkt = out
	}
	hl, err := r.hdr.Unmarshal(pkt)
	if err != nil {
		s.dropMalformed.Add(1)
		return false, errShort
	}
	if r.hdr.SSRC == s.ssrc {
		s.dropLoop.Add(1)
		return false, errLoop
	}
	payload := pkt[hl:]
	if r.hdr.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) == 0 || int(payload[len(payload)-1]) > len(payload) {
			s.dropMalformed.Add(1)
			return false, errPadding
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	if !s.validate(r.hdr.SSRC, r.hdr.SequenceNumber) {
		s.dropSequence.Add(1)
		return false, errSequence
	}
	r.packets++
	r.octets += uint64(len(payload))
	latch = s.cfg.Symmetric && from != r.lastFrom
	r.lastFrom = from
	ts := r.hdr.Timestamp
	if audio {
		r.src.arrive(ts, arrival)
	}
	if !r.receives {
		return latch, errDirection
	}
	if noise {
		// RFC 3389 §4: the peer's silence begins (or goes on) at ts with
		// the noise described.
		p, err := cng.Parse(payload)
		if err != nil {
			s.dropMalformed.Add(1)
			return latch, err
		}
		r.cnPackets++
		s.jbMu.Lock()
		s.cng.SetPayload(&p)
		if !s.cnOn {
			s.cnOn, s.cnTS = true, ts
		}
		s.jbMu.Unlock()
		return latch, nil
	}
	if audio {
		s.jbMu.Lock()
		s.jb.PutG711(ts, arrival, law, payload)
		if s.cnOn && int32(ts-s.cnTS) >= 0 {
			s.cnOn = false // a talkspurt
		}
		s.jbMu.Unlock()
		r.notes = r.ev.Tick(ts, r.notes[:0])
	} else {
		r.notes, err = r.ev.Packet(r.hdr.SSRC, r.hdr.SequenceNumber, ts, r.hdr.Marker, payload, r.notes[:0])
		if err != nil {
			s.dropMalformed.Add(1)
			return latch, err
		}
	}
	s.deliver(r.notes)
	return latch, nil
}

// validate runs the RFC 3550 A.1 checks. A new SSRC is tracked on
// probation beside the current one and takes over once it has sent
// minSequential packets in sequence; the jitter buffer and the event
// receiver then start afresh.
func (s *Session) validate(ssrc uint32, seq uint16) bool {
	r := &s.rx
	if r.have && ssrc == r.src.ssrc {
		return r.src.update(seq)
	}
	if !r.hasCand || r.cand.ssrc != ssrc {
		r.cand.probe(ssrc, seq)
		r.hasCand = true
	}
	if !r.cand.update(seq) {
		return false
	}
	if r.have {
		s.log.Info("media source changed", "from", r.src.ssrc, "to", ssrc)
		s.deliver(r.ev.Flush(r.notes[:0]))
		s.jbMu.Lock()
		s.jb.Reset()
		s.cnOn = false
		s.jbMu.Unlock()
		r.lsr = 0
	}
	r.src, r.have, r.hasCand = r.cand, true, false
	return true
}

// deliver passes event notices to the Digits channel without blocking.
func (s *Session) deliver(notes []rfc4733.Notice) {
	for _, n := range notes {
		d := Digit{
			Digit:    n.Digit,
			Code:     n.Code,
			End:      n.Kind == rfc4733.End,
			Duration: time.Duration(n.Duration) * time.Second / sdp.ClockRate,
			Lost:     n.Lost,
		}
		select {
		case s.digits <- d:
		default:
			s.log.Warn("media digit dropped: queue full", "digit", string(rune(d.Digit)), "end", d.End)
		}
	}
}

// latch points the sending address at from (symmetric RTP): the RTP
// address for RTP, the RTCP address for RTCP and, with multiplexing, both.
func (s *Session) latch(from netip.AddrPort, isRTCP bool) {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	t := &s.tx
	if !isRTCP && t.remote != from {
		s.log.Info("media: symmetric RTP follows the source", "from", t.remote.String(), "to", from.String())
		t.remote = from
	}
	if isRTCP || t.mux {
		t.rtcpTo = from
	}
}
