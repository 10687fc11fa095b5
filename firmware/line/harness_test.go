package line

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/halfake"
	"github.com/tipring/tipring/sip/call"
)

// harness drives one line's controller step by step on a virtual clock:
// no goroutines, every operation on a call runs inline and is recorded.
type harness struct {
	t     *testing.T
	l     *Line
	c     *controller
	hl    *halfake.Line
	now   time.Time
	net   *fakeNet
	hist  *History
	saved []Features
}

func newHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	country, err := tone.Lookup("us")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, hl: halfake.NewLine(), now: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), net: &fakeNet{}}
	h.hist, _ = NewHistory("", 0)
	cfg := Config{
		Port:     hal.Port{Number: 1, Line: h.hl, PCM: halfake.NewPCM(3)},
		Country:  country,
		CallerID: callerid.Bellcore,
		Features: Features{CallerID: true, CallWaiting: true},
		Network:  h.net,
		History:  h.hist,
		now:      func() time.Time { return h.now },
	}
	cfg.OnFeatures = func(f Features) { h.saved = append(h.saved, f) }
	if edit != nil {
		edit(&cfg)
	}
	h.l, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.c = h.l.ctl
	h.c.sync = true
	return h
}

// hook plays the phone's hook switch: "off", "on" or "flash".
func (h *harness) hook(action string) {
	h.t.Helper()
	var k hal.EventKind
	switch action {
	case "off":
		k = hal.EventOffHook
	case "on":
		k = hal.EventOnHook
	case "flash":
		k = hal.EventFlash
	}
	h.hl.Inject(hal.Event{Kind: k})
	ev := <-h.hl.Events()
	h.c.handle(event{kind: evHal, hal: ev})
}

// dial presses keys (DTMF begin and end).
func (h *harness) dial(keys string) {
	for i := 0; i < len(keys); i++ {
		h.c.handle(event{kind: evKey, key: keyEvent{digit: keys[i]}})
		h.c.handle(event{kind: evKey, key: keyEvent{digit: keys[i], end: true, dur: 80 * time.Millisecond}})
	}
}

// pulse dials rotary digits.
func (h *harness) pulse(digits string) {
	for i := 0; i < len(digits); i++ {
		h.c.handle(event{kind: evHal, hal: hal.Event{Kind: hal.EventPulseDigit, Digit: digits[i]}})
	}
}

// advance moves the clock, firing the timers that come due in order.
func (h *harness) advance(d time.Duration) {
	end := h.now.Add(d)
	for {
		next, ok := h.c.nextDeadline()
		if !ok || next.After(end) {
			break
		}
		h.now = next
		h.c.fireTimers()
	}
	h.now = end
}

func (h *harness) state() string { return h.l.Status().State }

func (h *harness) wantState(want string) {
	h.t.Helper()
	if got := h.state(); got != want {
		h.t.Fatalf("state %q, want %q", got, want)
	}
}

func (h *harness) tone() string { return h.l.plan.Load().toneKey }

func (h *harness) wantTone(want string) {
	h.t.Helper()
	if got := h.tone(); got != want {
		h.t.Fatalf("tone %q, want %q (state %s)", got, want, h.state())
	}
}

// ev delivers a call event to the controller.
func (h *harness) ev(fc *fakeCall, ev call.Event) {
	h.t.Helper()
	for _, lc := range h.c.calls {
		if lc.c == Call(fc) {
			h.c.handle(event{kind: evCall, lc: lc, cev: ev})
			return
		}
	}
	h.t.Fatalf("call %s is not one of the line's", fc.id)
}

func (h *harness) answered(fc *fakeCall) { h.ev(fc, call.Event{Kind: call.EventAnswered, Code: 200}) }
func (h *harness) ended(fc *fakeCall, cause call.EndCause, code int) {
	h.ev(fc, call.Event{Kind: call.EventEnded, Cause: cause, Code: code})
}

