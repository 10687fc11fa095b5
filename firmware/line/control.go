package line

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/line/digitmap"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/call"
)

// mode is what the phone is doing.
type mode int

const (
	modeIdle     mode = iota // on-hook, nothing for the phone
	modeAlerting             // on-hook, ringing for an incoming call
	modeRecall               // on-hook, ringing to recall a call left on hold
	modeDial                 // off-hook, collecting digits
	modeCalling              // off-hook, our call is not answered yet
	modeTalk                 // off-hook, in a call or a conference
	modeTone                 // off-hook, a final tone: busy, congestion, howler, confirmation
)

// stateNames are the states Status reports.
var stateNames = []string{"idle", "ringing", "recall", "dialtone", "dialing", "calling", "ringback",
	"earlymedia", "connected", "conference", "busy", "congestion", "howler", "confirm"}

// cstate is where one call of the line stands.
type cstate int

const (
	csDialing cstate = iota // our INVITE is (being) sent
	csRinging               // the far end rings
	csEarly                 // early media
	csOffered               // incoming, not answered
	csActive                // answered
	csEnded
)

// lcall is one call of the line.
type lcall struct {
	c        Call
	m        Media
	dir      call.Direction
	number   string
	name     string
	local    bool
	state    cstate
	held     bool // held by us
	consult  bool // placed after a flash, with another call on hold
	transfer bool // a transfer of this call is under way: hang up when it ends
	hops     int  // redirections followed to reach this call
	fax      bool // a fax or modem tone was heard: voice processing is off
	hungUp   bool // we hung it up (or are about to, once it exists)
	start    time.Time
	answered time.Time
	result   string
}

// timers of the controller
const (
	tDigit    = iota // initial and interdigit timers
	tHowler          // busy, congestion or dial tone to howler
	tWarm            // warm line
	tNoAnswer        // forward on no answer
	tCW              // call-waiting tone repeat
	tCID             // the next step of a caller-ID or ringing sequence
	tConfirm         // confirmation tone, then dial tone
	tTransfer        // a transfer's final report is overdue
	nTimers
)

// dial contexts: what the digits being collected are for.
const (
	dialNew = iota // a call (or a feature code)
	dialArg        // the number a feature code takes
)

type evKind int

const (
	evHal evKind = iota
	evKey
	evIncoming
	evCall
	evDialed
	evOp
	evMWI
	evFeatures
	evNetwork
	evConfig
	evFax
)

type event struct {
	kind     evKind
	hal      hal.Event
	key      keyEvent
	call     Call
	lc       *lcall
	cev      call.Event
	err      error
	op       string
	flag     bool
	features Features
	network  Network
	config   *Config
}

// keyEvent is a DTMF key seen by the receiver on the line.
type keyEvent struct {
	digit byte
	end   bool
	dur   time.Duration
}

// controller is the state of a line, owned by its control goroutine.
type controller struct {
	l    *Line
	cfg  *Config
	feat Features
	now  func() time.Time

	mode     mode
	toneName string // modeTone
	// active is the call the phone talks to (or is placing), other the
	// second call: held, or the second party of a conference (conf).
	active, other *lcall
	conf          bool
	waiting       *lcall // an incoming call announced by call waiting
	alerting      *lcall // an incoming call ringing the on-hook phone
	calls         []*lcall

	mt         *digitmap.Matcher
	digits     bool
	dialFor    int
	argFeature *feature
	lastDialed string
	cwOffOnce  bool
	mwi        bool
	vmwiDue    bool

	deadline [nTimers]time.Time

	// caller-ID and ringing sequence
	cidSteps  []callerid.Step
	cidIdx    int
	cidGuard  time.Duration
	ringAfter hal.Cadence // rings after the sequence; nil for VMWI
	ringEnd   time.Time   // when the first ring of the sequence ended
	oht       *callerid.Audio
	cwBurst   int
	cidcw     *callerid.OffHook
	sync      bool    // tests: operations run inline
	pending   []event // results of inline operations
	opCtx     context.Context
	cancelOps context.CancelFunc
}

func newController(l *Line) *controller {
	ctx, cancel := context.WithCancel(context.Background())
	return &controller{l: l, cfg: &l.cfg, feat: l.cfg.Features, now: l.cfg.now, opCtx: ctx, cancelOps: cancel}
}

