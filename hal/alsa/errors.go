package alsa

import "errors"

// Sentinel errors; the package wraps them with the device and the values
// involved. Test with errors.Is.
var (
	// ErrXrun is returned by a Substream read or write when the stream
	// stopped on an overrun (capture) or underrun (playback): EPIPE from the
	// kernel. The Device recovers from it by itself.
	ErrXrun = errors.New("alsa: xrun")
	// ErrSuspended is returned by a Substream read or write when the device
	// was suspended (ESTRPIPE). The Device prepares it again like an xrun.
	ErrSuspended = errors.New("alsa: stream suspended")
	// ErrNoCard means no card has the requested number or name.
	ErrNoCard = errors.New("alsa: no such sound card")
	// ErrParams means the hardware cannot do what the Config asks.
	ErrParams = errors.New("alsa: hardware parameters not supported")
	// ErrConfig means the Config itself is invalid.
	ErrConfig = errors.New("alsa: invalid configuration")
	// ErrVersion means the kernel speaks a PCM protocol this package does not
	// know (a major version other than 2).
	ErrVersion = errors.New("alsa: unsupported PCM protocol version")
	// ErrSlotInUse means a slot was asked for twice.
	ErrSlotInUse = errors.New("alsa: slot already in use")
	// ErrClosed is returned after the Device or the slot is closed.
	ErrClosed = errors.New("alsa: closed")
	// ErrStopped is returned by a slot's Read when the Device's loop gave up
	// after errors it could not recover from; it wraps the last of them.
	ErrStopped = errors.New("alsa: device stopped")
	// ErrUnsupportedPlatform means the running system cannot use this
	// package: not Linux, or a big-endian CPU (samples are S16_LE in memory).
	ErrUnsupportedPlatform = errors.New("alsa: unsupported platform")
)
