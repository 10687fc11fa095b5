package hook

import (
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
)

// loop drives a Detector with a virtual clock: a script of levels held for
// durations, sampled every step, as a polling driver would.
type loop struct {
	t      *testing.T
	d      *Detector
	now    time.Time
	step   time.Duration
	events []hal.Event
}

func newLoop(t *testing.T, step time.Duration) *loop {
	d, err := New(DefaultTiming)
	if err != nil {
		t.Fatal(err)
	}
	return &loop{t: t, d: d, now: time.Unix(1000, 0), step: step}
}

func (l *loop) hold(closed bool, dur time.Duration) {
	end := l.now.Add(dur)
	for l.now.Before(end) {
		l.d.Update(l.now, closed, func(e hal.Event) { l.events = append(l.events, e) })
		l.now = l.now.Add(l.step)
	}
}

// dial sends a rotary digit: n breaks of brk with makes of mk between them.
func (l *loop) dial(n int, brk, mk time.Duration) {
	for i := 0; i < n; i++ {
		l.hold(false, brk)
		l.hold(true, mk)
	}
}

func (l *loop) got() string {
	var s []string
	for _, e := range l.events {
		s = append(s, e.String())
	}
	return strings.Join(s, ",")
}

func TestOffHookAndHangUp(t *testing.T) {
	l := newLoop(t, time.Millisecond)
	l.hold(false, 100*time.Millisecond)
	l.hold(true, 500*time.Millisecond)
	l.hold(false, 1500*time.Millisecond)
	if got := l.got(); got != "off-hook,on-hook" {
		t.Fatalf("events %q", got)
	}
	if at := l.events[1].At.Sub(l.events[0].At); at != 500*time.Millisecond {
		t.Fatalf("hang-up dated %v after off-hook, want 500ms (the break's start)", at)
	}
}

func TestBounceIgnored(t *testing.T) {
	l := newLoop(t, time.Millisecond)
	l.hold(true, 200*time.Millisecond)
	for i := 0; i < 10; i++ { // 5 ms chatter
		l.hold(false, 5*time.Millisecond)
		l.hold(true, 5*time.Millisecond)
	}
	l.hold(true, 500*time.Millisecond)
	if got := l.got(); got != "off-hook" {
		t.Fatalf("events %q", got)
	}
}

// TestPulseDialing dials every digit at the speeds rotary dials are
// specified for (8–12 pps) and break ratios of 58–67 %, sampled by a 5 ms
// poll as the simulated board's driver does.
func TestPulseDialing(t *testing.T) {
	for _, pps := range []float64{8, 10, 12} {
		for _, ratio := range []float64{0.58, 0.61, 0.67} {
			l := newLoop(t, 5*time.Millisecond)
			l.hold(true, 300*time.Millisecond)
			period := time.Duration(float64(time.Second) / pps)
			brk := time.Duration(float64(period) * ratio)
			for n := 1; n <= 10; n++ {
				l.dial(n, brk, period-brk)
				l.hold(true, 600*time.Millisecond)
			}
			if got := l.got(); got != "off-hook,pulse-digit 1,pulse-digit 2,pulse-digit 3,pulse-digit 4,pulse-digit 5,pulse-digit 6,pulse-digit 7,pulse-digit 8,pulse-digit 9,pulse-digit 0" {
				t.Fatalf("%v pps %.0f%% break: events %q", pps, ratio*100, got)
			}
		}
	}
}

func TestFlash(t *testing.T) {
	l := newLoop(t, time.Millisecond)
	l.hold(true, 300*time.Millisecond)
	l.hold(false, 300*time.Millisecond)
	l.hold(true, 300*time.Millisecond)
	l.hold(false, 990*time.Millisecond) // just inside the window
	l.hold(true, 300*time.Millisecond)
	if got := l.got(); got != "off-hook,flash,flash" {
		t.Fatalf("events %q", got)
	}
}

func TestDigitThenFlash(t *testing.T) {
	l := newLoop(t, time.Millisecond)
	l.hold(true, 300*time.Millisecond)
	l.dial(3, 60*time.Millisecond, 40*time.Millisecond)
	l.hold(false, 500*time.Millisecond) // flash right after the digit
	l.hold(true, 100*time.Millisecond)
	if got := l.got(); got != "off-hook,pulse-digit 3,flash" {
		t.Fatalf("events %q", got)
	}
}

func TestDeadline(t *testing.T) {
	d, _ := New(DefaultTiming)
	t0 := time.Unix(0, 0)
	var ev []hal.Event
	emit := func(e hal.Event) { ev = append(ev, e) }
	if !d.Deadline().IsZero() {
		t.Fatal("fresh detector has a deadline")
	}
	d.Update(t0, true, emit)
	if dl := d.Deadline(); !dl.Equal(t0.Add(DefaultTiming.Debounce)) {
		t.Fatalf("deadline %v, want debounce expiry", dl)
	}
	d.Update(d.Deadline(), true, emit)
	d.Update(t0.Add(time.Second), false, emit)
	d.Update(t0.Add(time.Second+DefaultTiming.Debounce), false, emit)
	dl := d.Deadline()
	if want := t0.Add(time.Second + DefaultTiming.FlashMax); !dl.Equal(want) {
		t.Fatalf("deadline %v, want %v", dl, want)
	}
	d.Update(dl.Add(time.Nanosecond), false, emit)
	if len(ev) != 2 || ev[1].Kind != hal.EventOnHook || d.Hook() != hal.OnHook {
		t.Fatalf("events %v hook %v", ev, d.Hook())
	}
}

func TestTimingValidate(t *testing.T) {
	bad := DefaultTiming
	bad.FlashMin = 50 * time.Millisecond
	if err := bad.Validate(); err == nil {
		t.Fatal("overlapping flash and pulse windows accepted")
	}
	if _, err := New(Timing{}); err == nil {
		t.Fatal("zero timing accepted")
	}
}
