package alsa

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/hal"
)

// Coding says how one port's samples sit in a channel of the stream.
type Coding uint8

// Codings. The G.711 codings put one 8-bit slot in half of a 16-bit
// channel: High is bits 15…8, the byte that comes first on the wire (PCM
// buses send the most significant bit first), Low is bits 7…0. Two SLICs
// programmed for 8-bit slots 8 bits apart thus share one channel.
const (
	Linear16 Coding = iota // the whole 16-bit sample
	UlawHigh               // G.711 µ-law in bits 15…8
	UlawLow                // G.711 µ-law in bits 7…0
	AlawHigh               // G.711 A-law in bits 15…8
	AlawLow                // G.711 A-law in bits 7…0
)

var codingNames = [...]string{"linear16", "ulaw-high", "ulaw-low", "alaw-high", "alaw-low"}

func (c Coding) String() string {
	if int(c) < len(codingNames) {
		return codingNames[c]
	}
	return fmt.Sprintf("Coding(%d)", uint8(c))
}

// companded reports whether c is a G.711 byte coding.
func (c Coding) companded() bool { return c >= UlawHigh && c <= AlawLow }

// high reports whether c occupies bits 15…8.
func (c Coding) high() bool { return c == UlawHigh || c == AlawHigh }

// silence returns the code of silence of a G.711 coding.
func (c Coding) silence() (byte, bool) {
	switch c {
	case UlawHigh, UlawLow:
		return g711.Ulaw.Silence(), true
	case AlawHigh, AlawLow:
		return g711.Alaw.Silence(), true
	}
	return 0, false
}

func (c Coding) decode(b byte) int16 {
	if c == UlawHigh || c == UlawLow {
		return g711.UlawToLinear(b)
	}
	return g711.AlawToLinear(b)
}

func (c Coding) encode(v int16) byte {
	if c == UlawHigh || c == UlawLow {
		return g711.UlawFromLinear(v)
	}
	return g711.AlawFromLinear(v)
}

// Slot is where one port's audio sits in the device's frames.
type Slot struct {
	Channel int // 0-based channel of the interleaved stream
	Coding  Coding
}

func (s Slot) String() string { return fmt.Sprintf("channel %d %v", s.Channel, s.Coding) }

func (s Slot) validate(channels, rate int) error {
	switch {
	case s.Channel < 0 || s.Channel >= channels:
		return fmt.Errorf("%w: %v: the device has %d channels", ErrConfig, s, channels)
	case s.Coding > AlawLow:
		return fmt.Errorf("%w: %v", ErrConfig, s.Coding)
	case s.Coding.companded() && rate != Rate8k:
		return fmt.Errorf("%w: %v needs %d Hz, the device runs at %d Hz", ErrConfig, s.Coding, Rate8k, rate)
	}
	return nil
}

// overlaps reports whether s and o share bits of a channel.
func (s Slot) overlaps(o Slot) bool {
	if s.Channel != o.Channel {
		return false
	}
	if !s.Coding.companded() || !o.Coding.companded() {
		return true
	}
	return s.Coding.high() == o.Coding.high()
}

// playQueue is how many frames a writer may be ahead of the loop: 60 ms.
const playQueue = 3

// slotPCM is the hal.PCM of one slot. The device's loop calls capture and
// playback; the port's media loop calls Read and Write.
type slotPCM struct {
	dev  *Device
	slot Slot
	capt chan hal.Frame

	mu   sync.Mutex // guards the play queue, writes and mark
	play [playQueue]hal.Frame
	head int
	n    int
	// writes counts the frames written; mark is its value when the loop
	// handed out the last captured frame, so a frame written since is the
	// answer to it.
	writes, mark uint64

	starved, dropped, late atomic.Uint64
	// writing says the port has written: the loop waits for its frames
	// (Device.awaitSlots).
	writing   atomic.Bool
	closeOnce sync.Once
	closed    chan struct{}

	// Owned by the device's loop.
	in, out hal.Frame
	wide    []int16       // one period at 16 kHz
	down    *decimator    // 16 → 8 kHz, nil at 8 kHz
	up      *interpolator // 8 → 16 kHz, nil at 8 kHz
}

var _ SlotPCM = (*slotPCM)(nil)

func newSlotPCM(d *Device, s Slot, rate, period int) *slotPCM {
	p := &slotPCM{dev: d, slot: s, capt: make(chan hal.Frame, 2), closed: make(chan struct{})}
	if rate == Rate16k {
		p.wide = make([]int16, period)
		p.down, p.up = new(decimator), new(interpolator)
	}
	return p
}

