// Package halfake provides in-memory implementations of hal.Line and hal.PCM
// for tests of the code above the hardware layer. The test plays the phone:
// it injects hook events and mouthpiece frames and inspects the feed, the
// ringing and the frames the code under test wrote.
package halfake

import (
	"context"
	"errors"
	"sync"

	"github.com/tipring/tipring/hal"
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("halfake: closed")

// Line is a fake hal.Line.
type Line struct {
	mu      sync.Mutex
	hook    hal.Hook
	feed    hal.Feed
	cadence hal.Cadence
	ringing bool
	closed  bool
	events  chan hal.Event
}

// NewLine returns an on-hook line with an active feed.
func NewLine() *Line {
	return &Line{feed: hal.FeedActive, events: make(chan hal.Event, 64)}
}

// Inject delivers e as if the hardware had reported it, updating the hook
// state for hook events. An off-hook event stops ringing, as ring trip does.
func (l *Line) Inject(e hal.Event) {
	l.mu.Lock()
	switch e.Kind {
	case hal.EventOffHook:
		l.hook = hal.OffHook
		l.ringing = false
	case hal.EventOnHook:
		l.hook = hal.OnHook
	}
	closed := l.closed
	l.mu.Unlock()
	if !closed {
		l.events <- e
	}
}

// Hook implements hal.Line.
func (l *Line) Hook() hal.Hook {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hook
}

// Events implements hal.Line.
func (l *Line) Events() <-chan hal.Event { return l.events }

// SetFeed implements hal.Line.
func (l *Line) SetFeed(f hal.Feed) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.feed, l.ringing = f, false
	return nil
}

// Feed implements hal.Line.
func (l *Line) Feed() hal.Feed {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.feed
}

// Ring implements hal.Line.
func (l *Line) Ring(c hal.Cadence) error {
	if err := c.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.cadence, l.ringing = append(hal.Cadence(nil), c...), true
	return nil
}

// StopRing implements hal.Line.
func (l *Line) StopRing() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ringing = false
	return nil
}

// Ringing implements hal.Line.
func (l *Line) Ringing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ringing
}

// Cadence returns the cadence of the last Ring call.
func (l *Line) Cadence() hal.Cadence {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(hal.Cadence(nil), l.cadence...)
}

// Close implements hal.Line.
func (l *Line) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		l.feed = hal.FeedOpen
		close(l.events)
	}
	return nil
}

// PCM is a fake hal.PCM that the test clocks by hand: Tick delivers one
// mouthpiece frame to a pending Read and takes one written frame for the
// earpiece.
type PCM struct {
	mu        sync.Mutex
	mouth     chan hal.Frame
	ear       []hal.Frame
	closed    chan struct{}
	once      sync.Once
	underruns uint64
}

// NewPCM returns a fake stream that holds up to queue written frames.
func NewPCM(queue int) *PCM {
	return &PCM{mouth: make(chan hal.Frame, 1), ear: make([]hal.Frame, 0, queue), closed: make(chan struct{})}
}

// Read implements hal.PCM.
func (p *PCM) Read(ctx context.Context, f *hal.Frame) error {
	select {
	case *f = <-p.mouth:
		return nil
	case <-p.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Write implements hal.PCM.
func (p *PCM) Write(f *hal.Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ear) == cap(p.ear) {
		copy(p.ear, p.ear[1:])
		p.ear = p.ear[:len(p.ear)-1]
	}
	p.ear = append(p.ear, *f)
	return nil
}

// Tick plays one clock period: it hands mouth to the reader (blocking until
// the previous frame was read) and returns the oldest written frame, or
// silence and an underrun when none was written.
func (p *PCM) Tick(mouth hal.Frame) (ear hal.Frame) {
	p.mouth <- mouth
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ear) == 0 {
		p.underruns++
		return ear
	}
	ear = p.ear[0]
	p.ear = append(p.ear[:0], p.ear[1:]...)
	return ear
}

// Underruns implements hal.PCM.
func (p *PCM) Underruns() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.underruns
}

// Close implements hal.PCM.
func (p *PCM) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

var (
	_ hal.Line = (*Line)(nil)
	_ hal.PCM  = (*PCM)(nil)
)
