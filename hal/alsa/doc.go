// Package alsa moves telephone audio through the Linux kernel's ALSA PCM
// interface directly, with ioctls on /dev/snd/pcmC*D*[pc], without cgo or
// alsa-lib.
//
// # Concepts
//
// A sound card (hw:CARD) has PCM devices (hw:CARD,DEV); each device has a
// playback and a capture substream, two character devices that are opened
// and configured separately. Configuration is a negotiation: the program
// fills a hardware parameter space (HWParams: access, sample format,
// channels, rate, period and buffer size as masks and intervals), the
// kernel narrows it to what the hardware can do (HW_REFINE), the program
// pins the remaining choices and installs them (HW_PARAMS). Software
// parameters (SWParams) then say when the stream starts and when a waiting
// reader wakes up.
//
// Audio moves in periods: the hardware interrupts once per period, and a
// blocking read of one period returns when the hardware has captured it.
// Here a period is one 20 ms telephone frame, so the capture interrupt is
// the clock that paces every line's media loop, as the crystal-driven PCM
// clock of a SLIC bus should.
//
// # TDM slots and ports
//
// A telephony PCM bus carries several SLICs in time slots of one frame. To
// ALSA those slots are the channels of one interleaved stream. A Device
// owns both substreams of one PCM device and one goroutine that reads a
// period of every channel, hands each port its frame and writes back a
// period made of what each port queued. Slot returns the hal.PCM of one
// port: a view on one channel, or on one byte of one channel when two
// 8-bit G.711 slots share a 16-bit channel (how four SLICs fit the two
// channels that the Raspberry Pi's PCM block can carry).
//
// # Xruns
//
// When the loop is late the hardware overwrites capture data it had not
// handed over (an overrun) or runs out of playback data (an underrun); the
// kernel then stops the stream and the next read or write fails with EPIPE.
// The Device counts the xrun, prepares the stream again, refills the
// playback buffer with silence and restarts. Capture and playback are
// linked when the driver allows it (LINK), so they stop, prepare and start
// together and their periods stay aligned.
//
// # Testing
//
// Device talks to the kernel through the Kernel and Substream interfaces.
// LinuxKernel is the real one; package alsatest has a fake sound card that
// negotiates parameters like the kernel and moves periods under the test's
// control.
package alsa
