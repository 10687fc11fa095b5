package hostport

import "testing"

func TestSplitAndComplete(t *testing.T) {
	for _, tc := range []struct {
		spec, transport, want string
	}{
		{"pbx.example.com", "tls", "pbx.example.com:5061"},
		{"pbx.example.com", "udp", "pbx.example.com:5060"},
		{"192.0.2.1:5080", "tls", "192.0.2.1:5080"},
		{"[2001:db8::1]", "tcp", "[2001:db8::1]:5060"},
		{"[2001:db8::1]:5071", "tls", "[2001:db8::1]:5071"},
		{"2001:db8::1", "tls", "[2001:db8::1]:5061"},
	} {
		got, err := Complete(tc.spec, tc.transport)
		if err != nil || got != tc.want {
			t.Errorf("Complete(%q, %s) = %q, %v; want %q", tc.spec, tc.transport, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "host:0", "host:99999", ":5060", "a b", "user@host", "host/path", "[x", "not:an:ip:x"} {
		if _, _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
}

func TestCheckAOR(t *testing.T) {
	if err := CheckAOR("1001", "pbx.example.com"); err != nil {
		t.Error(err)
	}
	for _, c := range [][2]string{{"", "d"}, {"u", ""}, {"a@b", "d"}, {"u", "d;x"}, {"u v", "d"}, {"u", "d/x"}} {
		if CheckAOR(c[0], c[1]) == nil {
			t.Errorf("CheckAOR(%q, %q) accepted", c[0], c[1])
		}
	}
}

func TestTransport(t *testing.T) {
	for in, want := range map[string]string{"": "tls", "UDP": "udp", "tcp": "tcp", "TLS": "tls"} {
		if got, err := Transport(in); err != nil || got != want {
			t.Errorf("Transport(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := Transport("auto"); err == nil {
		t.Error("auto accepted where it is not allowed")
	}
	if got, err := Transport("Auto", "auto"); err != nil || got != "auto" {
		t.Errorf("Transport(Auto, auto) = %q, %v", got, err)
	}
	if _, err := Transport("sctp", "auto"); err == nil || err.Error() != `transport "sctp" (want udp, tcp, tls or auto)` {
		t.Errorf("sctp: %v", err)
	}
}