// run is the control goroutine.
func (c *controller) run(ctx context.Context) error {
	port := c.l.port.Line
	if port.Hook() == hal.OffHook {
		c.handle(event{kind: evHal, hal: hal.Event{Kind: hal.EventOffHook}})
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var alive <-chan time.Time
	beat := func() {}
	if c.cfg.Liveness != nil {
		chk := c.cfg.Liveness(fmt.Sprintf("line %d control", c.l.port.Number), 5*time.Second)
		defer chk.Unregister()
		beat = chk.Beat
		t := time.NewTicker(time.Second)
		defer t.Stop()
		alive = t.C
	}
	for {
		var incoming <-chan Call
		if c.cfg.Network != nil {
			incoming = c.cfg.Network.Incoming()
		}
		next, ok := c.nextDeadline()
		if ok {
			timer.Reset(max(next.Sub(c.now()), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-port.Events():
			if !ok {
				return nil
			}
			c.handle(event{kind: evHal, hal: ev})
		case k := <-c.l.keys:
			c.handle(event{kind: evKey, key: k})
		case in, ok := <-incoming:
			if !ok {
				c.cfg.Network = nil // the account went away
				continue
			}
			c.handle(event{kind: evIncoming, call: in})
		case ev := <-c.l.events:
			c.handle(ev)
		case <-timer.C:
			c.fireTimers()
		case <-alive:
			beat()
		case tone := <-c.l.faxTones:
			c.handle(event{kind: evFax, flag: true, op: tone.String()})
		}
	}
}

func (c *controller) nextDeadline() (time.Time, bool) {
	var next time.Time
	for _, d := range c.deadline {
		if !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next, !next.IsZero()
}

func (c *controller) arm(t int, d time.Duration) { c.deadline[t] = c.now().Add(d) }
func (c *controller) disarm(t int)               { c.deadline[t] = time.Time{} }

// fireTimers handles every timer that is due.
func (c *controller) fireTimers() {
	now := c.now()
	for t := range c.deadline {
		if d := c.deadline[t]; !d.IsZero() && !d.After(now) {
			c.deadline[t] = time.Time{}
			c.timer(t)
			c.settle()
		}
	}
}

// handle processes one event, then the results of operations it ran
// inline, and publishes the new state.
func (c *controller) handle(ev event) {
	c.dispatch(ev)
	c.settle()
}

func (c *controller) settle() {
	for len(c.pending) > 0 {
		ev := c.pending[0]
		c.pending = c.pending[1:]
		c.dispatch(ev)
	}
	c.publish()
	c.publishStatus()
}

func (c *controller) dispatch(ev event) {
	switch ev.kind {
	case evHal:
		c.l.log.Debug("line event", "event", ev.hal.String())
		switch ev.hal.Kind {
		case hal.EventOffHook:
			c.offHook()
		case hal.EventOnHook:
			c.onHook()
		case hal.EventFlash:
			c.flash()
		case hal.EventPulseDigit:
			c.digit(ev.hal.Digit)
		case hal.EventFault:
			c.l.log.Warn("line fault", "err", ev.hal.Err)
		}
	case evKey:
		if ev.key.end {
			c.keyEnd(ev.key)
		} else {
			c.digit(ev.key.digit)
		}
	case evIncoming:
		c.incoming(ev.call)
	case evCall:
		c.callEvent(ev.lc, ev.cev)
	case evDialed:
		c.dialedResult(ev.lc, ev.call, ev.err)
	case evOp:
		if ev.err != nil && !errors.Is(ev.err, call.ErrEnded) {
			c.l.log.Warn("call operation failed", "op", ev.op, "err", ev.err)
			if ev.op == "transfer" && ev.lc != nil && ev.lc.transfer {
				ev.lc.transfer = false
				c.hangup(ev.lc)
			}
		}
	case evMWI:
		if c.mwi != ev.flag {
			c.mwi = ev.flag
			c.vmwiDue = true
			c.sendVMWI()
		}
	case evFeatures:
		c.setFeatures(ev.features)
	case evNetwork:
		c.cfg.Network = ev.network
	case evFax:
		if lc := c.active; lc != nil && !lc.fax {
			lc.fax = true
			c.l.log.Info("fax or modem tone in the call: G.711 pass-through, echo canceller off until it ends", "tone", ev.op, "number", lc.number)
			if c.cfg.FaxReinvite && lc.c != nil && !lc.local {
				cl := lc.c
				c.async(lc, "pass-through", cl.PassThrough)
			}
		}
	case evConfig:
		n := ev.config
		if n.Country != nil {
			c.cfg.Country = n.Country
		}
		if n.DigitMap != nil {
			c.cfg.DigitMap = n.DigitMap
		}
		c.cfg.CallerID, c.cfg.CallerIDOptions, c.cfg.DTMF = n.CallerID, n.CallerIDOptions, n.DTMF
		c.cfg.FaxReinvite = n.FaxReinvite
		if n.HowlerAfter > 0 {
			c.cfg.HowlerAfter = n.HowlerAfter
		}
		c.l.identMu.Lock()
		if n.Extension != "" {
			c.cfg.Extension = n.Extension
		}
		c.cfg.DisplayName = n.DisplayName
		c.l.identMu.Unlock()
		c.setFeatures(n.Features)
	}
}

func (c *controller) setFeatures(f Features) {
	if f.NoAnswerAfter <= 0 {
		f.NoAnswerAfter = c.feat.NoAnswerAfter
	}
	c.feat = f
}

// async runs a call operation without blocking the line; its failure comes
// back as an evOp event.
func (c *controller) async(lc *lcall, op string, fn func(ctx context.Context) error) {
	if c.sync {
		c.pending = append(c.pending, event{kind: evOp, lc: lc, op: op, err: fn(c.opCtx)})
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(c.opCtx, 40*time.Second)
		defer cancel()
		err := fn(ctx)
		if err != nil {
			c.post(event{kind: evOp, lc: lc, op: op, err: err})
		}
	}()
}

// post queues an event from another goroutine, unless the line stopped.
func (c *controller) post(ev event) {
	select {
	case c.l.events <- ev:
	case <-c.opCtx.Done():
	}
}

// watch forwards a call's events to the control goroutine.
func (c *controller) watch(lc *lcall) {
	if c.sync {
		return // tests deliver call events themselves
	}
	go func() {
		for ev := range lc.c.Events() {
			c.post(event{kind: evCall, lc: lc, cev: ev})
		}
	}()
}

func (c *controller) attach(lc *lcall, cl Call) {
	lc.c = cl
	lc.m = cl.Media()
	c.watch(lc)
}

// ---- hook switch ----

func (c *controller) offHook() {
	c.abortSequence()
	switch {
	case c.alerting != nil:
		lc := c.alerting
		c.alerting = nil
		c.stopRinging()
		c.answer(lc)
		c.active = lc
		c.mode = modeTalk
	case c.mode == modeRecall && c.other != nil:
		c.stopRinging()
		c.active, c.other = c.other, nil
		c.resume(c.active)
		c.mode = modeTalk
	default:
		c.startDial()
		if h := c.feat.Hotline; h != "" {
			if c.feat.Warmline > 0 {
				c.arm(tWarm, c.feat.Warmline)
			} else {
				c.placeCall(h)
			}
		}
	}
}

func (c *controller) onHook() {
	c.clearDial()
	c.stopCW()
	c.disarm(tHowler)
	c.disarm(tConfirm)
	switch {
	case c.active != nil && c.other != nil && !c.conf && c.active.consult:
		c.transferOnHangup(c.other, c.active)
		c.active, c.other = nil, nil
	default:
		if c.active != nil {
			c.hangup(c.active)
			c.active = nil
		}
		if c.conf && c.other != nil {
			c.hangup(c.other)
			c.other = nil
		}
	}
	c.conf = false
	c.mode = modeIdle
	switch {
	case c.other != nil:
		// A call left on hold: ring the phone to bring it back.
		c.mode = modeRecall
		c.startRinging(nil)
	case c.waiting != nil:
		lc := c.waiting
		c.waiting = nil
		c.disarm(tCW)
		c.alert(lc)
	default:
		c.sendVMWI()
	}
}

// transferOnHangup connects the held call to the consultation call when
// the phone hangs up between them: an attended transfer once the
// consultation is answered, a blind one while it still rings.
func (c *controller) transferOnHangup(held, consult *lcall) {
	if held.c == nil || consult.c == nil || held.local || consult.local {
		c.hangup(consult)
		c.hangup(held)
		return
	}
	held.transfer = true
	c.arm(tTransfer, 10*time.Second)
	if consult.state == csActive {
		consult.transfer = true
		hc, cc := held.c, consult.c
		c.async(held, "transfer", func(ctx context.Context) error { return hc.TransferTo(ctx, cc) })
		return
	}
	hc, number := held.c, consult.number
	c.async(held, "transfer", func(ctx context.Context) error { return hc.Transfer(ctx, number) })
	c.hangup(consult)
}

func (c *controller) flash() {
	switch c.mode {
	case modeTalk:
		switch {
		case c.waiting != nil:
			// Take the waiting call; the current one waits on hold.
			lc := c.waiting
			c.waiting = nil
			c.stopCW()
			if c.conf {
				c.hangup(c.other)
				c.conf = false
			}
			c.hold(c.active)
			c.other = c.active
			c.answer(lc)
			c.active = lc
		case c.conf:
			// Drop the party added last.
			c.hangup(c.active)
			c.active, c.other = c.other, nil
			c.conf = false
		case c.other != nil && c.active.consult && c.active.state == csActive:
			// Bring the held party in: a three-way conference.
			c.resume(c.other)
			c.conf = true
		case c.other != nil:
			c.hold(c.active)
			c.resume(c.other)
			c.active, c.other = c.other, c.active
		case c.active != nil:
			// Hold, and recall dial tone for a second call.
			c.hold(c.active)
			c.other, c.active = c.active, nil
			c.startDial()
		}
	case modeCalling:
		if c.other != nil {
			c.hangup(c.active)
			c.active, c.other = c.other, nil
			c.resume(c.active)
			c.mode = modeTalk
		}
	case modeDial, modeTone:
		c.disarm(tHowler)
		c.disarm(tConfirm)
		if c.other != nil {
			c.clearDial()
			c.active, c.other = c.other, nil
			c.resume(c.active)
			c.mode = modeTalk
		} else {
			c.startDial()
		}
	}
}

// ---- digits ----

func (c *controller) startDial() {
	c.mode = modeDial
	c.dialFor = dialNew
	c.argFeature = nil
	c.digits = false
	c.mt = c.cfg.DigitMap.Start()
	c.arm(tDigit, c.cfg.DigitMap.Timers().Initial)
}

func (c *controller) clearDial() {
	c.mt = nil
	c.digits = false
	c.disarm(tDigit)
	c.disarm(tWarm)
}

func (c *controller) digit(d byte) {
	if c.mode != modeDial || c.mt == nil {
		return
	}
	c.digits = true
	c.disarm(tWarm)
	r := c.mt.Digit(d)
	dialed := c.mt.Dialed()
	exact, more := false, false
	if c.cfg.Exchange != nil && c.dialFor == dialNew {
		exact, more = c.cfg.Exchange.match(dialed)
	}
	if exact && !more {
		c.dialed(dialed)
		return
	}
	switch r.Kind {
	case digitmap.NeedMore:
		c.arm(tDigit, r.Wait)
	case digitmap.Complete:
		c.dialed(r.Number)
	default:
		if more || exact {
			c.arm(tDigit, c.cfg.DigitMap.Timers().Short)
			return
		}
		c.l.log.Info("number refused by the digit map", "result", r.Kind.String())
		c.finalTone("congestion")
	}
}

// keyEnd sends a digit by SIP INFO when the line relays digits that way.
func (c *controller) keyEnd(k keyEvent) {
	if c.mode != modeTalk || c.cfg.DTMF != DTMFInfo {
		return
	}
	for _, lc := range []*lcall{c.active, c.conferee()} {
		if lc != nil && lc.c != nil {
			cl, d := lc.c, k.dur
			c.async(lc, "info", func(ctx context.Context) error { return cl.SendDTMF(ctx, rune(k.digit), d) })
		}
	}
}

func (c *controller) conferee() *lcall {
	if c.conf {
		return c.other
	}
	return nil
}

// dialed acts on a complete number.
func (c *controller) dialed(number string) {
	c.disarm(tDigit)
	c.mt = nil
	if len(number) > 1 {
		number = strings.TrimSuffix(number, "#")
	}
	if c.dialFor == dialArg {
		f := c.argFeature
		c.argFeature = nil
		c.useFeature(f, number)
		return
	}
	if f := lookupFeature(number); f != nil {
		if f.arg {
			c.dialFor = dialArg
			c.argFeature = f
			c.digits = false
			c.mt = c.cfg.DigitMap.Start()
			c.arm(tDigit, c.cfg.DigitMap.Timers().Initial)
			return
		}
		c.useFeature(f, "")
		return
	}
	c.placeCall(number)
}

func (c *controller) useFeature(f *feature, arg string) {
	c.l.log.Info("feature code", "code", f.code)
	switch {
	case f.set != nil:
		next := c.feat
		f.set(&next, arg)
		c.feat = next
		if c.cfg.OnFeatures != nil {
			c.cfg.OnFeatures(next)
		}
		c.confirm()
	case f.code == codeCancelCallWaiting:
		c.cwOffOnce = true
		c.confirm()
	case f.code == codeRedial:
		if c.lastDialed == "" {
			c.finalTone("congestion")
			return
		}
		c.placeCall(c.lastDialed)
	case f.code == codeIntercom:
		c.placeLocal(arg, localIntercom)
	case f.code == codePage:
		c.placeLocal("", localPage)
	case f.code == codeBlindTransfer:
		held := c.other
		if held == nil || held.c == nil || held.local {
			c.finalTone("congestion")
			return
		}
		held.transfer = true
		c.arm(tTransfer, 10*time.Second)
		hc := held.c
		c.async(held, "transfer", func(ctx context.Context) error { return hc.Transfer(ctx, arg) })
		c.other = nil
		c.confirm()
	}
}

// confirm plays the confirmation tone, then dial tone again.
func (c *controller) confirm() {
	c.finalTone("confirm")
	c.disarm(tHowler)
	c.arm(tConfirm, 600*time.Millisecond)
}

// finalTone plays busy, congestion, howler or confirmation until on-hook.
func (c *controller) finalTone(name string) {
	c.clearDial()
	c.mode = modeTone
	c.toneName = name
	if name == "busy" || name == "congestion" {
		c.arm(tHowler, c.cfg.HowlerAfter)
	}
}

// placeCall calls number: another port when it is an extension, else the
// line's SIP account.
func (c *controller) placeCall(number string) {
	c.clearDial()
	if c.cfg.Exchange != nil {
		if exact, _ := c.cfg.Exchange.match(number); exact {
			c.lastDialed = number
			c.placeLocal(number, localCall)
			return
		}
	}
	if c.cfg.Network == nil {
		c.l.log.Info("no SIP account to call through", "number", number)
		c.finalTone("congestion")
		return
	}
	c.lastDialed = number
	lc := c.newCall(call.Outgoing, number)
	c.mode = modeCalling
	c.active = lc
	nw := c.cfg.Network
	if c.sync {
		cl, err := nw.Dial(c.opCtx, number)
		c.pending = append(c.pending, event{kind: evDialed, lc: lc, call: cl, err: err})
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(c.opCtx, 32*time.Second)
		defer cancel()
		cl, err := nw.Dial(ctx, number)
		c.post(event{kind: evDialed, lc: lc, call: cl, err: err})
	}()
}

func (c *controller) placeLocal(ext string, kind int) {
	c.clearDial()
	if c.cfg.Exchange == nil {
		c.finalTone("congestion")
		return
	}
	var cl Call
	var err error
	if kind == localPage {
		cl, err = c.cfg.Exchange.page(c.l)
	} else if ext == c.cfg.Extension {
		err = errors.New("line: dialed its own extension")
	} else {
		cl, err = c.cfg.Exchange.dial(c.l, ext, kind)
	}
	if err != nil {
		c.l.log.Info("local call failed", "ext", ext, "err", err)
		c.finalTone("congestion")
		return
	}
	lc := c.newCall(call.Outgoing, ext)
	lc.local = true
	if kind == localPage {
		lc.number = codePage
	}
	c.attach(lc, cl)
	c.mode = modeCalling
	c.active = lc
}

func (c *controller) newCall(dir call.Direction, number string) *lcall {
	lc := &lcall{dir: dir, number: number, start: c.now(), consult: dir == call.Outgoing && c.other != nil}
	if dir == call.Incoming {
		lc.state = csOffered
	}
	c.calls = append(c.calls, lc)
	return lc
}

func (c *controller) dialedResult(lc *lcall, cl Call, err error) {
	if err != nil {
		c.l.log.Warn("call failed", "number", lc.number, "err", err)
		lc.result = "failed"
		c.ended(lc, call.Event{Kind: call.EventEnded, Cause: call.EndError, Err: err})
		return
	}
	c.attach(lc, cl)
	if lc.hungUp {
		c.async(lc, "hangup", cl.Hangup)
	}
}

// ---- call operations ----

func (c *controller) answer(lc *lcall) {
	c.disarm(tNoAnswer)
	cl := lc.c
	lc.m = cl.Media()
	c.async(lc, "answer", cl.Answer)
}

func (c *controller) hangup(lc *lcall) {
	if lc == nil || lc.hungUp {
		return
	}
	lc.hungUp = true
	if lc.c == nil {
		return // the dial has not returned; dialedResult hangs it up
	}
	if lc.state == csOffered && lc.dir == call.Incoming {
		cl := lc.c
		lc.result = "missed"
		c.async(lc, "reject", func(context.Context) error { return cl.Reject(480) })
		return
	}
	c.async(lc, "hangup", lc.c.Hangup)
}

func (c *controller) hold(lc *lcall) {
	if lc == nil || lc.c == nil || lc.held {
		return
	}
	lc.held = true
	c.async(lc, "hold", lc.c.Hold)
}

func (c *controller) resume(lc *lcall) {
	if lc == nil || lc.c == nil || !lc.held {
		return
	}
	lc.held = false
	c.async(lc, "resume", lc.c.Resume)
}

// ---- incoming calls ----

func (c *controller) incoming(cl Call) {
	lc := c.newCall(call.Incoming, "")
	p := cl.Remote()
	lc.number, lc.name = p.Number, p.Name
	_, lc.local = cl.(*localEnd)
	c.attach(lc, cl)
	kind := cl.Ringing()
	page := kind == "page" || kind == "intercom"
	f := c.feat
	c.l.log.Info("incoming call", "from", lc.number, "local", lc.local)
	if id := cl.Replaces(); id != "" {
		for _, old := range c.calls {
			if old != lc && old.c != nil && old.c.ID() == id && old.state == csActive {
				c.replace(old, lc)
				return
			}
		}
	}
	reject := func(code int, result string) {
		lc.result = result
		lc.hungUp = true
		c.async(lc, "reject", func(context.Context) error { return cl.Reject(code) })
	}
	redirect := func(target string) {
		if lc.local {
			reject(486, "busy")
			return
		}
		lc.result = "forwarded"
		lc.hungUp = true
		c.async(lc, "redirect", func(context.Context) error { return cl.Redirect(target) })
	}
	switch {
	case f.DND:
		reject(480, "dnd")
	case f.AnonymousReject && !lc.local && (p.NumberPrivate || p.Number == "" || strings.EqualFold(p.Number, "anonymous")):
		reject(433, "anonymous-rejected")
	case f.ForwardAlways != "" && !lc.local:
		redirect(f.ForwardAlways)
	case c.mode == modeIdle && c.l.port.Line.Hook() == hal.OnHook && c.active == nil && c.other == nil:
		c.alert(lc)
	case c.mode == modeTalk && !page && c.waiting == nil && c.other == nil && f.CallWaiting && !c.cwOffOnce:
		c.callWaiting(lc)
	case f.ForwardBusy != "":
		redirect(f.ForwardBusy)
	default:
		reject(486, "busy")
	}
}

// replace puts the incoming call lc in the place of old, which it replaces
// (RFC 3891: the far end transferred old's party to someone who now calls
// us in its stead). It is answered at once; answering ends old.
func (c *controller) replace(old, lc *lcall) {
	c.l.log.Info("call replaced", "old", old.number, "new", lc.number)
	old.result = "transferred"
	old.hungUp = true
	c.answer(lc)
	switch old {
	case c.active:
		c.active = lc
	case c.other:
		c.other = lc
		c.hold(lc)
	}
}

// alert rings the on-hook phone for lc, with caller ID.
func (c *controller) alert(lc *lcall) {
	c.abortSequence()
	c.alerting = lc
	c.mode = modeAlerting
	if err := lc.c.Ring(); err != nil {
		c.l.log.Warn("ring", "err", err)
	}
	c.startRinging(lc)
	if c.feat.ForwardNoAnswer != "" && !lc.local {
		c.arm(tNoAnswer, c.feat.NoAnswerAfter)
	}
}

// cadence returns the ring cadence named by a distinctive ring, or the
// country's.
func (c *controller) cadence(name string) hal.Cadence {
	ms := func(v ...int) hal.Cadence {
		out := make(hal.Cadence, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// GR-506-CORE distinctive ringing patterns.
	switch name {
	case "dr2":
		return ms(800, 400, 800, 4000)
	case "dr3":
		return ms(400, 200, 400, 200, 800, 4000)
	case "dr4":
		return ms(300, 200, 1000, 200, 300, 4000)
	case "dr5", "intercom":
		return ms(500, 100, 500, 4900)
	case "page":
		return ms(250, 150, 250, 150, 250, 4000)
	}
	return hal.Cadence(c.cfg.Country.Ring.Pattern)
}

// startRinging rings the phone for lc (nil: recall of a held call), with
// the caller-ID sequence first when the line sends caller ID.
func (c *controller) startRinging(lc *lcall) {
	name := ""
	if lc != nil && lc.c != nil {
		name = lc.c.Ringing()
	}
	cad := c.cadence(name)
	if lc == nil || !c.feat.CallerID || c.cfg.CallerID == 0 || name == "page" || name == "intercom" {
		c.ring(cad)
		return
	}
	p := lc.c.Remote()
	info := callerid.Info{Time: c.now(), Number: p.Number, Name: p.Name}
	if p.NumberPrivate || info.Number == "" {
		info.Number = ""
		info.NumberAbsence = callerid.Private
		if !p.NumberPrivate {
			info.NumberAbsence = callerid.Unavailable
		}
	}
	if p.NamePrivate || info.Name == "" {
		info.Name = ""
		info.NameAbsence = callerid.Private
		if !p.NamePrivate {
			info.NameAbsence = callerid.Unavailable
		}
	}
	opt := c.cfg.CallerIDOptions
	if len(cad) > 0 {
		opt.FirstRing = cad[0]
	}
	seq, err := callerid.OnHook(c.cfg.CallerID, callerid.NewCallSetup(info), opt)
	if err != nil {
		c.l.log.Warn("caller ID", "err", err)
		c.ring(cad)
		return
	}
	c.runSequence(seq, cad)
}

func (c *controller) ring(cad hal.Cadence) {
	if err := c.l.port.Line.Ring(cad); err != nil {
		c.l.log.Warn("ring", "err", err)
	}
}

// runSequence performs a caller-ID (or VMWI) sequence step by step, then
// rings with ringAfter when it is not nil.
func (c *controller) runSequence(seq *callerid.Sequence, ringAfter hal.Cadence) {
	c.cidSteps, c.cidIdx, c.cidGuard, c.ringAfter = seq.Steps, 0, seq.Guard, ringAfter
	c.ringEnd = time.Time{}
	c.setFeed(hal.FeedOHT)
	c.nextStep()
}

func (c *controller) nextStep() {
	for c.cidSteps != nil {
		if c.cidIdx == len(c.cidSteps) {
			c.oht = nil
			if c.cidGuard > 0 {
				d := c.cidGuard
				c.cidGuard = 0
				if len(c.ringAfter) > 1 && !c.ringEnd.IsZero() {
					// Keep the cadence's silent interval after the first ring.
					d = max(d, c.ringAfter[1]-c.now().Sub(c.ringEnd))
				}
				c.arm(tCID, d)
				return
			}
			c.cidSteps = nil
			if c.ringAfter != nil {
				c.ring(c.ringAfter)
			} else {
				c.setFeed(hal.FeedActive)
			}
			return
		}
		st := c.cidSteps[c.cidIdx]
		c.cidIdx++
		switch st.Kind {
		case callerid.StepWait:
			if c.cidIdx > 1 && c.cidSteps[c.cidIdx-2].Kind == callerid.StepRing {
				c.ringEnd = c.now()
			}
			c.arm(tCID, st.D)
			return
		case callerid.StepAudio:
			if c.cidIdx > 1 && c.cidSteps[c.cidIdx-2].Kind == callerid.StepRing {
				c.ringEnd = c.now()
			}
			st.Audio.Rewind()
			c.oht = st.Audio
			// The media loop starts the audio at its next frame: allow
			// two frames more than its length before the next step.
			c.arm(tCID, st.D+2*hal.FrameDuration)
			return
		case callerid.StepRing, callerid.StepRingPulse:
			c.ring(hal.Cadence{st.D})
			c.arm(tCID, st.D)
			return
		case callerid.StepReversePolarity:
			c.setFeed(hal.FeedReverseOHT)
		case callerid.StepNormalPolarity:
			c.setFeed(hal.FeedOHT)
		}
	}
}

func (c *controller) setFeed(f hal.Feed) {
	if err := c.l.port.Line.SetFeed(f); err != nil {
		c.l.log.Warn("feed", "feed", f.String(), "err", err)
	}
}

// abortSequence stops a caller-ID or VMWI sequence in progress.
func (c *controller) abortSequence() {
	if c.cidSteps == nil && c.oht == nil {
		return
	}
	c.cidSteps = nil
	c.oht = nil
	c.disarm(tCID)
	c.setFeed(hal.FeedActive)
}

func (c *controller) stopRinging() {
	c.abortSequence()
	c.disarm(tNoAnswer)
	if err := c.l.port.Line.StopRing(); err != nil {
		c.l.log.Warn("stop ring", "err", err)
	}
	if c.l.port.Line.Feed() != hal.FeedActive {
		c.setFeed(hal.FeedActive)
	}
}

// sendVMWI tells an idle phone's message lamp the message-waiting state.
func (c *controller) sendVMWI() {
	if !c.vmwiDue || c.mode != modeIdle || c.cidSteps != nil || c.cfg.CallerID == 0 || c.l.port.Line.Hook() != hal.OnHook {
		return
	}
	c.vmwiDue = false
	seq, err := callerid.OnHook(c.cfg.CallerID, callerid.NewMessageWaiting(c.mwi), c.cfg.CallerIDOptions)
	if err != nil {
		c.l.log.Debug("no visual message waiting with this caller ID standard", "err", err)
		return
	}
	c.runSequence(seq, nil)
}

// callWaiting announces lc to the phone in a call.
func (c *controller) callWaiting(lc *lcall) {
	c.waiting = lc
	if err := lc.c.Ring(); err != nil {
		c.l.log.Warn("ring", "err", err)
	}
	c.cwBurst++
	c.cidcw = nil
	if c.feat.CallerID && (c.cfg.CallerID == callerid.Bellcore || c.cfg.CallerID == callerid.ETSI) {
		p := lc.c.Remote()
		info := callerid.Info{Time: c.now(), Number: p.Number, Name: p.Name}
		if info.Number == "" || p.NumberPrivate {
			info.Number, info.NumberAbsence = "", callerid.Private
		}
		if info.Name == "" || p.NamePrivate {
			info.Name, info.NameAbsence = "", callerid.Private
		}
		cw, err := callerid.NewOffHook(callerid.NewCallSetup(info), callerid.OffHookOptions{Modem: c.cfg.CallerID.Modem()})
		if err == nil {
			c.cidcw = cw
		}
	}
	c.arm(tCW, 10*time.Second)
	if c.feat.ForwardNoAnswer != "" && !lc.local {
		c.arm(tNoAnswer, c.feat.NoAnswerAfter)
	}
}

func (c *controller) stopCW() {
	c.disarm(tCW)
	c.cidcw = nil
}

// ---- call events ----

func (c *controller) callEvent(lc *lcall, ev call.Event) {
	if lc.state == csEnded {
		return
	}
	switch ev.Kind {
	case call.EventProgress:
		if lc.state == csDialing {
			lc.state = csRinging
		}
	case call.EventEarlyMedia:
		lc.state = csEarly
		lc.m = lc.c.Media()
	case call.EventAnswered:
		lc.state = csActive
		lc.answered = c.now()
		lc.m = lc.c.Media()
		if lc == c.active && c.mode == modeCalling {
			c.mode = modeTalk
		}
	case call.EventMediaChanged:
		lc.m = lc.c.Media()
	case call.EventDTMF:
		if lc == c.active || lc == c.conferee() {
			select {
			case c.l.info <- byte(ev.Digit):
			default:
			}
		}
	case call.EventTransferProgress:
		if ev.Final && lc.transfer {
			c.l.log.Info("transfer finished", "code", ev.Code)
			if ev.Code >= 200 && ev.Code < 300 {
				lc.result = "transferred"
			}
			c.hangup(lc)
		}
	case call.EventReferral:
		if lc != c.active || ev.Referral == nil {
			if ev.Referral != nil {
				_ = ev.Referral.Reject()
			}
			return
		}
		nl := c.newCall(call.Outgoing, ev.Referral.Target)
		c.active = nl
		c.mode = modeCalling
		cl := lc.c
		ref := ev.Referral
		if c.sync {
			ncl, err := cl.AcceptReferral(c.opCtx, ref)
			c.pending = append(c.pending, event{kind: evDialed, lc: nl, call: ncl, err: err})
		} else {
			go func() {
				ctx, cancel := context.WithTimeout(c.opCtx, 32*time.Second)
				defer cancel()
				ncl, err := cl.AcceptReferral(ctx, ref)
				c.post(event{kind: evDialed, lc: nl, call: ncl, err: err})
			}()
		}
	case call.EventEnded:
		c.ended(lc, ev)
	}
}

// ended cleans up after a call that is over, and decides what the phone
// does next.
func (c *controller) ended(lc *lcall, ev call.Event) {
	lc.state = csEnded
	c.record(lc, ev)
	for i, x := range c.calls {
		if x == lc {
			c.calls = append(c.calls[:i], c.calls[i+1:]...)
			break
		}
	}
	if lc.transfer {
		lc.transfer = false
	}
	offHook := c.l.port.Line.Hook() == hal.OffHook
	if lc == c.active && ev.Code >= 300 && ev.Code < 400 && ev.Target != "" && lc.hops < maxRedirects && !lc.hungUp && offHook {
		// Redirected (a forwarded number): call where the response says.
		c.l.log.Info("call redirected", "from", lc.number, "to", ev.Target, "code", ev.Code)
		hops, consult, last := lc.hops+1, lc.consult, c.lastDialed
		c.active = nil
		c.placeCall(ev.Target)
		c.lastDialed = last // a redial calls the number dialed, not where it led
		if c.active != nil {
			c.active.hops, c.active.consult = hops, consult
		}
		return
	}
	switch lc {
	case c.alerting:
		c.alerting = nil
		c.stopRinging()
		c.mode = modeIdle
		c.sendVMWI()
	case c.waiting:
		c.waiting = nil
		c.stopCW()
	case c.active:
		c.active = nil
		switch {
		case c.conf:
			c.conf = false
			c.active, c.other = c.other, nil
		case c.other != nil && offHook && c.mode != modeDial:
			// The consultation or the call in front ended: back to the
			// held call.
			c.active, c.other = c.other, nil
			c.resume(c.active)
			c.mode = modeTalk
		case offHook && (c.mode == modeCalling || c.mode == modeTalk):
			c.finalTone(toneForEnd(lc, ev))
		}
	case c.other:
		c.other = nil
		c.conf = false
		if c.mode == modeRecall {
			c.l.port.Line.StopRing()
			c.mode = modeIdle
			c.sendVMWI()
		}
	}
}

// maxRedirects bounds the redirections a call follows (RFC 3261 §8.1.3.4
// leaves the number to the UA; loops must end).
const maxRedirects = 3

// toneForEnd is what the caller hears when a call ends: busy when the far
// end was busy or hung up, congestion (reorder) when the number does not
// exist or the network failed.
func toneForEnd(lc *lcall, ev call.Event) string {
	if lc.state == csActive || !lc.answered.IsZero() {
		return "busy"
	}
	switch ev.Code {
	case 486, 600, 603:
		return "busy"
	}
	if ev.Cause == call.EndRemote {
		return "busy"
	}
	return "congestion"
}

// record writes the call log entry of a call that ended.
func (c *controller) record(lc *lcall, ev call.Event) {
	r := Record{Start: lc.start, Port: c.l.port.Number, Number: lc.number, Name: lc.name, Local: lc.local, Result: lc.result}
	r.Direction = "out"
	if lc.dir == call.Incoming {
		r.Direction = "in"
	}
	if !lc.answered.IsZero() {
		r.Duration = c.now().Sub(lc.answered).Seconds()
		if r.Result == "" {
			r.Result = "answered"
		}
	}
	if r.Result == "" {
		switch {
		case lc.dir == call.Incoming:
			r.Result = "missed"
		case ev.Code >= 300:
			r.Result = fmt.Sprintf("%d %s", ev.Code, ev.Reason)
			if ev.Reason == "" {
				r.Result = fmt.Sprintf("%d", ev.Code)
			}
		case ev.Cause == call.EndError || ev.Cause == call.EndTimeout:
			r.Result = "failed"
		default:
			r.Result = "cancelled"
		}
	}
	c.l.log.Info("call ended", "dir", r.Direction, "number", r.Number, "result", r.Result, "duration_s", r.Duration)
	if h := c.cfg.History; h != nil {
		if err := h.Add(r); err != nil {
			c.l.log.Warn("call log", "err", err)
		}
	}
}

// ---- timers ----

func (c *controller) timer(t int) {
	switch t {
	case tDigit:
		if c.mode != modeDial || c.mt == nil {
			return
		}
		if !c.digits {
			// Nothing dialed: the phone was left off the hook.
			c.finalTone("congestion")
			return
		}
		dialed := c.mt.Dialed()
		if c.cfg.Exchange != nil && c.dialFor == dialNew {
			if exact, _ := c.cfg.Exchange.match(dialed); exact {
				c.dialed(dialed)
				return
			}
		}
		r := c.mt.Timeout()
		if r.Kind == digitmap.Complete {
			c.dialed(r.Number)
		} else {
			c.finalTone("congestion")
		}
	case tHowler:
		if c.mode == modeTone {
			c.toneName = "howler"
		}
	case tWarm:
		if c.mode == modeDial && !c.digits && c.feat.Hotline != "" {
			c.placeCall(c.feat.Hotline)
		}
	case tNoAnswer:
		target := c.feat.ForwardNoAnswer
		for _, lc := range []*lcall{c.alerting, c.waiting} {
			if lc == nil || target == "" || lc.local {
				continue
			}
			if lc == c.alerting {
				c.alerting = nil
				c.stopRinging()
				c.mode = modeIdle
			} else {
				c.waiting = nil
				c.stopCW()
			}
			lc.result = "forwarded"
			lc.hungUp = true
			cl := lc.c
			c.async(lc, "redirect", func(context.Context) error { return cl.Redirect(target) })
		}
	case tCW:
		if c.waiting != nil {
			c.cwBurst++
			c.cidcw = nil
			c.arm(tCW, 10*time.Second)
		}
	case tCID:
		c.nextStep()
	case tConfirm:
		if c.mode == modeTone && c.toneName == "confirm" {
			c.startDial()
		}
	case tTransfer:
		for _, lc := range append([]*lcall(nil), c.calls...) {
			if lc.transfer {
				lc.transfer = false
				c.hangup(lc)
			}
		}
	}
}

// shutdown hangs up the calls left when the line stops.
func (c *controller) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, lc := range c.calls {
		if lc.c != nil {
			if lc.state == csOffered {
				_ = lc.c.Reject(503)
			} else {
				_ = lc.c.Hangup(ctx)
			}
		}
	}
	c.cancelOps()
}

// ---- what the phone hears, and the status ----

// publish builds the media plan of the current state.
func (c *controller) publish() {
	p := &plan{relay: c.cfg.DTMF, oht: c.oht}
	country := c.cfg.Country
	setTone := func(name string, t tone.Tone) { p.toneKey, p.tone = name, t }
	switch c.mode {
	case modeDial:
		p.detect = true
		if !c.digits {
			if c.mwi || c.other != nil || c.dialFor == dialArg || c.feat.DND || c.feat.ForwardAlways != "" {
				setTone("stutter", country.Stutter)
			} else {
				setTone("dial", country.Dial)
			}
		}
	case modeCalling:
		p.detect = true
		if lc := c.active; lc != nil {
			switch {
			case lc.state == csEarly && lc.m != nil:
				p.addLeg(lc.m)
			case lc.state == csRinging:
				setTone("ringback", country.Ringback)
			}
		}
	case modeTalk:
		p.detect = true
		if c.active != nil && c.active.m != nil {
			p.addLeg(c.active.m)
		}
		if c.conf && c.other != nil && c.other.m != nil {
			p.addLeg(c.other.m)
		}
		if c.waiting != nil {
			p.cwBurst = c.cwBurst
			p.cwTone = country.CallWaiting
			p.cidcw = c.cidcw
		}
	case modeTone:
		switch c.toneName {
		case "busy":
			setTone("busy", country.Busy)
		case "congestion":
			setTone("congestion", country.Congestion)
		case "howler":
			setTone("howler", country.Howler)
		case "confirm":
			setTone("confirm", confirmTone(country))
		}
	}
	if c.active != nil {
		if sm, ok := c.active.m.(StatsMedia); ok {
			p.stats = sm
		}
	}
	c.l.plan.Store(p)
}

// confirmTone is the confirmation tone: three short bursts of the dial
// tone's sound (GR-506: 0.1 s on, 0.1 s off, three times).
func confirmTone(country *tone.Country) tone.Tone {
	burst := tone.Segment{On: true, Duration: 100 * time.Millisecond}
	gap := tone.Segment{Duration: 100 * time.Millisecond}
	return tone.Tone{Sound: country.Dial.Sound, Cadence: []tone.Segment{burst, gap, burst, gap, burst, gap}, Loop: 6}
}

func (c *controller) stateName() string {
	switch c.mode {
	case modeAlerting:
		return "ringing"
	case modeRecall:
		return "recall"
	case modeDial:
		if c.digits {
			return "dialing"
		}
		return "dialtone"
	case modeCalling:
		if c.active != nil {
			switch c.active.state {
			case csRinging:
				return "ringback"
			case csEarly:
				return "earlymedia"
			}
		}
		return "calling"
	case modeTalk:
		if c.conf {
			return "conference"
		}
		return "connected"
	case modeTone:
		return c.toneName
	}
	return "idle"
}

func (c *controller) publishStatus() {
	st := &Status{Port: c.l.port.Number, State: c.stateName(), Extension: c.cfg.Extension, Calls: len(c.calls),
		MWI: c.mwi, DND: c.feat.DND, ForwardAlways: c.feat.ForwardAlways}
	lc := c.active
	if lc == nil {
		lc = c.alerting
	}
	if lc != nil {
		cs := &CallStatus{Direction: "out", Number: lc.number, Name: lc.name, Local: lc.local, Since: lc.start}
		if lc.dir == call.Incoming {
			cs.Direction = "in"
		}
		cs.Fax = lc.fax
		switch lc.state {
		case csDialing:
			cs.State = "dialing"
		case csRinging, csOffered:
			cs.State = "ringing"
		case csEarly:
			cs.State = "early"
		case csActive:
			cs.State = "active"
			cs.Since = lc.answered
		}
		st.Call = cs
	}
	c.l.status.Store(st)
}
