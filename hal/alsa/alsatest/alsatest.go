// Package alsatest is a fake ALSA kernel for tests of code that uses
// package alsa: a sound card with one PCM device whose capabilities the test
// declares, which negotiates hardware parameters the way the kernel does
// (refine to the intersection, install the smallest remaining values) and
// whose hardware clock the test drives one period at a time.
//
// Card.Tick is one period of the hardware: it captures the period the test
// gives, after the code under test has written its next period, and
// returns the period the hardware played. Card.Xrun stops the streams as
// an overrun or underrun would, so that recovery can be tested.
package alsatest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tipring/tipring/hal/alsa"
)

// Errors of the fake, wrapping the errno the kernel would return.
var (
	// ErrInvalid is returned by Refine and Install when nothing is left of
	// the parameter space (EINVAL).
	ErrInvalid = fmt.Errorf("alsatest: no configuration left: %w", syscall.EINVAL)
	// ErrState is returned by an operation the stream's state forbids
	// (EBADFD): reading a stream that is not running, for instance.
	ErrState = errors.New("alsatest: wrong stream state (EBADFD)")
	// ErrBusy is returned by OpenPCM when the substream is already open
	// (EBUSY).
	ErrBusy = fmt.Errorf("alsatest: substream busy: %w", syscall.EBUSY)
	// ErrTimeout is returned by Tick when the code under test did not get
	// the streams running or did not write its period in time.
	ErrTimeout = errors.New("alsatest: timed out waiting for the device")
)

// Hardware is what the fake card can do. Ranges are inclusive.
type Hardware struct {
	Rates      []uint32  // supported rates
	Channels   [2]uint32 // min, max channels
	PeriodSize [2]uint32 // min, max frames per period
	Periods    [2]uint32 // min, max periods per buffer
	NoS16LE    bool      // the card lacks S16_LE
	NoLink     bool      // LINK fails (EINVAL)
}

// Telephony returns hardware that suits a telephony PCM bus: 8 and 16 kHz,
// 1–8 channels, periods of 32–4096 frames, 2–16 periods.
func Telephony() Hardware {
	return Hardware{
		Rates: []uint32{8000, 16000}, Channels: [2]uint32{1, 8},
		PeriodSize: [2]uint32{32, 4096}, Periods: [2]uint32{2, 16},
	}
}

type state int

const (
	stateOpen state = iota
	stateSetup
	statePrepared
	stateRunning
	stateXrun
)

var stateNames = [...]string{"open", "setup", "prepared", "running", "xrun"}

func (s state) String() string { return stateNames[s] }

// Card is a fake sound card with one PCM device (device 0), and the
// alsa.Kernel that reaches it. It is safe for concurrent use.
type Card struct {
	id    string
	index int
	hw    Hardware

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	subs    [2]*Substream // playback, capture
	linked  bool
	calls   []string
}

// NewCard returns a card numbered index with ALSA id id.
func NewCard(id string, index int, hw Hardware) *Card {
	return &Card{id: id, index: index, hw: hw, changed: make(chan struct{})}
}

// CardIndex implements alsa.Kernel.
func (c *Card) CardIndex(id string) (int, error) {
	if id == c.id || id == strconv.Itoa(c.index) {
		return c.index, nil
	}
	return 0, fmt.Errorf("%w: %q", alsa.ErrNoCard, id)
}

// OpenPCM implements alsa.Kernel.
func (c *Card) OpenPCM(card, dev int, capture bool) (alsa.Substream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if card != c.index || dev != 0 {
		return nil, fmt.Errorf("alsatest: no device hw:%d,%d: %w", card, dev, syscall.ENOENT)
	}
	i := dir(capture)
	if c.subs[i] != nil {
		return nil, ErrBusy
	}
	s := &Substream{card: c, capture: capture}
	c.subs[i] = s
	c.logf("%s open", s.name())
	return s, nil
}

func dir(capture bool) int {
	if capture {
		return 1
	}
	return 0
}

// Calls returns the operations done on the card so far, in order, as
// "playback PREPARE", "capture START" and so on; reads and writes are not
// listed.
func (c *Card) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Linked reports whether the two substreams are linked.
func (c *Card) Linked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.linked
}

// Open reports whether either substream is open.
func (c *Card) Open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[0] != nil || c.subs[1] != nil
}

// Xrun stops the stream of one direction, and the streams linked to it, as
// an xrun does: the next read or write fails with alsa.ErrXrun.
func (c *Card) Xrun(capture bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[dir(capture)]
	for _, g := range c.group(s) {
		g.st = stateXrun
	}
	c.logf("%s XRUN", s.name())
	c.notify()
}

