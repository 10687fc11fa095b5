package line

import (
	"errors"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/firmware/line/digitmap"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/call"
)

// An outgoing call from off-hook to the far end's hang-up and the howler.
func TestOutgoingCall(t *testing.T) {
	h := newHarness(t, nil)
	h.wantState("idle")
	h.hook("off")
	h.wantState("dialtone")
	h.wantTone("dial")
	h.dial("5")
	h.wantState("dialing")
	h.wantTone("") // the first digit stops dial tone
	h.pulse("55")  // rotary digits mix with keys
	h.dial("1234")
	// 7 digits match [2-9]xxxxxx, but xx.T could go on: the short timer.
	if h.net.count() != 0 {
		t.Fatal("dialed before the short timer")
	}
	h.advance(digitmap.DefaultShort)
	fc := h.net.last(t)
	if fc.remote.Number != "5551234" {
		t.Fatalf("dialed %q", fc.remote.Number)
	}
	h.wantState("calling")
	h.ev(fc, call.Event{Kind: call.EventProgress, Code: 180})
	h.wantState("ringback")
	h.wantTone("ringback")
	h.answered(fc)
	h.wantState("connected")
	h.wantTone("")
	if h.legs() != 1 {
		t.Fatalf("%d legs in a call", h.legs())
	}
	h.advance(90 * time.Second)
	h.ended(fc, call.EndRemote, 0)
	h.wantState("busy")
	h.wantTone("busy")
	h.advance(29 * time.Second)
	h.wantTone("busy")
	h.advance(time.Second)
	h.wantState("howler")
	h.wantTone("howler")
	h.hook("on")
	h.wantState("idle")
	h.wantTone("")
	recs := h.hist.List()
	if len(recs) != 1 || recs[0].Direction != "out" || recs[0].Number != "5551234" || recs[0].Result != "answered" || recs[0].Duration != 90 {
		t.Fatalf("call log %+v", recs)
	}
}

// Emergency numbers go at once (S0), and a digit map can bar numbers.
func TestDigitMapDecides(t *testing.T) {
	h := newHarness(t, nil)
	h.hook("off")
	h.dial("911")
	if fc := h.net.last(t); fc.remote.Number != "911" {
		t.Fatalf("dialed %q", fc.remote.Number)
	}
	h.hook("on")

	h = newHarness(t, func(c *Config) { c.DigitMap = digitmap.MustParse("(<9:>1900x.!|[2-9]xxxxxx|<:+1>[2-9]xxxxxxxxx)") })
	h.hook("off")
	h.dial("91900555")
	h.advance(digitmap.DefaultShort)
	h.wantState("congestion")
	h.hook("on")
	h.hook("off")
	h.dial("4155551234")
	if fc := h.net.last(t); fc.remote.Number != "+14155551234" {
		t.Fatalf("substitution: dialed %q", fc.remote.Number)
	}
}

// Failed calls give the tones RFC 3261 status codes call for.
func TestFailureTones(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{{486, "busy"}, {600, "busy"}, {404, "congestion"}, {484, "congestion"}, {503, "congestion"}} {
		h := newHarness(t, nil)
		h.hook("off")
		h.dial("911")
		fc := h.net.last(t)
		h.ended(fc, call.EndRejected, tc.code)
		h.wantState(tc.want)
		if recs := h.hist.List(); len(recs) != 1 || recs[0].Result[:3] != itoa3(tc.code) {
			t.Fatalf("%d: log %+v", tc.code, recs)
		}
	}
	h := newHarness(t, nil)
	h.net.fail = errors.New("no route")
	h.hook("off")
	h.dial("911")
	h.wantState("congestion")
}

func itoa3(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

// A phone left off the hook without dialing hears congestion, then the
// howler.
func TestPermanentSignal(t *testing.T) {
	h := newHarness(t, nil)
	h.hook("off")
	h.advance(digitmap.DefaultInitial)
	h.wantState("congestion")
	h.advance(30 * time.Second)
	h.wantState("howler")
}

func TestHotlineAndWarmline(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Features.Hotline = "100" })
	h.hook("off")
	if fc := h.net.last(t); fc.remote.Number != "100" {
		t.Fatalf("hotline dialed %q", fc.remote.Number)
	}
	h = newHarness(t, func(c *Config) { c.Features.Hotline = "100"; c.Features.Warmline = 5 * time.Second })
	h.hook("off")
	h.wantTone("dial")
	h.advance(5 * time.Second)
	if fc := h.net.last(t); fc.remote.Number != "100" {
		t.Fatalf("warm line dialed %q", fc.remote.Number)
	}
	h = newHarness(t, func(c *Config) { c.Features.Hotline = "100"; c.Features.Warmline = 5 * time.Second })
	h.hook("off")
	h.advance(2 * time.Second)
	h.dial("911")
	h.advance(10 * time.Second)
	if fc := h.net.last(t); fc.remote.Number != "911" || h.net.count() != 1 {
		t.Fatalf("warm line did not yield to dialing: %d calls", h.net.count())
	}
}

