package rfc4733

import "fmt"

// Packet is one telephone-event packet for the caller to send: the RTP
// header values that belong to the event and its payload. The caller adds
// the SSRC, payload type and the next sequence number of the stream; each
// Packet needs a new sequence number, retransmissions included (RFC 4733
// §2.5.1.6).
type Packet struct {
	// Timestamp is the RTP timestamp: the start of the event (or of the
	// segment, for events longer than MaxDuration), the same in every
	// packet of it (RFC 4733 §2.5.1.2, §2.5.1.3).
	Timestamp uint32
	// Marker is the RTP marker bit, set on the first packet of an event
	// only, never on the packets of its later segments (RFC 4733
	// §2.5.1.2, §2.5.1.3).
	Marker bool
	// Event is the payload, also available encoded in Payload.
	Event   Event
	Payload [PayloadSize]byte
}

// SenderConfig sets how a Sender paces and labels its packets.
type SenderConfig struct {
	// Interval is the time between packets of an event, in timestamp
	// units. It should match the audio packetization (ptime). Zero means
	// 400 (50 ms at 8000 Hz), the rate RFC 4733 §2.5.1.2 names when the
	// audio packet interval is not known.
	Interval uint32
	// Volume is the volume field, 0-63 (-dBm0). Zero means 10 (-10 dBm0).
	// Use VolumeOf to take it from a detected level.
	Volume uint8
}

// VolumeOf converts a tone level in dBm0 to the volume field, clamped to
// 0-63.
func VolumeOf(dBm0 float64) uint8 {
	v := -dBm0 + 0.5
	switch {
	case v != v || v < 0:
		return 0
	case v > MaxVolume:
		return MaxVolume
	}
	return uint8(v)
}

// finalCopies is how often the last packet of an event or segment is sent
// (RFC 4733 §2.5.1.4: three times, at the update interval).
const finalCopies = 3

// maxTails bounds the finished segments and events whose final copies are
// still going out while a later one is sent.
const maxTails = 4

// tail is the final packet of a finished segment or event and the copies
// of it still to send.
type tail struct {
	pkt    Packet
	copies int
	next   uint32 // time of the next copy
}

// Sender produces the telephone-event packets for one RTP stream's key
// presses. Tell it when a key goes down (Press) and up (Release), in RTP
// timestamp units, and call Poll regularly (every audio frame) with the
// current timestamp; Poll returns the packets due by then:
//
//   - the first packet, with the marker bit, as soon as the event has a
//     duration: at once if the press is reported late (as a detector
//     does), else at the next Poll, since a tone event may not carry a
//     zero duration (RFC 4733 §2.3.5, §2.5.1.2);
//   - an update every Interval, with the same timestamp (the event's
//     start) and the duration so far (§2.5.1.2);
//   - after Release, the final packet with the E bit and the full
//     duration, three times, Interval apart (§2.5.1.4);
//   - for events longer than MaxDuration, a new segment every MaxDuration
//     units, with a timestamp MaxDuration later and no marker; each
//     segment's final packet, duration MaxDuration and no E bit, is also
//     sent three times (§2.5.1.3, §2.5.1.4).
//
// The time given to Poll is the time up to which the key's state is
// known. A caller that sends the packets in place of an audio frame passes
// the end of that frame (its timestamp plus its length): the event then
// starts in the frame in which the key went down, with that frame's length
// as its first duration.
//
// A press while an earlier event is still being sent ends that event at
// the new press; its final copies keep their own pace, interleaved with
// the new event's packets. Press and Release times must not go backwards.
// Poll emits at most one packet per event per call, and does not allocate
// when dst has room.
type Sender struct {
	interval uint32
	volume   uint8

	code     uint8
	active   bool   // an event is being sent (key down or final copies)
	down     bool   // the key is still down
	first    bool   // the event's first packet is still to go (marker)
	segStart uint32 // timestamp of the current segment
	next     uint32 // time of the next update or final copy
	endDur   uint16 // duration in the final packet, once released
	finals   int    // final copies still to send

	tails [maxTails]tail
}

// NewSender returns a Sender with the settings of cfg.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Interval == 0 {
		cfg.Interval = 400
	}
	if cfg.Volume == 0 {
		cfg.Volume = 10
	}
	if cfg.Volume > MaxVolume {
		return nil, fmt.Errorf("%w: volume %d above %d", ErrConfig, cfg.Volume, MaxVolume)
	}
	if cfg.Interval >= MaxDuration {
		return nil, fmt.Errorf("%w: interval %d not below %d", ErrConfig, cfg.Interval, MaxDuration)
	}
	return &Sender{interval: cfg.Interval, volume: cfg.Volume}, nil
}

