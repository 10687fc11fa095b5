package si321x

import "errors"

// Sentinel errors. Open and the Line methods wrap them with the register
// numbers and values involved; test with errors.Is.
var (
	// ErrNoChip means nothing answers on the bus: DR0 reads a revision of 0
	// or 0xF, which is what a floating or shorted SDO line returns.
	ErrNoChip = errors.New("si321x: no chip answers")
	// ErrSanity means a chip answers but a register holds something other
	// than its documented reset value, or a written value does not read back.
	ErrSanity = errors.New("si321x: register sanity check failed")
	// ErrUnsupported means the chip is a part or revision this driver does
	// not handle (Si3211/Si3212 without a DC-DC converter, revision A).
	ErrUnsupported = errors.New("si321x: unsupported part")
	// ErrIndirectBusy means DR31 stayed non-zero past Timing.IndirectLimit.
	ErrIndirectBusy = errors.New("si321x: indirect register access timed out")
	// ErrIndirectVerify means an indirect register did not read back the
	// value the init table wrote.
	ErrIndirectVerify = errors.New("si321x: indirect register read-back mismatch")
	// ErrForeignVoltage means tip or ring carries a voltage before the
	// DC-DC converter is powered: something else drives the line.
	ErrForeignVoltage = errors.New("si321x: foreign voltage on the line")
	// ErrNoConverter means the DC-DC converter did not bring the battery
	// voltage (DR82) up in time: no converter power or a broken converter.
	ErrNoConverter = errors.New("si321x: DC-DC converter did not reach the battery voltage")
	// ErrCalibration means a calibration did not finish in time.
	ErrCalibration = errors.New("si321x: calibration failed")
	// ErrOptions means Options hold a value the chip cannot produce.
	ErrOptions = errors.New("si321x: invalid options")
	// ErrOffHook is returned by Ring when the phone is already off-hook.
	ErrOffHook = errors.New("si321x: line is off-hook")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("si321x: line closed")
	// ErrPowerAlarm is carried by EventFault when the chip reports a power
	// alarm on one of its external transistors and opens the line.
	ErrPowerAlarm = errors.New("si321x: power alarm")
)
