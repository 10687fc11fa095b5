package rfc4733

import "fmt"

// Kind says whether a Notice starts or ends a key press.
type Kind uint8

// Notice kinds.
const (
	Begin Kind = iota + 1 // a key press has started
	End                   // the key press that began earlier has ended
)

func (k Kind) String() string {
	switch k {
	case Begin:
		return "begin"
	case End:
		return "end"
	}
	return "kind?"
}

// Notice reports a key press seen by a Receiver.
type Notice struct {
	Kind Kind
	SSRC uint32
	// Code is the event code and Digit its DTMF digit, or 0 for codes
	// that are not DTMF digits.
	Code  uint8
	Digit byte
	// Timestamp is the RTP timestamp at which the event began (of its
	// first segment).
	Timestamp uint32
	// Duration is, for End, the length of the whole event in timestamp
	// units, summed over its segments; for Begin, the duration in the
	// first packet seen.
	Duration uint32
	// Volume is the volume field of the last packet seen (-dBm0).
	Volume uint8
	// Lost is set on an End whose final packets never arrived: the event
	// was ended by a timeout or by the next event, and Duration is the
	// last one reported.
	Lost bool
}

// ReceiverConfig sets a Receiver's timeout.
type ReceiverConfig struct {
	// Timeout ends an event whose final packets were all lost: when the
	// stream's time (Tick, or later packets) passes the last update by
	// more than this many timestamp units, the event ends. Zero means
	// three update intervals, the interval being learned from the
	// updates (400, 50 ms, until one is seen).
	Timeout uint32
}

// recentKeys is how many finished key presses a Receiver remembers to
// drop their late and duplicated packets.
const recentKeys = 16

// key identifies a key press (RFC 4733: an event is identified by its RTP
// timestamp, within one SSRC, and its code).
type key struct {
	ssrc uint32
	ts   uint32
	code uint8
}

// Receiver turns the telephone-event packets of an RTP session into key
// presses, each reported exactly once: a Begin notice on the first packet
// seen of it, so that a gateway can start playing the tone, and an End
// notice with its duration. It copes with what networks do to packets:
//
//   - retransmitted and duplicated packets, notably the three final
//     packets (RFC 4733 §2.5.1.4), are dropped once the event ended;
//   - reordered updates never shorten the duration; packets of an earlier
//     event arriving after a newer one are dropped;
//   - if all final packets are lost, the event ends when the next event
//     begins or when the stream's time moves on by the timeout (the
//     receiver procedures of RFC 4733 §2.5.2 leave its length to the
//     receiver);
//   - reports with a zero duration are ignored: zero is reserved for
//     state events, which DTMF digits are not, and RFC 4733 §2.3.5 asks
//     receivers to ignore it for other events (old RFC 2833 senders put
//     it in the first packet; the event then begins with the next one);
//   - long events arrive as segments (RFC 4733 §2.5.1.3), a new timestamp
//     every 0xFFFF units; they are joined into one key press;
//   - several events in one payload (RFC 4733 §2.5.1.5) are taken in
//     turn, each starting where the previous one ended.
//
// A Receiver keeps no more than a few dozen bytes of state per session and
// does not allocate when dst has room.
type Receiver struct {
	timeout uint32

	cur      key    // current event (segment timestamp in cur.ts)
	active   bool   // cur has begun and not ended
	valid    bool   // cur (possibly ended) is set
	start    uint32 // timestamp of the event's first segment
	base     uint32 // duration of the segments before the current one
	dur      uint16 // largest duration seen in the current segment
	volume   uint8
	interval uint32 // learned update interval

	recent [recentKeys]key
	nrec   int // recent keys stored (up to recentKeys), ring index below
	rpos   int
}

// NewReceiver returns a Receiver with the settings of cfg.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	return &Receiver{timeout: cfg.Timeout, interval: 400}
}

// timeoutUnits is the silence after the last update that ends an event.
func (r *Receiver) timeoutUnits() uint32 {
	if r.timeout != 0 {
		return r.timeout
	}
	return 3 * r.interval
}

