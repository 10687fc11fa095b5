package media

import (
	"time"

	"github.com/tipring/tipring/sip/media/jitter"
	"github.com/tipring/tipring/sip/sdp"
)

// Stats is a snapshot of a session for metrics and the status page.
type Stats struct {
	// SSRC is ours; RemoteSSRC the peer's current one, 0 before any.
	SSRC, RemoteSSRC uint32
	// PacketsSent and OctetsSent count RTP packets and payload octets
	// sent (RFC 3550 §6.4.1 sender info); SendErrors the sends that failed.
	PacketsSent, OctetsSent, SendErrors uint64
	// PacketsReceived and OctetsReceived count the RTP packets that
	// passed validation and their payload octets.
	PacketsReceived, OctetsReceived uint64
	// Expected is the number of packets the peer's sequence numbers say
	// were sent, Lost the cumulative number lost (negative with
	// duplicates), as RFC 3550 A.3 computes them, and FractionLost the
	// fraction lost in the interval of our last report.
	Expected     uint32
	Lost         int32
	FractionLost float64
	// HighestSeq is the extended highest sequence number received.
	HighestSeq uint32
	// Jitter is the interarrival jitter of the received stream (A.8).
	Jitter time.Duration
	// RTT is the round-trip time from the peer's last report block with
	// LSR/DLSR, 0 before one.
	RTT time.Duration
	// RemoteReport is true once the peer reported on our stream; then
	// RemoteFractionLost, RemoteLost and RemoteJitter are its figures.
	RemoteReport       bool
	RemoteFractionLost float64
	RemoteLost         int32
	RemoteJitter       time.Duration
	// ReportsSent and ReportsReceived count RTCP compound packets.
	ReportsSent, ReportsReceived uint64
	// ByeReceived is true once the peer's source said BYE.
	ByeReceived bool
	// Packets dropped on receipt: malformed, with a payload type not
	// negotiated, failing SRTP/SRTCP authentication or replay checks,
	// failing sequence validation (probation, jumps), or carrying our own
	// SSRC (a loop).
	DroppedMalformed, DroppedPayloadType, DroppedAuth, DroppedSequence, DroppedLoop uint64
	// Buffer describes the jitter buffer: depth, target, underruns,
	// concealment. Its Concealed counts every frame with samples missing,
	// the peer's silences (RFC 3389) included; the audio played is
	// ConcealmentDelay (3.75 ms) behind its Depth.
	Buffer jitter.Stats
	// Concealed counts the frames that did not arrive in time and were
	// replaced by the packet loss concealment of G.711 Appendix I, and
	// ComfortNoise the frames of comfort noise played during the peer's
	// silences. Frames partly missing are filled by the jitter buffer and
	// counted in Buffer.Concealed only.
	Concealed, ComfortNoise uint64
	// CNReceived and CNSent count comfort noise packets (RFC 3389);
	// Suppressed counts the frames not sent because they were silence
	// (Config.VAD).
	CNReceived, CNSent, Suppressed uint64
	// SendInterval is the histogram of the intervals between successive
	// sends (the send jitter): SendInterval.Quantile(0.99), or
	// SendInterval.Jitter(0.99, ptime).
	SendInterval IntervalHistogram
}

func unitsToDuration(u uint32) time.Duration {
	return time.Duration(u) * time.Second / sdp.ClockRate
}

// Stats returns the session's counters. It does not allocate.
func (s *Session) Stats() Stats {
	st := Stats{SSRC: s.ssrc}
	s.txMu.Lock()
	st.PacketsSent, st.OctetsSent, st.SendErrors = s.tx.packets, s.tx.octets, s.tx.errors
	st.CNSent, st.Suppressed = s.tx.cnSent, s.tx.suppressed
	st.SendInterval = s.tx.interval
	s.txMu.Unlock()

	s.rxMu.Lock()
	r := &s.rx
	if r.have {
		st.RemoteSSRC = r.src.ssrc
		st.Expected = r.src.expected()
		st.Lost = r.src.lost()
		st.HighestSeq = r.src.extendedMax()
		st.Jitter = unitsToDuration(r.src.jitterUnits())
	}
	st.PacketsReceived, st.OctetsReceived = r.packets, r.octets
	st.FractionLost = float64(r.lastFrac) / 256
	st.RTT = r.rtt
	st.RemoteReport = r.haveRemote
	st.RemoteFractionLost = float64(r.remoteFrac) / 256
	st.RemoteLost = r.remoteLost
	st.RemoteJitter = unitsToDuration(r.remoteJitter)
	st.ReportsReceived = r.reports
	st.ByeReceived = r.bye
	st.CNReceived = r.cnPackets
	s.rxMu.Unlock()

	st.ReportsSent = s.reportsSent.Load()
	st.DroppedMalformed = s.dropMalformed.Load()
	st.DroppedPayloadType = s.dropPayload.Load()
	st.DroppedAuth = s.dropAuth.Load()
	st.DroppedSequence = s.dropSequence.Load()
	st.DroppedLoop = s.dropLoop.Load()

	s.jbMu.Lock()
	st.Buffer = s.jb.Stats()
	st.Concealed, st.ComfortNoise = s.concealed, s.comfort
	s.jbMu.Unlock()
	return st
}