// Active reports whether packets remain to be sent: a key is down or final
// copies are pending.
func (s *Sender) Active() bool {
	if s.active {
		return true
	}
	for i := range s.tails {
		if s.tails[i].copies > 0 {
			return true
		}
	}
	return false
}

// Press starts an event for digit (0-9, *, #, A-D) at timestamp at. If an
// event is still in progress it ends at at.
func (s *Sender) Press(digit byte, at uint32) error {
	code, err := CodeForDigit(digit)
	if err != nil {
		return fmt.Errorf("press: %w", err)
	}
	return s.PressCode(code, at)
}

// PressCode is Press for any event code.
func (s *Sender) PressCode(code uint8, at uint32) error {
	if s.down {
		if err := s.Release(at); err != nil {
			return err
		}
	}
	// Final copies of the previous event still due go on at their pace.
	if s.active && s.finals > 0 {
		s.addTail(s.packet(s.segStart, s.endDur, true, s.first), s.finals, s.next)
	}
	s.code = code
	s.active, s.down, s.first = true, true, true
	s.segStart = at
	s.next = at // the first packet goes out as soon as it has a duration
	s.finals = 0
	return nil
}

// Release ends the event at timestamp at (the key went up). An event
// released at the instant it was pressed is sent with a duration of one
// unit, the least a tone event may carry (RFC 4733 §2.3.5).
func (s *Sender) Release(at uint32) error {
	if !s.down {
		return fmt.Errorf("%w: release without press", ErrState)
	}
	if int32(at-s.segStart) < 0 {
		at = s.segStart
	}
	// Segments the event has filled since the last Poll.
	for at-s.segStart > MaxDuration {
		s.closeSegment(at)
	}
	d := at - s.segStart
	if d == 0 {
		d = 1
	}
	s.down = false
	s.endDur = uint16(d)
	s.finals = finalCopies
	s.next = at // the first final copy goes out as soon as it is due
	return nil
}

// Poll appends to dst the packets due at timestamp now and returns it.
func (s *Sender) Poll(now uint32, dst []Packet) []Packet {
	if s.active && s.down {
		// A long event crosses into a new segment; the finished
		// segment's final packet is queued below with the others.
		for now-s.segStart >= MaxDuration && int32(now-s.segStart) > 0 {
			s.closeSegment(now)
		}
	}
	for i := range s.tails {
		t := &s.tails[i]
		if t.copies > 0 && due(now, t.next) {
			dst = append(dst, t.pkt)
			t.pkt.Marker = false
			t.copies--
			t.next = s.reschedule(t.next, now)
		}
	}
	if !s.active {
		return dst
	}
	if s.down {
		// An update is due, unless the segment has no duration yet.
		if d := now - s.segStart; due(now, s.next) && d > 0 {
			dst = append(dst, s.packet(s.segStart, uint16(d), false, s.first))
			s.first = false
			s.next = s.reschedule(s.next, now)
		}
		return dst
	}
	if s.finals > 0 && due(now, s.next) {
		dst = append(dst, s.packet(s.segStart, s.endDur, true, s.first))
		s.first = false
		s.finals--
		s.next = s.reschedule(s.next, now)
	}
	if s.finals == 0 {
		s.active = false
	}
	return dst
}

// closeSegment ends the current segment of a held key at MaxDuration,
// queues its final packet to go out three times from now, and starts the
// next segment.
func (s *Sender) closeSegment(now uint32) {
	s.addTail(s.packet(s.segStart, MaxDuration, false, s.first), finalCopies, now)
	s.first = false
	s.segStart += MaxDuration
}

// addTail queues copies of p, the first due at next, in the first free
// slot. With every slot busy, which takes several presses within two
// intervals, the slot with the fewest copies left is reused.
func (s *Sender) addTail(p Packet, copies int, next uint32) {
	j := 0
	for i := range s.tails {
		if s.tails[i].copies < s.tails[j].copies {
			j = i
		}
	}
	s.tails[j] = tail{pkt: p, copies: copies, next: next}
}

// reschedule returns the time of the packet after one due at next and sent
// at now: an Interval later, or an Interval after now if Poll fell behind.
func (s *Sender) reschedule(next, now uint32) uint32 {
	n := next + s.interval
	if due(now, n) {
		n = now + s.interval
	}
	return n
}

// due reports whether time t has come at now, in wrapping timestamp
// arithmetic.
func due(now, t uint32) bool { return int32(now-t) >= 0 }

func (s *Sender) packet(ts uint32, dur uint16, end, marker bool) Packet {
	p := Packet{Timestamp: ts, Marker: marker, Event: Event{Code: s.code, End: end, Volume: s.volume, Duration: dur}}
	b, _ := p.Event.Append(p.Payload[:0])
	copy(p.Payload[:], b)
	return p
}
