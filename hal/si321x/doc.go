// Package si321x drives the Silicon Labs Si3210, Si3215 and Si3216 ProSLIC
// subscriber line interface circuits over periph's spi.Conn, and presents
// each chip as a hal.Line.
//
// # The chip
//
// A ProSLIC feeds one analog telephone line: it makes the battery voltage
// with its own DC-DC converter, drives tip and ring in a linefeed state
// (open, active, on-hook transmission, ringing, in either polarity),
// detects loop closure and ring trip, generates ringing, and codes the
// line's audio onto a PCM (TDM) bus. Software reaches it through a slow SPI
// port, one byte per chip-select frame:
//
//	write:  [addr]        [data]
//	read:   [addr | 0x80] [0x00 → data]
//
// Direct registers (DR0–108) hold control and status. Indirect registers
// (IR0–211, 16 bits) hold coefficients and thresholds; they are reached
// through DR28/29 (data), DR30 (address, starts the transfer) and DR31
// (busy). The Si3215 and Si3216 lack the DTMF decoder and renumber the
// indirect registers; this package always speaks Si3210 numbers and
// translates.
//
// # Open
//
// Open resets the chip (through an optional RESET pin), identifies it and
// checks its reset values, loads and verifies the indirect registers,
// brings up the DC-DC converter, runs its calibrations (converter, main,
// manual tip/ring gain, longitudinal balance), configures PCM, the DC feed
// and ringing, and makes the line active. Every wait and time limit comes
// from Timing; DefaultTiming holds the reference values for real chips.
//
// # The line
//
// After Open a goroutine watches the chip: on INT edges when the board
// wires the INT pin, otherwise by polling every Timing.Poll. Each service
// reads and clears the interrupt status (DR18–20) and reads the loop status
// (DR68); every loop-closure sample goes to a hook.Detector, which alone
// decides what is an off-hook, a hang-up, a flash or a rotary digit.
//
// Ringing uses the chip's own cadence timers when the cadence has two
// steps that fit them (RAT/RIT, 125 µs units, up to 8.19 s); other cadences
// are timed by the goroutine, which switches the linefeed between ringing
// and on-hook transmission. Either way the line is in on-hook transmission
// between bursts, so caller-ID audio on the PCM stream reaches the phone.
// Ring trip, or loop closure seen during ringing, stops ringing and leaves
// the line active in the polarity it had. A power alarm opens the line and
// is reported as EventFault.
//
// # Unconfirmed facts
//
// Where the register reference marks a fact unconfirmed the driver chooses
// the tolerant reading, and a test pins the choice: 16-bit linear PCM is
// DR1 = 0x38 (b2 left clear); DR108 = 0xEB is written only from revision C
// on; a missing null in manual gain calibration and a longitudinal balance
// fault are logged, not fatal; the Si3215/Si3216 indirect map skips IR23–25
// (pulse metering); the foreign-voltage check rejects DR80/81 ≥ 0x20; ring
// trip is acted on from DR19 b0, DR68 b1 or DR68 b0 alike, and the driver
// switches the linefeed itself rather than relying on the chip to.
package si321x
