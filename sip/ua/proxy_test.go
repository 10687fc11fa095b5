package ua

import (
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
)

// TestOutboundProxy sends REGISTERs through a Kamailio acting as a
// stateless outbound proxy in front of a Kamailio registrar. The proxy
// refuses requests whose first Route does not name it as a loose router;
// the Request-URI must stay the registrar's domain.
func TestOutboundProxy(t *testing.T) {
	registrar := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{
		{Name: "9101", Password: "pw"}, {Name: "9102", Password: "pw"},
	}})
	proxy := kamailiotest.Start(t, kamailiotest.Config{ProxyTo: registrar.UDPAddr})
	a := newAgent(t, nil)
	for _, tc := range []struct{ transport, user string }{{"udp", "9101"}, {"tcp", "9102"}} {
		t.Run(tc.transport, func(t *testing.T) {
			acc := account(registrar, tc.transport, tc.user, "pw")
			acc.Registrar = "192.0.2.1:5060" // not used with an outbound proxy
			acc.OutboundProxy = proxy.UDPAddr
			r, err := a.Register(t.Context(), acc)
			if err != nil {
				t.Fatal(err)
			}
			s := waitState(t, r, 10*time.Second, "registered through the proxy", isStatus(StatusRegistered))
			if s.Registrar != proxy.UDPAddr {
				t.Errorf("registrar in state %q, want the proxy %s", s.Registrar, proxy.UDPAddr)
			}
			if cs := contacts(t, registrar, tc.user); len(cs) != 1 {
				t.Fatalf("registrar holds %+v", cs)
			}
			route := "<sip:" + proxy.UDPAddr
			if tc.transport != "udp" {
				route += ";transport=" + tc.transport
			}
			want := "PROXY REGISTER ruri <sip:127.0.0.1> route <" + route + ";lr>>"
			if !proxy.WaitLog(want, 2*time.Second) {
				t.Errorf("proxy log lacks %q:\n%s", want, proxy.Log())
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if cs := contacts(t, registrar, tc.user); len(cs) != 0 {
				t.Errorf("binding left after un-REGISTER: %+v", cs)
			}
		})
	}
}
