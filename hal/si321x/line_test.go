package si321x_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/si321x"
)

// lineOn returns an unstarted Chip on a playback of script, in the state
// Open leaves it: an Si3210 rev E with the line active.
func lineOn(t *testing.T, script string, f hal.Feed) (*si321x.Chip, func()) {
	t.Helper()
	p := playback(t, script)
	c, err := si321x.NewUnstarted(connOf(t, p), si321x.Options{Timing: quickTiming})
	if err != nil {
		t.Fatal(err)
	}
	c.SetState(si321x.Part{Number: si321x.Si3210, Revision: 5}, f)
	return c, func() { t.Helper(); done(t, p) }
}

func kinds(ev []hal.Event) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.String())
	}
	return strings.Join(s, ",")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// serviceIdle is one service of a quiet line: nothing latched, loop open.
const serviceIdle = `
R DR18 -> 0x00
R DR19 -> 0x00
R DR20 -> 0x00
R DR68 -> 0x04
`

func TestServiceSequence(t *testing.T) {
	// A loop closure latched in DR19 b1 together with an unrelated ring
	// timer flag: each status register is read and cleared with the bits
	// read, then DR68 is read and its LCR goes to the hook detector.
	c, fin := lineOn(t, `
R DR18 -> 0x10
W DR18 0x10
R DR19 -> 0x02
W DR19 0x02
R DR20 -> 0x00
R DR68 -> 0x01
`+serviceIdle, hal.FeedActive)
	t0 := time.Unix(100, 0)
	must(t, c.Service(t0))
	must(t, c.Tick(t0.Add(20*time.Millisecond)))
	if got := kinds(c.TakeEvents()); got != "off-hook" {
		t.Errorf("events %q, want off-hook", got)
	}
	if c.Hook() != hal.OffHook {
		t.Error("hook state not off-hook")
	}
	// The loop opens for longer than a flash: hang-up.
	must(t, c.Service(t0.Add(30*time.Millisecond)))
	must(t, c.Tick(t0.Add(2*time.Second)))
	if got := kinds(c.TakeEvents()); got != "on-hook" {
		t.Errorf("events %q, want on-hook", got)
	}
	fin()
}

func TestFeedSequence(t *testing.T) {
	c, fin := lineOn(t, `
W DR64 0x05
W DR64 0x06
W DR64 0x02
W DR64 0x01
W DR64 0x00
`, hal.FeedActive)
	for _, f := range []hal.Feed{hal.FeedReverse, hal.FeedReverseOHT, hal.FeedOHT, hal.FeedActive, hal.FeedOpen} {
		must(t, c.SetFeed(f))
		if c.Feed() != f {
			t.Errorf("Feed() = %v after SetFeed(%v)", c.Feed(), f)
		}
	}
	if err := c.SetFeed(hal.Feed(9)); !errors.Is(err, si321x.ErrOptions) {
		t.Errorf("SetFeed(9) = %v, want ErrOptions", err)
	}
	fin()
}

func TestRingChipTimers(t *testing.T) {
	// 2 s on, 4 s off: RAT = 16000 = 0x3E80, RIT = 32000 = 0x7D00 ticks of
	// 125 µs, timers enabled in DR34, linefeed ringing. The chip flags the
	// end of each phase in DR18 b4/b5. StopRing writes the feed back, then
	// disables the timers.
	c, fin := lineOn(t, `
W DR48 0x80
W DR49 0x3E
W DR50 0x00
W DR51 0x7D
W DR34 0x18
W DR64 0x04
R DR18 -> 0x10   # ring active timer expired: silent phase (on-hook transmission)
W DR18 0x10
R DR19 -> 0x00
R DR20 -> 0x00
R DR68 -> 0x04
R DR18 -> 0x20   # ring inactive timer expired: ringing again
W DR18 0x20
R DR19 -> 0x00
R DR20 -> 0x00
R DR68 -> 0x04
W DR64 0x05
W DR34 0x00
`, hal.FeedReverse)
	t0 := time.Unix(100, 0)
	must(t, c.Ring(hal.Cadence{2 * time.Second, 4 * time.Second}))
	if !c.Ringing() {
		t.Error("not ringing")
	}
	if !c.Deadline().IsZero() {
		t.Errorf("chip-timed cadence wants a software deadline at %v", c.Deadline())
	}
	must(t, c.Service(t0.Add(2*time.Second)))
	must(t, c.Service(t0.Add(6*time.Second)))
	must(t, c.StopRing())
	if got := kinds(c.TakeEvents()); got != "ring-on,ring-off,ring-on,ring-off" {
		t.Errorf("events %q", got)
	}
	if c.Ringing() || c.Feed() != hal.FeedReverse {
		t.Errorf("after StopRing: ringing %v feed %v, want reverse", c.Ringing(), c.Feed())
	}
	fin()
}

