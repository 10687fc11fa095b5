package ua

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// fakeDNS answers SRV and address queries from tables.
type fakeDNS struct {
	srv map[string][]*net.SRV // by "_service._proto.name"
	ip  map[string][]string   // by host name
}

func (d fakeDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	recs, ok := d.srv[q]
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
	}
	return q + ".", recs, nil
}

func (d fakeDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := d.ip[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func port(t *testing.T, hostport string) uint16 {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return p
}

// TestSRVRegistrar locates Kamailio through SRV records: the first target
// by priority refuses connections, so the line moves on to the second.
// Over TLS the certificate is checked against the SIP domain ("localhost",
// which the test certificate names), not the SRV target.
func TestSRVRegistrar(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{
		{Name: "9401", Password: "pw"}, {Name: "9402", Password: "pw"},
	}})
	dead := closedPort(t)
	dns := fakeDNS{
		srv: map[string][]*net.SRV{
			"_sip._tcp.example.test": {
				{Target: "b.example.test.", Port: port(t, srv.TCPAddr), Priority: 20, Weight: 10},
				{Target: "a.example.test.", Port: dead, Priority: 10, Weight: 10},
			},
			"_sips._tcp.localhost": {
				{Target: "a.example.test.", Port: dead, Priority: 10},
				{Target: "b.example.test.", Port: port(t, srv.TLSAddr), Priority: 10, Weight: 0},
			},
		},
		ip: map[string][]string{"a.example.test": {"127.0.0.1"}, "b.example.test": {"127.0.0.1"}},
	}
	a, log := newAgentWith(t, AgentConfig{TLS: &tls.Config{RootCAs: srv.CA.Pool()}, Resolver: dns})
	for _, tc := range []struct{ transport, user, registrar string }{
		{"tcp", "9401", "example.test"},
		{"tls", "9402", "localhost"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			acc := account(srv, tc.transport, tc.user, "pw")
			acc.Registrar = tc.registrar
			r, err := a.Register(t.Context(), acc)
			if err != nil {
				t.Fatal(err)
			}
			waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
			if cs := contacts(t, srv, tc.user); len(cs) != 1 {
				t.Fatalf("kamailio holds %+v", cs)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
		})
	}
	if strings.Count(log.String(), "target failed, trying the next") < 1 {
		t.Errorf("no target failed over:\n%s", log)
	}
}

func TestResolveTargets(t *testing.T) {
	dns := fakeDNS{
		srv: map[string][]*net.SRV{
			"_sip._udp.srv.test":  {{Target: "h1.test.", Port: 5070, Priority: 1}, {Target: "h2.test.", Port: 5080, Priority: 2}},
			"_sips._tcp.srv.test": {{Target: "h2.test.", Port: 5071, Priority: 1}},
			"_sip._tcp.none.test": {{Target: ".", Port: 0}},
		},
		ip: map[string][]string{
			"h1.test":     {"2001:db8::1", "192.0.2.1"},
			"h2.test":     {"192.0.2.2"},
			"plain.test":  {"192.0.2.3"},
			"none.test":   {"192.0.2.4"},
			"srv.test":    {"192.0.2.9"},
			"notsrv.test": {"192.0.2.5"},
		},
	}
	a, _ := newAgentWith(t, AgentConfig{Resolver: dns})
	for _, tc := range []struct {
		hop, transport string
		want           []string
		fail           bool
	}{
		{hop: "192.0.2.7", transport: "tls", want: []string{"tls:192.0.2.7:5061"}},
		{hop: "[2001:db8::7]:5070", transport: "udp", want: []string{"udp:[2001:db8::7]:5070"}},
		{hop: "srv.test", transport: "udp", want: []string{"udp:192.0.2.1:5070", "udp:[2001:db8::1]:5070", "udp:192.0.2.2:5080"}},
		{hop: "srv.test:5099", transport: "udp", want: []string{"udp:192.0.2.9:5099"}}, // a port: no SRV
		{hop: "srv.test", transport: "auto", want: []string{"tls:192.0.2.2:5071", "udp:192.0.2.1:5070", "udp:[2001:db8::1]:5070", "udp:192.0.2.2:5080"}},
		{hop: "plain.test", transport: "tls", want: []string{"tls:192.0.2.3:5061"}},   // no SRV: A record
		{hop: "notsrv.test", transport: "auto", want: []string{"udp:192.0.2.5:5060"}}, // no SRV at all: UDP
		{hop: "none.test", transport: "tcp", fail: true},                              // SRV says "not here"
		{hop: "missing.test", transport: "udp", fail: true},
	} {
		ts, err := a.resolve(t.Context(), tc.hop, tc.transport)
		if tc.fail {
			if err == nil {
				t.Errorf("%s %s: targets %v, want an error", tc.transport, tc.hop, ts)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.transport, tc.hop, err)
			continue
		}
		var got []string
		for _, x := range ts {
			got = append(got, x.String())
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s %s: %v, want %v", tc.transport, tc.hop, got, tc.want)
		}
		if tc.hop == "srv.test" && tc.transport == "auto" && ts[0].serverName != "srv.test" {
			t.Errorf("TLS server name %q, want the SIP domain", ts[0].serverName)
		}
	}
}

// TestOrderSRV checks RFC 2782 ordering: priorities ascending, and within
// a priority a choice weighted by Weight.
func TestOrderSRV(t *testing.T) {
	recs := []*net.SRV{
		{Target: "c", Priority: 20, Weight: 1},
		{Target: "a", Priority: 10, Weight: 90},
		{Target: "b", Priority: 10, Weight: 10},
		{Target: "z", Priority: 10, Weight: 0},
	}
	seq := func(v ...float64) func() float64 {
		return func() float64 { x := v[0]; v = v[1:]; return x }
	}
	names := func(rs []*net.SRV) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Target)
		}
		return strings.Join(s, "")
	}
	// Running sums in order z, a, b: 0, 90, 100 (of 0…100).
	for _, tc := range []struct {
		rnd  []float64
		want string
	}{
		{[]float64{0.5, 0.5, 0.5, 0}, "abzc"},     // 50 → a; then z 0, b 10 of 0…10: 5 → b
		{[]float64{0.95, 0.5, 0, 0}, "bazc"},      // 95 → b; then z 0, a 90: 45 → a
		{[]float64{0.001, 0.001, 0.1, 0}, "zabc"}, // 0 → z
	} {
		if got := names(orderSRV(recs, seq(tc.rnd...))); got != tc.want {
			t.Errorf("rnd %v: order %s, want %s", tc.rnd, got, tc.want)
		}
	}
	// Over many draws, weight 90 comes first about nine times in ten.
	first := 0
	rnd := newTestRand()
	for range 2000 {
		if orderSRV(recs, rnd)[0].Target == "a" {
			first++
		}
	}
	if first < 1650 || first > 1950 {
		t.Errorf("weight 90 of 100 first in %d of 2000", first)
	}
}
