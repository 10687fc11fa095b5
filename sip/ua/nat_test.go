package ua

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// natBox forwards UDP datagrams between one client and a server, sending
// to the server from a socket of its own, as a NAT does: the server sees
// the box's outside address, not the client's.
type natBox struct {
	inside  net.PacketConn // the client sends here
	outside net.PacketConn // the server sees this address
	mu      sync.Mutex
	client  net.Addr
}

// startNAT starts a box in front of server. The outside socket is on
// 127.0.0.2 when the system allows it, so that the server sees another
// IP address as well as another port.
func startNAT(t *testing.T, server string) *natBox {
	t.Helper()
	in, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		out, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			in.Close()
			t.Fatal(err)
		}
	}
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	b := &natBox{inside: in, outside: out}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := in.ReadFrom(buf)
			if err != nil {
				return
			}
			b.mu.Lock()
			b.client = from
			b.mu.Unlock()
			_, _ = out.WriteTo(buf[:n], srv)
		}
	})
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := out.ReadFrom(buf)
			if err != nil {
				return
			}
			b.mu.Lock()
			c := b.client
			b.mu.Unlock()
			if c != nil {
				_, _ = in.WriteTo(buf[:n], c)
			}
		}
	})
	t.Cleanup(func() {
		in.Close()
		out.Close()
		wg.Wait()
	})
	return b
}

// TestNATContactFromReceivedRport registers through a NAT box with a real
// Kamailio: Kamailio adds received and rport to our Via (we send rport),
// the line sees that they differ from its Contact and registers the public
// address instead, removing the private one in the same request.
func TestNATContactFromReceivedRport(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "8001", Password: "pw"}}})
	nat := startNAT(t, srv.UDPAddr)
	a := newAgent(t, nil)
	acc := account(srv, "udp", "8001", "pw")
	acc.Registrar = nat.inside.LocalAddr().String()
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	pub := nat.outside.LocalAddr().(*net.UDPAddr)
	want := "sip:8001@" + pub.IP.String() + ":" + strconv.Itoa(pub.Port)
	st := waitState(t, r, 10*time.Second, "registered with the public contact", func(s RegState) bool {
		return s.Status == StatusRegistered && s.Public.Port() == uint16(pub.Port)
	})
	if st.Contact != want || st.Transport != "udp" || st.Public.Addr().String() != pub.IP.String() {
		t.Errorf("state contact %q transport %q public %v, want %s over udp", st.Contact, st.Transport, st.Public, want)
	}
	cs := contacts(t, srv, "8001")
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Address, want) {
		t.Fatalf("kamailio holds %+v, want only the public contact %s", cs, want)
	}
	if !srv.WaitLog("contact <<"+want, 2*time.Second) {
		t.Errorf("no REGISTER with the public contact; kamailio log:\n%s", srv.Log())
	}
	if !strings.Contains(srv.Log(), ";rport> contact") {
		t.Errorf("no REGISTER with rport in its Via; kamailio log:\n%s", srv.Log())
	}
	if err := r.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if cs := contacts(t, srv, "8001"); len(cs) != 0 {
		t.Errorf("binding left after un-REGISTER: %+v", cs)
	}
}

func TestPublicAddr(t *testing.T) {
	local := netip.MustParseAddrPort("192.168.1.20:5060")
	for _, tc := range []struct {
		via  string
		want string
		nat  bool
	}{
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport=5060", "192.168.1.20:5060", false},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport", "192.168.1.20:5060", false},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1", "192.168.1.20:5060", false},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;received=203.0.113.7;rport=40123", "203.0.113.7:40123", true},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;received=203.0.113.7", "203.0.113.7:5060", true},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport=61000", "192.168.1.20:61000", true},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;received=[2001:db8::1];rport=7", "[2001:db8::1]:7", true},
		{"SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;received=bogus;rport=x", "192.168.1.20:5060", false},
	} {
		msg := "SIP/2.0 200 OK\r\nVia: " + tc.via + "\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n" +
			"Call-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		pub, nat := publicAddr(m.(*sip.Response), local)
		if pub.String() != tc.want || nat != tc.nat {
			t.Errorf("Via %q: %v %v, want %v %v", tc.via, pub, nat, tc.want, tc.nat)
		}
	}
}
