package web

import (
	"os"

	"golang.org/x/sys/unix"
)

// staUnsync and timeError are from the kernel's timex.h: the clock is not
// disciplined by any time source.
const (
	staUnsync = 0x0040
	timeError = 5
)

// ClockSynced tells whether the system clock is synchronised to network
// time, as systemd-timesyncd marks it (/run/systemd/timesync/synchronized)
// or, failing that, as the kernel's clock discipline reports it
// (adjtimex: no STA_UNSYNC, no TIME_ERROR), whatever NTP client sets it.
// The gateway has no NTP client of its own.
func ClockSynced() (synced bool, how string) {
	if _, err := os.Stat("/run/systemd/timesync/synchronized"); err == nil {
		return true, "systemd-timesyncd"
	}
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, "adjtimex: " + err.Error()
	}
	if state == timeError || tx.Status&staUnsync != 0 {
		return false, "kernel clock not disciplined"
	}
	return true, "kernel clock disciplined"
}