// Read implements hal.PCM. After the device's loop failed for good it
// returns the loop's error, wrapping ErrStopped.
func (p *slotPCM) Read(ctx context.Context, f *hal.Frame) error {
	select {
	case *f = <-p.capt:
		return nil
	case <-p.closed:
		return ErrClosed
	case <-p.dev.done:
		if err := p.dev.Err(); err != nil {
			return err
		}
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Write implements hal.PCM: it queues f, dropping the oldest queued frame
// when the writer is more than 60 ms ahead.
func (p *slotPCM) Write(f *hal.Frame) error {
	select {
	case <-p.closed:
		return ErrClosed
	default:
	}
	p.mu.Lock()
	if p.n == playQueue {
		p.head = (p.head + 1) % playQueue
		p.n--
	}
	p.play[(p.head+p.n)%playQueue] = *f
	p.n++
	p.writes++
	p.mu.Unlock()
	p.writing.Store(true)
	select {
	case p.dev.kick <- struct{}{}:
	default:
	}
	return nil
}

// answered reports whether a frame was written since the loop handed out
// the last captured one.
func (p *slotPCM) answered() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes > p.mark
}

// Underruns implements hal.PCM: the frames this slot had nothing queued
// for, plus the device's playback xruns (each silenced every slot).
func (p *slotPCM) Underruns() uint64 { return p.starved.Load() + p.dev.playXruns.Load() }

// Overruns counts captured frames this slot lost: frames dropped because
// the reader was more than 40 ms behind, plus the device's capture xruns.
func (p *slotPCM) Overruns() uint64 { return p.dropped.Load() + p.dev.captXruns.Load() }

// Close implements hal.PCM. It frees the slot.
func (p *slotPCM) Close() error {
	p.shut()
	p.dev.release(p)
	return nil
}

func (p *slotPCM) shut() { p.closeOnce.Do(func() { close(p.closed) }) }

// capture takes this slot's frame out of an interleaved period and hands it
// to the reader without blocking; a reader that has fallen behind loses its
// oldest frame.
func (p *slotPCM) capture(buf []int16, channels int) {
	c := p.slot.Channel
	switch {
	case p.down != nil:
		for i := range p.wide {
			p.wide[i] = buf[i*channels+c]
		}
		p.down.process(&p.in, p.wide)
	case p.slot.Coding == Linear16:
		for i := range p.in {
			p.in[i] = buf[i*channels+c]
		}
	default:
		shift := 0
		if p.slot.Coding.high() {
			shift = 8
		}
		for i := range p.in {
			p.in[i] = p.slot.Coding.decode(byte(uint16(buf[i*channels+c]) >> shift))
		}
	}
	p.mu.Lock()
	p.mark = p.writes
	p.mu.Unlock()
	for {
		select {
		case p.capt <- p.in:
			return
		default:
		}
		select {
		case <-p.capt:
			p.dropped.Add(1)
		default:
		}
	}
}

// playback puts this slot's next queued frame into an interleaved period,
// or leaves the channel's idle samples and counts an underrun.
func (p *slotPCM) playback(buf []int16, channels int) {
	p.mu.Lock()
	have := p.n > 0
	if have && p.n > 1 && p.writes > p.mark {
		// The answer to the last capture came with older frames still
		// queued (the port was late once): those are dropped, so that
		// the port's frames play Config.Playout after their period again.
		p.head = (p.head + p.n - 1) % playQueue
		p.late.Add(uint64(p.n - 1))
		p.n = 1
	}
	if have {
		p.out = p.play[p.head]
		p.head = (p.head + 1) % playQueue
		p.n--
	}
	p.mu.Unlock()
	if !have {
		p.starved.Add(1)
		return
	}
	c := p.slot.Channel
	switch {
	case p.up != nil:
		p.up.process(p.wide, &p.out)
		for i, v := range p.wide {
			buf[i*channels+c] = v
		}
	case p.slot.Coding == Linear16:
		for i, v := range p.out {
			buf[i*channels+c] = v
		}
	default:
		shift, keep := 0, uint16(0xFF00)
		if p.slot.Coding.high() {
			shift, keep = 8, 0x00FF
		}
		for i, v := range p.out {
			j := i*channels + c
			buf[j] = int16(uint16(buf[j])&keep | uint16(p.slot.Coding.encode(v))<<shift)
		}
	}
}
