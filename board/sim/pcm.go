package sim

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

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
	capt chan hal.Frame

	mu   sync.Mutex
	play [playQueue]hal.Frame
	head int
	n    int

	underruns atomic.Uint64
	overruns  atomic.Uint64
	closeOnce sync.Once
	closed    chan struct{}
}

func newStream() *stream {
	return &stream{capt: make(chan hal.Frame, 2), closed: make(chan struct{})}
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
	s.play[(s.head+s.n)%playQueue] = *f
	s.n++
	return nil
}

func (s *stream) Underruns() uint64 { return s.underruns.Load() }

func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// next takes the frame the clock plays now; silence and an underrun when the
// writer has fallen behind.
func (s *stream) next(f *hal.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		*f = hal.Frame{}
		s.underruns.Add(1)
		return
	}
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