// An incoming call rings with the country's cadence after a Bellcore
// caller-ID sequence, and is answered by lifting the handset.
func TestIncomingWithCallerID(t *testing.T) {
	h := newHarness(t, nil)
	fc := h.incoming("5551234", "ALICE")
	if !fc.did("ring") {
		t.Fatal("no 180")
	}
	h.wantState("ringing")
	// Bellcore: one ring of the cadence's first on-time, then the data.
	if c := h.hl.Cadence(); len(c) != 1 || c[0] != 2*time.Second {
		t.Fatalf("first ring %v", c)
	}
	h.advance(2*time.Second + 600*time.Millisecond)
	if h.l.plan.Load().oht == nil {
		t.Fatal("no caller ID audio after the first ring")
	}
	h.advance(4 * time.Second)
	if c := h.hl.Cadence(); len(c) != 2 || c[0] != 2*time.Second || c[1] != 4*time.Second {
		t.Fatalf("ringing after caller ID with %v, want the US 2 s on, 4 s off", c)
	}
	st := h.l.Status()
	if st.Call == nil || st.Call.Number != "5551234" || st.Call.Direction != "in" {
		t.Fatalf("status %+v", st.Call)
	}
	h.hook("off")
	if !fc.did("answer") {
		t.Fatal("not answered")
	}
	h.wantState("connected")
	if h.hl.Ringing() {
		t.Fatal("still ringing")
	}
	h.answered(fc)
	h.ended(fc, call.EndRemote, 0)
	h.wantState("busy")
}

// An unanswered call that the caller gives up is a missed call.
func TestMissedCall(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Features.CallerID = false })
	fc := h.incoming("5551234", "")
	if c := h.hl.Cadence(); len(c) != 2 {
		t.Fatalf("without caller ID the phone rings at once with the cadence: %v", c)
	}
	h.ended(fc, call.EndCancelled, 487)
	h.wantState("idle")
	if h.hl.Ringing() {
		t.Fatal("still ringing")
	}
	if recs := h.hist.List(); len(recs) != 1 || recs[0].Result != "missed" {
		t.Fatalf("log %+v", recs)
	}
}

func TestDistinctiveRing(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Features.CallerID = false })
	fc := newFakeCall(call.Incoming, call.Party{Number: "200"})
	fc.ring = "dr3"
	h.c.handle(event{kind: evIncoming, call: fc})
	if c := h.hl.Cadence(); len(c) != 6 || c[0] != 400*time.Millisecond {
		t.Fatalf("dr3 rang %v", c)
	}
}

// Busy lines, do not disturb, anonymous call rejection and forwarding.
func TestIncomingRefused(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Features.CallWaiting = false })
	h.hook("off")
	if fc := h.incoming("1", ""); !fc.did("reject 486") {
		t.Fatalf("off-hook line: %v", fc)
	}
	h = newHarness(t, func(c *Config) { c.Features.DND = true })
	if fc := h.incoming("1", ""); !fc.did("reject 480") {
		t.Fatalf("DND: %v", fc)
	}
	h = newHarness(t, func(c *Config) { c.Features.AnonymousReject = true })
	fc := newFakeCall(call.Incoming, call.Party{NumberPrivate: true})
	h.c.handle(event{kind: evIncoming, call: fc})
	if !fc.did("reject 433") {
		t.Fatalf("anonymous: %v", fc)
	}
	if fc := h.incoming("5551234", ""); fc.did("reject 433") {
		t.Fatal("a caller with a number was refused")
	}
	h = newHarness(t, func(c *Config) { c.Features.ForwardAlways = "2000" })
	if fc := h.incoming("1", ""); !fc.did("redirect 2000") {
		t.Fatalf("forward always: %v", fc)
	}
	h = newHarness(t, func(c *Config) { c.Features.ForwardBusy = "2001"; c.Features.CallWaiting = false })
	h.hook("off")
	if fc := h.incoming("1", ""); !fc.did("redirect 2001") {
		t.Fatalf("forward busy: %v", fc)
	}
	h = newHarness(t, func(c *Config) { c.Features.ForwardNoAnswer = "2002"; c.Features.NoAnswerAfter = 15 * time.Second })
	fc = h.incoming("1", "")
	h.advance(14 * time.Second)
	if fc.did("redirect 2002") {
		t.Fatal("forwarded early")
	}
	h.advance(time.Second)
	if !fc.did("redirect 2002") || h.hl.Ringing() {
		t.Fatalf("forward on no answer: %v, ringing %v", fc, h.hl.Ringing())
	}
	h.ended(fc, call.EndLocal, 302)
	if recs := h.hist.List(); recs[0].Result != "forwarded" {
		t.Fatalf("log %+v", recs[0])
	}
}

