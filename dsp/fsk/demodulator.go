package fsk

import (
	"fmt"
	"math"

	"github.com/tipring/tipring/dsp"
)

// DefaultMinLevel is the carrier-detect threshold of a Demodulator, in dBm0:
// well below the −32 dBm that GR-30 and EN 300 659 ask receivers to accept.
const DefaultMinLevel = -48.0

const (
	firTaps    = 17     // baseband low-pass length (odd, linear phase)
	firCutoff  = 1100.0 // Hz: passes ±500 Hz deviation plus the keying sidebands
	postTaps   = 3      // moving average after the discriminator
	cdAlpha    = 1.0 / 64
	cdOnRatio  = 0.75 // in-band share of the input power to raise carrier detect
	cdOffRatio = 0.55
	cdOnHold   = 40 // samples the condition must hold to raise carrier detect
	cdOffHold  = 96 // samples it must fail to drop it
	cdFastOff  = 16 // samples 10 dB below the carrier's level that drop it at once
	cdFast     = 1.0 / 8
	cdTrack    = 1.0 / 256
	estDelay   = 8 // samples a mark-frequency measurement keeps from a run's ends
	renormMask = 255
)

// DemodulatorConfig selects what a Demodulator listens for.
type DemodulatorConfig struct {
	// Modem fixes the centre frequency, the sense of mark and space, and the
	// bit rate. The zero value means Bell202; because Bell 202 and V.23
	// share the 1700 Hz centre and the 1200 baud rate, that one receiver
	// decodes both, and MarkFrequency tells them apart.
	Modem Modem
	// MinLevelDBm0 is the carrier-detect threshold; 0 means DefaultMinLevel.
	MinLevelDBm0 float64
}

// Stats counts what a Demodulator has seen since it was made or Reset.
type Stats struct {
	Bytes         uint64 // characters delivered
	FramingErrors uint64 // characters dropped for a space where the stop bit belongs
	Carriers      uint64 // rising edges of carrier detect
}

type uartState uint8

const (
	uartHunt  uartState = iota // waiting for a start-bit edge
	uartFrame                  // sampling start, data and stop bits
)

// Demodulator receives binary FSK: it mixes the input down to complex
// baseband around the centre of the two tones, low-passes it, and takes
// the sign of the phase advance between samples (a quadrature
// discriminator). A carrier detector gates a UART that finds each start bit
// edge to a fraction of a sample and samples the following bits in their
// middle. Decisions depend only on signs and ratios, so the receiver works
// the same from +3 dBm0 down to its carrier threshold. It does not allocate
// in Demodulate.
type Demodulator struct {
	modem    Modem
	center   float64
	markSign float64 // +1 when the mark tone lies above the centre
	spb      float64

	// local oscillator, a unit phasor rotated by (rotC, rotS) per sample
	loC, loS, rotC, rotS float64
	count                uint32

	taps     [firTaps]float64
	bufI     [2 * firTaps]float64
	bufQ     [2 * firTaps]float64
	bp       int
	prevI    float64
	prevQ    float64
	crossBuf [postTaps]float64
	pp       int

	// carrier detect
	pIn, pAll     float64 // in-band and total power, 8 ms average
	pFast, pCar   float64 // in-band power, 1 ms average; the carrier's level
	thrOn, thrOff float64
	carrier       bool
	cdRun         int
	fastRun       int

	// mark frequency estimate
	estC, estD [estDelay]float64
	ep         int
	markRun    int
	sumC, sumD float64

	// UART
	lastS  float64
	state  uartState
	tNext  float64 // next bit sampling instant relative to the current sample
	bitIdx int
	shift  byte
	stats  Stats
}

