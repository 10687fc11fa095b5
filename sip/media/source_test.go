package media

import (
	"context"
	"errors"
	"testing"
)

func TestRFC3550AppendixA1Probation(t *testing.T) {
	var s source
	s.probe(7, 100)
	if s.update(100) {
		t.Fatal("first packet valid during probation")
	}
	if s.update(105) {
		t.Fatal("out-of-sequence packet ended probation")
	}
	// A.1 restarts probation at MIN_SEQUENTIAL-1 from the stray packet:
	// one packet in sequence with it ends probation.
	if !s.update(106) || s.expected() != 1 || s.lost() != 0 {
		t.Fatalf("after probation: expected %d lost %d", s.expected(), s.lost())
	}
}

func TestRFC3550AppendixA1JumpsAndMisorder(t *testing.T) {
	var s source
	s.probe(7, 10)
	s.update(10)
	s.update(11)
	for q := uint16(12); q < 20; q++ {
		s.update(q)
	}
	// Reordered and duplicated packets count as received.
	if !s.update(15) || !s.update(19) {
		t.Fatal("reordered/duplicate packet refused")
	}
	if s.lost() != -2 {
		t.Fatalf("lost %d after two duplicates, want -2 (A.3)", s.lost())
	}
	// A forward gap below MAX_DROPOUT is loss.
	s.update(30)
	if s.lost() != 8 {
		t.Fatalf("lost %d after a gap of 10 with 2 duplicates, want 8", s.lost())
	}
	// A jump beyond MAX_DROPOUT is refused once, then taken as a restart.
	if s.update(30 + 5000) {
		t.Fatal("large jump accepted at once")
	}
	if !s.update(30 + 5001) {
		t.Fatal("sequence after the jump not taken as a restart")
	}
	if s.expected() != 1 || s.lost() != 0 {
		t.Fatalf("after restart: expected %d lost %d", s.expected(), s.lost())
	}
}

func TestRFC3550AppendixA3FractionLost(t *testing.T) {
	var s source
	s.probe(1, 65530)
	s.update(65530)
	s.update(65531)
	// 100 packets across the wrap, every fourth lost.
	for i := 1; i <= 100; i++ {
		if i%4 != 0 {
			s.update(uint16(65531 + i))
		}
	}
	if s.cycles != 1<<16 {
		t.Fatalf("cycles %#x, want one wrap", s.cycles)
	}
	// 100 expected after the first; the last one (i=100) was lost, so
	// the highest received is i=99 and 99 are expected, 24 lost.
	if s.lost() != 24 {
		t.Fatalf("lost %d", s.lost())
	}
	if f := s.fraction(); f != uint8(24*256/100) {
		t.Fatalf("fraction %d/256, want %d", f, 24*256/100)
	}
	if f := s.fraction(); f != 0 {
		t.Fatalf("fraction of an empty interval %d", f)
	}
}

func TestRFC3550AppendixA8Jitter(t *testing.T) {
	var s source
	// Packets 160 apart arriving alternately 0 and 80 units late: every
	// |D| is 80, so J converges on 80.
	for i := range 400 {
		ts := uint32(i * 160)
		s.arrive(ts, ts+uint32(80*(i%2)))
	}
	if j := s.jitterUnits(); j < 78 || j > 80 {
		t.Fatalf("jitter %d, want 80", j)
	}
}

func TestListenPortRange(t *testing.T) {
	s := listen(t, Config{PortMin: 30000, PortMax: 30999})
	p := int(s.LocalRTP().Port())
	if p%2 != 0 || p < 30000 || p > 30998 || int(s.LocalRTCP().Port()) != p+1 {
		t.Fatalf("ports %v %v", s.LocalRTP(), s.LocalRTCP())
	}
	m := listen(t, Config{MuxOnly: true})
	if m.LocalRTCP() != m.LocalRTP() {
		t.Fatalf("mux-only RTCP at %v", m.LocalRTCP())
	}
	// A range of one pair that is taken.
	pm := int(s.LocalRTP().Port())
	_, err := Listen(context.Background(), Config{Addr: loopback, PortMin: pm, PortMax: pm + 1, BindAttempts: 3})
	if !errors.Is(err, ErrNoPort) {
		t.Fatalf("taken range: %v", err)
	}
	for _, c := range []Config{{PortMin: 80, PortMax: 90}, {PortMin: 40001, PortMax: 40001}, {RTCPInterval: -1}} {
		if _, err := Listen(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestContextEndsSession(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Listen(ctx, Config{Addr: loopback, PortMin: 20000, PortMax: 59999})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(t, 2e9, "the session to close", func() bool { return s.closed.Load() })
	if _, ok := <-s.Digits(); ok {
		t.Fatal("Digits open after close")
	}
}