// Packet takes one telephone-event packet: the SSRC, sequence number,
// timestamp and marker bit of its RTP header and its payload. It appends
// the notices it causes to dst and returns it. A payload that does not
// parse is reported as an error and changes nothing.
//
// The sequence number and marker bit are accepted for completeness; the
// receiver relies on timestamps and durations, which RFC 4733 makes
// sufficient (the marker may be lost with the first packet).
func (r *Receiver) Packet(ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte, dst []Notice) ([]Notice, error) {
	_, _ = seq, marker
	if len(payload) < PayloadSize {
		return dst, fmt.Errorf("%w: %d bytes", ErrShort, len(payload))
	}
	if len(payload)%PayloadSize != 0 {
		return dst, fmt.Errorf("%w: %d bytes", ErrLength, len(payload))
	}
	// Several events in one packet: each starts where the previous one
	// ended.
	start := ts
	for p := payload; len(p) > 0; p = p[PayloadSize:] {
		e := decode(p)
		dst = r.event(ssrc, start, e, dst)
		start += uint32(e.Duration)
	}
	return dst, nil
}

// Tick tells the receiver the stream's current time, in timestamp units
// (for example the timestamp of an audio packet of the same SSRC), so that
// an event whose final packets were lost ends after the timeout.
func (r *Receiver) Tick(now uint32, dst []Notice) []Notice {
	if r.active && int32(now-(r.cur.ts+uint32(r.dur))) > int32(r.timeoutUnits()) {
		dst = r.finish(dst, true)
	}
	return dst
}

// Flush ends an event in progress, as lost, and appends its End notice.
func (r *Receiver) Flush(dst []Notice) []Notice {
	if r.active {
		dst = r.finish(dst, true)
	}
	return dst
}

func (r *Receiver) event(ssrc, ts uint32, e Event, dst []Notice) []Notice {
	if e.Duration == 0 {
		return dst // RFC 4733 §2.3.5: not a state event, so not a report
	}
	k := key{ssrc, ts, e.Code}
	if r.valid && k == r.cur {
		if !r.active {
			return dst // a duplicate or retransmission after the end
		}
		r.update(e)
		if e.End {
			dst = r.finish(dst, false)
		}
		return dst
	}
	if r.seen(k) {
		return dst
	}
	if r.valid && ssrc == r.cur.ssrc {
		d := int32(ts - r.cur.ts)
		// The next segment of the current long event.
		if r.active && e.Code == r.cur.code && d == MaxDuration {
			r.base += MaxDuration
			r.cur.ts = ts
			r.dur = 0
			r.update(e)
			if e.End {
				dst = r.finish(dst, false)
			}
			return dst
		}
		// A packet from before the current event: stale.
		if d <= 0 {
			return dst
		}
		// The timestamp advanced by exactly a segment but the event
		// already ended or changed code: a late segment; treat as new.
	}
	if r.active {
		dst = r.finish(dst, true)
	}
	r.cur, r.valid, r.active = k, true, true
	r.start, r.base, r.dur = ts, 0, 0
	r.update(e)
	digit, _ := DigitForCode(e.Code)
	dst = append(dst, Notice{
		Kind: Begin, SSRC: ssrc, Code: e.Code, Digit: digit,
		Timestamp: ts, Duration: uint32(e.Duration), Volume: e.Volume,
	})
	if e.End {
		dst = r.finish(dst, false)
	}
	return dst
}

// update takes the duration and volume of a packet of the current segment.
func (r *Receiver) update(e Event) {
	if e.Duration > r.dur {
		if step := uint32(e.Duration - r.dur); r.dur > 0 && step >= 80 && step <= 4000 {
			r.interval = step
		}
		r.dur = e.Duration
	}
	r.volume = e.Volume
}

// finish ends the current event and appends its End notice.
func (r *Receiver) finish(dst []Notice, lost bool) []Notice {
	r.active = false
	r.remember(key{r.cur.ssrc, r.start, r.cur.code})
	if r.cur.ts != r.start {
		r.remember(r.cur)
	}
	digit, _ := DigitForCode(r.cur.code)
	return append(dst, Notice{
		Kind: End, SSRC: r.cur.ssrc, Code: r.cur.code, Digit: digit,
		Timestamp: r.start, Duration: r.base + uint32(r.dur), Volume: r.volume, Lost: lost,
	})
}

func (r *Receiver) remember(k key) {
	r.recent[r.rpos] = k
	r.rpos = (r.rpos + 1) % recentKeys
	if r.nrec < recentKeys {
		r.nrec++
	}
}

func (r *Receiver) seen(k key) bool {
	for i := 0; i < r.nrec; i++ {
		if r.recent[i] == k {
			return true
		}
	}
	return false
}
