package alsa

// Kernel is what a Device needs from the operating system: finding a card
// and opening one direction of one of its PCM devices. LinuxKernel is the
// real one; alsatest.Card is a fake for tests.
type Kernel interface {
	// CardIndex returns the number of the card called id: either its
	// number ("0") or its ALSA id, the name a device-tree overlay gives it
	// ("tipring").
	CardIndex(id string) (int, error)
	// OpenPCM opens the playback or capture substream of device dev of
	// card. It fails rather than waits when another program holds it.
	OpenPCM(card, dev int, capture bool) (Substream, error)
}

// Substream is one open direction of a PCM device, with the ioctls the
// Device uses. Methods other than Drop and Close are called by one
// goroutine at a time; Drop may be called concurrently with a blocked
// ReadFrames or WriteFrames, and wakes it.
type Substream interface {
	// Version returns the PCM protocol version (PVERSION),
	// major<<16 | minor<<8 | patch.
	Version() (uint32, error)
	// Refine narrows p to what the hardware allows (HW_REFINE).
	Refine(p *HWParams) error
	// Install chooses the remaining values of p and configures the
	// hardware with them (HW_PARAMS); p holds the result.
	Install(p *HWParams) error
	// SetSoftware installs software parameters (SW_PARAMS); the kernel
	// fills in p.Boundary.
	SetSoftware(p *SWParams) error
	// Prepare makes a configured or stopped stream ready to start
	// (PREPARE). On linked streams it prepares all of them.
	Prepare() error
	// Start starts the stream (START), and every stream linked to it.
	Start() error
	// Drop stops the stream at once, discarding queued frames (DROP).
	Drop() error
	// Link joins the two streams so that they prepare, start and stop
	// together (LINK). other must come from the same Kernel.
	Link(other Substream) error
	// ReadFrames reads frames interleaved frames into buf, which holds at
	// least frames × channels samples, blocking until they are captured
	// (READI_FRAMES). It returns ErrXrun after an overrun.
	ReadFrames(buf []int16, frames int) (int, error)
	// WriteFrames queues frames interleaved frames from buf, blocking while
	// the buffer is full (WRITEI_FRAMES). It returns ErrXrun after an
	// underrun.
	WriteFrames(buf []int16, frames int) (int, error)
	// Close releases the substream.
	Close() error
}
