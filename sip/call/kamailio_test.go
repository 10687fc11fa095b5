package call

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/siptest/baresiptest"
	"github.com/tipring/tipring/sip/siptest/kamailiotest"
	"github.com/tipring/tipring/sip/siptest/testca"
	"github.com/tipring/tipring/sip/ua"
)

// proxiedLine is a line of ours registered with Kamailio over TLS, on an
// agent of its own that also listens for TLS (Kamailio opens a
// connection to the Contact to deliver calls).
type proxiedLine struct {
	agent *ua.Agent
	reg   *ua.Registration
	line  *Line
	media *rtpFactory
}

func newProxiedLine(t *testing.T, srv *kamailiotest.Server, ca *testca.CA, user string, sdpCfg sdp.Config) *proxiedLine {
	t.Helper()
	log := testLogger(t).With("user", user)
	leaf, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	a, err := ua.NewAgent(t.Context(), ua.AgentConfig{
		ListenAddr: "127.0.0.1:0", Logger: log, RequestTimeout: 5 * time.Second,
		TLS:       &tls.Config{RootCAs: ca.Pool()},
		ServerTLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	router := NewRouter(a, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := router.Close(ctx); err != nil {
			t.Errorf("router close: %v", err)
		}
		if err := a.Close(ctx); err != nil {
			t.Errorf("agent close: %v", err)
		}
	})
	reg, err := a.Register(t.Context(), ua.Account{
		User: user, Password: "pw" + user, Domain: "127.0.0.1", Registrar: srv.TLSAddr, Transport: "tls",
		Expires: 60 * time.Second, RetryBase: 200 * time.Millisecond, RetryMax: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for st := reg.State(); st.Status != ua.StatusRegistered; st = reg.State() {
		select {
		case <-reg.Changes():
		case <-deadline:
			t.Fatalf("%s not registered: %+v", user, st)
		}
	}
	pl := &proxiedLine{agent: a, reg: reg, media: &rtpFactory{}}
	cfg := Config{
		User: user, Domain: "127.0.0.1", Proxy: srv.TLSAddr, Transport: "tls", Registration: reg,
		SDP: sdpCfg, Logger: log, T1: 100 * time.Millisecond, RequestTimeout: 5 * time.Second,
	}
	pl.media.install(t, &cfg)
	if pl.line, err = router.NewLine(cfg); err != nil {
		t.Fatal(err)
	}
	return pl
}

// sending reports whether m's packet count grows over a few frames.
func sending(m *recMedia) bool {
	before := m.Stats().PacketsSent
	time.Sleep(200 * time.Millisecond)
	return m.Stats().PacketsSent > before
}

// RFC 3261 §16 and RFC 4568 over TLS: two lines of ours registered with
// Kamailio call each other through it; Kamailio record-routes, so the
// ACK, re-INVITEs and BYE pass through it too. SRTP keyed by SDES is
// required; media flows both ways, hold stops the held side's sending
// and resume restarts it.
func TestRFC3261Section16CallThroughKamailioOverTLS(t *testing.T) {
	ca, err := testca.New("call test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv := kamailiotest.Start(t, kamailiotest.Config{CA: ca, Users: []kamailiotest.User{
		{Name: "2001", Password: "pw2001"}, {Name: "2002", Password: "pw2002"},
		{Name: "2003", Password: "pw2003"}, {Name: "2004", Password: "pw2004"},
	}})
	for i, tc := range []struct {
		name string
		mki  int
	}{{"SDES", 0}, {"SDES with MKI", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sdp.Config{SRTP: sdp.SRTPRequired, MKILength: tc.mki}
			userA, userB := "200"+string(rune('1'+2*i)), "200"+string(rune('2'+2*i))
			a := newProxiedLine(t, srv, ca, userA, cfg)
			b := newProxiedLine(t, srv, ca, userB, cfg)
			if st := a.reg.State(); st.Transport != "tls" || !strings.Contains(st.Contact, ";transport=tls") {
				t.Errorf("registration state %+v", st)
			}
			callA, err := a.line.Dial(t.Context(), userB)
			if err != nil {
				t.Fatal(err)
			}
			callB := incoming(t, b.line, 10*time.Second)
			if callB.Remote().Number != userA {
				t.Errorf("B sees caller %+v", callB.Remote())
			}
			if err := callB.Ring(); err != nil {
				t.Fatal(err)
			}
			wait(t, callA, EventProgress, 5*time.Second)
			if err := callB.Answer(t.Context()); err != nil {
				t.Fatal(err)
			}
			wait(t, callA, EventAnswered, 5*time.Second)
			wait(t, callB, EventAnswered, 5*time.Second)
			if !srv.WaitLog("WITHINDLG ACK", 5*time.Second) {
				t.Error("the ACK did not pass through Kamailio")
			}
			ma, mb := a.media.get(t, 0), b.media.get(t, 0)
			pa, pb := startPump(ma), startPump(mb)
			defer pa.halt()
			defer pb.halt()
			eventually(t, 5*time.Second, "tone heard by A", func() bool { return pa.loudFrames() >= 25 })
			eventually(t, 5*time.Second, "tone heard by B", func() bool { return pb.loudFrames() >= 25 })
			for name, m := range map[string]*recMedia{"A": ma, "B": mb} {
				r := m.last()
				if r == nil || r.LocalCrypto == nil || r.RemoteCrypto == nil {
					t.Fatalf("%s: no SRTP in %+v", name, r)
				}
				if l := len(r.LocalCrypto.Keys[0].MKI); l != tc.mki || len(r.RemoteCrypto.Keys[0].MKI) != tc.mki {
					t.Errorf("%s: MKI of %d and %d bytes, want %d", name, l, len(r.RemoteCrypto.Keys[0].MKI), tc.mki)
				}
				st := m.Stats()
				if st.PacketsReceived < 25 || st.PacketsSent < 25 || st.DroppedAuth != 0 {
					t.Errorf("%s stats: sent %d received %d dropped (auth) %d", name, st.PacketsSent, st.PacketsReceived, st.DroppedAuth)
				}
			}

			if err := callA.Hold(t.Context()); err != nil {
				t.Fatal(err)
			}
			wait(t, callB, EventHeld, 5*time.Second)
			if sending(mb) {
				t.Error("B still sends while held (recvonly)")
			}
			if !sending(ma) {
				t.Error("A stopped sending while holding (sendonly)")
			}
			if err := callA.Resume(t.Context()); err != nil {
				t.Fatal(err)
			}
			wait(t, callB, EventResumed, 5*time.Second)
			if !sending(mb) {
				t.Error("B does not send after resume")
			}
			if !srv.WaitLog("WITHINDLG INVITE", time.Second) {
				t.Error("the re-INVITEs did not pass through Kamailio")
			}

			hangup(t, callA)
			ev := wait(t, callB, EventEnded, 5*time.Second)
			if ev.Cause != EndRemote {
				t.Errorf("B's call ended %+v", ev)
			}
			if !srv.WaitLog("WITHINDLG BYE", time.Second) {
				t.Error("the BYE did not pass through Kamailio")
			}
		})
	}
}

