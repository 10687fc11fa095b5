package ag1171

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// recPin is an output pin that counts its level changes.
type recPin struct {
	*gpiotest.Pin
	mu      sync.Mutex
	changes int
}

func newRecPin(name string) *recPin { return &recPin{Pin: &gpiotest.Pin{N: name}} }

func (r *recPin) Out(l gpio.Level) error {
	r.mu.Lock()
	if l != r.Pin.Read() {
		r.changes++
	}
	r.mu.Unlock()
	return r.Pin.Out(l)
}

func (r *recPin) Changes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changes
}

func (r *recPin) Level() gpio.Level { return r.Pin.Read() }

// setHook moves the fake phone's hook switch.
func setHook(p *gpiotest.Pin, off bool) {
	p.Lock()
	p.L = gpio.Level(off)
	p.Unlock()
}

// quickHook is a hook timing scaled down so that tests run in milliseconds.
var quickHook = hook.Timing{
	Debounce: 5 * time.Millisecond, PulseBreakMin: 10 * time.Millisecond, PulseBreakMax: 30 * time.Millisecond,
	FlashMin: 40 * time.Millisecond, FlashMax: 100 * time.Millisecond, InterdigitMin: 60 * time.Millisecond,
}

type rig struct {
	line      *Line
	shk       *gpiotest.Pin
	rm, fr    *recPin
	power     *recPin
	collected chan hal.Event
}

func open(t *testing.T, o Options) *rig {
	t.Helper()
	r := &rig{shk: &gpiotest.Pin{N: "SHK"}, rm: newRecPin("RM"), fr: newRecPin("FR")}
	o.SHK, o.RM, o.FR = r.shk, r.rm, r.fr
	if o.Hook == (hook.Timing{}) {
		o.Hook = quickHook
	}
	if o.Power != nil {
		r.power = o.Power.(*recPin)
	}
	l, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r.line = l
	return r
}

