// Package slicmodel is a register-level software model of the Silicon Labs
// Si3210/Si3215/Si3216 ProSLIC and the telephone line on it, for the
// simulated board: the real driver (hal/si321x) runs against it unchanged.
//
// # Two sides
//
// The digital side is what the driver sees. Conn is a periph spi.Conn that
// decodes the chip's protocol — one byte per chip-select frame, bit 7 of a
// control byte for read, the register value clocked out in the following
// byte — over 128 direct registers with their reset values, read-only
// fields and write-1-to-clear interrupt status, and the 16-bit indirect RAM
// reached through DR28–31 with its busy time. IntPin and ResetPin are the
// chip's INT output and RESET input as periph GPIO pins.
//
// The analog side is what the board and its virtual phones see. SetLoop is
// the phone's hook switch; LineFeed, Reversed and Ringing say what the line
// carries; PCM moves one block of 8 kHz frames between the TDM bus and the
// phone's earpiece and microphone, in the format and slots the driver
// configured.
//
// # Behaviour in time
//
// The model implements what si321x.md §9 asks for: the DC-DC converter
// ramps DR82 up when DR14 b4 is cleared and lets it decay when set; DC-DC
// calibration (DR93 b7) and the main and longitudinal calibrations (DR96)
// read busy for a while and then finish with plausible results; the manual
// gain null indicators DR88/DR89 read 0 at and below a null point; loop
// closure is debounced by DR69 and latches DR19 b1; closing the loop while
// ringing trips the ring after DR70 (DR68 b1, DR19 b0); the ring, OSC1 and
// OSC2 cadence timers alternate active and inactive phases in 125 µs ticks
// and latch DR18; INT is low while any enabled status bit is set.
//
// All of it runs on a Clock: the wall clock by default, a ManualClock in
// tests. How long the chip takes to settle is a Behaviour:
// DefaultBehaviour is as slow as a real chip, FastBehaviour settles in
// milliseconds, InstantBehaviour at once. DriverTiming gives the driver
// timing that matches a Behaviour.
//
// # Faults
//
// InjectPowerAlarm, SetForeignVoltage and SetAbsent (a chip that does not
// answer, reading all ones or all zeros) let tests check how a driver
// reacts.
//
// Where si321x.md marks a fact unconfirmed, the model picks one reading and
// documents it at the method: masked interrupts still latch; LFS (DR64
// b6:4) mirrors the linefeed and stays 4 through both ring phases; ring
// trip sets LCR as well and leaves the linefeed at ringing for the driver
// to change; DR68 b2 reads 1 while the line is fed and on-hook; the
// Si3215/Si3216 report a revision in DR0 b3:0 with part bits 0.
package slicmodel