// NewDemodulator returns a receiver configured by cfg.
func NewDemodulator(cfg DemodulatorConfig) (*Demodulator, error) {
	m := cfg.Modem
	if m == (Modem{}) {
		m = Bell202()
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	lvl := cfg.MinLevelDBm0
	if lvl == 0 {
		lvl = DefaultMinLevel
	}
	if math.IsNaN(lvl) || lvl > 0 {
		return nil, fmt.Errorf("%w: carrier threshold %g dBm0", ErrBadLevel, lvl)
	}
	d := &Demodulator{
		modem:    m,
		center:   (m.Mark + m.Space) / 2,
		markSign: 1,
		spb:      m.SamplesPerBit(),
	}
	if m.Mark < m.Space {
		d.markSign = -1
	}
	w := 2 * math.Pi * d.center / dsp.SampleRate
	d.rotC, d.rotS = math.Cos(w), -math.Sin(w)
	// Windowed-sinc low-pass (Hamming), unity gain at DC.
	var sum float64
	mid := (firTaps - 1) / 2
	fc := firCutoff / dsp.SampleRate
	for i := range d.taps {
		k := float64(i - mid)
		h := 2 * fc
		if k != 0 {
			h = math.Sin(2*math.Pi*fc*k) / (math.Pi * k)
		}
		h *= 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(firTaps-1))
		d.taps[i] = h
		sum += h
	}
	for i := range d.taps {
		d.taps[i] /= sum
	}
	p0 := dsp.ZeroDBm0RMS * dsp.ZeroDBm0RMS
	d.thrOn = p0 * math.Pow(10, lvl/10)
	d.thrOff = d.thrOn / 2
	d.Reset()
	return d, nil
}

// Modem returns the modem the receiver is tuned to.
func (d *Demodulator) Modem() Modem { return d.modem }

// Reset returns the receiver to its idle state and clears Stats.
func (d *Demodulator) Reset() {
	d.loC, d.loS, d.count = 1, 0, 0
	d.bufI, d.bufQ = [2 * firTaps]float64{}, [2 * firTaps]float64{}
	d.bp, d.prevI, d.prevQ = 0, 0, 0
	d.crossBuf, d.pp = [postTaps]float64{}, 0
	d.pIn, d.pAll, d.pFast, d.pCar, d.fastRun = 0, 0, 0, 0, 0
	d.estC, d.estD, d.ep = [estDelay]float64{}, [estDelay]float64{}, 0
	d.carrier, d.cdRun, d.markRun = false, 0, 0
	d.sumC, d.sumD, d.lastS = 0, 0, 0
	d.state, d.tNext, d.bitIdx, d.shift = uartHunt, 0, 0, 0
	d.stats = Stats{}
}

// Carrier reports whether carrier detect is up.
func (d *Demodulator) Carrier() bool { return d.carrier }

// Stats returns the counters since the receiver was made or Reset.
func (d *Demodulator) Stats() Stats { return d.stats }

// MarkFrequency estimates the mark tone's frequency from the runs of mark
// seen since carrier detect last rose (the mark signal, stop bits and idle
// time). ok is false before any such run. Callers tell Bell 202 (1200 Hz)
// from V.23 (1300 Hz) by it.
func (d *Demodulator) MarkFrequency() (hz float64, ok bool) {
	if d.sumD == 0 && d.sumC == 0 {
		return 0, false
	}
	return d.center + math.Atan2(d.sumC, d.sumD)*dsp.SampleRate/(2*math.Pi), true
}

