package slicmodel

import (
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	start := time.Unix(0, 0)
	c := NewManualClock(start)
	var got []time.Duration
	rec := func() { got = append(got, c.Now().Sub(start)) }
	c.AfterFunc(30*time.Millisecond, rec)
	stopped := c.AfterFunc(20*time.Millisecond, rec)
	c.AfterFunc(10*time.Millisecond, func() {
		rec()
		c.AfterFunc(5*time.Millisecond, rec) // scheduled from a callback
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop reports wrongly")
	}
	c.Advance(25 * time.Millisecond)
	if len(got) != 2 || got[0] != 10*time.Millisecond || got[1] != 15*time.Millisecond {
		t.Errorf("callbacks at %v", got)
	}
	if c.Now().Sub(start) != 25*time.Millisecond {
		t.Errorf("now %v", c.Now())
	}
	c.Advance(time.Second)
	if len(got) != 3 || got[2] != 30*time.Millisecond {
		t.Errorf("callbacks at %v", got)
	}
}

func TestDriverTiming(t *testing.T) {
	for _, b := range []Behaviour{DefaultBehaviour(), FastBehaviour(), InstantBehaviour()} {
		tm := DriverTiming(b)
		if err := tm.Validate(); err != nil {
			t.Error(err)
		}
		if tm.RampLimit <= b.DCDCRamp || tm.CalLimit <= b.Calibration || tm.DCCALLimit <= b.DCCAL {
			t.Errorf("limits %+v too short for %+v", tm, b)
		}
	}
}