// Tick is one period of the hardware clock. It waits until capture runs
// and the device has written a period since the last tick (so that each
// tick holds one full cycle of the code under test), then plays one period
// and captures in (one period, interleaved). It returns the period played,
// or nil when playback was not running. An empty playback buffer is an
// underrun, a full capture buffer an overrun.
func (c *Card) Tick(in []int16, timeout time.Duration) ([]int16, error) {
	deadline := time.After(timeout)
	c.mu.Lock()
	for !c.ready() {
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			c.mu.Lock()
			defer c.mu.Unlock()
			return nil, fmt.Errorf("%w: playback %v, capture %v", ErrTimeout, c.stateOf(0), c.stateOf(1))
		}
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	p, k := c.subs[0], c.subs[1]
	var out []int16
	if p.st == stateRunning {
		if n := int(p.period) * int(p.channels); len(p.played) < n {
			for _, s := range c.group(p) {
				s.st = stateXrun
			}
			c.logf("playback XRUN")
		} else {
			out = slices.Clone(p.played[:n])
			p.played = p.played[n:]
			p.written = 0
		}
	}
	if k.st == stateRunning {
		if len(k.queue) >= int(k.periods) {
			for _, s := range c.group(k) {
				s.st = stateXrun
			}
			c.logf("capture XRUN")
		} else {
			k.queue = append(k.queue, slices.Clone(in))
		}
	}
	c.notify()
	return out, nil
}

// ready reports whether a tick can happen.
func (c *Card) ready() bool {
	p, k := c.subs[0], c.subs[1]
	if p == nil || k == nil || k.st != stateRunning {
		return false
	}
	return p.st != stateRunning || p.written > 0
}

func (c *Card) stateOf(i int) state {
	if c.subs[i] == nil {
		return stateOpen
	}
	return c.subs[i].st
}

func (c *Card) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Card) logf(format string, args ...any) {
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
}

// group returns the substreams an operation on s acts on.
func (c *Card) group(s *Substream) []*Substream {
	if c.linked && c.subs[0] != nil && c.subs[1] != nil {
		return c.subs[:]
	}
	return []*Substream{s}
}

// Substream is one direction of the fake device; it implements
// alsa.Substream.
type Substream struct {
	card    *Card
	capture bool

	// Guarded by card.mu.
	st       state
	channels int
	period   uint32
	periods  uint32
	queue    [][]int16 // periods captured and not read
	played   []int16   // frames written and not played, interleaved
	written  int       // periods written since the last tick
	closed   bool
}

func (s *Substream) name() string {
	if s.capture {
		return "capture"
	}
	return "playback"
}

// Version implements alsa.Substream: protocol 2.0.15.
func (s *Substream) Version() (uint32, error) { return 2<<16 | 0<<8 | 15, nil }

// Refine implements alsa.Substream.
func (s *Substream) Refine(p *alsa.HWParams) error {
	return s.card.refine(p)
}

func (c *Card) refine(p *alsa.HWParams) error {
	// The card has one format: S16_LE, or S8 when it lacks S16_LE.
	format := uint(alsa.FormatS16LE)
	if c.hw.NoS16LE {
		format = 0
	}
	acc, fm := p.Mask(alsa.ParamAccess), p.Mask(alsa.ParamFormat)
	ok := acc.Has(alsa.AccessRWInterleaved) && fm.Has(format)
	acc.Only(alsa.AccessRWInterleaved)
	fm.Only(format)
	p.Mask(alsa.ParamSubformat).Only(alsa.SubformatStd)
	if !ok {
		return ErrInvalid
	}
	intersect := func(param alsa.Param, lo, hi uint32) bool {
		iv := p.Interval(param)
		l, h := max(iv.Low(), lo), min(iv.High(), hi)
		iv.Range(l, h)
		return l <= h
	}
	var rates []uint32
	ri := *p.Interval(alsa.ParamRate)
	for _, r := range c.hw.Rates {
		if r >= ri.Low() && r <= ri.High() {
			rates = append(rates, r)
		}
	}
	ok = len(rates) > 0
	if ok {
		p.Interval(alsa.ParamRate).Range(slices.Min(rates), slices.Max(rates))
	}
	ok = intersect(alsa.ParamSampleBits, 16, 16) && ok
	ok = intersect(alsa.ParamChannels, c.hw.Channels[0], c.hw.Channels[1]) && ok
	ci := *p.Interval(alsa.ParamChannels)
	ok = intersect(alsa.ParamFrameBits, 16*ci.Low(), 16*ci.High()) && ok
	ok = intersect(alsa.ParamPeriodSize, c.hw.PeriodSize[0], c.hw.PeriodSize[1]) && ok
	ok = intersect(alsa.ParamPeriods, c.hw.Periods[0], c.hw.Periods[1]) && ok
	ps, pn := *p.Interval(alsa.ParamPeriodSize), *p.Interval(alsa.ParamPeriods)
	ok = intersect(alsa.ParamBufferSize, ps.Low()*pn.Low(), ps.High()*pn.High()) && ok
	if !ok {
		return ErrInvalid
	}
	return nil
}