// Call waiting: the tone with caller ID on call waiting, flash to take the
// second call, flash to go back, hang up with one held to be recalled.
func TestCallWaitingAndFlash(t *testing.T) {
	h := newHarness(t, nil)
	a := h.incoming("100", "A")
	h.hook("off")
	h.answered(a)
	b := h.incoming("200", "B")
	if !b.did("ring") || b.did("reject 486") {
		t.Fatalf("second call: %v", b)
	}
	p := h.l.plan.Load()
	if p.cwBurst == 0 || p.cidcw == nil {
		t.Fatal("no call-waiting tone with caller ID")
	}
	burst := p.cwBurst
	h.advance(10 * time.Second)
	if h.l.plan.Load().cwBurst == burst {
		t.Fatal("call-waiting tone not repeated after 10 s")
	}
	h.hook("flash")
	if !a.did("hold") || !b.did("answer") {
		t.Fatalf("flash: %v %v", a, b)
	}
	h.answered(b)
	if h.l.plan.Load().legs[0] != Media(b.media) {
		t.Fatal("not talking to the second caller")
	}
	h.hook("flash")
	if !b.did("hold") || !a.did("resume") || h.l.plan.Load().legs[0] != Media(a.media) {
		t.Fatalf("swap: %v %v", a, b)
	}
	// Hang up while B is held: A ends, the phone rings to recall B.
	h.hook("on")
	if !a.did("hangup") {
		t.Fatal("active call not hung up")
	}
	h.wantState("recall")
	if !h.hl.Ringing() {
		t.Fatal("no recall ring")
	}
	h.hook("off")
	h.wantState("connected")
	if h.l.plan.Load().legs[0] != Media(b.media) || b.ops[len(b.ops)-1] != "resume" {
		t.Fatalf("recall: %v", b)
	}
}

// Flash, dial a second party, flash again for a three-way conference mixed
// on the gateway; flash drops the party added last.
func TestConference(t *testing.T) {
	h := newHarness(t, nil)
	a := h.callOut()
	h.hook("flash")
	if !a.did("hold") {
		t.Fatal("flash does not hold")
	}
	h.wantState("dialtone")
	h.wantTone("stutter") // recall dial tone
	h.dial("2125551234")
	h.advance(digitmap.DefaultShort)
	b := h.net.last(t)
	h.answered(b)
	h.hook("flash")
	h.wantState("conference")
	if !a.did("resume") || h.legs() != 2 {
		t.Fatalf("conference: %v, %d legs", a, h.legs())
	}
	// The mix: each party hears the phone and the other party.
	a.media.out = constFrame(1000)
	b.media.out = constFrame(2000)
	m, _ := h.l.newMixer()
	m.in = constFrame(300)
	m.frame()
	m.in = constFrame(300)
	m.frame()
	if m.out[0] != 3000 {
		t.Fatalf("the phone hears %d, want 3000", m.out[0])
	}
	if wa, wb := a.media.written[len(a.media.written)-1][0], b.media.written[len(b.media.written)-1][0]; wa != 2300 || wb != 1300 {
		t.Fatalf("A hears %d (want 2300), B hears %d (want 1300)", wa, wb)
	}
	h.hook("flash")
	h.wantState("connected")
	if !b.did("hangup") || h.l.plan.Load().legs[0] != Media(a.media) {
		t.Fatal("flash in a conference does not drop the last party")
	}
}

func constFrame(v int16) hal.Frame {
	var f hal.Frame
	for i := range f {
		f[i] = v
	}
	return f
}

