package line

import (
	"context"
	"fmt"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/dsp/echo"
	"github.com/tipring/tipring/dsp/fax"
	"github.com/tipring/tipring/dsp/plc"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/hal"
)

// plan is what the media loop plays and carries, published by the control
// goroutine whenever the state changes. It is never modified once
// published.
type plan struct {
	// toneKey names tone; a change restarts it, the same key keeps it
	// running across plans.
	toneKey string
	tone    tone.Tone
	// legs are the calls the phone talks to: one, or two in a
	// conference, mixed on the gateway.
	legs  [2]Media
	nlegs int
	relay DTMFMode
	// detect runs the DTMF receiver on the mouthpiece.
	detect bool
	// oht is caller ID or VMWI for the on-hook phone.
	oht *callerid.Audio
	// cwBurst counts call-waiting announcements: each new value plays
	// cwTone once over the call, or cidcw (SAS, CAS and caller ID on
	// call waiting, which mutes the far end while it runs).
	cwBurst int
	cwTone  tone.Tone
	cidcw   *callerid.OffHook
	stats   StatsMedia
}

func (p *plan) addLeg(m Media) {
	if p.nlegs < len(p.legs) {
		p.legs[p.nlegs] = m
		p.nlegs++
	}
}

func (p *plan) statsMedia() (StatsMedia, bool) { return p.stats, p.stats != nil }

// mixer is the media loop's working state.
type mixer struct {
	l       *Line
	cur     *plan
	gen     *tone.Generator // local tone
	cwGen   *tone.Generator
	dgen    *dtmf.Generator // digits from the far end, played to the phone
	det     *dtmf.Detector
	evs     []dtmf.Event
	delayed hal.Frame // the mouthpiece frame held back, while lag
	muting  bool      // a key is down and its tone is kept out of the call
	// lag says the call gets the mouthpiece one frame late (see
	// holdBack); sent is what it got last, for plc.Stretch.
	lag     bool
	sent    [plc.HistorySamples]int16
	cidcw   *callerid.OffHook
	cwPlay  bool
	oht     *callerid.Audio // caller ID or VMWI being played
	in, out hal.Frame
	send    hal.Frame
	a, b    hal.Frame
	tmp     [hal.FrameSamples]int16

	// The echo canceller: what the phone hears (rin, the frame written one
	// PCM period ago, which the hybrid reflects into this period's
	// mouthpiece frame) is taken out of what it says.
	ec      *echo.Canceller
	ecOn    bool
	prevOut hal.Frame
	clean   hal.Frame
	faxIn   *fax.Detector // the phone's side
	faxOut  *fax.Detector // the far end's side
	faxEvs  []fax.Event
	faxMode bool
}

func (l *Line) newMixer() (*mixer, error) {
	dg, err := dtmf.NewGenerator(dtmf.DefaultGenConfig())
	if err != nil {
		return nil, err
	}
	var ec *echo.Canceller
	if !l.cfg.Echo.Off {
		var err error
		ec, err = echo.New(echo.Config{Tail: l.cfg.Echo.Tail, NLP: true, ComfortNoise: true})
		if err != nil {
			return nil, fmt.Errorf("line %d: echo canceller: %w", l.port.Number, err)
		}
	}
	return &mixer{
		ec:     ec,
		faxIn:  fax.New(),
		faxOut: fax.New(),
		faxEvs: make([]fax.Event, 0, 4),
		l:      l,
		cur:    &plan{},
		gen:    new(tone.Generator),
		cwGen:  new(tone.Generator),
		dgen:   dg,
		det:    dtmf.NewDetector(dtmf.DefaultConfig()),
		evs:    make([]dtmf.Event, 0, 8),
	}, nil
}

// media runs the media loop until ctx ends or the stream fails.
func (l *Line) media(ctx context.Context) error {
	m, err := l.newMixer()
	if err != nil {
		return err
	}
	beat := func() {}
	if l.cfg.Liveness != nil {
		c := l.cfg.Liveness(fmt.Sprintf("line %d media", l.port.Number), 2*time.Second)
		defer c.Unregister()
		beat = c.Beat
	}
	for {
		beat()
		if err := l.port.PCM.Read(ctx, &m.in); err != nil {
			return fmt.Errorf("line %d: pcm read: %w", l.port.Number, err)
		}
		m.frame()
		if err := l.port.PCM.Write(&m.out); err != nil {
			return fmt.Errorf("line %d: pcm write: %w", l.port.Number, err)
		}
	}
}

