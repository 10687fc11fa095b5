package sdp

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *Session {
	t.Helper()
	s, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, b)
	}
	return s
}

// RFC 4566 §5: every vendor sample in testdata parses, and what we read
// survives Marshal and Parse.
func TestRFC4566Section5_VendorSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/*.sdp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		s := mustParse(t, readTestdata(t, filepath.Base(f)))
		if len(s.Media) == 0 {
			t.Errorf("%s: no media", f)
		}
		out := s.Marshal()
		if again := mustParse(t, out).Marshal(); !bytes.Equal(out, again) {
			t.Errorf("%s: Marshal and Parse changed the session:\n%s\n%s", f, out, again)
		}
		if !bytes.HasPrefix(out, []byte("v=0\r\no=")) || bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
			t.Errorf("%s: output not v=, o= first with CRLF only", f)
		}
	}
}

// RFC 4566 §5: "a=" lines at session and media level, c= at both levels,
// unknown attributes kept in order.
func TestRFC4566Section5_Levels(t *testing.T) {
	s := mustParse(t, readTestdata(t, "cisco_offer.sdp"))
	if s.Origin.Username != "CiscoSystemsSIP-GW-UserAgent" || s.Origin.SessionID != "4521" || s.Origin.SessionVersion != "3711" {
		t.Errorf("origin %+v", s.Origin)
	}
	m := s.Media[0]
	if a, _ := s.ConnectionFor(m).Addr(); a != netip.MustParseAddr("203.0.113.46") {
		t.Errorf("media connection %v, want the media-level 203.0.113.46", a)
	}
	if a, _ := s.Connection.Addr(); a != netip.MustParseAddr("203.0.113.45") {
		t.Errorf("session connection %v", a)
	}
	if got := m.Attrs("fmtp"); !reflect.DeepEqual(got, []string{"18 annexb=no", "101 0-16"}) {
		t.Errorf("fmtp %q", got)
	}
	if s.DirectionFor(m) != SendRecv {
		t.Errorf("default direction %v", s.DirectionFor(m))
	}

	p := mustParse(t, readTestdata(t, "polycom_hold.sdp"))
	if d := p.DirectionFor(p.Media[0]); d != SendOnly {
		t.Errorf("session-level direction %v, want sendonly", d)
	}
}

// RFC 4566 §5 requires CRLF, but peers send bare LF and leave white space at
// line ends; both parse to the same session.
func TestRFC4566Section5_LineEnds(t *testing.T) {
	crlf := readTestdata(t, "asterisk_offer.sdp")
	want := mustParse(t, crlf)
	variants := map[string][]byte{
		"LF":              bytes.ReplaceAll(crlf, []byte("\r\n"), []byte("\n")),
		"trailing spaces": bytes.ReplaceAll(crlf, []byte("\r\n"), []byte(" \t \r\n")),
		"no final CRLF":   bytes.TrimSuffix(crlf, []byte("\r\n")),
		"blank lines":     append(append([]byte("\r\n"), crlf...), "\r\n\r\n"...),
		"mixed":           bytes.Replace(crlf, []byte("\r\n"), []byte("\n"), 3),
	}
	for name, b := range variants {
		got, err := Parse(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

// RFC 4566 §5 fixes the line order; peers get it wrong (t= missing, c=
// after t=, a= before c=, session attributes before t=) and we accept it.
func TestRFC4566Section5_OrderQuirks(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\na=sendonly\r\nt=0 0\r\nc=IN IP4 192.0.2.1\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=ptime:20\r\nc=IN IP4 192.0.2.2\r\nb=AS:64\r\ni=info after a=\r\n" +
		"y=unknown line type\r\n"
	s := mustParse(t, []byte(body))
	m := s.Media[0]
	if s.Connection == nil || m.Connection == nil || m.Connection.Address != "192.0.2.2" {
		t.Errorf("connections %+v %+v", s.Connection, m.Connection)
	}
	if s.DirectionFor(m) != SendOnly || len(m.Bandwidths) != 1 {
		t.Errorf("direction %v bandwidths %q", s.DirectionFor(m), m.Bandwidths)
	}
	s = mustParse(t, []byte("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"))
	if s.Timing != "" || !strings.Contains(string(s.Marshal()), "\r\nt=0 0\r\n") {
		t.Errorf("missing t= not defaulted: %q", s.Marshal())
	}
}

// RFC 4566 §5.7: a multicast TTL is dropped; 0.0.0.0 is the RFC 2543 hold
// address; host names are not IP addresses.
func TestRFC4566Section5_7_Connection(t *testing.T) {
	tests := []struct {
		line string
		addr string
		hold bool
	}{
		{"IN IP4 192.0.2.1", "192.0.2.1", false},
		{"in ip4 192.0.2.1", "192.0.2.1", false},
		{"IN IP4 233.252.0.1/127", "233.252.0.1", false},
		{"IN IP6 2001:db8::1", "2001:db8::1", false},
		{"IN IP4 0.0.0.0", "0.0.0.0", true},
		{"IN IP6 ::", "::", true},
		{"IN IP4 pbx.example.com", "", false},
		{"ATM NSAP 47.0091.8100.0000", "", false},
	}
	for _, tt := range tests {
		c, err := parseConnection(tt.line)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		a, ok := c.Addr()
		if tt.addr == "" {
			if ok {
				t.Errorf("%s: address %v, want none", tt.line, a)
			}
			continue
		}
		if !ok || a != netip.MustParseAddr(tt.addr) || c.IsHold() != tt.hold {
			t.Errorf("%s: %v %v hold %v", tt.line, a, ok, c.IsHold())
		}
	}
}

// RFC 4566 §5.14: m=<media> <port>[/<count>] <proto> <fmt> ...
func TestRFC4566Section5_14_Media(t *testing.T) {
	m, err := parseMedia("audio 49170/2 RTP/AVP 0 8")
	if err != nil {
		t.Fatal(err)
	}
	if m.Port != 49170 || m.NumPorts != 2 || m.Proto != "RTP/AVP" || !reflect.DeepEqual(m.Formats, []string{"0", "8"}) {
		t.Errorf("%+v", m)
	}
	s := &Session{Media: []*Media{m}}
	if !strings.Contains(string(s.Marshal()), "m=audio 49170/2 RTP/AVP 0 8\r\n") {
		t.Errorf("%q", s.Marshal())
	}
}

// Input we refuse, with an error that says which line and why.
func TestRFC4566Section5_Malformed(t *testing.T) {
	tests := []struct {
		body string
		want error
		text string
	}{
		{"", ErrEmpty, ""},
		{"\r\n\r\n", ErrEmpty, ""},
		{"v=0\r\nhello\r\n", ErrSyntax, "line 2"},
		{"v=0\r\n=x\r\n", ErrSyntax, "line 2"},
		{"v=0\r\n1=x\r\n", ErrSyntax, "line 2"},
		{"v=1\r\n", ErrSyntax, "version"},
		{"v=0\r\no=- 1 1 IN IP4\r\n", ErrSyntax, "o="},
		{"v=0\r\nc=IN IP4\r\n", ErrSyntax, "c="},
		{"v=0\r\nm=audio\r\n", ErrSyntax, "m="},
		{"v=0\r\nm=audio x RTP/AVP 0\r\n", ErrSyntax, "port"},
		{"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", ErrSyntax, "port"},
		{"v=0\r\nm=audio 4000/x RTP/AVP 0\r\n", ErrSyntax, "count"},
		{strings.Repeat("a=x\r\n", MaxSize/5+1), ErrTooLarge, ""},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.body))
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("Parse(%.30q) = %v, want %v with %q", tt.body, err, tt.want, tt.text)
		}
	}
}
