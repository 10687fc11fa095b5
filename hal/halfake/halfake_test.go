package halfake

import (
	"context"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
)

func TestLineRingTrip(t *testing.T) {
	l := NewLine()
	if err := l.Ring(hal.Cadence{2 * time.Second, 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if !l.Ringing() {
		t.Fatal("not ringing")
	}
	l.Inject(hal.Event{Kind: hal.EventOffHook})
	if e := <-l.Events(); e.Kind != hal.EventOffHook || l.Ringing() || l.Hook() != hal.OffHook {
		t.Fatalf("after off-hook: event %v ringing %v hook %v", e, l.Ringing(), l.Hook())
	}
	if err := l.Ring(nil); err == nil {
		t.Fatal("empty cadence accepted")
	}
	l.Close()
	if _, ok := <-l.Events(); ok {
		t.Fatal("events not closed")
	}
}

func TestPCMTick(t *testing.T) {
	p := NewPCM(2)
	var in, out hal.Frame
	in[0] = 7
	done := make(chan error)
	go func() { done <- p.Read(context.Background(), &out) }()
	if ear := p.Tick(in); ear[0] != 0 || p.Underruns() != 1 {
		t.Fatalf("empty queue: ear %d underruns %d", ear[0], p.Underruns())
	}
	if err := <-done; err != nil || out[0] != 7 {
		t.Fatalf("read %v %d", err, out[0])
	}
	for i := int16(1); i <= 3; i++ {
		var f hal.Frame
		f[0] = i
		p.Write(&f)
	}
	go func() { done <- p.Read(context.Background(), &out) }()
	if ear := p.Tick(in); ear[0] != 2 { // frame 1 was dropped: queue of 2
		t.Fatalf("ear %d, want 2", ear[0])
	}
	<-done
	p.Close()
	if err := p.Read(context.Background(), &out); err != ErrClosed {
		t.Fatalf("read after close: %v", err)
	}
}