// frame turns one mouthpiece frame (m.in) into one earpiece frame (m.out)
// and one frame to each call. It does not allocate.
func (m *mixer) frame() {
	p := m.l.plan.Load()
	if p != m.cur {
		m.change(p)
	}
	if p.nlegs > 0 {
		m.callSide(p)
	}
	// The DTMF receiver listens to the phone, except while the phone
	// plays a digit from the far end, whose echo it would hear, and
	// during caller ID on call waiting, whose acknowledgement (DTMF D) is
	// for the gateway alone.
	start := m.det.Position()
	m.evs = m.evs[:0]
	if p.detect && !m.dgen.Busy() && m.cidcw == nil {
		m.evs = m.det.Process(m.evs, m.in[:])
	}
	relay := p.relay != DTMFInband && p.nlegs > 0
	for _, ev := range m.evs {
		m.key(p, ev, start, relay)
	}
	if m.muting {
		clear(m.in[:])
	}

	suspect := p.detect && !m.dgen.Busy() && m.cidcw == nil && m.det.Suspect(start)
	m.holdBack(relay, suspect)
	if m.cidcw != nil {
		clear(m.send[:]) // the far end hears nothing during caller ID on call waiting
	}
	clear(m.out[:])
	switch p.nlegs {
	case 1:
		_ = p.legs[0].WriteFrame(&m.send)
		_ = p.legs[0].ReadFrame(&m.a)
		m.out = m.a
	case 2:
		_ = p.legs[0].ReadFrame(&m.a)
		_ = p.legs[1].ReadFrame(&m.b)
		mixInto(&m.tmp, &m.send, &m.b)
		_ = p.legs[0].WriteFrame((*hal.Frame)(&m.tmp))
		mixInto(&m.tmp, &m.send, &m.a)
		_ = p.legs[1].WriteFrame((*hal.Frame)(&m.tmp))
		mixInto((*[hal.FrameSamples]int16)(&m.out), &m.a, &m.b)
	}
	if p.toneKey != "" {
		m.gen.Read(m.tmp[:])
		addInto(&m.out, &m.tmp)
	}
	m.farDigits(p)
	if m.dgen.Busy() {
		n := m.dgen.Read(m.tmp[:])
		clear(m.tmp[n:])
		addInto(&m.out, &m.tmp)
	}
	switch {
	case m.cidcw != nil:
		if st := m.cidcw.Process(m.in[:], m.tmp[:]); st.Finished() {
			m.cidcw = nil
		}
		m.out = hal.Frame(m.tmp)
	case m.cwPlay:
		m.cwGen.Read(m.tmp[:])
		addInto(&m.out, &m.tmp)
		if m.cwGen.Done() {
			m.cwPlay = false
		}
	}
	if m.oht != nil {
		n := m.oht.Read(m.out[:])
		clear(m.out[n:])
		if m.oht.Done() {
			m.oht = nil
		}
	}
	m.prevOut = m.out
}

// holdBack chooses what goes to the call this period: m.send. When keys go
// out as events (RFC 4733 or SIP INFO) their tones must be cut out of the
// audio, from their start, but the receiver knows a key only 30–40 ms into
// its tone. So from the first 5 ms that could be a key's start (the
// receiver's Suspect, which speech seldom is) the call gets the mouthpiece
// one frame late, and the key's start can still be cut from the frame held
// back (key): at most 20 ms of tone leaks, shorter than Q.24 lets any
// receiver accept as a digit, where without the hold-back up to 40 ms
// would. The frame that moving back a period leaves empty is made up from
// what went before (plc.Stretch: no gap, no click); the period is given
// back at the next quiet frame held, which is dropped. The rest of the
// time, and always in-band (where the tone is meant to go out), each frame
// goes out in the period it is read.
func (m *mixer) holdBack(relay, suspect bool) {
	switch {
	case !relay:
		m.send, m.lag = m.in, false
	case !m.lag && (suspect || m.muting):
		plc.Stretch((*[plc.FrameSamples]int16)(&m.send), &m.sent)
		m.delayed, m.lag = m.in, true
	case !m.lag:
		m.send = m.in
	case !suspect && !m.muting && quiet(&m.delayed):
		m.send, m.lag = m.in, false
	default:
		m.send, m.delayed = m.delayed, m.in
	}
	copy(m.sent[:], m.sent[hal.FrameSamples:])
	copy(m.sent[plc.HistorySamples-hal.FrameSamples:], m.send[:])
}

// quietPower is the mean squared sample below which a frame held back may
// be dropped unheard: −50 dBm0.
const quietPower = dsp.ZeroDBm0RMS * dsp.ZeroDBm0RMS / 1e5

// quiet tells whether f is below quietPower.
func quiet(f *hal.Frame) bool {
	var e int64
	for _, v := range f {
		e += int64(v) * int64(v)
	}
	return float64(e) < quietPower*hal.FrameSamples
}