// Install implements alsa.Substream: it refines p, then takes the smallest
// value of every interval, as the kernel does for all but the buffer.
func (s *Substream) Install(p *alsa.HWParams) error {
	c := s.card
	if err := c.refine(p); err != nil {
		return err
	}
	for _, param := range []alsa.Param{alsa.ParamChannels, alsa.ParamRate, alsa.ParamPeriodSize, alsa.ParamPeriods} {
		p.Interval(param).Fix(p.Interval(param).Low())
	}
	ps, _ := p.Interval(alsa.ParamPeriodSize).Single()
	pn, _ := p.Interval(alsa.ParamPeriods).Single()
	ch, _ := p.Interval(alsa.ParamChannels).Single()
	bi := p.Interval(alsa.ParamBufferSize)
	if ps*pn < bi.Low() || ps*pn > bi.High() {
		return ErrInvalid
	}
	bi.Fix(ps * pn)
	p.Interval(alsa.ParamFrameBits).Fix(16 * ch)
	c.mu.Lock()
	defer c.mu.Unlock()
	s.st, s.channels, s.period, s.periods = stateSetup, int(ch), ps, pn
	c.logf("%s HW_PARAMS channels=%d period=%d periods=%d", s.name(), ch, ps, pn)
	return nil
}

// SetSoftware implements alsa.Substream.
func (s *Substream) SetSoftware(p *alsa.SWParams) error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.st == stateOpen {
		return ErrState
	}
	if p.AvailMin == 0 {
		return ErrInvalid
	}
	p.Boundary = uint(s.period * s.periods)
	for p.Boundary*2 <= ^uint(0)>>1-uint(s.period*s.periods) {
		p.Boundary *= 2
	}
	c.logf("%s SW_PARAMS avail_min=%d", s.name(), p.AvailMin)
	return nil
}

// Prepare implements alsa.Substream.
func (s *Substream) Prepare() error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logf("%s PREPARE", s.name())
	for _, g := range c.group(s) {
		if g.st == stateOpen || g.st == stateRunning {
			return ErrState
		}
	}
	for _, g := range c.group(s) {
		g.st, g.queue, g.played, g.written = statePrepared, nil, nil, 0
	}
	c.notify()
	return nil
}

// Start implements alsa.Substream.
func (s *Substream) Start() error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logf("%s START", s.name())
	for _, g := range c.group(s) {
		if g.st != statePrepared {
			return ErrState
		}
	}
	for _, g := range c.group(s) {
		g.st = stateRunning
	}
	c.notify()
	return nil
}

// Drop implements alsa.Substream.
func (s *Substream) Drop() error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logf("%s DROP", s.name())
	if s.st == stateOpen {
		return ErrState
	}
	for _, g := range c.group(s) {
		g.st, g.queue, g.played = stateSetup, nil, nil
	}
	c.notify()
	return nil
}

// Link implements alsa.Substream.
func (s *Substream) Link(other alsa.Substream) error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := other.(*Substream); !ok || o.card != c || c.hw.NoLink {
		return fmt.Errorf("alsatest: LINK: %w", syscall.EINVAL)
	}
	c.linked = true
	c.logf("%s LINK", s.name())
	return nil
}

// ReadFrames implements alsa.Substream: it waits for a period the test
// captured with Tick.
func (s *Substream) ReadFrames(buf []int16, frames int) (int, error) {
	c := s.card
	c.mu.Lock()
	for {
		switch {
		case !s.capture:
			c.mu.Unlock()
			return 0, ErrState
		case s.st == stateXrun:
			c.mu.Unlock()
			return 0, alsa.ErrXrun
		case s.st != stateRunning && s.st != statePrepared:
			c.mu.Unlock()
			return 0, ErrState
		case len(s.queue) > 0:
			n := copy(buf[:frames*s.channels], s.queue[0]) / s.channels
			s.queue = s.queue[1:]
			c.mu.Unlock()
			return n, nil
		}
		ch := c.changed
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
	}
}

// WriteFrames implements alsa.Substream: it queues frames, any number up
// to the buffer's size; it does not block, the buffer being sized by the
// device to hold what it writes. Each tick plays one period of them.
func (s *Substream) WriteFrames(buf []int16, frames int) (int, error) {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.capture || s.st == stateOpen || s.st == stateSetup:
		return 0, ErrState
	case s.st == stateXrun:
		return 0, alsa.ErrXrun
	case len(s.played)/int(s.channels)+frames > int(s.periods*s.period):
		return 0, fmt.Errorf("alsatest: playback buffer full: %w", syscall.EAGAIN)
	}
	s.played = append(s.played, buf[:frames*int(s.channels)]...)
	s.written++
	c.notify()
	return frames, nil
}

// Close implements alsa.Substream.
func (s *Substream) Close() error {
	c := s.card
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.closed {
		return alsa.ErrClosed
	}
	s.closed = true
	c.subs[dir(s.capture)] = nil
	c.linked = false
	c.logf("%s close", s.name())
	c.notify()
	return nil
}
