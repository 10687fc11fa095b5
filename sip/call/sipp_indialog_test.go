package call

import (
	"testing"
	"time"
)

// RFC 4028 §9: made the refresher by a peer that does not allow UPDATE,
// we refresh the session with re-INVITEs carrying our unchanged offer.
func TestRFC4028Section9RefreshByReinvite(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_timer_reinvite.xml", shortSessions)
	wait(t, c, EventAnswered, 10*time.Second)
	time.Sleep(2500 * time.Millisecond)
	if c.State() != StateActive {
		t.Fatalf("state %v after refreshes", c.State())
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3261 §11.2 and RFC 2976 INFO with application/dtmf-relay: an
// OPTIONS inside the dialog is answered 200 with Allow and Accept; a
// digit in the peer's INFO reaches the controller, and ours reaches the
// peer.
func TestRFC3261Section11_2InDialogOptionsAndInfoDTMF(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_options_info.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	ev := wait(t, c, EventDTMF, 5*time.Second)
	if ev.Digit != '5' || ev.Duration != 160*time.Millisecond {
		t.Errorf("digit %q for %v, want 5 for 160ms", ev.Digit, ev.Duration)
	}
	// SIPp takes messages in scenario order: let our 200 to its INFO
	// reach it before our own INFO.
	time.Sleep(100 * time.Millisecond)
	if err := c.SendDTMF(t.Context(), '7', 120*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3261 §13.3.1.4: a 200 never acknowledged is retransmitted, and
// after 64·T1 the call ends with our BYE.
func TestRFC3261Section13_3_1_4NoAckThenBye(t *testing.T) {
	f, s := callSIPp(t, "testdata/uac_no_ack.xml", nil, nil)
	c := incoming(t, f.line, 10*time.Second)
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	ev := wait(t, c, EventEnded, 10*time.Second)
	if ev.Cause != EndTimeout {
		t.Errorf("end %+v, want EndTimeout", ev)
	}
	s.Wait(10 * time.Second)
}

// RFC 3261 §14.2: a re-INVITE arriving while ours is pending is refused
// with 491; ours then completes.
func TestRFC3261Section14_2IncomingReinviteWhileOursPending(t *testing.T) {
	f, s, c := dialSIPp(t, "testdata/uas_glare_incoming.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	if err := c.Hold(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := f.media.get(0).last(); r.Direction.Receives() || !r.Direction.Sends() {
		t.Errorf("on hold: direction %v", r.Direction)
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}