func (r *rig) next(t *testing.T, want hal.EventKind) hal.Event {
	t.Helper()
	for {
		select {
		case e, ok := <-r.line.Events():
			if !ok {
				t.Fatalf("events closed waiting for %v", want)
			}
			if e.Kind == want {
				return e
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no %v event", want)
		}
	}
}

func TestOpenState(t *testing.T) {
	r := open(t, Options{})
	if r.rm.Level() != gpio.Low || r.fr.Level() != gpio.High || r.line.Feed() != hal.FeedActive {
		t.Errorf("after Open: RM %v, F/R %v, feed %v; want low, high, active", r.rm.Level(), r.fr.Level(), r.line.Feed())
	}
	if _, err := Open(t.Context(), Options{SHK: r.shk}); !errors.Is(err, ErrOptions) {
		t.Errorf("Open without RM and FR: %v", err)
	}
}

func TestHookAndPulseDigit(t *testing.T) {
	r := open(t, Options{Hook: hook.DefaultTiming})
	setHook(r.shk, true)
	r.next(t, hal.EventOffHook)
	if r.line.Hook() != hal.OffHook {
		t.Errorf("Hook() = %v", r.line.Hook())
	}
	// Dial a 2 as a rotary dial does at 10 pulses per second: 60 ms breaks,
	// 40 ms makes, well inside hal/hook's pulse window.
	for range 2 {
		setHook(r.shk, false)
		time.Sleep(60 * time.Millisecond)
		setHook(r.shk, true)
		time.Sleep(40 * time.Millisecond)
	}
	if e := r.next(t, hal.EventPulseDigit); e.Digit != '2' {
		t.Errorf("digit %c, want 2", e.Digit)
	}
	setHook(r.shk, false)
	r.next(t, hal.EventOnHook)
}

func TestRingCadence(t *testing.T) {
	r := open(t, Options{})
	if err := r.line.Ring(hal.Cadence{200 * time.Millisecond, 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.next(t, hal.EventRingOn)
	before := r.fr.Changes()
	r.next(t, hal.EventRingOff)
	// 200 ms at 20 Hz is 8 half periods of 25 ms.
	if n := r.fr.Changes() - before; n < 6 || n > 10 {
		t.Errorf("F/R toggled %d times in a 200 ms burst, want about 8", n)
	}
	if r.rm.Level() != gpio.Low || r.fr.Level() != gpio.High {
		t.Errorf("between bursts RM %v, F/R %v; want low, high", r.rm.Level(), r.fr.Level())
	}
	r.next(t, hal.EventRingOn)
	if r.rm.Level() != gpio.High {
		t.Errorf("RM low during a burst")
	}
	if err := r.line.StopRing(); err != nil {
		t.Fatal(err)
	}
	r.next(t, hal.EventRingOff)
	if r.line.Ringing() || r.rm.Level() != gpio.Low || r.fr.Level() != gpio.High {
		t.Errorf("after StopRing: ringing %v, RM %v, F/R %v", r.line.Ringing(), r.rm.Level(), r.fr.Level())
	}
}

func TestRingTrip(t *testing.T) {
	r := open(t, Options{})
	if err := r.line.Ring(hal.Cadence{time.Second, time.Second}); err != nil {
		t.Fatal(err)
	}
	r.next(t, hal.EventRingOn)
	setHook(r.shk, true)
	r.next(t, hal.EventOffHook)
	r.next(t, hal.EventRingOff)
	if r.line.Ringing() || r.rm.Level() != gpio.Low || r.line.Feed() != hal.FeedActive {
		t.Errorf("after ring trip: ringing %v, RM %v, feed %v", r.line.Ringing(), r.rm.Level(), r.line.Feed())
	}
	if err := r.line.Ring(hal.Cadence{time.Second}); !errors.Is(err, ErrOffHook) {
		t.Errorf("Ring while off-hook: %v", err)
	}
}

func TestFeeds(t *testing.T) {
	r := open(t, Options{})
	if err := r.line.SetFeed(hal.FeedReverse); err != nil || r.fr.Level() != gpio.Low {
		t.Errorf("FeedReverse: %v, F/R %v", err, r.fr.Level())
	}
	for _, f := range []hal.Feed{hal.FeedOHT, hal.FeedReverseOHT, hal.FeedOpen} {
		if err := r.line.SetFeed(f); !errors.Is(err, ErrUnsupported) {
			t.Errorf("SetFeed(%v) without the parts for it: %v, want ErrUnsupported", f, err)
		}
	}
	if r.line.Feed() != hal.FeedReverse {
		t.Errorf("a refused feed changed the feed to %v", r.line.Feed())
	}

	w := open(t, Options{OHTResistor: true, Power: newRecPin("PWR")})
	if err := w.line.SetFeed(hal.FeedReverseOHT); err != nil || w.fr.Level() != gpio.Low {
		t.Errorf("FeedReverseOHT with the resistor: %v, F/R %v", err, w.fr.Level())
	}
	if err := w.line.SetFeed(hal.FeedOpen); err != nil || w.power.Level() != gpio.Low {
		t.Errorf("FeedOpen with a power pin: %v, power %v", err, w.power.Level())
	}
	if err := w.line.Ring(hal.Cadence{time.Second}); err != nil || w.power.Level() != gpio.High {
		t.Errorf("Ring from open: %v, power %v", err, w.power.Level())
	}
	w.line.Close()
	if _, ok := <-w.line.Events(); ok {
		for range w.line.Events() {
		}
	}
	if w.power.Level() != gpio.Low || w.rm.Level() != gpio.Low {
		t.Errorf("after Close: power %v, RM %v; want the module off and not ringing", w.power.Level(), w.rm.Level())
	}
	if err := w.line.SetFeed(hal.FeedActive); !errors.Is(err, ErrClosed) {
		t.Errorf("SetFeed after Close: %v", err)
	}
}
