package si321x

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/tipring/tipring/hal/hook"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Format is the PCM sample format the chip puts on its TDM slots (DR1 b4:3).
type Format uint8

// PCM formats. The zero value is 16-bit linear, two bytes per slot, most
// significant byte first.
const (
	Linear16 Format = iota // 16-bit two's complement, MSB first
	Ulaw                   // G.711 µ-law, one byte
	Alaw                   // G.711 A-law, one byte
)

// String returns the format's name: linear16, ulaw or alaw.
func (f Format) String() string {
	switch f {
	case Linear16:
		return "linear16"
	case Ulaw:
		return "ulaw"
	case Alaw:
		return "alaw"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// dr1 returns the DR1 value enabling PCM in format f. Linear is written as
// b4:3 = 11 with b2 clear: one driver writes 0x3C, but b2 is the wideband
// enable on some Si3216 API versions, so the driver leaves it alone
// (unconfirmed; pinned by TestPCMModeRegister).
func (f Format) dr1() uint8 {
	switch f {
	case Ulaw:
		return dr1PCME | 0x08
	case Alaw:
		return dr1PCME
	}
	return dr1PCME | 0x18
}

// PCMConfig places the line's audio on the PCM bus.
type PCMConfig struct {
	Format Format
	// TXSlot and RXSlot are the start of the chip's transmit (DTX) and
	// receive (DRX) slots, in PCLK cycles after the frame sync (DR2/3 and
	// DR4/5, 10 bits: 0…1023). Slot n of 8-bit samples is 8·n.
	TXSlot, RXSlot int
}

// Options configure Open. The zero value is usable: polled hook detection,
// no reset pin, DefaultTiming, hook.DefaultTiming, 16-bit linear PCM in the
// first slot, 20 Hz ringing at 70 V peak, 20 mA loop current, 48 V on-hook.
type Options struct {
	// Reset is the pin wired to the chip's RESET input (active low), or nil
	// when the board resets the chip some other way.
	Reset gpio.PinOut
	// Int is the pin wired to the chip's INT output (active low, needs a
	// pull-up), or nil to poll DR68 and the status registers every
	// Timing.Poll instead.
	Int gpio.PinIn
	// Timing holds the driver's waits and limits; the zero value means
	// DefaultTiming.
	Timing Timing
	// Hook classifies loop-closure samples; the zero value means
	// hook.DefaultTiming.
	Hook hook.Timing
	// PCM selects the sample format and the TDM slots.
	PCM PCMConfig
	// RingFrequency is the ringing frequency, 10–100 Hz; 0 means 20 Hz.
	RingFrequency physic.Frequency
	// RingVoltage is the peak ringing voltage, 10–89 V; 0 means 70 V. The
	// driver raises the ringing battery (VBATH, DR74) to suit it.
	RingVoltage physic.ElectricPotential
	// LoopCurrent is the off-hook loop current limit, 20–41 mA in 3 mA steps
	// (DR71); 0 means 20 mA.
	LoopCurrent physic.ElectricCurrent
	// OpenCircuitVoltage is the on-hook tip-ring voltage, 1.5–94.5 V in
	// 1.5 V steps (VOC, DR72); 0 means 48 V.
	OpenCircuitVoltage physic.ElectricPotential
	// Logger receives calibration results and warnings; nil discards them.
	Logger *slog.Logger
}

// Ring generator limits accepted by Options.
const (
	MinRingFrequency = 10 * physic.Hertz
	MaxRingFrequency = 100 * physic.Hertz
	MinRingVoltage   = 10 * physic.Volt
	MaxRingVoltage   = 89 * physic.Volt
)

// Electrical scales of the chip's registers (si321x.md §2).
const (
	vbatStep      = 1500 * physic.MilliVolt // DR72–75: 1.5 V per LSB
	ringFullScale = 96 * physic.Volt        // RNGX full scale
	ringOverhead  = 5 * physic.Volt         // VBATH above the ring peak
	ilimBase      = 20 * physic.MilliAmpere // DR71 code 0
	ilimStep      = 3 * physic.MilliAmpere  // DR71 per LSB
)

// config is Options resolved into register values.
type config struct {
	timing   Timing
	hook     hook.Timing
	pcm      PCMConfig
	rco      uint16 // IR20
	rngx     uint16 // IR21
	nrtp     uint16 // IR36 ring-trip filter for the ring frequency
	vbath    uint8  // DR74
	ilim     uint8  // DR71
	voc      uint8  // DR72
	log      *slog.Logger
	reset    gpio.PinOut
	intPin   gpio.PinIn
	ringFreq physic.Frequency
	ringVolt physic.ElectricPotential
}

func (o Options) resolve() (config, error) {
	c := config{timing: o.Timing, hook: o.Hook, pcm: o.PCM, log: o.Logger, reset: o.Reset, intPin: o.Int}
	if c.timing == (Timing{}) {
		c.timing = DefaultTiming
	}
	if err := c.timing.Validate(); err != nil {
		return c, err
	}
	if c.hook == (hook.Timing{}) {
		c.hook = hook.DefaultTiming
	}
	if err := c.hook.Validate(); err != nil {
		return c, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch c.pcm.Format {
	case Linear16, Ulaw, Alaw:
	default:
		return c, fmt.Errorf("%w: PCM format %v", ErrOptions, c.pcm.Format)
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"TXSlot", c.pcm.TXSlot}, {"RXSlot", c.pcm.RXSlot}} {
		if s.v < 0 || s.v > 1023 {
			return c, fmt.Errorf("%w: PCM %s %d out of range 0…1023 (DR2–5 hold 10 bits)", ErrOptions, s.name, s.v)
		}
	}
	c.ringFreq, c.ringVolt = o.RingFrequency, o.RingVoltage
	if c.ringFreq == 0 {
		c.ringFreq = 20 * physic.Hertz
	}
	if c.ringVolt == 0 {
		c.ringVolt = 70 * physic.Volt
	}
	var err error
	if c.rco, c.rngx, err = RingCoefficients(c.ringFreq, c.ringVolt); err != nil {
		return c, err
	}
	c.nrtp = ringTripFilter(c.ringFreq)
	// VBATH must exceed the ring peak plus the transistors' overhead; never
	// below the reset value 0x32 (75 V), never above 0x3F (94.5 V).
	need := (c.ringVolt + ringOverhead + vbatStep - 1) / vbatStep
	c.vbath = uint8(min(max(need, 0x32), 0x3F))

	cur := o.LoopCurrent
	if cur == 0 {
		cur = ilimBase
	}
	if cur < ilimBase || cur > ilimBase+7*ilimStep {
		return c, fmt.Errorf("%w: loop current %v out of range 20–41 mA (DR71)", ErrOptions, cur)
	}
	c.ilim = uint8((cur - ilimBase + ilimStep/2) / ilimStep)

	voc := o.OpenCircuitVoltage
	if voc == 0 {
		voc = 48 * physic.Volt
	}
	if voc < vbatStep || voc > 0x3F*vbatStep {
		return c, fmt.Errorf("%w: open-circuit voltage %v out of range 1.5–94.5 V (DR72)", ErrOptions, voc)
	}
	c.voc = uint8((voc + vbatStep/2) / vbatStep)
	return c, nil
}

// RingCoefficients returns the ring oscillator frequency coefficient RCO
// (IR20) and amplitude RNGX (IR21) of a sinusoidal ringing signal of
// frequency f and peak voltage v, by the formulas of the datasheet:
//
//	coeff = cos(2π·f / 1000 Hz)
//	RCO   = coeff · 2¹⁵
//	RNGX  = ¼ · √((1−coeff)/(1+coeff)) · 2¹⁵ · v / 96 V
//
// Both are truncated toward zero, which reproduces the datasheet's 20 Hz
// example (0x7EFD); DAHDI's 25 Hz constant 0x7E6D is the rounded value, one
// LSB above the truncated 0x7E6C. The phase register RNGY (IR22) is 0 for a
// sine.
func RingCoefficients(f physic.Frequency, v physic.ElectricPotential) (rco, rngx uint16, err error) {
	if f < MinRingFrequency || f > MaxRingFrequency {
		return 0, 0, fmt.Errorf("%w: ring frequency %v out of range %v–%v", ErrOptions, f, MinRingFrequency, MaxRingFrequency)
	}
	if v < MinRingVoltage || v > MaxRingVoltage {
		return 0, 0, fmt.Errorf("%w: ring voltage %v out of range %v–%v", ErrOptions, v, MinRingVoltage, MaxRingVoltage)
	}
	hz := float64(f) / float64(physic.Hertz)
	c := math.Cos(2 * math.Pi * hz / 1000)
	rco = uint16(c * (1 << 15))
	x := 0.25 * math.Sqrt((1-c)/(1+c)) * (1 << 15) * float64(v) / float64(ringFullScale)
	return rco, uint16(x), nil
}

// ringTripFilter returns the ring-trip filter coefficient NRTP (IR36) from
// the datasheet's table, for the listed frequency nearest to f.
func ringTripFilter(f physic.Frequency) uint16 {
	table := []struct {
		f physic.Frequency
		v uint16
	}{
		{16670 * physic.MilliHertz, 0x0200}, {20 * physic.Hertz, 0x0320}, {30 * physic.Hertz, 0x0380},
		{40 * physic.Hertz, 0x0400}, {50 * physic.Hertz, 0x06A8}, {60 * physic.Hertz, 0x0800},
	}
	best := table[0]
	for _, e := range table[1:] {
		if absFreq(e.f-f) < absFreq(best.f-f) {
			best = e
		}
	}
	return best.v
}

func absFreq(f physic.Frequency) physic.Frequency {
	if f < 0 {
		return -f
	}
	return f
}