// Demodulate consumes samples and appends the characters completed in them
// to dst, returning the extended slice. A 20 ms frame completes at most
// three characters, so a dst with that much spare capacity never grows.
func (d *Demodulator) Demodulate(samples []int16, dst []byte) []byte {
	for _, s := range samples {
		x := float64(s)
		// Mix down: multiply by the conjugate oscillator.
		i0 := x * d.loC
		q0 := x * d.loS
		c, sn := d.loC*d.rotC-d.loS*d.rotS, d.loC*d.rotS+d.loS*d.rotC
		d.loC, d.loS = c, sn
		d.count++
		if d.count&renormMask == 0 {
			g := 1 / math.Hypot(d.loC, d.loS)
			d.loC *= g
			d.loS *= g
		}
		// Low-pass I and Q (the delay line is stored twice so the window
		// is contiguous).
		d.bufI[d.bp], d.bufI[d.bp+firTaps] = i0, i0
		d.bufQ[d.bp], d.bufQ[d.bp+firTaps] = q0, q0
		d.bp++
		if d.bp == firTaps {
			d.bp = 0
		}
		wi := d.bufI[d.bp : d.bp+firTaps]
		wq := d.bufQ[d.bp : d.bp+firTaps]
		var zi, zq float64
		for k, h := range d.taps {
			zi += h * wi[k]
			zq += h * wq[k]
		}
		// Discriminator: phase advance from the previous sample.
		cross := d.prevI*zq - d.prevQ*zi
		dot := d.prevI*zi + d.prevQ*zq
		d.prevI, d.prevQ = zi, zq
		d.crossBuf[d.pp] = cross
		d.pp++
		if d.pp == postTaps {
			d.pp = 0
		}
		var sc float64
		for _, v := range d.crossBuf {
			sc += v
		}
		soft := sc * d.markSign // > 0: mark

		// Carrier detect on in-band power and its share of all power; a
		// fast drop of 10 dB below the carrier's level ends it at once, so
		// that the noise after a burst does not reach the UART.
		pin := 2 * (zi*zi + zq*zq)
		d.pIn += (pin - d.pIn) * cdAlpha
		d.pFast += (pin - d.pFast) * cdFast
		d.pAll += (x*x - d.pAll) * cdAlpha
		if !d.carrier {
			if d.pIn >= d.thrOn && d.pIn >= cdOnRatio*d.pAll && d.pFast >= d.pIn/2 {
				d.cdRun++
				if d.cdRun >= cdOnHold {
					d.carrier, d.cdRun, d.fastRun = true, 0, 0
					d.pCar = d.pIn
					d.stats.Carriers++
					d.sumC, d.sumD, d.markRun = 0, 0, 0
					d.state = uartHunt
				}
			} else {
				d.cdRun = 0
			}
		} else {
			if d.pFast >= d.pCar/4 {
				d.pCar += (d.pFast - d.pCar) * cdTrack
			}
			if d.pFast < d.pCar/10 {
				d.fastRun++
			} else {
				d.fastRun = 0
			}
			if d.pIn < d.thrOff || d.pIn < cdOffRatio*d.pAll {
				d.cdRun++
			} else {
				d.cdRun = 0
			}
			if d.cdRun >= cdOffHold || d.fastRun >= cdFastOff {
				d.carrier, d.cdRun, d.fastRun = false, 0, 0
				d.state = uartHunt
			}
		}
		// Delay the discriminator products so that a frequency measurement
		// inside a run of marks stays clear of both of its ends.
		oldC, oldD := d.estC[d.ep], d.estD[d.ep]
		d.estC[d.ep], d.estD[d.ep] = cross, dot
		d.ep = (d.ep + 1) % estDelay
		if !d.carrier {
			d.lastS = soft
			continue
		}
		if soft > 0 {
			d.markRun++
		} else {
			d.markRun = 0
		}
		switch d.state {
		case uartHunt:
			if d.markRun > 2*estDelay {
				d.sumC += oldC
				d.sumD += oldD
			}
			if d.lastS > 0 && soft < 0 {
				// Start-bit edge between the previous sample and this one.
				edge := d.lastS/(d.lastS-soft) - 1
				d.tNext = edge + d.spb/2
				d.state, d.bitIdx, d.shift = uartFrame, 0, 0
			}
		case uartFrame:
			d.tNext--
			if d.tNext <= 0 {
				// Interpolate the soft value at the sampling instant.
				v := soft + (d.lastS-soft)*(-d.tNext)
				bit := v > 0
				switch {
				case d.bitIdx == 0:
					if bit {
						d.state = uartHunt // false start
					}
				case d.bitIdx <= 8:
					if bit {
						d.shift |= 1 << (d.bitIdx - 1)
					}
				default:
					if bit {
						dst = append(dst, d.shift)
						d.stats.Bytes++
					} else {
						d.stats.FramingErrors++
					}
					d.state = uartHunt
				}
				d.bitIdx++
				d.tNext += d.spb
			}
		}
		d.lastS = soft
	}
	return dst
}
