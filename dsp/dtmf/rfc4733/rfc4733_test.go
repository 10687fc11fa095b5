package rfc4733

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests are named after the RFC 4733 sections they check.

func TestSection2_3PayloadLayout(t *testing.T) {
	// Digit 9, end of event, -10 dBm0, 200 ms at 8000 Hz.
	e := Event{Code: 9, End: true, Volume: 10, Duration: 1600}
	b, err := e.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x09, 0x8A, 0x06, 0x40}; !bytes.Equal(b, want) {
		t.Fatalf("encoded % x, want % x", b, want)
	}
	got, err := Parse(b)
	if err != nil || got != e {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, e)
	}
	// Extremes of every field.
	for _, e := range []Event{
		{},
		{Code: 255, End: true, Volume: 63, Duration: 0xFFFF},
		{Code: 11, Volume: 0, Duration: 1},
	} {
		b, err := e.Append([]byte{0xEE})
		if err != nil || len(b) != 5 || b[0] != 0xEE {
			t.Fatalf("Append %+v = % x, %v", e, b, err)
		}
		if got, err := Parse(b[1:]); err != nil || got != e {
			t.Errorf("round trip %+v: %+v, %v", e, got, err)
		}
	}
}

func TestSection2_3_3ReservedBitIgnored(t *testing.T) {
	// The R bit is sent as zero and ignored on reception.
	b, _ := Event{Code: 1, Volume: 5, Duration: 80}.Append(nil)
	if b[1]&0x40 != 0 {
		t.Fatalf("R bit sent: % x", b)
	}
	b[1] |= 0x40
	e, err := Parse(b)
	if err != nil || e != (Event{Code: 1, Volume: 5, Duration: 80}) {
		t.Fatalf("with R bit: %+v, %v", e, err)
	}
}

