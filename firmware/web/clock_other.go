//go:build !linux

package web

// ClockSynced is only known on Linux.
func ClockSynced() (synced bool, how string) { return false, "unknown on this system" }
