package media

import (
	mrand "math/rand/v2"
	"net/netip"
	"time"

	"github.com/pion/rtcp"

	"github.com/tipring/tipring/sip/sdp"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp (RFC 3550 §4): seconds since
// 1900 in the high 32 bits, the fraction in the low 32.
func ntpTime(t time.Time) uint64 {
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// ntpMiddle is the middle 32 bits of an NTP timestamp, the unit of LSR
// and of round-trip arithmetic (1/65536 s).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// units16 converts a duration to 1/65536 s.
func units16(d time.Duration) uint32 { return uint32(d * 65536 / time.Second) }

// rtcpLoop sends a report every interval, drawn from 0.5 to 1.5 times the
// configured mean (RFC 3550 §6.2, §6.3.1), the first one after half that.
func (s *Session) rtcpLoop() {
	defer s.wg.Done()
	t := time.NewTimer(s.interval(true))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.sendReport(now, false)
			t.Reset(s.interval(false))
		}
	}
}

func (s *Session) interval(initial bool) time.Duration {
	iv := s.cfg.RTCPInterval
	if initial {
		iv /= 2
	}
	return iv/2 + time.Duration(mrand.Int64N(int64(iv)+1))
}

// sendReport sends a compound RTCP packet (RFC 3550 §6.1): an SR if we
// sent RTP within the last two intervals, else an RR, with a report block
// on the peer's stream when we have one, an SDES CNAME, and a BYE when
// leaving.
func (s *Session) sendReport(now time.Time, bye bool) {
	s.txMu.Lock()
	t := &s.tx
	if !t.configured {
		s.txMu.Unlock()
		return
	}
	to := t.rtcpTo
	sender := t.packets > 0 && now.Sub(t.lastSent) < 2*s.cfg.RTCPInterval
	var sr rtcp.SenderReport
	if sender {
		sr = rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     t.clockTS + uint32(now.Sub(t.clockWall)/(time.Second/sdp.ClockRate)),
			PacketCount: uint32(t.packets),
			OctetCount:  uint32(t.octets),
		}
	}
	mux := t.mux
	s.txMu.Unlock()
	if !usable(to) {
		return
	}

	var blocks []rtcp.ReceptionReport
	s.rxMu.Lock()
	r := &s.rx
	if r.have {
		b := rtcp.ReceptionReport{
			SSRC:               r.src.ssrc,
			FractionLost:       r.src.fraction(),
			TotalLost:          uint32(r.src.lost()) & 0xFFFFFF,
			LastSequenceNumber: r.src.extendedMax(),
			Jitter:             r.src.jitterUnits(),
		}
		r.lastFrac = b.FractionLost
		if r.lsr != 0 {
			b.LastSenderReport = r.lsr
			b.Delay = units16(now.Sub(r.lsrAt))
		}
		blocks = append(blocks, b)
	}
	s.rxMu.Unlock()

	pkts := make([]rtcp.Packet, 0, 3)
	if sender {
		sr.Reports = blocks
		pkts = append(pkts, &sr)
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname))
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		s.log.Warn("media: RTCP marshal", "err", err)
		return
	}
	s.txMu.Lock()
	if s.tx.ctx != nil {
		raw, err = s.tx.ctx.EncryptRTCP(nil, raw, nil)
	}
	s.txMu.Unlock()
	if err != nil {
		s.log.Warn("media: SRTCP protect", "err", err)
		return
	}
	conn, local := s.rtcp, s.lrtcp
	if mux || conn == nil {
		conn, local = s.rtp, s.local
	}
	if _, err := conn.WriteToUDPAddrPort(raw, to); err != nil {
		s.log.Debug("media: RTCP send", "err", err)
		return
	}
	if s.cfg.Tap != nil {
		s.cfg.Tap(TapSent, local, to, raw)
	}
	s.reportsSent.Add(1)
}

// handleRTCP takes one compound RTCP packet, SRTCP-protected when the
// session uses SRTP. It records the peer's sender report for LSR/DLSR,
// takes the round-trip time, loss and jitter from report blocks about our
// stream, and notes a BYE.
func (s *Session) handleRTCP(b []byte, from netip.AddrPort, at time.Time) error {
	if len(b) < 8 {
		s.dropMalformed.Add(1)
		return errShort
	}
	if b[0]>>6 != 2 {
		s.dropMalformed.Add(1)
		return errVersion
	}
	s.rxMu.Lock()
	latch, err := s.receiveRTCP(b, from, at)
	s.rxMu.Unlock()
	if latch {
		s.latch(from, true)
	}
	return err
}

func (s *Session) receiveRTCP(b []byte, from netip.AddrPort, at time.Time) (bool, error) {
	r := &s.rx
	if !r.configured {
		return false, errNotReady
	}
	plain := b
	if r.ctx != nil {
		out, err := r.ctx.DecryptRTCP(r.rtcpDec[:0], b, nil)
		if err != nil {
			s.dropAuth.Add(1)
			return false, errAuth
		}
		plain = out
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		s.dropMalformed.Add(1)
		return false, errRTCP
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			if p.SSRC == s.ssrc {
				s.dropLoop.Add(1)
				return false, errLoop
			}
			if !r.have || p.SSRC == r.src.ssrc {
				r.lsr = uint32(p.NTPTime >> 16)
				r.lsrAt = at
			}
			s.takeBlocks(p.Reports, at)
		case *rtcp.ReceiverReport:
			if p.SSRC == s.ssrc {
				s.dropLoop.Add(1)
				return false, errLoop
			}
			s.takeBlocks(p.Reports, at)
		case *rtcp.Goodbye:
			for _, src := range p.Sources {
				if r.have && src == r.src.ssrc {
					r.bye = true
					s.log.Info("media: peer sent BYE", "ssrc", src)
				}
			}
		}
	}
	r.reports++
	latch := s.cfg.Symmetric && from != r.lastRTCPFrom
	r.lastRTCPFrom = from
	return latch, nil
}

// takeBlocks reads the report blocks about our own stream.
func (s *Session) takeBlocks(blocks []rtcp.ReceptionReport, at time.Time) {
	r := &s.rx
	for _, b := range blocks {
		if b.SSRC != s.ssrc {
			continue
		}
		r.haveRemote = true
		r.remoteFrac = b.FractionLost
		lost := b.TotalLost & 0xFFFFFF
		if lost&0x800000 != 0 {
			lost |= 0xFF000000 // sign-extend the 24-bit field
		}
		r.remoteLost = int32(lost)
		r.remoteJitter = b.Jitter
		r.remoteMax = b.LastSequenceNumber
		// RFC 3550 §6.4.1: round trip = arrival - LSR - DLSR, all in
		// 1/65536 s. A result that is negative (clock steps, a bogus
		// block) is ignored.
		if b.LastSenderReport != 0 {
			rt := int32(ntpMiddle(at) - b.LastSenderReport - b.Delay)
			if rt >= 0 {
				r.rtt = time.Duration(rt) * time.Second / 65536
			}
		}
	}
}
