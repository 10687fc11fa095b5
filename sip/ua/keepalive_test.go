package ua

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// TestFlowClosedReregisters restarts Kamailio on the same ports while a
// line is registered over TCP for a minute: the flow closes, and the line
// registers with the new Kamailio (whose location table starts empty)
// within seconds, long before its refresh is due.
func TestFlowClosedReregisters(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "9201", Password: "pw"}}})
	a := newAgent(t, nil)
	acc := account(srv, "tcp", "9201", "pw")
	acc.RetryBase, acc.RetryMax = 100*time.Millisecond, 300*time.Millisecond
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	first := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	s := waitState(t, r, 5*time.Second, "registered again", func(s RegState) bool {
		return s.Status == StatusRegistered && s.Err == nil && s.Until.After(first.Until)
	})
	if d := time.Since(restarted); d > 3*time.Second {
		t.Errorf("registered again %v after the restart", d)
	}
	if s.Since != first.Since {
		t.Errorf("the registered period restarted although the old binding was valid throughout")
	}
	if cs := contacts(t, srv, "9201"); len(cs) != 1 {
		t.Fatalf("restarted kamailio holds %+v", cs)
	}
}

// TestKeepalivePongTimeout pings every 300 ms over TLS with a 500 ms pong
// timeout. While Kamailio answers, the flow stays up and nothing is
// re-registered; when Kamailio hangs (SIGSTOP), the missing pong fails
// the flow and the line registers again as soon as Kamailio resumes.
func TestKeepalivePongTimeout(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "9301", Password: "pw"}}})
	a, log := newAgentWith(t, AgentConfig{
		TLS:       &tls.Config{RootCAs: srv.CA.Pool()},
		Keepalive: 300 * time.Millisecond, PongTimeout: 500 * time.Millisecond,
	})
	acc := account(srv, "tls", "9301", "pw")
	acc.RetryBase, acc.RetryMax = 100*time.Millisecond, 300*time.Millisecond
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	first := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	registers := func() int { return strings.Count(srv.Log(), "REGISTER 9301 ") }
	srv.WaitLog("cseq", time.Second)
	time.Sleep(200 * time.Millisecond) // Kamailio's log reaches us through a pipe
	before := registers()
	time.Sleep(1500 * time.Millisecond) // about five pings
	if n := registers(); n != before || r.State().Until != first.Until {
		t.Fatalf("re-registered while pongs came back (%d REGISTERs, then %d):\n%s", before, n, log)
	}
	if strings.Contains(log.String(), "flow to registrar failed") {
		t.Fatalf("flow failed while Kamailio answered:\n%s", log)
	}

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(log.String(), "no keep-alive pong") {
		if time.Now().After(deadline) {
			_ = srv.Resume()
			t.Fatalf("no pong timeout while Kamailio hung")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitState(t, r, 8*time.Second, "registered again", func(s RegState) bool {
		return s.Status == StatusRegistered && s.Err == nil && s.Until.After(first.Until)
	})
	deadline = time.Now().Add(2 * time.Second)
	for registers() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("kamailio saw no new REGISTER:\n%s", srv.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
