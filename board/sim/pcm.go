package sim

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/hal"
)

// errStreamClosed is returned by Read after Close.
var errStreamClosed = errors.New("sim: PCM stream closed")

// playQueue is how many frames a writer may be ahead of the clock: 60 ms,
// about what an ALSA ring of three periods holds.
const playQueue = 3

// stream is one port's hal.PCM, clocked by the board's tick: each tick takes
// one frame from the play queue for the SLIC and hands one captured frame to
// the reader.
type stream struct {
	capt    chan hal.Frame
	playout time.Duration // see Options.Playout

	mu    sync.Mutex
	play  [playQueue]hal.Frame
	wrote [playQueue]time.Time // when each queued frame was written
	head  int
	n     int

	underruns atomic.Uint64
	overruns  atomic.Uint64
	closeOnce sync.Once
	closed    chan struct{}
}

func newStream(playout time.Duration) *stream {
	return &stream{capt: make(chan hal.Frame, 2), playout: playout, closed: make(chan struct{})}
}

func (s *stream) Read(ctx context.Context, f *hal.Frame) error {
	select {
	case *f = <-s.capt:
		return nil
	case <-s.closed:
		return errStreamClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stream) Write(f *hal.Frame) error {
	select {
	case <-s.closed:
		return errStreamClosed
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == playQueue { // drop the oldest, as a full ALSA ring would
		s.head = (s.head + 1) % playQueue
		s.n--
	}
	i := (s.head + s.n) % playQueue
	s.play[i], s.wrote[i] = *f, time.Now()
	s.n++
	return nil
}

func (s *stream) Underruns() uint64 { return s.underruns.Load() }

func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// next takes the frame the clock plays from its tick now: the oldest one
// written by the deadline, s.playout after the previous tick; silence and
// an underrun when there is none. A writer that fell behind and so has
// more than one frame ready is brought back in step by dropping the
// older, as a device recovering from an xrun does, so that the playback
// latency stays s.playout.
func (s *stream) next(f *hal.Frame, now time.Time) {
	deadline := now.Add(s.playout - hal.FrameDuration)
	s.mu.Lock()
	defer s.mu.Unlock()
	ready := 0
	for ready < s.n && !s.wrote[(s.head+ready)%playQueue].After(deadline) {
		ready++
	}
	if ready == 0 {
		*f = hal.Frame{}
		s.underruns.Add(1)
		return
	}
	s.head = (s.head + ready - 1) % playQueue
	s.n -= ready - 1
	*f = s.play[s.head]
	s.head = (s.head + 1) % playQueue
	s.n--
}

// captured delivers a frame to the reader without blocking the clock; a
// reader that has fallen behind loses its oldest frame.
func (s *stream) captured(f *hal.Frame) {
	for {
		select {
		case s.capt <- *f:
			return
		default:
		}
		select {
		case <-s.capt:
			s.overruns.Add(1)
		default:
		}
	}
}

var _ hal.PCM = (*stream)(nil)
