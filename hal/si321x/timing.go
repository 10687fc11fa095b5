package si321x

import (
	"fmt"
	"time"
)

// Timing holds every wait and time limit of the driver. Each limit bounds a
// poll loop by a deadline instead of a count of reads, so the loops behave
// the same on a fast and a slow SPI bus.
//
// DefaultTiming holds the reference values for real chips. A board whose
// chip settles faster (the simulated board's model in its fast behaviour)
// may pass shorter times; a limit shorter than the chip needs makes Open fail.
type Timing struct {
	// ResetHold is how long RESET is held low; ResetSettle how long the
	// driver waits after releasing it before the first SPI access.
	ResetHold, ResetSettle time.Duration
	// IndirectLimit bounds the DR31 busy poll of one indirect access. The
	// poll reads back to back, without sleeping.
	IndirectLimit time.Duration
	// RampPoll is the interval between DR82 reads while the DC-DC converter
	// ramps up; RampLimit is how long it may take to reach the target.
	RampPoll, RampLimit time.Duration
	// DCCALSettle is the wait between switching the converter to its normal
	// PWM period and starting its calibration; DR93 is then polled every
	// DCCALPoll until DCCALLimit.
	DCCALSettle, DCCALPoll, DCCALLimit time.Duration
	// CalPoll is the DR96 poll interval of the main and longitudinal
	// calibrations; CalLimit bounds each of them.
	CalPoll, CalLimit time.Duration
	// ManualCalSettle is the wait before the manual tip/ring gain
	// calibration; ManualCalStep the wait after each gain step before the
	// null indicator (DR88/DR89) is read.
	ManualCalSettle, ManualCalStep time.Duration
	// LongitudinalSettle is how long the line is fed before the off-hook
	// check that precedes longitudinal balance calibration.
	LongitudinalSettle time.Duration
	// Poll is the interval of status and DR68 polling when no INT pin is
	// given. With an INT pin the driver still wakes at hook deadlines.
	Poll time.Duration
	// IntWait is the longest single WaitForEdge on the INT pin. It bounds how
	// long Close waits for the edge goroutine, and how late a missed edge is
	// noticed (the driver also checks the pin level on every wake-up).
	IntWait time.Duration
}

// DefaultTiming holds the reference values for a real Si321x: the waits of
// the Silicon Labs application code and DAHDI as collected in si321x.md §4,
// and DAHDI-like 5 ms hook polling.
var DefaultTiming = Timing{
	ResetHold:          250 * time.Millisecond,
	ResetSettle:        250 * time.Millisecond,
	IndirectLimit:      10 * time.Millisecond,
	RampPoll:           10 * time.Millisecond,
	RampLimit:          500 * time.Millisecond,
	DCCALSettle:        30 * time.Millisecond,
	DCCALPoll:          100 * time.Millisecond,
	DCCALLimit:         time.Second,
	CalPoll:            time.Millisecond,
	CalLimit:           800 * time.Millisecond,
	ManualCalSettle:    10 * time.Millisecond,
	ManualCalStep:      40 * time.Millisecond,
	LongitudinalSettle: 250 * time.Millisecond,
	Poll:               5 * time.Millisecond,
	IntWait:            100 * time.Millisecond,
}

// Validate checks that every field is usable: waits may be zero, poll
// intervals and limits must be positive.
func (t Timing) Validate() error {
	pos := []struct {
		name string
		d    time.Duration
	}{
		{"IndirectLimit", t.IndirectLimit}, {"RampPoll", t.RampPoll}, {"RampLimit", t.RampLimit},
		{"DCCALPoll", t.DCCALPoll}, {"DCCALLimit", t.DCCALLimit}, {"CalPoll", t.CalPoll},
		{"CalLimit", t.CalLimit}, {"Poll", t.Poll}, {"IntWait", t.IntWait},
	}
	for _, p := range pos {
		if p.d <= 0 {
			return fmt.Errorf("%w: Timing.%s is %v, want > 0", ErrOptions, p.name, p.d)
		}
	}
	nonneg := []struct {
		name string
		d    time.Duration
	}{
		{"ResetHold", t.ResetHold}, {"ResetSettle", t.ResetSettle}, {"DCCALSettle", t.DCCALSettle},
		{"ManualCalSettle", t.ManualCalSettle}, {"ManualCalStep", t.ManualCalStep},
		{"LongitudinalSettle", t.LongitudinalSettle},
	}
	for _, p := range nonneg {
		if p.d < 0 {
			return fmt.Errorf("%w: Timing.%s is %v, want ≥ 0", ErrOptions, p.name, p.d)
		}
	}
	return nil
}