// Hanging up between a held call and an answered consultation transfers
// them to each other (REFER with Replaces); while the consultation still
// rings, it is a blind transfer and the consultation is cancelled.
func TestTransferOnHangup(t *testing.T) {
	h := newHarness(t, nil)
	a := h.callOut()
	h.hook("flash")
	h.dial("2125551234")
	h.advance(digitmap.DefaultShort)
	b := h.net.last(t)
	h.answered(b)
	h.hook("on")
	if !a.did("refer-replaces " + b.id) {
		t.Fatalf("attended transfer: %v", a)
	}
	h.ev(a, call.Event{Kind: call.EventTransferProgress, Code: 200, Final: true})
	if !a.did("hangup") {
		t.Fatal("transferred call not hung up")
	}
	h.wantState("idle")

	h = newHarness(t, nil)
	a = h.callOut()
	h.hook("flash")
	h.dial("2125551234")
	h.advance(digitmap.DefaultShort)
	b = h.net.last(t)
	h.ev(b, call.Event{Kind: call.EventProgress, Code: 180})
	h.hook("on")
	if !a.did("refer 2125551234") || !b.did("hangup") {
		t.Fatalf("blind transfer while ringing: %v %v", a, b)
	}
}

// Flash, *98 and a number: a blind transfer of the held call.
func TestBlindTransferCode(t *testing.T) {
	h := newHarness(t, nil)
	a := h.callOut()
	h.hook("flash")
	h.dial("*98")
	h.wantTone("stutter")
	h.dial("4155551234#")
	if !a.did("refer 4155551234") {
		t.Fatalf("*98: %v", a)
	}
	h.wantState("confirm")
	h.ev(a, call.Event{Kind: call.EventTransferProgress, Code: 200, Final: true})
	if !a.did("hangup") {
		t.Fatal("not hung up after the transfer")
	}
}

// Feature codes change features, save them, and confirm.
func TestFeatureCodes(t *testing.T) {
	h := newHarness(t, nil)
	h.hook("off")
	h.dial("*72")
	h.wantTone("stutter")
	h.dial("5550000#")
	h.wantState("confirm")
	if len(h.saved) != 1 || h.saved[0].ForwardAlways != "5550000" {
		t.Fatalf("saved %+v", h.saved)
	}
	h.advance(time.Second)
	h.wantState("dialtone")
	h.wantTone("stutter") // a forwarded line's dial tone stutters
	h.dial("*73")
	h.advance(time.Second)
	h.wantTone("dial")
	h.dial("*78")
	if !h.c.feat.DND {
		t.Fatal("*78 did not set DND")
	}
	h.advance(time.Second)
	h.dial("*79")
	h.advance(time.Second)
	h.dial("*77")
	h.advance(time.Second)
	h.dial("*57")
	if f := h.c.feat; f.DND || !f.AnonymousReject || f.CallWaiting {
		t.Fatalf("features %+v", f)
	}
	h.hook("on")
	// *66 redials the last number.
	h.hook("off")
	h.dial("911")
	h.hook("on")
	h.ended(h.net.last(t), call.EndLocal, 0)
	h.hook("off")
	h.dial("*66")
	if h.net.count() != 2 || h.net.last(t).remote.Number != "911" {
		t.Fatalf("redial: %d calls", h.net.count())
	}
}

// *70 turns call waiting off for the next call.
func TestCancelCallWaiting(t *testing.T) {
	h := newHarness(t, nil)
	h.hook("off")
	h.dial("*70")
	h.advance(time.Second)
	h.dial("911")
	h.answered(h.net.last(t))
	if fc := h.incoming("1", ""); !fc.did("reject 486") {
		t.Fatalf("call waiting not cancelled: %v", fc)
	}
}

// Message waiting: visual indication to the idle phone by FSK, stutter dial
// tone.
func TestMessageWaiting(t *testing.T) {
	h := newHarness(t, nil)
	h.c.handle(event{kind: evMWI, flag: true})
	if h.l.plan.Load().oht == nil || h.hl.Feed() != hal.FeedOHT {
		t.Fatal("no VMWI sent to the idle phone")
	}
	h.advance(5 * time.Second)
	if h.l.plan.Load().oht != nil || h.hl.Feed() != hal.FeedActive {
		t.Fatal("VMWI sequence did not end")
	}
	h.hook("off")
	h.wantTone("stutter")
	if !h.l.Status().MWI {
		t.Fatal("status does not show MWI")
	}
}

// DTMF during a call goes by SIP INFO when the line is set so.
func TestDTMFInfo(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.DTMF = DTMFInfo })
	a := h.callOut()
	h.dial("5")
	if !a.did("info 5") {
		t.Fatalf("no INFO: %v", a)
	}
}

