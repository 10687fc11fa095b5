package line

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/call"
)

// Exchange connects the ports of one gateway to each other without a
// server: each line has an extension, and dialing it rings that port. It
// also carries the intercom (a call with a distinctive ring) and paging
// (every idle phone rings; those that answer hear the caller, one way).
type Exchange struct {
	mu    sync.Mutex
	lines []*Line
	seq   atomic.Uint64
}

// NewExchange returns an exchange without lines; New adds each line whose
// Config names it.
func NewExchange() *Exchange { return &Exchange{} }

func (x *Exchange) add(l *Line) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.lines = append(x.lines, l)
}

// lookup returns the line whose extension is ext.
func (x *Exchange) lookup(ext string) *Line {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, l := range x.lines {
		if e, _ := l.ident(); e == ext {
			return l
		}
	}
	return nil
}

// match tells whether dialed is an extension (exact) and whether it is the
// beginning of a longer one (more).
func (x *Exchange) match(dialed string) (exact, more bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, l := range x.lines {
		e, _ := l.ident()
		if e == dialed {
			exact = true
		} else if strings.HasPrefix(e, dialed) {
			more = true
		}
	}
	return exact, more
}

// kinds of local calls
const (
	localCall = iota
	localIntercom
	localPage
)

// dial places a local call from line from to the line with extension ext.
func (x *Exchange) dial(from *Line, ext string, kind int) (Call, error) {
	to := x.lookup(ext)
	if to == nil {
		return nil, fmt.Errorf("line: no port has extension %q", ext)
	}
	lc := x.newCall(from, kind)
	end := lc.addCallee(to)
	to.offer(end)
	return lc.caller, nil
}

// page rings every other line; the caller's voice reaches those that
// answer.
func (x *Exchange) page(from *Line) (Call, error) {
	x.mu.Lock()
	others := make([]*Line, 0, len(x.lines))
	for _, l := range x.lines {
		if l != from {
			others = append(others, l)
		}
	}
	x.mu.Unlock()
	if len(others) == 0 {
		return nil, fmt.Errorf("line: no other port to page")
	}
	lc := x.newCall(from, localPage)
	ends := make([]*localEnd, len(others))
	for i, l := range others {
		ends[i] = lc.addCallee(l)
	}
	for i, l := range others {
		l.offer(ends[i])
	}
	return lc.caller, nil
}

func (x *Exchange) newCall(from *Line, kind int) *local {
	lc := &local{id: fmt.Sprintf("local-%d", x.seq.Add(1)), kind: kind}
	lc.caller = &localEnd{lc: lc, dir: call.Outgoing, events: make(chan call.Event, 16), in: &framePipe{}}
	ext, name := from.ident()
	lc.callerParty = call.Party{Name: name, Number: ext}
	return lc
}

// local is one call between ports of the gateway: a caller and one callee,
// or several for a page.
type local struct {
	id          string
	kind        int
	mu          sync.Mutex
	caller      *localEnd
	callerParty call.Party
	callees     []*localEnd
	answered    bool
	rang        bool
}

func (lc *local) addCallee(to *Line) *localEnd {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	ext, name := to.ident()
	e := &localEnd{lc: lc, dir: call.Incoming, events: make(chan call.Event, 16), in: &framePipe{},
		party: call.Party{Name: name, Number: ext}}
	lc.callees = append(lc.callees, e)
	if len(lc.callees) == 1 {
		lc.caller.party = e.party
	}
	return e
}

// localEnd is one side of a local call: the Call its line drives.
type localEnd struct {
	lc     *local
	dir    call.Direction
	party  call.Party // the other side
	events chan call.Event
	in     *framePipe // what this side hears
	ended  bool
	active bool // answered (callee) or the call is up (caller)
	held   atomic.Bool
}

func (e *localEnd) ID() string                { return e.lc.id }
func (e *localEnd) Direction() call.Direction { return e.dir }
func (e *localEnd) Events() <-chan call.Event { return e.events }

func (e *localEnd) Remote() call.Party {
	if e.dir == call.Incoming {
		return e.lc.callerParty
	}
	return e.party
}

func (e *localEnd) Ringing() string {
	switch e.lc.kind {
	case localIntercom:
		return "intercom"
	case localPage:
		return "page"
	}
	return "dr2" // calls from another port ring distinctively, as internal calls do
}

// send delivers ev unless the end has ended; EventEnded closes the channel.
// lc.mu is held.
func (e *localEnd) send(ev call.Event) {
	if e.ended {
		return
	}
	select {
	case e.events <- ev:
	default: // a line that does not read its events loses them, as call does
	}
	if ev.Kind == call.EventEnded {
		e.ended = true
		close(e.events)
	}
}

func (e *localEnd) Ring() error {
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if e.ended {
		return call.ErrEnded
	}
	if !lc.rang {
		lc.rang = true
		lc.caller.send(call.Event{Kind: call.EventProgress, Code: 180, Reason: "Ringing"})
	}
	return nil
}

func (e *localEnd) Answer(context.Context) error {
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if e.ended || lc.caller.ended {
		return call.ErrEnded
	}
	if e.dir != call.Incoming || e.active {
		return call.ErrState
	}
	e.active = true
	e.send(call.Event{Kind: call.EventAnswered, Code: 200})
	if !lc.answered {
		lc.answered = true
		lc.caller.active = true
		lc.caller.send(call.Event{Kind: call.EventAnswered, Code: 200})
	}
	return nil
}

