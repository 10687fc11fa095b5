// Package hal defines what call control needs from one telephone line,
// without naming any chip: the loop's hook state and the events made of it,
// the linefeed (open, active in either polarity, on-hook transmission),
// ringing with a cadence, and a full-duplex 8 kHz PCM stream in 20 ms frames.
//
// The split follows periph.io: hal holds interfaces and the types they
// exchange; chip drivers (hal/si321x) implement them; a board (board/...)
// decides which chips sit on which bus; halfake is the fake for tests.
//
// Hook timing — what counts as a bounce, a dial pulse, a flash or a hang-up —
// is decided in one place, package hal/hook, which every driver feeds with
// raw loop-closure samples.
package hal

import (
	"context"
	"fmt"
	"time"
)

// FrameSamples is the number of 8 kHz samples in one 20 ms PCM frame.
const FrameSamples = 160

// FrameDuration is the length of one PCM frame.
const FrameDuration = 20 * time.Millisecond

// PlayoutMin is the shortest playout a board accepts: how soon after a
// PCM period begins the frame a port writes in answer to its capture
// starts to play (the rest of the period is the port's to compute it).
// The longest is FrameDuration, the default.
const PlayoutMin = 2 * time.Millisecond

// Frame is 20 ms of 16-bit linear PCM at 8 kHz. It is an array, not a slice,
// so that frames move through the media path without allocating.
type Frame [FrameSamples]int16

// Hook is the state of the loop as the phone sets it.
type Hook uint8

// Hook states.
const (
	OnHook Hook = iota
	OffHook
)

func (h Hook) String() string {
	if h == OffHook {
		return "off"
	}
	return "on"
}

// EventKind says what happened on a line.
type EventKind uint8

// Line events. Hook events are classified by hal/hook: a break too short to
// be a flash is a dial pulse; the pulses of one digit arrive as a single
// EventPulseDigit.
const (
	EventOffHook    EventKind = iota + 1 // the loop closed and stayed closed
	EventOnHook                          // the loop opened for longer than a flash: hang-up
	EventFlash                           // a break within the flash window
	EventPulseDigit                      // a rotary digit; Event.Digit holds '0'…'9'
	EventRingOn                          // a ringing burst started
	EventRingOff                         // a ringing burst ended; the line is in on-hook transmission until the next
	EventFault                           // the line reported a fault (power alarm, foreign voltage); Event.Err says which
)

var eventNames = [...]string{"", "off-hook", "on-hook", "flash", "pulse-digit", "ring-on", "ring-off", "fault"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is one thing that happened on a line.
type Event struct {
	Kind  EventKind
	At    time.Time // when it happened (for hook events: the edge that decided it)
	Digit byte      // for EventPulseDigit: '0'…'9'
	Err   error     // for EventFault
}

func (e Event) String() string {
	if e.Kind == EventPulseDigit {
		return fmt.Sprintf("%s %c", e.Kind, e.Digit)
	}
	return e.Kind.String()
}

// Feed is the linefeed state of the SLIC.
type Feed uint8

// Linefeed states. "Forward" is normal polarity (tip positive with respect to
// ring); "reverse" swaps them, which some networks use to signal answer or
// disconnect and ETSI caller ID uses as an alert.
const (
	FeedOpen       Feed = iota // high impedance: no loop current, nothing detected
	FeedActive                 // forward active: talk battery, loop closure detected
	FeedReverse                // reverse active
	FeedOHT                    // forward on-hook transmission: audio to an on-hook phone (caller ID)
	FeedReverseOHT             // reverse on-hook transmission
)

var feedNames = [...]string{"open", "active", "reverse", "oht", "reverse-oht"}

func (f Feed) String() string {
	if int(f) < len(feedNames) {
		return feedNames[f]
	}
	return fmt.Sprintf("Feed(%d)", f)
}

// Reversed reports whether f has reversed polarity.
func (f Feed) Reversed() bool { return f == FeedReverse || f == FeedReverseOHT }

// Cadence is a ringing pattern: durations alternating on, off, on, off …,
// repeated from the start until ringing stops. A single entry means continuous
// ringing for that long and then silence, which is how a line rings once (the
// first ring of a Bellcore caller-ID sequence). An empty Cadence is invalid.
type Cadence []time.Duration

// Validate checks that c can be played.
func (c Cadence) Validate() error {
	if len(c) == 0 {
		return fmt.Errorf("hal: empty ring cadence")
	}
	for i, d := range c {
		if d <= 0 || d > time.Minute {
			return fmt.Errorf("hal: ring cadence step %d is %v, want between 0 and 1m", i, d)
		}
	}
	return nil
}

// Line is the signalling side of one FXS port. Implementations are safe for
// use by one line goroutine plus the goroutine that delivers Events.
type Line interface {
	// Hook returns the current debounced hook state.
	Hook() Hook
	// Events delivers hook and ringing events in order. The channel is closed
	// when the line is closed.
	Events() <-chan Event
	// SetFeed changes the linefeed state. It stops ringing.
	SetFeed(Feed) error
	// Feed returns the linefeed state last set, or the state ringing left.
	Feed() Feed
	// Ring starts ringing with the cadence at the board's ring frequency and
	// voltage. Between bursts the line is in on-hook transmission, so audio
	// written to the PCM stream reaches the phone (caller ID). Ringing stops
	// on StopRing, SetFeed, or when the phone goes off-hook (ring trip).
	Ring(Cadence) error
	// StopRing stops ringing and returns the line to the feed it had before.
	StopRing() error
	// Ringing reports whether a ring cadence is in progress.
	Ringing() bool
	// Close stops the line's goroutines and leaves the feed open.
	Close() error
}

// PCM is a full-duplex 8 kHz stream of 20 ms frames, paced by the board's
// PCM clock (the ALSA period on hardware, a ticker on the simulated board).
type PCM interface {
	// Read blocks until the next frame from the line (the phone's
	// mouthpiece) is complete and copies it into f.
	Read(ctx context.Context, f *Frame) error
	// Write queues f for the line (the phone's earpiece). It does not block:
	// a stream keeps a short queue and drops the oldest frame when it is
	// full. When the queue runs dry the line hears silence and Underruns
	// grows.
	Write(f *Frame) error
	// Underruns counts frames the clock needed that nobody had written.
	Underruns() uint64
	// Close releases the stream; Read returns an error afterwards.
	Close() error
}

// Port is one FXS port of a board: its signalling and its audio.
type Port struct {
	Number int // 1-based, as printed on the box
	Line   Line
	PCM    PCM
}