// A call redirected by the far end (a forwarded line's 302) is placed again
// to the Contact the response names.
func TestFollowsRedirect(t *testing.T) {
	h := newHarness(t, nil)
	h.hook("off")
	h.dial("911")
	a := h.net.last(t)
	h.ev(a, call.Event{Kind: call.EventEnded, Cause: call.EndRejected, Code: 302, Target: "sip:1003@example.net"})
	b := h.net.last(t)
	if b == a || b.remote.Number != "sip:1003@example.net" {
		t.Fatalf("redirect not followed: %d calls", h.net.count())
	}
	h.wantState("calling")
	for i := 0; i < maxRedirects; i++ {
		h.ev(h.net.last(t), call.Event{Kind: call.EventEnded, Cause: call.EndRejected, Code: 302, Target: "sip:loop@example.net"})
	}
	if n := h.net.count(); n != 1+maxRedirects {
		t.Fatalf("%d calls placed, want %d: redirections must stop", n, 1+maxRedirects)
	}
	h.wantState("congestion")
	if h.c.lastDialed != "911" {
		t.Errorf("redial would call %q, want the number dialed", h.c.lastDialed)
	}
}

// An INVITE with Replaces for the call in progress (the far end finished an
// attended transfer) is answered at once and takes that call's place.
func TestReplacesTakesThePlace(t *testing.T) {
	h := newHarness(t, nil)
	a := h.incoming("100", "A")
	h.hook("off")
	h.answered(a)
	b := newFakeCall(call.Incoming, call.Party{Number: "300"})
	b.replaces = a.id
	h.c.handle(event{kind: evIncoming, call: b})
	if !b.did("answer") || b.did("ring") {
		t.Fatalf("replacing call: %v", b)
	}
	if h.l.plan.Load().legs[0] != Media(b.media) {
		t.Fatal("the phone does not talk to the replacing call")
	}
	h.ended(a, call.EndReplaced, 0)
	h.answered(b)
	h.wantState("connected")
	if st := h.l.Status(); st.Call.Number != "300" {
		t.Fatalf("status shows %+v", st.Call)
	}
}

// RFC 3323 privacy reaches the phone: a caller who withholds name and
// number is shown as private (GR-30 'P'), one the network does not know
// as unavailable ('O').
func TestPrivateCallerID(t *testing.T) {
	for _, tc := range []struct {
		party call.Party
		want  callerid.Absence
	}{
		{call.Party{NumberPrivate: true, NamePrivate: true}, callerid.Private},
		{call.Party{}, callerid.Unavailable},
	} {
		h := newHarness(t, nil)
		h.c.handle(event{kind: evIncoming, call: newFakeCall(call.Incoming, tc.party)})
		h.advance(2*time.Second + 600*time.Millisecond)
		audio := h.l.plan.Load().oht
		if audio == nil {
			t.Fatal("no caller ID")
		}
		x := make([]int16, audio.Len())
		audio.Read(x)
		d, _ := callerid.NewDecoder(callerid.DecoderConfig{})
		d.Process(x)
		d.Process(make([]int16, 800))
		r, ok := d.Next()
		if !ok {
			t.Fatal("caller ID does not decode")
		}
		if info := r.Message.Info; info.Number != "" || info.NumberAbsence != tc.want || info.NameAbsence != tc.want {
			t.Errorf("%+v: sent %+v, want absence %q", tc.party, info, tc.want)
		}
	}
}

// A fax tone in a SIP call re-offers it as pass-through when the line is
// set so (a running line takes the setting from Reconfigure), and never
// for a local call.
func TestFaxReinvite(t *testing.T) {
	h := newHarness(t, nil)
	a := h.callOut()
	h.c.handle(event{kind: evFax, op: "CNG"})
	if a.did("passthrough") {
		t.Fatal("re-offered with FaxReinvite off")
	}
	if st := h.l.Status(); st.Call == nil || !st.Call.Fax {
		t.Fatalf("status %+v", st.Call)
	}
	h = newHarness(t, nil)
	cfg := h.l.cfg
	cfg.FaxReinvite = true
	h.c.handle(event{kind: evConfig, config: &cfg})
	a = h.callOut()
	h.c.handle(event{kind: evFax, op: "CED"})
	if !a.did("passthrough") {
		t.Fatalf("no pass-through re-offer: %v", a)
	}
}