// callOut lifts the handset, dials 911 (complete at once) and has the far
// end answer: the line is then in a call.
func (h *harness) callOut() *fakeCall {
	h.t.Helper()
	h.hook("off")
	h.dial("911")
	fc := h.net.last(h.t)
	h.answered(fc)
	return fc
}

// incoming offers a call from number.
func (h *harness) incoming(number, name string) *fakeCall {
	fc := newFakeCall(call.Incoming, call.Party{Number: number, Name: name})
	h.c.handle(event{kind: evIncoming, call: fc})
	return fc
}

func (h *harness) legs() int { return h.l.plan.Load().nlegs }

// fakeNet is a Network whose calls record what the line does to them.
type fakeNet struct {
	mu     sync.Mutex
	dialed []*fakeCall
	fail   error
}

func (n *fakeNet) Dial(_ context.Context, number string) (Call, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return nil, n.fail
	}
	fc := newFakeCall(call.Outgoing, call.Party{Number: number})
	n.dialed = append(n.dialed, fc)
	return fc, nil
}

func (n *fakeNet) Incoming() <-chan Call { return nil }

func (n *fakeNet) last(t *testing.T) *fakeCall {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.dialed) == 0 {
		t.Fatal("nothing dialed")
	}
	return n.dialed[len(n.dialed)-1]
}

func (n *fakeNet) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.dialed)
}

type fakeCall struct {
	id       string
	dir      call.Direction
	remote   call.Party
	ring     string
	replaces string
	mu       sync.Mutex
	ops      []string
	media    *fakeMedia
}

func newFakeCall(dir call.Direction, p call.Party) *fakeCall {
	return &fakeCall{id: "fake-" + p.Number, dir: dir, remote: p, media: &fakeMedia{}}
}

func (f *fakeCall) op(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, s)
	return nil
}

// did reports whether the line did op (e.g. "answer", "reject 486").
func (f *fakeCall) did(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.ops, op)
}

func (f *fakeCall) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.id + "[" + strings.Join(f.ops, ",") + "]"
}

func (f *fakeCall) ID() string                        { return f.id }
func (f *fakeCall) Direction() call.Direction         { return f.dir }
func (f *fakeCall) Remote() call.Party                { return f.remote }
func (f *fakeCall) Events() <-chan call.Event         { return nil }
func (f *fakeCall) Ring() error                       { return f.op("ring") }
func (f *fakeCall) Answer(context.Context) error      { return f.op("answer") }
func (f *fakeCall) Reject(code int) error             { return f.op("reject " + strconv.Itoa(code)) }
func (f *fakeCall) Redirect(target string) error      { return f.op("redirect " + target) }
func (f *fakeCall) Hangup(context.Context) error      { return f.op("hangup") }
func (f *fakeCall) PassThrough(context.Context) error { return f.op("passthrough") }
func (f *fakeCall) Hold(context.Context) error        { return f.op("hold") }
func (f *fakeCall) Resume(context.Context) error      { return f.op("resume") }
func (f *fakeCall) Ringing() string                   { return f.ring }
func (f *fakeCall) Replaces() string                  { return f.replaces }
func (f *fakeCall) Media() Media                      { return f.media }
func (f *fakeCall) SendDTMF(_ context.Context, d rune, _ time.Duration) error {
	return f.op("info " + string(d))
}
func (f *fakeCall) Transfer(_ context.Context, target string) error {
	return f.op("refer " + target)
}
func (f *fakeCall) TransferTo(_ context.Context, other Call) error {
	return f.op("refer-replaces " + other.ID())
}
func (f *fakeCall) AcceptReferral(context.Context, *call.Referral) (Call, error) {
	return nil, ErrNotSupported
}

// fakeMedia records frames written and returns a fixed frame.
type fakeMedia struct {
	mu      sync.Mutex
	out     hal.Frame // what ReadFrame returns
	written []hal.Frame
}

func (m *fakeMedia) WriteFrame(f *hal.Frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.written) < 500 {
		m.written = append(m.written, *f)
	}
	return nil
}

func (m *fakeMedia) ReadFrame(f *hal.Frame) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	*f = m.out
	return nil
}
