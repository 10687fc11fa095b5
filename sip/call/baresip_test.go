package call

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/baresiptest"
	"github.com/tipring/tipring/sip/siptest/sipptest"
)

// RFC 3261 §13.2 and §15: an outgoing call answered by baresip, media
// both ways, ended with our BYE.
func TestRFC3261Section13OutgoingCallToBaresip(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true})
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := f.media.get(0)
	eventually(t, 5*time.Second, "RTP from baresip", func() bool { return m.packets.Load() > 5 })
	if r := m.last(); r == nil || r.Codec.Name() != "PCMU" {
		t.Fatalf("media result %+v", r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// RFC 3261 §13.3: an incoming call from baresip rings, is answered, and
// ends with baresip's BYE.
func TestRFC3261Section13IncomingCallFromBaresip(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{})
	f := newFixture(t, nil)
	target := "sip:1001@" + f.agent.LocalAddr().String()
	if _, err := peer.Command("dial", target); err != nil {
		t.Fatal(err)
	}
	c := incoming(t, f.line, 5*time.Second)
	if c.Remote().Number != "peer" {
		t.Errorf("caller %+v", c.Remote())
	}
	if err := c.Ring(); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitEvent("CALL_RINGING", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := f.media.get(0)
	eventually(t, 5*time.Second, "RTP from baresip", func() bool { return m.packets.Load() > 5 })
	if _, err := peer.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	ev := wait(t, c, EventEnded, 5*time.Second)
	if ev.Cause != EndRemote {
		t.Errorf("end cause %v", ev.Cause)
	}
}

// RFC 3261 §9.1: hanging up while baresip rings sends CANCEL; the 487
// ends the call as cancelled.
func TestRFC3261Section9_1CancelBeforeAnswer(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{})
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitEvent("CALL_INCOMING", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventProgress, 5*time.Second)
	hangup(t, c)
	ev := wait(t, c, EventEnded, 5*time.Second)
	if ev.Cause != EndCancelled || ev.Code != 487 {
		t.Errorf("end %+v", ev)
	}
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// RFC 3264 §8.4 over TCP: we put baresip on hold (sendonly) and resume
// it with re-INVITEs; baresip's answers are applied to the media.
func TestRFC3264Section8_4LocalHoldAndResumeOverTCP(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true, Transport: "tcp"})
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr; c.Transport = "tcp" })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	if err := c.Hold(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := f.media.get(0).last(); r.Direction.Receives() || !r.Direction.Sends() {
		t.Errorf("on hold: direction %v", r.Direction)
	}
	if err := c.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := f.media.get(0).last(); r.Direction != 3 {
		t.Errorf("resumed: direction %v", r.Direction)
	}
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// RFC 3261 §13.3.1.3: with the line in use, a second INVITE is refused
// with 486 Busy Here, which baresip reports.
func TestRFC3261Section13_3_1BusyLine(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true})
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	caller := baresiptest.Start(t, baresiptest.Config{User: "caller"})
	if _, err := caller.Command("dial", "sip:1001@"+f.agent.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	ev, err := caller.WaitEvent("CALL_CLOSED", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.Param, "486") {
		t.Errorf("caller saw %+v, want 486", ev)
	}
	hangup(t, c)
}

// RFC 3515 §2.4.4: an incoming REFER (from SIPp) is offered to the
// controller, accepted by calling the target (baresip), and its progress
// reported to the referrer in NOTIFYs.
func TestRFC3515Section2_4_4IncomingReferCallsBaresip(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true})
	f := newFixture(t, func(c *Config) { c.CallWaiting = true })
	s := sipptest.Start(t, sipptest.Config{Scenario: "testdata/uac_refer.xml", Remote: f.agent.LocalAddr().String(),
		Service: "1001", Keys: map[string]string{"target": peer.URI}})
	c := incoming(t, f.line, 10*time.Second)
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	ev := wait(t, c, EventReferral, 10*time.Second)
	if ev.Referral.Target != peer.URI {
		t.Errorf("referral target %q", ev.Referral.Target)
	}
	nc, err := ev.Referral.Accept(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wait(t, nc, EventAnswered, 10*time.Second)
	end := wait(t, c, EventEnded, 10*time.Second)
	if end.Cause != EndRemote {
		t.Errorf("referrer's call ended %+v", end)
	}
	hangup(t, nc)
	s.Wait(10 * time.Second)
}