func TestSection2_3_4VolumeRange(t *testing.T) {
	if _, err := (Event{Volume: 64}).Append(nil); !errors.Is(err, ErrVolume) {
		t.Errorf("volume 64: %v, want ErrVolume", err)
	}
	for _, tc := range []struct {
		dBm0 float64
		want uint8
	}{{-10, 10}, {-8.4, 8}, {-8.6, 9}, {0, 0}, {3, 0}, {-63, 63}, {-90, 63}} {
		if got := VolumeOf(tc.dBm0); got != tc.want {
			t.Errorf("VolumeOf(%v) = %d, want %d", tc.dBm0, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		p    []byte
		want error
	}{
		{nil, ErrShort},
		{[]byte{1, 2, 3}, ErrShort},
		{[]byte{1, 2, 3, 4, 5}, ErrLength},
		{[]byte{1, 2, 3, 4, 5, 6, 7, 8}, ErrLength}, // two events: not for Parse
	} {
		if _, err := Parse(tc.p); !errors.Is(err, tc.want) {
			t.Errorf("Parse(% x) = %v, want %v", tc.p, err, tc.want)
		}
	}
	if _, err := ParseAll(nil, []byte{1, 2, 3, 4, 5, 6}); !errors.Is(err, ErrLength) {
		t.Errorf("ParseAll 6 bytes: %v", err)
	}
	if _, err := ParseAll(nil, []byte{1}); !errors.Is(err, ErrShort) {
		t.Errorf("ParseAll 1 byte: %v", err)
	}
	r := NewReceiver(ReceiverConfig{})
	if n, err := r.Packet(1, 1, 1, true, []byte{1, 2}, nil); !errors.Is(err, ErrShort) || len(n) != 0 {
		t.Errorf("Receiver short payload: %v %v", n, err)
	}
}

func TestSection3_2DTMFEventCodes(t *testing.T) {
	for i, d := range []byte("0123456789*#ABCD") {
		c, err := CodeForDigit(d)
		if err != nil || int(c) != i {
			t.Errorf("CodeForDigit(%q) = %d, %v; want %d", d, c, err, i)
		}
		if got, ok := DigitForCode(uint8(i)); !ok || got != d {
			t.Errorf("DigitForCode(%d) = %q", i, got)
		}
	}
	if c, err := CodeForDigit('b'); err != nil || c != 13 {
		t.Errorf("lower-case b: %d, %v", c, err)
	}
	if _, err := CodeForDigit('E'); !errors.Is(err, ErrDigit) {
		t.Errorf("E: %v", err)
	}
	if _, ok := DigitForCode(16); ok {
		t.Error("code 16 (flash) is not a DTMF digit")
	}
}

// run drives s from time from to to in steps of frame (one audio frame),
// returning all packets with the time they were due.
func run(s *Sender, from, to, frame uint32) (pk []Packet, at []uint32) {
	for now := from; int32(to-now) >= 0; now += frame {
		n := len(pk)
		pk = s.Poll(now, pk)
		for range pk[n:] {
			at = append(at, now)
		}
	}
	return pk, at
}

func TestSection2_5_1_2TransmissionOfEventPackets(t *testing.T) {
	// Digit 5 held 200 ms from timestamp 1000, updates every 50 ms, polled
	// every 20 ms: the first packet as soon as the event has a duration
	// (never zero), with the marker, which no other packet has; the
	// timestamp fixed at the start; then an update every interval with
	// the time elapsed.
	s, err := NewSender(SenderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Press('5', 1000); err != nil {
		t.Fatal(err)
	}
	pk, at := run(s, 1000, 1000+1600-160, 160)
	want := []uint16{160, 480, 800, 1280}
	if len(pk) != len(want) {
		t.Fatalf("%d packets while held, want %d: %+v", len(pk), len(want), pk)
	}
	for i, p := range pk {
		if p.Timestamp != 1000 || p.Marker != (i == 0) || p.Event.End || p.Event.Code != 5 ||
			p.Event.Duration != want[i] || p.Event.Volume != 10 || at[i] != 1000+uint32(want[i]) {
			t.Errorf("packet %d at %d: %+v", i, at[i], p)
		}
		if e, _ := Parse(p.Payload[:]); e != p.Event {
			t.Errorf("packet %d payload % x does not encode %+v", i, p.Payload, p.Event)
		}
	}
}

func TestSection2_5_1_4FinalPacketSentThreeTimes(t *testing.T) {
	s, _ := NewSender(SenderConfig{Interval: 160}) // 20 ms ptime
	s.Press('#', 0)
	pk, at := run(s, 0, 960, 160)
	s.Release(1000)
	more, at2 := run(s, 1120, 3000, 160)
	pk, at = append(pk, more...), append(at, at2...)
	var finals []int
	for i, p := range pk {
		if p.Event.End {
			finals = append(finals, i)
			if p.Event.Duration != 1000 || p.Timestamp != 0 || p.Marker {
				t.Errorf("final %+v", p)
			}
		} else if p.Event.Duration > 1000 {
			t.Errorf("update after release: %+v", p)
		}
	}
	if len(finals) != 3 || finals[0] != len(pk)-3 {
		t.Fatalf("final packets at %v of %d", finals, len(pk))
	}
	// One per interval after the release.
	if at[finals[0]] != 1120 || at[finals[1]] != 1280 || at[finals[2]] != 1440 {
		t.Errorf("finals sent at %d %d %d", at[finals[0]], at[finals[1]], at[finals[2]])
	}
	if s.Active() {
		t.Error("still active after the final packets")
	}
}

func TestSection2_5_1_3LongDurationEvents(t *testing.T) {
	// A key held 20 s = 160000 units: segments of 0xFFFF with new
	// timestamps, each segment's last packet sent three times without E,
	// the E bit only at the very end, the marker only at the very start.
	s, _ := NewSender(SenderConfig{})
	const start, length = 4000000000, 160000 // wraps the 32-bit timestamp
	s.Press('0', start)
	pk, _ := run(s, start, start+length-1, 400)
	s.Release(start + length)
	more, _ := run(s, start+length, start+length+4000, 400)
	pk = append(pk, more...)

	segs := map[uint32][]Packet{}
	var order []uint32
	for _, p := range pk {
		if _, ok := segs[p.Timestamp]; !ok {
			order = append(order, p.Timestamp)
		}
		segs[p.Timestamp] = append(segs[p.Timestamp], p)
	}
	wantTS := []uint32{start, start + 0xFFFF, start + 2*0xFFFF}
	if fmt.Sprint(order) != fmt.Sprint(wantTS) {
		t.Fatalf("segment timestamps %v, want %v", order, wantTS)
	}
	var total uint32
	for i, ts := range order {
		ps := segs[ts]
		last := ps[len(ps)-1]
		copies := 0
		for _, p := range ps {
			if p.Event.Duration == last.Event.Duration {
				copies++
			}
			if p.Marker != (i == 0 && p == ps[0]) {
				t.Errorf("segment %d marker on %+v", i, p)
			}
		}
		if copies != 3 {
			t.Errorf("segment %d: final duration %d sent %d times", i, last.Event.Duration, copies)
		}
		if last.Event.End != (i == len(order)-1) {
			t.Errorf("segment %d: E bit %v", i, last.Event.End)
		}
		total += uint32(last.Event.Duration)
	}
	if total != length {
		t.Errorf("segments add up to %d, want %d", total, length)
	}
	// The receiver joins them into one key press.
	r := NewReceiver(ReceiverConfig{})
	var notes []Notice
	for i, p := range pk {
		notes, _ = r.Packet(7, uint16(i), p.Timestamp, p.Marker, p.Payload[:], notes)
	}
	if len(notes) != 2 || notes[1].Duration != length || notes[1].Timestamp != start || notes[1].Lost {
		t.Errorf("receiver: %+v", notes)
	}
}

func TestSection2_5_1_4FinalsInterleaveWithNextEvent(t *testing.T) {
	// A second key pressed before the first one's copies are out: they
	// keep their interval, interleaved with the new event, which starts
	// with its marker.
	s, _ := NewSender(SenderConfig{})
	s.Press('1', 0)
	pk := s.Poll(0, nil) // nothing yet: no zero-duration packet
	s.Release(300)
	pk = s.Poll(400, pk) // first final copy, also the first packet: marker
	s.Press('2', 500)
	for now := uint32(500); now <= 1300; now += 100 {
		pk = s.Poll(now, pk)
	}
	var got []string
	for _, p := range pk {
		got = append(got, fmt.Sprintf("%d/%d/%d/M=%v/E=%v", p.Event.Code, p.Timestamp, p.Event.Duration, p.Marker, p.Event.End))
	}
	want := "[1/0/300/M=true/E=true 2/500/100/M=true/E=false 1/0/300/M=false/E=true " +
		"2/500/400/M=false/E=false 1/0/300/M=false/E=true 2/500/800/M=false/E=false]"
	if g := fmt.Sprint(got); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}

func TestSenderConfig(t *testing.T) {
	if _, err := NewSender(SenderConfig{Volume: 64}); !errors.Is(err, ErrConfig) {
		t.Errorf("volume 64: %v", err)
	}
	if _, err := NewSender(SenderConfig{Interval: 0xFFFF}); !errors.Is(err, ErrConfig) {
		t.Errorf("interval 0xFFFF: %v", err)
	}
	s, _ := NewSender(SenderConfig{})
	if err := s.Release(5); !errors.Is(err, ErrState) {
		t.Errorf("release without press: %v", err)
	}
	if err := s.Press('x', 5); !errors.Is(err, ErrDigit) {
		t.Errorf("press x: %v", err)
	}
}

// keyPress is what a test sent: a digit from start for length units.
type keyPress struct {
	digit         byte
	start, length uint32
}

// sendAll runs presses through a Sender with 20 ms frames and returns the
// packets in sending order.
func sendAll(t *testing.T, presses []keyPress, interval uint32) []Packet {
	t.Helper()
	s, err := NewSender(SenderConfig{Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	var pk []Packet
	now := presses[0].start
	for _, kp := range presses {
		for ; int32(kp.start-now) > 0; now += 160 {
			pk = s.Poll(now, pk)
		}
		s.Press(kp.digit, kp.start)
		for ; int32(kp.start+kp.length-now) > 0; now += 160 {
			pk = s.Poll(now, pk)
		}
		s.Release(kp.start + kp.length)
	}
	for i := 0; i < 20; i++ {
		pk = s.Poll(now, pk)
		now += 160
	}
	return pk
}

// receiveAll feeds packets to a Receiver, ticking it with the packets' own
// time, and returns the End notices (checking Begin/End pairing).
func receiveAll(t *testing.T, pk []Packet, ssrc uint32) []Notice {
	t.Helper()
	r := NewReceiver(ReceiverConfig{})
	var notes []Notice
	var err error
	for i, p := range pk {
		notes, err = r.Packet(ssrc, uint16(i), p.Timestamp, p.Marker, p.Payload[:], notes)
		if err != nil {
			t.Fatal(err)
		}
		notes = r.Tick(p.Timestamp+uint32(p.Event.Duration), notes)
	}
	notes = r.Flush(notes)
	var ends []Notice
	open := false
	for _, n := range notes {
		switch n.Kind {
		case Begin:
			if open {
				t.Fatalf("Begin inside an event: %+v", notes)
			}
			open = true
		case End:
			if !open {
				t.Fatalf("End without Begin: %+v", notes)
			}
			open = false
			ends = append(ends, n)
		}
	}
	return ends
}

func TestSection2_5_2RoundTrip(t *testing.T) {
	presses := []keyPress{{'1', 8000, 800}, {'2', 10000, 640}, {'#', 12000, 2000}, {'#', 15000, 400}}
	for _, interval := range []uint32{160, 400} {
		pk := sendAll(t, presses, interval)
		ends := receiveAll(t, pk, 42)
		if len(ends) != len(presses) {
			t.Fatalf("interval %d: %d key presses, want %d: %+v", interval, len(ends), len(presses), ends)
		}
		for i, n := range ends {
			kp := presses[i]
			if n.Digit != kp.digit || n.Timestamp != kp.start || n.Duration != kp.length || n.Lost || n.SSRC != 42 {
				t.Errorf("interval %d: key press %d: %+v, want %+v", interval, i, n, kp)
			}
		}
	}
}

func TestSection2_5_1_4DuplicateFinalsReportedOnce(t *testing.T) {
	pk := sendAll(t, []keyPress{{'7', 0, 800}}, 400)
	// Every packet arrives twice.
	var dup []Packet
	for _, p := range pk {
		dup = append(dup, p, p)
	}
	ends := receiveAll(t, dup, 1)
	if len(ends) != 1 || ends[0].Duration != 800 {
		t.Fatalf("%+v", ends)
	}
}

func TestSection2_5_2LossOfAllFinalPackets(t *testing.T) {
	pk := sendAll(t, []keyPress{{'4', 0, 1200}, {'5', 4000, 800}}, 400)
	// Drop every E packet of the first event.
	var kept []Packet
	for _, p := range pk {
		if !(p.Event.Code == 4 && p.Event.End) {
			kept = append(kept, p)
		}
	}
	ends := receiveAll(t, kept, 1)
	if len(ends) != 2 || !ends[0].Lost || ends[0].Digit != '4' || ends[0].Duration != 800 || ends[1].Lost {
		t.Fatalf("%+v", ends)
	}

	// Without a next event, the timeout ends it: no update for more than
	// three intervals of the stream's time.
	r := NewReceiver(ReceiverConfig{})
	var notes []Notice
	for i, d := range []uint16{400, 800} {
		b, _ := Event{Code: 4, Volume: 10, Duration: d}.Append(nil)
		notes, _ = r.Packet(1, uint16(i), 0, i == 0, b, notes)
	}
	if notes = r.Tick(800+1200, notes); len(notes) != 1 {
		t.Fatalf("ended before the timeout: %+v", notes)
	}
	notes = r.Tick(800+1201, notes)
	if len(notes) != 2 || notes[1].Kind != End || !notes[1].Lost || notes[1].Duration != 800 {
		t.Fatalf("after timeout: %+v", notes)
	}
	// The late final packet that finally arrives is not a second press.
	for _, p := range pk {
		if p.Event.Code == 4 && p.Event.End {
			notes, _ = r.Packet(1, 99, p.Timestamp, false, p.Payload[:], notes)
		}
	}
	if len(notes) != 2 {
		t.Fatalf("late final packet reported: %+v", notes)
	}
}

func TestSection2_5_2LossAndReordering(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	presses := []keyPress{{'1', 0, 800}, {'9', 2000, 1600}, {'*', 6000, 480}, {'D', 9000, 3200}}
	for trial := range 300 {
		pk := sendAll(t, presses, 160)
		// Lose 20 % of the packets, but keep at least one final copy of
		// each event; then swap neighbours at random.
		var kept []Packet
		for i, p := range pk {
			lastCopy := p.Event.End && (i+1 == len(pk) || !pk[i+1].Event.End || pk[i+1].Event.Code != p.Event.Code)
			if lastCopy || rng.Float64() > 0.2 {
				kept = append(kept, p)
			}
		}
		for i := 0; i+1 < len(kept); i++ {
			if rng.Float64() < 0.3 && kept[i].Timestamp == kept[i+1].Timestamp {
				kept[i], kept[i+1] = kept[i+1], kept[i]
			}
		}
		ends := receiveAll(t, kept, 3)
		if len(ends) != len(presses) {
			t.Fatalf("trial %d: %d presses: %+v", trial, len(ends), ends)
		}
		for i, n := range ends {
			if n.Digit != presses[i].digit || n.Timestamp != presses[i].start || n.Duration != presses[i].length {
				t.Fatalf("trial %d press %d: %+v want %+v", trial, i, n, presses[i])
			}
		}
	}
}

func TestSection2_5_2StalePacketOfEarlierEvent(t *testing.T) {
	r := NewReceiver(ReceiverConfig{})
	pay := func(code uint8, end bool, dur uint16) []byte {
		b, _ := Event{Code: code, End: end, Volume: 10, Duration: dur}.Append(nil)
		return b
	}
	var n []Notice
	n, _ = r.Packet(1, 1, 1000, true, pay(1, false, 160), n)
	n, _ = r.Packet(1, 2, 5000, true, pay(2, false, 160), n) // event 1's end lost
	n, _ = r.Packet(1, 3, 1000, false, pay(1, false, 400), n)
	n, _ = r.Packet(1, 4, 3000, false, pay(3, false, 400), n) // older than event 2
	if len(n) != 3 || n[0].Digit != '1' || n[1].Kind != End || !n[1].Lost || n[2].Digit != '2' {
		t.Fatalf("%+v", n)
	}
}

func TestSection2_5_1_5MultipleEventsInOnePacket(t *testing.T) {
	// Two short events packed in one payload, as after a burst: the second
	// starts where the first ends.
	var p []byte
	p, _ = Event{Code: 1, End: true, Volume: 10, Duration: 640}.Append(p)
	p, _ = Event{Code: 2, End: true, Volume: 10, Duration: 480}.Append(p)
	evs, err := ParseAll(nil, p)
	if err != nil || len(evs) != 2 {
		t.Fatal(evs, err)
	}
	r := NewReceiver(ReceiverConfig{})
	n, err := r.Packet(5, 1, 8000, true, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "[{begin 1 8000 640} {end 1 8000 640} {begin 2 8640 480} {end 2 8640 480}]"
	var got []string
	for _, x := range n {
		got = append(got, fmt.Sprintf("{%v %c %d %d}", x.Kind, x.Digit, x.Timestamp, x.Duration))
	}
	if s := "[" + join(got) + "]"; s != want {
		t.Errorf("got %s, want %s", s, want)
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestReceiverNewSSRCEndsEvent(t *testing.T) {
	r := NewReceiver(ReceiverConfig{})
	b, _ := Event{Code: 3, Duration: 400}.Append(nil)
	n, _ := r.Packet(1, 1, 100, true, b, nil)
	n, _ = r.Packet(2, 1, 100, true, b, n)
	if len(n) != 3 || n[1].Kind != End || !n[1].Lost || n[2].SSRC != 2 {
		t.Fatalf("%+v", n)
	}
}

func TestReceiverAllocs(t *testing.T) {
	pk := sendAll(t, []keyPress{{'1', 0, 800}, {'2', 2000, 800}}, 160)
	r := NewReceiver(ReceiverConfig{})
	buf := make([]Notice, 0, 8)
	s, _ := NewSender(SenderConfig{})
	pbuf := make([]Packet, 0, 8)
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		p := pk[i%len(pk)]
		buf, _ = r.Packet(1, uint16(i), p.Timestamp, p.Marker, p.Payload[:], buf[:0])
		buf = r.Tick(p.Timestamp, buf[:0])
		if i%10 == 0 {
			s.Press('5', uint32(i*160))
		}
		pbuf = s.Poll(uint32(i*160), pbuf[:0])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0x09, 0x8A, 0x06, 0x40})
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := Parse(p)
		if err != nil {
			if len(p) == PayloadSize {
				t.Fatalf("4 bytes rejected: %v", err)
			}
			return
		}
		b, err := e.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		// Only the reserved bit may differ.
		if b[0] != p[0] || b[1] != p[1]&^0x40 || b[2] != p[2] || b[3] != p[3] {
			t.Fatalf("% x re-encodes as % x", p, b)
		}
		all, err := ParseAll(nil, p)
		if err != nil || len(all) != 1 || all[0] != e {
			t.Fatalf("ParseAll disagrees: %v %v", all, err)
		}
	})
}

// FuzzReceiver feeds random packet sequences (each input byte group makes
// a packet from a small set of SSRCs, timestamps, codes and durations, so
// that events collide) and checks that the receiver never panics, pairs
// every End with a Begin, and never reports a key press twice.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 4, 0, 1, 0, 0x84, 0, 2})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReceiver(ReceiverConfig{Timeout: uint32(len(in)) * 10})
		var notes []Notice
		seen := map[key]int{}
		var cur *Notice
		for i := 0; i+5 <= len(in); i += 5 {
			g := in[i : i+5]
			ssrc := uint32(g[0] & 1)
			ts := uint32(g[1]) * 1000
			if g[0]&2 != 0 {
				ts += MaxDuration // reach segment boundaries
			}
			n := len(notes)
			var err error
			switch g[0] >> 5 {
			case 7:
				notes = r.Tick(uint32(g[1])*1000+uint32(g[2])*50, notes)
			default:
				p := []byte{g[2] & 3, g[3], g[4], g[2]}
				if g[0]&4 != 0 {
					p = append(p, g[4]&3, g[3]|0x80, 0, g[1])
				}
				notes, err = r.Packet(ssrc, uint16(i), ts, g[0]&8 != 0, p, notes)
			}
			if err != nil {
				t.Fatal(err)
			}
			for j := n; j < len(notes); j++ {
				x := notes[j]
				switch x.Kind {
				case Begin:
					if cur != nil {
						t.Fatalf("Begin %+v while %+v open", x, *cur)
					}
					k := key{x.SSRC, x.Timestamp, x.Code}
					if seen[k] > 0 && len(seen) <= recentKeys {
						t.Fatalf("key press %+v reported twice", k)
					}
					seen[k]++
					cur = &x
				case End:
					if cur == nil || cur.SSRC != x.SSRC || cur.Timestamp != x.Timestamp || cur.Code != x.Code {
						t.Fatalf("End %+v does not match %+v", x, cur)
					}
					cur = nil
				}
			}
		}
	})
}

func BenchmarkReceiverPacket(b *testing.B) {
	s, _ := NewSender(SenderConfig{Interval: 160})
	var pk []Packet
	for i := uint32(0); i < 50; i++ {
		if i%10 == 0 {
			s.Press('1'+byte(i/10), i*160)
		}
		if i%10 == 6 {
			s.Release(i * 160)
		}
		pk = s.Poll(i*160, pk)
	}
	r := NewReceiver(ReceiverConfig{})
	buf := make([]Notice, 0, 8)
	b.ResetTimer()
	for i := range b.N {
		p := pk[i%len(pk)]
		buf, _ = r.Packet(1, uint16(i), p.Timestamp+uint32(i/len(pk))*8000, p.Marker, p.Payload[:], buf[:0])
	}
}

// sendTrace runs a Sender with the given press and release times and a
// Poll every frame units from 0 to until, numbering the packets from seq 1
// as the RTP layer would (RFC 4733 §2.5.1.6: retransmissions included),
// and renders each as "seq ts M E duration payload".
func sendTrace(t *testing.T, cfg SenderConfig, digit byte, press, release, frame, until uint32) []string {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var pk []Packet
	seq := 0
	for now := uint32(0); now <= until; now += frame {
		if now == press {
			if err := s.Press(digit, press); err != nil {
				t.Fatal(err)
			}
		}
		if now == release {
			if err := s.Release(release); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range s.Poll(now, pk[:0]) {
			seq++
			out = append(out, fmt.Sprintf("%d@%d ts=%d M=%v E=%v d=%d % x", seq, now, p.Timestamp, b2i(p.Marker), b2i(p.Event.End), p.Event.Duration, p.Payload))
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkTrace(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d packets, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("packet %d:\n got  %s\n want %s", i+1, g, w)
		}
	}
}

func TestKnownAnswerDigitNineFiftyMillisecondUpdates(t *testing.T) {
	// Digit 9 held 200 ms, updates every 50 ms (400 units, the rate
	// RFC 4733 §2.5.1.2 names), volume -10 dBm0 (0x0a): §2.3 layout,
	// marker on the first packet (§2.5.1.2), one timestamp for the event,
	// duration never zero (§2.3.5), E set on the final packet, which goes
	// out three times at the update interval with new sequence numbers
	// (§2.5.1.4, §2.5.1.6).
	got := sendTrace(t, SenderConfig{Interval: 400, Volume: 10}, '9', 0, 1600, 400, 3200)
	checkTrace(t, got, []string{
		"1@400 ts=0 M=1 E=0 d=400 09 0a 01 90",
		"2@800 ts=0 M=0 E=0 d=800 09 0a 03 20",
		"3@1200 ts=0 M=0 E=0 d=1200 09 0a 04 b0",
		"4@1600 ts=0 M=0 E=1 d=1600 09 8a 06 40",
		"5@2000 ts=0 M=0 E=1 d=1600 09 8a 06 40",
		"6@2400 ts=0 M=0 E=1 d=1600 09 8a 06 40",
	})
}

func TestKnownAnswerSegmentBoundary(t *testing.T) {
	// Digit 0 held 70000 units (8.75 s), updates every 400: the first
	// segment ends at 0xFFFF; its final packet (duration 0xFFFF, E clear)
	// goes out three times; the second segment has timestamp 0xFFFF, no
	// marker, and the E bit on its own final packet (RFC 4733 §2.5.1.3,
	// §2.5.1.4).
	got := sendTrace(t, SenderConfig{Interval: 400, Volume: 10}, '0', 0, 70000, 400, 71200)
	var around []string
	for _, g := range got {
		var seq, at int
		fmt.Sscanf(g, "%d@%d", &seq, &at)
		if at >= 65200 && at <= 66400 || at >= 70000 {
			around = append(around, g)
		}
	}
	checkTrace(t, around, []string{
		"163@65200 ts=0 M=0 E=0 d=65200 00 0a fe b0",
		"164@65600 ts=0 M=0 E=0 d=65535 00 0a ff ff",
		"165@65600 ts=65535 M=0 E=0 d=65 00 0a 00 41",
		"166@66000 ts=0 M=0 E=0 d=65535 00 0a ff ff",
		"167@66000 ts=65535 M=0 E=0 d=465 00 0a 01 d1",
		"168@66400 ts=0 M=0 E=0 d=65535 00 0a ff ff",
		"169@66400 ts=65535 M=0 E=0 d=865 00 0a 03 61",
		"178@70000 ts=65535 M=0 E=1 d=4465 00 8a 11 71",
		"179@70400 ts=65535 M=0 E=1 d=4465 00 8a 11 71",
		"180@70800 ts=65535 M=0 E=1 d=4465 00 8a 11 71",
	})
	if len(got) == 0 || !strings.HasPrefix(got[0], "1@400 ts=0 M=1 E=0 d=400 ") {
		t.Errorf("first packet %q", got[0])
	}
}

func TestSection2_3_5NoZeroDuration(t *testing.T) {
	// A DTMF digit is not a state: no packet may carry duration 0, not
	// the first, not the first of a segment that starts on a Poll, not a
	// press released at once.
	for _, tc := range []struct {
		interval, frame, release uint32
	}{
		{160, 160, 0},            // released the instant it was pressed
		{160, 160, 80},           // released before the first update
		{15, 15, 3 * 0xFFFF},     // 0xFFFF is a multiple of 15: segments start on a Poll
		{400, 160, 2*0xFFFF + 1}, // the last segment one unit long
	} {
		s, _ := NewSender(SenderConfig{Interval: tc.interval})
		s.Press('1', 0)
		var pk []Packet
		var total uint32
		for now := uint32(0); now <= tc.release+10*tc.interval; now += tc.frame {
			if now >= tc.release && s.down {
				s.Release(tc.release)
			}
			n := len(pk)
			pk = s.Poll(now, pk)
			for _, p := range pk[n:] {
				if p.Event.Duration == 0 {
					t.Fatalf("%+v: zero duration in %+v", tc, p)
				}
				if p.Event.End {
					total = p.Timestamp + uint32(p.Event.Duration)
				}
			}
		}
		want := max(tc.release, 1)
		if total != want {
			t.Errorf("%+v: event ends at %d, want %d", tc, total, want)
		}
	}
	// The receiver ignores a zero-duration report of a DTMF digit, as old
	// RFC 2833 senders send first: the event begins with the next packet.
	r := NewReceiver(ReceiverConfig{})
	b0, _ := Event{Code: 5, Volume: 10}.Append(nil)
	b1, _ := Event{Code: 5, Volume: 10, Duration: 160}.Append(nil)
	n, _ := r.Packet(1, 1, 800, true, b0, nil)
	if len(n) != 0 {
		t.Fatalf("zero duration reported: %+v", n)
	}
	n, _ = r.Packet(1, 2, 800, false, b1, n)
	if len(n) != 1 || n[0].Kind != Begin || n[0].Timestamp != 800 || n[0].Duration != 160 {
		t.Fatalf("%+v", n)
	}
}
