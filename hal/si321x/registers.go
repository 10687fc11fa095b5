package si321x

// Direct registers used by the driver (si321x.md §2), decimal as in the
// datasheet.
const (
	drID         = 0   // SPI mode, part, revision
	drPCMMode    = 1   // PCM enable and format; b7 = Si3215/16
	drPCMTXLo    = 2   // TX slot start, low byte
	drPCMTXHi    = 3   // TX slot start, b1:0
	drPCMRXLo    = 4   // RX slot start, low byte
	drPCMRXHi    = 5   // RX slot start, b1:0
	drPartID     = 6   // Si3215/16 variant in b7:5
	drLoopback   = 8   // digital loopback b1 (set at reset)
	drAudioGain  = 9   // analog gains
	drImpedance  = 10  // two-wire impedance
	drHybrid     = 11  // trans-hybrid balance
	drPowerDown1 = 14  // b4: DC-DC converter powered down
	drIRQ1       = 18  // status: oscillators, ring timers, pulse metering
	drIRQ2       = 19  // status: ring trip, loop closure, power alarms
	drIRQ3       = 20  // status: DTMF, indirect done, CM balance fault
	drIRQEn1     = 21  // enables, same layout as DR18
	drIRQEn2     = 22  // enables, same layout as DR19
	drIRQEn3     = 23  // enables, same layout as DR20
	drIDALo      = 28  // indirect data, low byte
	drIDAHi      = 29  // indirect data, high byte
	drIAA        = 30  // indirect address; writing starts the transfer
	drIAS        = 31  // indirect access status, non-zero while busy
	drRingOsc    = 34  // ring oscillator control
	drRATLo      = 48  // ringing active timer, 125 µs units
	drRATHi      = 49  //
	drRITLo      = 50  // ringing inactive timer, 125 µs units
	drRITHi      = 51  //
	drLinefeed   = 64  // b2:0 linefeed, b6:4 actual state
	drBias       = 65  // bias / external transistor control
	drBattFeed   = 66  // battery feed control
	drAutoManual = 67  // automatic/manual control
	drLoopStatus = 68  // b0 LCR, b1 ring trip
	drILIM       = 71  // loop current limit
	drVOC        = 72  // on-hook voltage
	drVCM        = 73  // common-mode voltage
	drVBATH      = 74  // high battery (ringing)
	drVTip       = 80  // tip voltage sense
	drVRing      = 81  // ring voltage sense
	drVBATHSense = 82  // high battery sense, ≈0.376 V/LSB
	drIQ5        = 88  // ring gain null indicator during manual calibration
	drIQ6        = 89  // tip gain null indicator during manual calibration
	drDCDCPeriod = 92  // DC-DC PWM period
	drDCDCDelay  = 93  // DC-DC switch delay; b7 DCCAL
	drCal1       = 96  // calibration control 1; b6 CAL, reads 0 when done
	drCal2       = 97  // calibration control 2
	drRingGain   = 98  // ring gain calibration result / manual setting
	drTipGain    = 99  // tip gain calibration result / manual setting
	drDCPeak     = 107 // DC peak current calibration result
	drEnhance    = 108 // enhancement enables (revision C and later)
)

// Register bits.
const (
	dr1Compact = 0x80 // DR1 b7: Si3215/Si3216
	dr1PCME    = 0x20 // DR1 b5: PCM enable

	dr14DCDCOff = 0x10 // DR14 b4: converter powered down

	irq1RingActive   = 0x10 // DR18 b4: ring active timer expired
	irq1RingInactive = 0x20 // DR18 b5: ring inactive timer expired

	irq2RingTrip    = 0x01 // DR19 b0
	irq2LoopClosure = 0x02 // DR19 b1
	irq2PowerAlarms = 0xFC // DR19 b7:2, transistors Q1–Q6

	irq3CMFault = 0x04 // DR20 b2: longitudinal balance calibration fault

	dr34Timers = 0x18 // DR34 b4:3: ring active and inactive timers enabled

	dr68LCR = 0x01 // DR68 b0: loop closed
	dr68RTP = 0x02 // DR68 b1: ring trip

	dr93DCCAL = 0x80 // DR93 b7: start DC-DC calibration, self-clearing

	dr96CAL = 0x40 // DR96 b6: calibration start / busy
)

// Linefeed states, DR64 b2:0 (si321x.md §2a).
const (
	lfOpen       = 0
	lfActive     = 1
	lfOHT        = 2
	lfTipOpen    = 3
	lfRinging    = 4
	lfReverse    = 5
	lfReverseOHT = 6
	lfRingOpen   = 7
)

// Register values of the power-up sequence (si321x.md §4).
const (
	dr92SlowStart  = 0xFF // DC-DC PWM period during the ramp
	dr93SlowStart  = 0x19 // DC-DC switch delay during the ramp
	dr92Normal     = 0x7F // DC-DC PWM period in operation
	dr93Normal     = 0x14 // DC-DC switch delay in operation
	dr92M          = 0x60 // M parts: period, ramp and operation
	dr93M          = 0x38 // M parts: delay, ramp and operation
	dr97Main       = 0x1E // CALM1, CALM2, CALDAC, CALADC
	dr96Main       = 0x47 // CAL, CALR, CALT, CALD, CALC, CALIL
	dr97CM         = 0x01 // CALCM: longitudinal balance
	dr96CM         = 0x40 // CAL
	dr98Center     = 0x10 // tip gain held here while the ring gain is found
	manualCalStart = 0x1F // highest gain code tried in manual calibration
	dr107Min       = 0x02 // sane DC peak calibration result, low end
	dr107Max       = 0x0D // high end
	dr107Fallback  = 0x08 // written when the result is out of range
	dr108Enhance   = 0xEB // revision C and later feature enables
	dr67Si3210     = 0x17 // automatic control, battery switching off
	dr66Si3210     = 0x01 // keep the battery-switch transistor Q7 off
	dr65Bias       = 0x61
	dr10Impedance  = 0x28 // 600 Ω
	dr73VCM        = 0x02 // 3 V common mode
	dr73VCMRevB    = 0x04 // revision B and earlier need 6 V
	irqEn1         = irq1RingActive | irq1RingInactive
	irqEn2         = 0xFF // ring trip, loop closure, power alarms
	irqEn3         = 0x00 // DTMF is detected from PCM; no interrupt
	foreignLimit   = 0x20 // DR80/81 at or above this before power-up: foreign voltage (≈12 V at 0.376 V/LSB, scale unconfirmed)
	vbatSenseMilli = 375  // DR82 target scale used for the ramp check, mV per LSB
)
