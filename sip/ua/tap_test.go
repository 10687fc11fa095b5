package ua

import (
	"bytes"
	"crypto/tls"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// sipTap records the messages an AgentConfig.Tap sees.
type sipTap struct {
	mu   sync.Mutex
	sent [][]byte
	recv [][]byte
}

func (s *sipTap) tap(dir int, local, remote netip.AddrPort, pkt []byte) {
	if !local.IsValid() || !remote.IsValid() {
		panic("tap without addresses")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := bytes.Clone(pkt)
	if dir == TapSent {
		s.sent = append(s.sent, p)
	} else {
		s.recv = append(s.recv, p)
	}
}

// has reports whether a message starting with prefix went in direction dir.
func (s *sipTap) has(dir int, prefix string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.recv
	if dir == TapSent {
		list = s.sent
	}
	for _, p := range list {
		if bytes.Contains(p, []byte(prefix)) {
			return true
		}
	}
	return false
}

// The tap sees a request the agent receives over UDP and the answer it
// sends.
func TestTapUDPRequestAndResponse(t *testing.T) {
	tp := &sipTap{}
	a, _ := newAgentWith(t, AgentConfig{Tap: tp.tap})
	if res := rawRequest(t, a, "OPTIONS", ""); statusLine(res) != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS answered %q", statusLine(res))
	}
	if !tp.has(TapReceived, "OPTIONS sip:") {
		t.Error("the tap did not see the OPTIONS received")
	}
	deadline := time.Now().Add(time.Second)
	for !tp.has(TapSent, "SIP/2.0 200 OK") {
		if time.Now().After(deadline) {
			t.Fatal("the tap did not see the 200 sent")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Over UDP and over TLS (after decryption) the tap sees the REGISTERs
// the agent sends and the challenge and 200 it receives.
func TestTapRegisterWithKamailio(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{
		{Name: "1001", Password: "pw1001"}, {Name: "1002", Password: "pw1002"},
	}})
	tp := &sipTap{}
	a, _ := newAgentWith(t, AgentConfig{TLS: &tls.Config{RootCAs: srv.CA.Pool()}, Tap: tp.tap})
	for i, transport := range []string{"udp", "tls"} {
		user := []string{"1001", "1002"}[i]
		r, err := a.Register(t.Context(), account(srv, transport, user, "pw"+user))
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
		for _, want := range []struct {
			dir  int
			text string
		}{{TapSent, "REGISTER sip:"}, {TapSent, "From: <sip:" + user + "@"}, {TapReceived, "SIP/2.0 401"}, {TapReceived, "SIP/2.0 200"}} {
			if !tp.has(want.dir, want.text) {
				t.Errorf("%s: the tap did not see %q (dir %d)", transport, want.text, want.dir)
			}
		}
	}
}
