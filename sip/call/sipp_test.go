package call

import (
	"context"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/sipptest"
)

// dialSIPp dials a SIPp UAS scenario from a fresh line.
func dialSIPp(t *testing.T, scenario string, mod func(*Config)) (*fixture, *sipptest.Scenario, *Call) {
	t.Helper()
	s := sipptest.Start(t, sipptest.Config{Scenario: scenario, Timeout: 30 * time.Second})
	f := newFixture(t, func(c *Config) {
		c.Proxy = s.Addr
		if mod != nil {
			mod(c)
		}
	})
	c, err := f.line.Dial(t.Context(), "2002")
	if err != nil {
		t.Fatal(err)
	}
	return f, s, c
}

func hangup(t *testing.T, c *Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
}

// RFC 3261 §22.2 and §8.1.3.4: a 407 is answered with credentials, and the
// final 486 is reported with its code and reason.
func TestRFC3261Section22ProxyAuthThenBusy(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_auth_busy.xml", func(c *Config) { c.Password = "secret" })
	ev := wait(t, c, EventEnded, 10*time.Second)
	if ev.Cause != EndRejected || ev.Code != 486 || ev.Reason != "Busy Here" {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// RFC 3261 §13.2.2.1 with RFC 3264: a 183 with SDP starts early media; the
// 200 confirms it; the far end's BYE ends the call.
func TestRFC3261Section13EarlyMediaThenRemoteBye(t *testing.T) {
	f, s, c := dialSIPp(t, "testdata/uas_early_media.xml", nil)
	ev := wait(t, c, EventEarlyMedia, 10*time.Second)
	if ev.Code != 183 {
		t.Errorf("early media event %+v", ev)
	}
	if r := f.media.get(0).last(); r == nil || r.Remote.Port() != 40000 {
		t.Fatalf("media not started on early answer: %+v", r)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	ev = wait(t, c, EventEnded, 5*time.Second)
	if ev.Cause != EndRemote {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// RFC 3262 §4: a reliable 180 is PRACKed with its RSeq and the INVITE's
// CSeq.
func TestRFC3262Section4PrackAsUAC(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_prack.xml", nil)
	wait(t, c, EventProgress, 10*time.Second)
	wait(t, c, EventAnswered, 10*time.Second)
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3261 §13.2.2.4: of two forked 200s, the first makes the call; the
// second is acknowledged and ended with BYE.
func TestRFC3261Section13_2_2_4ForkedAnswers(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_fork.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	// Let the second 200 be acknowledged and ended before hanging up.
	time.Sleep(1500 * time.Millisecond)
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3264 §8.4: the far end's sendonly re-offer is answered recvonly and
// reported as hold; its sendrecv re-offer as resume.
func TestRFC3264Section8_4RemoteHoldAndResume(t *testing.T) {
	f, s, c := dialSIPp(t, "testdata/uas_remote_hold.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	wait(t, c, EventHeld, 5*time.Second)
	if !c.RemoteHold() || f.media.get(0).last().Direction.Sends() {
		t.Errorf("held: remote hold %v, direction %v", c.RemoteHold(), f.media.get(0).last().Direction)
	}
	wait(t, c, EventResumed, 5*time.Second)
	// The event comes with the answer: let the 200 and its ACK pass
	// before the BYE, which SIPp expects in that order.
	eventually(t, 5*time.Second, "the ACK of the resume", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.srv == nil
	})
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3311 §5.2 with RFC 3264 §8.4: in the confirmed dialog the far end's
// UPDATE offering sendonly is answered in its 200 with recvonly (SIPp
// checks) and reported as hold; its UPDATE offering sendrecv is answered
// sendrecv and reported as resume.
func TestRFC3311Section5_2RemoteHoldByUpdate(t *testing.T) {
	f, s, c := dialSIPp(t, "testdata/uas_update_hold.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	wait(t, c, EventHeld, 5*time.Second)
	if !c.RemoteHold() || f.media.get(0).last().Direction.Sends() {
		t.Errorf("held: remote hold %v, direction %v", c.RemoteHold(), f.media.get(0).last().Direction)
	}
	wait(t, c, EventResumed, 5*time.Second)
	if c.RemoteHold() || !f.media.get(0).last().Direction.Sends() {
		t.Errorf("resumed: remote hold %v, direction %v", c.RemoteHold(), f.media.get(0).last().Direction)
	}
	if st := c.State(); st != StateActive {
		t.Errorf("state %v after the UPDATEs", st)
	}
	// SIPp hangs up once it has both answers.
	ev := wait(t, c, EventEnded, 5*time.Second)
	if ev.Cause != EndRemote {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// callSIPp runs a SIPp UAC scenario against a fresh line.
func callSIPp(t *testing.T, scenario string, mod func(*Config), keys map[string]string) (*fixture, *sipptest.Scenario) {
	t.Helper()
	f := newFixture(t, mod)
	s := sipptest.Start(t, sipptest.Config{Scenario: scenario, Remote: f.agent.LocalAddr().String(), Service: "1001", Keys: keys})
	return f, s
}

// RFC 3261 §9.2: a CANCEL while ringing is answered 200, the INVITE 487,
// and the call ends as cancelled. Alert-Info reaches the controller.
func TestRFC3261Section9_2IncomingCancel(t *testing.T) {
	f, s := callSIPp(t, "testdata/uac_cancel.xml", nil, nil)
	c := incoming(t, f.line, 10*time.Second)
	if ai := c.AlertInfo(); len(ai) != 1 || ai[0].URI != "http://127.0.0.1/bellcore-dr2" {
		t.Errorf("alert info %+v", ai)
	}
	if p := c.Remote(); p.Number != "5551234" || p.Name != "Alice" {
		t.Errorf("caller %+v", p)
	}
	if err := c.Ring(); err != nil {
		t.Fatal(err)
	}
	ev := wait(t, c, EventEnded, 10*time.Second)
	if ev.Cause != EndCancelled {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// RFC 3262 §3: a caller requiring 100rel gets a reliable 180, PRACKs it,
// and the call is answered; RFC 3325/3323: an asserted identity under
// Privacy: id is reported as private.
func TestRFC3262Section3ReliableRingingAsUAS(t *testing.T) {
	f, s := callSIPp(t, "testdata/uac_prack.xml", nil, nil)
	c := incoming(t, f.line, 10*time.Second)
	if p := c.Remote(); !p.NumberPrivate || !p.NamePrivate || p.Number != "" {
		t.Errorf("caller %+v, want private", p)
	}
	if err := c.Ring(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "PRACK", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.rel == nil {
			return false
		}
		select {
		case <-c.rel.pracked:
			return true
		default:
			return false
		}
	})
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	ev := wait(t, c, EventEnded, 10*time.Second)
	if ev.Cause != EndRemote {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// RFC 3515 §2.4: a blind transfer is accepted with 202 and its progress
// arrives in NOTIFYs, the last final.
func TestRFC3515Section2_4BlindTransfer(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_refer.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	if err := c.Transfer(t.Context(), "3003"); err != nil {
		t.Fatal(err)
	}
	ev := wait(t, c, EventTransferProgress, 5*time.Second)
	if ev.Code != 100 || ev.Final {
		t.Errorf("first progress %+v", ev)
	}
	ev = wait(t, c, EventTransferProgress, 5*time.Second)
	if ev.Code != 200 || !ev.Final {
		t.Errorf("final progress %+v", ev)
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 3261 §14.1: a 491 to our re-INVITE is retried after the random wait
// of the Call-ID's owner (2.1 to 4 s), and the hold then succeeds.
func TestRFC3261Section14_1GlareRetry(t *testing.T) {
	_, s, c := dialSIPp(t, "testdata/uas_glare.xml", nil)
	wait(t, c, EventAnswered, 10*time.Second)
	start := time.Now()
	if err := c.Hold(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2100*time.Millisecond || d > 5*time.Second {
		t.Errorf("hold took %v, want the 2.1-4 s glare wait", d)
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 4028 §7 and §10: as UAC made the refresher of a short session we
// refresh it with UPDATE every half interval.
func TestRFC4028Section10RefreshAsUAC(t *testing.T) {
	s := sipptest.Start(t, sipptest.Config{Scenario: "testdata/uas_timer.xml"})
	f := newFixture(t, func(c *Config) { c.Proxy = s.Addr; shortSessions(c) })
	c, err := f.line.Dial(t.Context(), "2002")
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	time.Sleep(2500 * time.Millisecond)
	if c.State() != StateActive {
		t.Fatalf("state %v after refreshes", c.State())
	}
	hangup(t, c)
	s.Wait(10 * time.Second)
}

// RFC 4028 §10: as UAS of a session the caller fails to refresh, we end
// it with BYE before it expires.
func TestRFC4028Section10ExpiryAsUAS(t *testing.T) {
	f := newFixture(t, shortSessions)
	s := sipptest.Start(t, sipptest.Config{Scenario: "testdata/uac_timer_expiry.xml", Remote: f.agent.LocalAddr().String(), Service: "1001"})
	c := incoming(t, f.line, 10*time.Second)
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	ev := wait(t, c, EventEnded, 5*time.Second)
	if ev.Cause != EndTimeout {
		t.Errorf("end %+v", ev)
	}
	s.Wait(10 * time.Second)
}

// shortSessions lowers the RFC 4028 floor of 90 s, inside the package, to
// a 2 s session with a Min-SE of 1 s, to keep session-timer tests short.
func shortSessions(c *Config) {
	c.minSEFloor = time.Second
	c.SessionExpires, c.MinSE = 2*time.Second, time.Second
}