// RFC 3261 §16 and RFC 4568 with baresip as the far end: baresip
// registers with Kamailio over TLS (verifying Kamailio's certificate
// against the test CA) and demands SRTP; our line calls its number
// through Kamailio, media flows both ways, hold and resume, hang up.
func TestRFC3261Section16CallToBaresipThroughKamailioOverTLS(t *testing.T) {
	ca, err := testca.New("call test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv := kamailiotest.Start(t, kamailiotest.Config{CA: ca, Users: []kamailiotest.User{
		{Name: "2005", Password: "pw2005"}, {Name: "2006", Password: "pw2006"},
	}})
	leaf, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile := filepath.Join(dir, "baresip.pem")
	if err := os.WriteFile(certFile, append(append([]byte{}, leaf.CertPEM...), leaf.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	peer := baresiptest.Start(t, baresiptest.Config{
		User: "2005", Password: "pw2005", Registrar: srv.TLSAddr, Transport: "tls",
		CertFile: certFile, CAFile: srv.CAFile, AutoAnswer: true, MediaEnc: "srtp-mand",
	})
	// baresip may register before its control connection is up, so
	// the registrar is asked rather than baresip's events.
	eventually(t, 10*time.Second, "baresip registered", func() bool {
		cs, err := srv.Contacts(t.Context(), "2005")
		return err == nil && len(cs) > 0
	})
	a := newProxiedLine(t, srv, ca, "2006", sdp.Config{SRTP: sdp.SRTPRequired})
	c, err := a.line.Dial(t.Context(), "2005")
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	m := a.media.get(t, 0)
	if r := m.last(); r == nil || r.LocalCrypto == nil {
		t.Fatalf("no SRTP: %+v", r)
	}
	p := startPump(m)
	defer p.halt()
	eventually(t, 5*time.Second, "audio from baresip", func() bool { return p.loudFrames() >= 25 })
	if st := m.Stats(); st.PacketsSent < 25 || st.PacketsReceived < 25 || st.DroppedAuth != 0 {
		t.Errorf("stats: sent %d received %d dropped (auth) %d", st.PacketsSent, st.PacketsReceived, st.DroppedAuth)
	}
	if err := c.Hold(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := m.last(); r.Direction.Receives() {
		t.Errorf("on hold: direction %v", r.Direction)
	}
	if err := c.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := m.last(); !r.Direction.Receives() || !r.Direction.Sends() {
		t.Errorf("resumed: direction %v", r.Direction)
	}
	eventually(t, 5*time.Second, "audio after resume", func() bool { return p.loudFrames() >= 50 })
	p.halt()
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !srv.WaitLog("WITHINDLG BYE", time.Second) {
		t.Error("the BYE did not pass through Kamailio")
	}
	heard := peer.HeardFile()
	if heard == "" {
		t.Fatal("baresip recorded nothing")
	}
	if rms, n := wavRMS(t, heard, 800); rms < 1000 {
		t.Errorf("baresip heard RMS %.0f over %d samples, want our tone", rms, n)
	}
}
