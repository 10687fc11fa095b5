package ua

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// options sends an OPTIONS request for uri over c, whose Via names via,
// and returns the first answer.
func options(t *testing.T, c net.Conn, transport, via, uri string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := fmt.Sprintf("OPTIONS %s SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=z9hG4bK-tl%d;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=tl\r\nTo: <%s>\r\n"+
		"Call-ID: tlslisten-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		uri, transport, via, time.Now().UnixNano(), uri, time.Now().UnixNano())
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("OPTIONS %s: %v", uri, err)
	}
	return string(buf[:n])
}

// TestTLSListener gives the agent a certificate: it listens for TLS on the
// port after its UDP and TCP port, and its TLS Contact names that port.
// Kamailio, asked by a UDP client to reach the registered user, opens a
// TLS connection to that Contact, and the agent answers through it.
func TestTLSListener(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "9501", Password: "pw"}}})
	leaf, err := srv.CA.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newAgentWith(t, AgentConfig{
		TLS:       &tls.Config{RootCAs: srv.CA.Pool()},
		ServerTLS: &tls.Config{Certificates: []tls.Certificate{leaf.TLS}},
	})
	if a.TLSAddr() == nil || a.TLSAddr().Port != a.LocalAddr().Port+1 {
		t.Fatalf("TLS listens on %v, want the port after %v", a.TLSAddr(), a.LocalAddr())
	}

	// Directly: the listener presents our certificate and answers.
	tc, err := tls.Dial("tcp", a.TLSAddr().String(), &tls.Config{RootCAs: srv.CA.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if res := options(t, tc, "TLS", tc.LocalAddr().String(), "sip:"+a.TLSAddr().String()); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("direct OPTIONS answered %q", res)
	}

	r, err := a.Register(t.Context(), account(srv, "tls", "9501", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	cs := contacts(t, srv, "9501")
	want := "sip:9501@127.0.0.1:" + strconv.Itoa(a.TLSAddr().Port) + ";transport=tls"
	if len(cs) != 1 || cs[0].Address != want {
		t.Fatalf("kamailio holds %+v, want %s", cs, want)
	}

	// Through Kamailio, which connects to the Contact.
	uc, err := net.Dial("udp", srv.UDPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if res := options(t, uc, "UDP", uc.LocalAddr().String(), "sip:9501@127.0.0.1"); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("OPTIONS through kamailio answered %q; kamailio log:\n%s", res, srv.Log())
	}
	if !srv.WaitLog("TOUSER OPTIONS to "+want, 2*time.Second) {
		t.Errorf("kamailio did not route to the TLS contact:\n%s", srv.Log())
	}
}
