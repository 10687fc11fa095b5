package rfc4733

import "fmt"

// Packet is one telephone-event packet for the caller to send: the RTP
// header values that belong to the event and its payload. The caller adds
// the SSRC, payload type and the next sequence number of the stream; each
// Packet needs a new sequence number, retransmissions included.
type Packet struct {
	// Timestamp is the RTP timestamp: the start of the event (or of the
	// segment, for events longer than MaxDuration), the same in every
	// packet of it (RFC 4733 §2.5.1.2).
	Timestamp uint32
	// Marker is the RTP marker bit, set on the first packet of an event
	// (RFC 4733 §2.5.1.1).
	Marker bool
	// Event is the payload, also available encoded in Payload.
	Event   Event
	Payload [PayloadSize]byte
}

// SenderConfig sets how a Sender paces and labels its packets.
type SenderConfig struct {
	// Interval is the time between packets of an event, in timestamp
	// units. It should match the audio packetization (ptime). Zero means
	// 400 (50 ms at 8000 Hz), the interval RFC 4733 uses in its examples.
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
// (RFC 4733 §2.5.1.4: three times).
const finalCopies = 3

// Sender produces the telephone-event packets for one RTP stream's key
// presses. Tell it when a key goes down (Press) and up (Release), in RTP
// timestamp units, and call Poll regularly (every audio frame) with the
// current timestamp; Poll returns the packets due by then:
//
//   - the first packet at once, with the marker bit;
//   - an update every Interval, with the same timestamp (the event's
//     start) and a growing duration;
//   - after Release, the final packet with the E bit and the full
//     duration, three times, Interval apart;
//   - for events longer than MaxDuration, a new segment every MaxDuration
//     units, with a new timestamp, its own final packet (without the E
//     bit) sent three times, and no marker (RFC 4733 §2.5.1.3).
//
// A press while an earlier event is still being sent ends that event at
// the new press (its remaining final copies go out before the new event's
// first packet). Poll does not allocate when dst has room.
type Sender struct {
	interval uint32
	volume   uint8

	code     uint8
	active   bool   // an event is being sent (key down or final copies)
	down     bool   // the key is still down
	segStart uint32 // timestamp of the current segment
	end      uint32 // release time, valid once !down
	first    bool   // the first packet of the event is still to go
	next     uint32 // time of the next update
	finals   int    // final copies still to send for the current segment

	// A finished segment of a long event whose final copies are still
	// going out while the next segment runs.
	prevStart  uint32
	prevFinals int

	// The final packet of an event cut short by the next press, and how
	// many copies of it remain.
	old       Packet
	oldFinals int
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
func (s *Sender) Active() bool { return s.active || s.oldFinals > 0 }

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
	// Final copies of the previous event still due go out, all at once,
	// before the new event's first packet.
	s.oldFinals = 0
	if s.active && s.finals > 0 {
		s.old = s.packet(s.segStart, s.duration(s.end), true, s.first)
		s.oldFinals = s.finals
	}
	s.code = code
	s.active, s.down, s.first = true, true, true
	s.segStart = at
	s.next = at
	s.finals = 0
	s.prevFinals = 0
	return nil
}

// Release ends the event at timestamp at (the key went up).
func (s *Sender) Release(at uint32) error {
	if !s.down {
		return fmt.Errorf("%w: release without press", ErrState)
	}
	if int32(at-s.segStart) < 0 {
		at = s.segStart
	}
	s.down = false
	s.end = at
	s.finals = finalCopies
	s.next = at // the first final copy goes out as soon as it is due
	return nil
}

// Poll appends to dst the packets due at timestamp now and returns it.
func (s *Sender) Poll(now uint32, dst []Packet) []Packet {
	for ; s.oldFinals > 0; s.oldFinals-- {
		dst = append(dst, s.old)
		s.old.Marker = false
	}
	for s.active && int32(now-s.next) >= 0 {
		t := s.next
		// A long event crosses into a new segment.
		if s.down && t-s.segStart >= MaxDuration {
			s.prevStart = s.segStart
			s.prevFinals = finalCopies
			s.segStart += MaxDuration
		}
		if s.prevFinals > 0 {
			dst = append(dst, s.packet(s.prevStart, MaxDuration, false, false))
			s.prevFinals--
		}
		switch {
		case s.down:
			dst = append(dst, s.packet(s.segStart, s.duration(t), false, s.first))
			s.first = false
		case s.finals > 0:
			dst = append(dst, s.packet(s.segStart, s.duration(s.end), true, s.first))
			s.first = false
			s.finals--
		}
		s.next = t + s.interval
		if !s.down && s.finals == 0 && s.prevFinals == 0 {
			s.active = false
		}
	}
	return dst
}

// duration is the time from the segment start to t, at most MaxDuration.
func (s *Sender) duration(t uint32) uint16 {
	d := t - s.segStart
	if int32(d) < 0 {
		return 0
	}
	if d > MaxDuration {
		return MaxDuration
	}
	return uint16(d)
}

func (s *Sender) packet(ts uint32, dur uint16, end, marker bool) Packet {
	p := Packet{Timestamp: ts, Marker: marker, Event: Event{Code: s.code, End: end, Volume: s.volume, Duration: dur}}
	b, _ := p.Event.Append(p.Payload[:0])
	copy(p.Payload[:], b)
	return p
}
