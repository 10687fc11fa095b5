package slicmodel

import (
	"time"

	"github.com/tipring/tipring/hal/si321x"
)

// Behaviour holds the model's own settling times: how long the chip takes
// for the things a driver waits for. Loop-closure and ring-trip debounce and
// the ring timers are not here; they come from the chip's registers (DR69,
// DR70, DR48–51) as on the real part.
type Behaviour struct {
	// IndirectBusy is how long DR31 reads non-zero after DR30 is written.
	IndirectBusy time.Duration
	// DCDCRamp is how long the converter takes from 0 V to VBATH once
	// DR14 b4 is cleared (the ramp is linear).
	DCDCRamp time.Duration
	// DCDCDecay is the time constant of the exponential decay of the
	// battery voltage after DR14 b4 is set.
	DCDCDecay time.Duration
	// DCCAL is how long DR93 b7 stays set after a DC-DC calibration starts.
	DCCAL time.Duration
	// Calibration is how long DR96 reads non-zero after a calibration starts.
	Calibration time.Duration
	// RingGainNull and TipGainNull are the manual calibration null points:
	// DR88 reads 0 while DR98 ≤ RingGainNull, DR89 while DR99 ≤ TipGainNull.
	RingGainNull, TipGainNull uint8
}

// DefaultBehaviour settles like a real chip, within the reference limits of
// si321x.DefaultTiming.
func DefaultBehaviour() Behaviour {
	return Behaviour{
		IndirectBusy: 20 * time.Microsecond,
		DCDCRamp:     150 * time.Millisecond,
		DCDCDecay:    2 * time.Second,
		DCCAL:        60 * time.Millisecond,
		Calibration:  250 * time.Millisecond,
		RingGainNull: 0x10,
		TipGainNull:  0x11,
	}
}

// FastBehaviour settles within milliseconds, for the simulated board and
// tests; pair it with DriverTiming(FastBehaviour()).
func FastBehaviour() Behaviour {
	return Behaviour{
		IndirectBusy: 0,
		DCDCRamp:     2 * time.Millisecond,
		DCDCDecay:    2 * time.Second,
		DCCAL:        time.Millisecond,
		Calibration:  2 * time.Millisecond,
		RingGainNull: 0x1C,
		TipGainNull:  0x1B,
	}
}

// InstantBehaviour settles at once: every poll loop of a driver ends on its
// first read, which makes recorded bus transactions independent of timing.
func InstantBehaviour() Behaviour {
	return Behaviour{RingGainNull: 0x1D, TipGainNull: 0x1C, DCDCDecay: 2 * time.Second}
}

// DriverTiming returns the driver Timing to pair with a model of
// behaviour b. Its limits are those of si321x.DefaultTiming, cut down to
// four times what b needs plus 200 ms (a margin for loaded or emulated
// machines) where b is faster than a real chip; its poll intervals are a
// quarter of the settling times. The waits the model does not need are
// dropped: reset hold and settle become 1 ms (the model resets at once) and
// the manual calibration steps 0 (its null indicators answer at once). The
// longitudinal-balance settle stays at 20 ms, above the reset loop-closure
// debounce (DR69 = 12.5 ms), so an off-hook phone is still noticed; hook
// polling and the INT wait keep their defaults.
func DriverTiming(b Behaviour) si321x.Timing {
	t := si321x.DefaultTiming
	const margin = 200 * time.Millisecond
	limit := func(d, def time.Duration) time.Duration { return min(def, 4*d+margin) }
	poll := func(d, def time.Duration) time.Duration { return min(def, max(d/4, 100*time.Microsecond)) }
	t.ResetHold, t.ResetSettle = time.Millisecond, time.Millisecond
	t.RampLimit, t.RampPoll = limit(b.DCDCRamp, t.RampLimit), poll(b.DCDCRamp, t.RampPoll)
	t.DCCALLimit, t.DCCALPoll = limit(b.DCCAL, t.DCCALLimit), poll(b.DCCAL, t.DCCALPoll)
	t.DCCALSettle = min(t.DCCALSettle, b.DCCAL)
	t.CalLimit, t.CalPoll = limit(b.Calibration, t.CalLimit), poll(b.Calibration, t.CalPoll)
	t.ManualCalSettle, t.ManualCalStep = 0, 0
	t.LongitudinalSettle = 20 * time.Millisecond
	return t
}
