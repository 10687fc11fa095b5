package media

// Sequence number validation and reception statistics of one RTP source,
// after RFC 3550 Appendix A.1 (validity), A.3 (packets lost) and A.8
// (interarrival jitter).

const (
	// seqMod is the number of 16-bit sequence numbers.
	seqMod = 1 << 16
	// minSequential is how many packets in sequence a new source must
	// send before it is believed (A.1 probation).
	minSequential = 2
	// maxDropout is the largest forward jump that is still the same
	// stream (A.1), and maxMisorder the largest backward step that is
	// reordering rather than a restart.
	maxDropout  = 3000
	maxMisorder = 100
)

// source is the reception state of one SSRC.
type source struct {
	ssrc      uint32
	maxSeq    uint16 // highest sequence number seen
	cycles    uint32 // sequence number wraps, shifted left 16
	baseSeq   uint32 // first sequence number of the (re)started stream
	badSeq    uint32 // the sequence number after a large jump, or seqMod+1
	probation int    // packets still needed before the source is valid
	received  uint32 // packets accepted
	// The values at the last report, for the fraction lost of A.3.
	expectedPrior, receivedPrior uint32

	// Interarrival jitter (A.8) in timestamp units, scaled by 16.
	jitter      uint32
	transit     int32
	haveTransit bool
}

// probe starts tracking a new source whose first packet has sequence
// number seq; the packet itself then goes through update.
func (s *source) probe(ssrc uint32, seq uint16) {
	*s = source{ssrc: ssrc}
	s.restart(seq)
	s.maxSeq = seq - 1
	s.probation = minSequential
}

// restart sets the sequence state to a (re)started stream at seq.
func (s *source) restart(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// update takes the sequence number of a packet and reports whether the
// packet is valid: the source is past probation and seq is neither a
// large jump nor far behind. A jump is accepted as a restart when the next
// packet follows it.
func (s *source) update(seq uint16) bool {
	delta := seq - s.maxSeq
	switch {
	case s.probation > 0:
		if seq != s.maxSeq+1 {
			s.probation = minSequential - 1
			s.maxSeq = seq
			return false
		}
		s.probation--
		s.maxSeq = seq
		if s.probation > 0 {
			return false
		}
		s.restart(seq)
	case delta < maxDropout:
		// In order, with a permissible gap.
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	case uint32(delta) <= seqMod-maxMisorder:
		// A very large jump. If the next packet continues from it, the
		// sender restarted its sequence without telling.
		if uint32(seq) != s.badSeq {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
		s.restart(seq)
	default:
		// A duplicate or a reordered packet: counted, not used to move
		// the highest sequence number.
	}
	s.received++
	return true
}

// extendedMax is the highest sequence number with its wrap count.
func (s *source) extendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }

// expected is the number of packets the sender sent, going by the
// sequence numbers.
func (s *source) expected() uint32 { return s.extendedMax() - s.baseSeq + 1 }

// lost is the cumulative number of packets lost, which duplicates can
// make negative, clamped to the 24-bit signed field of a report block.
func (s *source) lost() int32 {
	l := int64(s.expected()) - int64(s.received)
	return int32(min(max(l, -0x800000), 0x7FFFFF))
}

// fraction returns the fraction lost since the previous call, in 1/256
// (A.3), and starts the next interval.
func (s *source) fraction() uint8 {
	exp := s.expected()
	expInt := exp - s.expectedPrior
	recInt := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = exp, s.received
	lostInt := int64(expInt) - int64(recInt)
	if expInt == 0 || lostInt <= 0 {
		return 0
	}
	return uint8(min(lostInt<<8/int64(expInt), 255))
}

// arrive runs the jitter filter of A.8 for a packet with timestamp ts
// that arrived at local time arrival, both in timestamp units.
func (s *source) arrive(ts, arrival uint32) {
	transit := int32(arrival - ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += uint32(d) - (s.jitter+8)>>4
	}
	s.transit, s.haveTransit = transit, true
}

// jitterUnits is the jitter in timestamp units, as a report carries it.
func (s *source) jitterUnits() uint32 { return s.jitter >> 4 }