func (e *localEnd) Reject(code int) error {
	if code == 0 {
		code = 486
	}
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if e.ended {
		return call.ErrEnded
	}
	if e.dir != call.Incoming || e.active {
		return call.ErrState
	}
	e.send(call.Event{Kind: call.EventEnded, Cause: call.EndLocal, Code: code})
	lc.calleeGone(call.Event{Kind: call.EventEnded, Cause: call.EndRejected, Code: code})
	return nil
}

// calleeGone ends the caller when no callee is left. lc.mu is held.
func (lc *local) calleeGone(callerEv call.Event) {
	for _, c := range lc.callees {
		if !c.ended {
			return
		}
	}
	lc.caller.send(callerEv)
}

func (e *localEnd) Redirect(string) error {
	return fmt.Errorf("redirect a local call: %w", ErrNotSupported)
}

func (e *localEnd) Hangup(context.Context) error {
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if e.ended {
		return nil
	}
	if e.dir == call.Outgoing {
		e.send(call.Event{Kind: call.EventEnded, Cause: call.EndLocal})
		for _, c := range lc.callees {
			if c.active {
				c.send(call.Event{Kind: call.EventEnded, Cause: call.EndRemote})
			} else {
				c.send(call.Event{Kind: call.EventEnded, Cause: call.EndCancelled, Code: 487})
			}
		}
		return nil
	}
	code := 0
	if !e.active {
		code = 480
	}
	e.send(call.Event{Kind: call.EventEnded, Cause: call.EndLocal, Code: code})
	if lc.kind == localPage && lc.answered {
		return nil // the pager goes on talking to the others
	}
	if e.active {
		lc.calleeGone(call.Event{Kind: call.EventEnded, Cause: call.EndRemote})
	} else {
		lc.calleeGone(call.Event{Kind: call.EventEnded, Cause: call.EndRejected, Code: 480})
	}
	return nil
}

func (e *localEnd) hold(on bool) error {
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if e.ended {
		return call.ErrEnded
	}
	e.held.Store(on)
	kind := call.EventHeld
	if !on {
		kind = call.EventResumed
	}
	for _, o := range e.others() {
		o.send(call.Event{Kind: kind})
	}
	return nil
}

// others are the ends e talks to. lc.mu is held.
func (e *localEnd) others() []*localEnd {
	if e.dir == call.Outgoing {
		return e.lc.callees
	}
	return []*localEnd{e.lc.caller}
}

func (e *localEnd) Hold(context.Context) error   { return e.hold(true) }
func (e *localEnd) Resume(context.Context) error { return e.hold(false) }

func (e *localEnd) SendDTMF(_ context.Context, digit rune, d time.Duration) error {
	lc := e.lc
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, o := range e.others() {
		o.send(call.Event{Kind: call.EventDTMF, Digit: digit, Duration: d})
	}
	return nil
}

func (e *localEnd) Transfer(context.Context, string) error {
	return fmt.Errorf("transfer a local call: %w", ErrNotSupported)
}

func (e *localEnd) TransferTo(context.Context, Call) error {
	return fmt.Errorf("transfer a local call: %w", ErrNotSupported)
}

func (e *localEnd) AcceptReferral(context.Context, *call.Referral) (Call, error) {
	return nil, fmt.Errorf("referral on a local call: %w", ErrNotSupported)
}

func (e *localEnd) Replaces() string { return "" }

// PassThrough has nothing to do: a local call carries its frames as they
// are.
func (e *localEnd) PassThrough(context.Context) error { return nil }

func (e *localEnd) Media() Media { return e }

// WriteFrame sends what this side says to the other side(s); a page's
// callees say nothing to the pager.
func (e *localEnd) WriteFrame(f *hal.Frame) error {
	if e.held.Load() {
		return nil
	}
	lc := e.lc
	if e.dir == call.Outgoing {
		for _, c := range lc.callees { // fixed once the call is placed
			if !c.held.Load() {
				c.in.write(f)
			}
		}
		return nil
	}
	if lc.kind != localPage && !lc.caller.held.Load() {
		lc.caller.in.write(f)
	}
	return nil
}

// ReadFrame returns what this side hears.
func (e *localEnd) ReadFrame(f *hal.Frame) error {
	e.in.read(f)
	return nil
}

// framePipe carries frames from one line's media loop to another's: a
// short queue that drops the oldest frame when full and gives silence when
// empty, so that neither loop ever waits for the other.
type framePipe struct {
	mu   sync.Mutex
	buf  [4]hal.Frame
	r, n int
}

func (p *framePipe) write(f *hal.Frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == len(p.buf) {
		p.r = (p.r + 1) % len(p.buf)
		p.n--
	}
	p.buf[(p.r+p.n)%len(p.buf)] = *f
	p.n++
}

func (p *framePipe) read(f *hal.Frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		*f = hal.Frame{}
		return
	}
	*f = p.buf[p.r]
	p.r = (p.r + 1) % len(p.buf)
	p.n--
}