func TestRingSoftwareCadence(t *testing.T) {
	// UK cadence 0.4/0.2/0.4/2.0 s: timers off (continuous ringing), the
	// driver switches ringing (4) and on-hook transmission (2) itself.
	c, fin := lineOn(t, `
W DR34 0x00
W DR64 0x04
W DR64 0x02
W DR64 0x04
W DR64 0x02
W DR64 0x04
W DR64 0x01
`, hal.FeedActive)
	cad := hal.Cadence{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}
	start := time.Now()
	must(t, c.Ring(cad))
	want := []time.Duration{400, 600, 1000, 3000} // step ends, ms from start
	for _, ms := range want {
		d := c.Deadline()
		if got := d.Sub(start); got < ms*time.Millisecond || got > ms*time.Millisecond+time.Second/2 {
			t.Fatalf("next switch %v after start, want %v", got, ms*time.Millisecond)
		}
		must(t, c.Tick(d))
	}
	must(t, c.SetFeed(hal.FeedActive))
	if got := kinds(c.TakeEvents()); got != "ring-on,ring-off,ring-on,ring-off,ring-on,ring-off" {
		t.Errorf("events %q", got)
	}
	fin()
}

func TestRingOnce(t *testing.T) {
	// A single step rings once and leaves on-hook transmission in the
	// feed's polarity, for caller ID.
	c, fin := lineOn(t, `
W DR34 0x00
W DR64 0x04
W DR64 0x06
`, hal.FeedReverse)
	must(t, c.Ring(hal.Cadence{2 * time.Second}))
	must(t, c.Tick(c.Deadline()))
	if c.Ringing() || c.Feed() != hal.FeedReverseOHT {
		t.Errorf("after one ring: ringing %v feed %v, want reverse-oht", c.Ringing(), c.Feed())
	}
	if got := kinds(c.TakeEvents()); got != "ring-on,ring-off" {
		t.Errorf("events %q", got)
	}
	fin()
}

func TestRingLongStepsUseSoftware(t *testing.T) {
	// A 10 s silent phase does not fit RIT (max 8.19 s).
	c, fin := lineOn(t, `
W DR34 0x00
W DR64 0x04
W DR64 0x01
W DR34 0x00
W DR64 0x04
`, hal.FeedActive)
	must(t, c.Ring(hal.Cadence{time.Second, 10 * time.Second}))
	must(t, c.StopRing())
	must(t, c.Ring(hal.Cadence{50 * time.Microsecond, time.Second}))
	fin()
}

func TestRingTrip(t *testing.T) {
	// Ring trip (DR19 b0, DR68 b1) stops ringing on the active feed of the
	// line's polarity, and the detector reports off-hook.
	c, fin := lineOn(t, `
W DR48 0x80
W DR49 0x3E
W DR50 0x00
W DR51 0x7D
W DR34 0x18
W DR64 0x04
R DR18 -> 0x00
R DR19 -> 0x03
W DR19 0x03
R DR20 -> 0x00
R DR68 -> 0x03
W DR64 0x05
W DR34 0x00
R DR18 -> 0x00
R DR19 -> 0x00
R DR20 -> 0x00
R DR68 -> 0x01
`, hal.FeedReverseOHT)
	t0 := time.Unix(100, 0)
	must(t, c.Ring(hal.Cadence{2 * time.Second, 4 * time.Second}))
	must(t, c.Service(t0))
	must(t, c.Service(t0.Add(15*time.Millisecond)))
	if got := kinds(c.TakeEvents()); got != "ring-on,ring-off,off-hook" {
		t.Errorf("events %q", got)
	}
	if c.Ringing() || c.Feed() != hal.FeedReverse {
		t.Errorf("after ring trip: ringing %v feed %v, want reverse", c.Ringing(), c.Feed())
	}
	fin()
}

func TestRingOffHook(t *testing.T) {
	c, fin := lineOn(t, `
R DR18 -> 0x00
R DR19 -> 0x02
W DR19 0x02
R DR20 -> 0x00
R DR68 -> 0x01
`, hal.FeedActive)
	t0 := time.Unix(100, 0)
	must(t, c.Service(t0))
	must(t, c.Tick(t0.Add(time.Second)))
	if err := c.Ring(hal.Cadence{time.Second, time.Second}); !errors.Is(err, si321x.ErrOffHook) {
		t.Errorf("Ring off-hook = %v, want ErrOffHook", err)
	}
	if err := c.Ring(nil); !errors.Is(err, si321x.ErrOptions) {
		t.Errorf("Ring(nil) = %v, want ErrOptions", err)
	}
	fin()
}

func TestPowerAlarm(t *testing.T) {
	c, fin := lineOn(t, `
W DR34 0x00
W DR64 0x04
R DR18 -> 0x00
R DR19 -> 0x0C
W DR19 0x0C
R DR20 -> 0x00
R DR68 -> 0x00
W DR64 0x00
`, hal.FeedActive)
	must(t, c.Ring(hal.Cadence{time.Second}))
	must(t, c.Service(time.Unix(100, 0)))
	ev := c.TakeEvents()
	if got := kinds(ev); got != "ring-on,ring-off,fault" {
		t.Fatalf("events %q", got)
	}
	err := ev[2].Err
	if !errors.Is(err, si321x.ErrPowerAlarm) || !strings.Contains(err.Error(), "Q1,Q2") {
		t.Errorf("fault %v, want power alarm on Q1,Q2", err)
	}
	if c.Ringing() || c.Feed() != hal.FeedOpen {
		t.Errorf("after power alarm: ringing %v feed %v", c.Ringing(), c.Feed())
	}
	fin()
}