// callSide runs, during a call, what works on the phone's signal before
// anything else: the fax and modem tone detector, listening to both
// directions, and the echo canceller, which a fax or modem call must
// not have (G.164, G.165: its own tone disabler covers the 2100 Hz
// answer tone; the calling tone and a detection either way turn it off
// for the rest of the call).
func (m *mixer) callSide(p *plan) {
	if !m.faxMode {
		m.faxEvs = m.faxIn.Process(m.in[:], m.faxEvs[:0])
		m.faxEvs = m.faxOut.Process(m.prevOut[:], m.faxEvs)
		if len(m.faxEvs) > 0 {
			m.faxMode = true
			for i := range p.nlegs {
				if pm, ok := p.legs[i].(PassThroughMedia); ok {
					pm.SetPassThrough(true)
				}
			}
			select {
			case m.l.faxTones <- m.faxEvs[0].Tone:
			default:
			}
		}
	}
	if m.ec == nil || m.faxMode {
		return
	}
	if !m.ecOn {
		m.ec.Reset()
		m.ecOn = true
	}
	m.ec.Process(m.prevOut[:], m.in[:], m.clean[:])
	m.in = m.clean
}

// change adopts a new plan.
func (m *mixer) change(p *plan) {
	old := m.cur
	m.cur = p
	// Caller ID plays to its end even when the control goroutine has moved
	// on to the next step, which it times by the audio's length alone;
	// only the phone going off-hook cuts it short.
	if p.oht != nil {
		if p.oht != old.oht {
			m.oht = p.oht
		}
	} else if p.detect || p.nlegs > 0 {
		m.oht = nil
	}
	if p.toneKey != old.toneKey && p.toneKey != "" {
		m.gen.Reset(p.tone)
	}
	if p.cwBurst != old.cwBurst && p.cwBurst != 0 {
		if p.cidcw != nil {
			m.cidcw = p.cidcw
		} else {
			m.cwGen.Reset(p.cwTone)
			m.cwPlay = true
		}
	}
	if p.cwBurst == 0 {
		m.cidcw = nil
		m.cwPlay = false
	}
	if p.detect && !old.detect {
		m.det.Reset()
		m.muting = false
	}
	if p.nlegs == 0 {
		m.dgen.Reset()
		clear(m.delayed[:])
		clear(m.sent[:])
		m.lag = false
		m.ecOn = false
		m.faxMode = false
		m.faxIn.Reset()
		m.faxOut.Reset()
	}
}

// key handles a key the receiver found: to the control goroutine, and to
// the calls as RFC 4733 events with its tone cut out of the audio.
func (m *mixer) key(p *plan, ev dtmf.Event, start int64, relay bool) {
	k := keyEvent{digit: ev.Digit, end: ev.Kind == dtmf.End}
	if k.end {
		k.dur = time.Duration(ev.Sample-ev.Start) * time.Second / dsp.SampleRate
	}
	select {
	case m.l.keys <- k:
	default:
	}
	if !relay {
		return
	}
	if !k.end {
		m.muting = true
		// Cut the tone from the frame held back.
		if from := ev.Sample - (start - hal.FrameSamples); from < hal.FrameSamples {
			clear(m.delayed[max(from, 0):])
		}
	} else {
		m.muting = false
	}
	if p.relay != DTMFRFC4733 {
		return
	}
	for i := range p.nlegs {
		if dm, ok := p.legs[i].(DigitMedia); ok {
			_ = dm.SendDigit(ev.Digit, !k.end)
		}
	}
}

// farDigits plays the digits the far end sends: RFC 4733 events from the
// calls, and SIP INFO digits from the control goroutine.
func (m *mixer) farDigits(p *plan) {
	for i := range p.nlegs {
		dm, ok := p.legs[i].(DigitMedia)
		if !ok {
			continue
		}
		for range 4 {
			select {
			case d := <-dm.Digits():
				if d.Digit == 0 {
					continue
				}
				if d.End {
					m.dgen.KeyUp()
				} else {
					_ = m.dgen.KeyDown(d.Digit)
				}
				continue
			default:
			}
			break
		}
	}
	select {
	case d := <-m.l.info:
		_ = m.dgen.Play(string(rune(d)), 800, 400) // 100 ms on, 50 ms off
	default:
	}
}

func sat(v int32) int16 {
	return int16(min(max(v, -32768), 32767))
}

// mixInto sets dst to a+b, saturating.
func mixInto(dst *[hal.FrameSamples]int16, a, b *hal.Frame) {
	for i := range dst {
		dst[i] = sat(int32(a[i]) + int32(b[i]))
	}
}

// addInto adds src to dst, saturating.
func addInto(dst *hal.Frame, src *[hal.FrameSamples]int16) {
	for i := range dst {
		dst[i] = sat(int32(dst[i]) + int32(src[i]))
	}
}
