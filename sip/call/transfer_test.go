package call

import (
	"testing"
	"time"
)

// answerNext answers the next incoming call of f's line.
func answerNext(t *testing.T, f *fixture) *Call {
	t.Helper()
	c := incoming(t, f.line, 5*time.Second)
	if err := c.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 5*time.Second)
	return c
}

// RFC 3891 §3 and RFC 3515: an attended transfer between three of our own
// agents. A talks to B and to C, and asks B (REFER with Replaces) to take
// over A's call with C: C's new incoming call names the call it replaces,
// answering it ends that call, and A learns the outcome in a NOTIFY.
func TestRFC3891Section3AttendedTransfer(t *testing.T) {
	a := newFixture(t, func(c *Config) { c.User = "1001" })
	b := newFixture(t, func(c *Config) { c.User = "2002"; c.CallWaiting = true })
	cc := newFixture(t, func(c *Config) { c.User = "3003" })

	ab, err := a.line.Dial(t.Context(), "sip:2002@"+b.agent.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ba := answerNext(t, b)
	wait(t, ab, EventAnswered, 5*time.Second)

	ac, err := a.line.Dial(t.Context(), "sip:3003@"+cc.agent.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ca := answerNext(t, cc)
	wait(t, ac, EventAnswered, 5*time.Second)

	if err := ab.TransferTo(t.Context(), ac); err != nil {
		t.Fatal(err)
	}
	ref := wait(t, ba, EventReferral, 5*time.Second).Referral
	if !ref.Attended {
		t.Fatalf("referral %+v is not attended", ref)
	}
	bc, err := ref.Accept(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cb := incoming(t, cc.line, 5*time.Second)
	if cb.Replaces() != ca {
		t.Fatalf("new call replaces %v, want C's call with A", cb.Replaces())
	}
	if err := cb.Answer(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait(t, bc, EventAnswered, 5*time.Second)
	if ev := wait(t, ca, EventEnded, 5*time.Second); ev.Cause != EndReplaced {
		t.Errorf("C's old call ended %+v", ev)
	}
	if ev := wait(t, ac, EventEnded, 5*time.Second); ev.Cause != EndRemote {
		t.Errorf("A's call with C ended %+v", ev)
	}
	for {
		ev := wait(t, ab, EventTransferProgress, 5*time.Second)
		if ev.Final {
			if ev.Code != 200 {
				t.Errorf("transfer outcome %+v", ev)
			}
			break
		}
	}
	hangup(t, ab)
	hangup(t, bc)
}
