package kamailiotest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartAnswersOnAllTransports(t *testing.T) {
	s := Start(t, Config{Users: []User{{Name: "1001", Password: "secret"}}})
	opts := func(transport, local string) string {
		return fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\n"+
			"Via: SIP/2.0/%s %s;branch=z9hG4bK-t1\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\n"+
			"Call-ID: t1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", s.TCPAddr, transport, local, s.TCPAddr)
	}
	check := func(name string, c net.Conn) {
		t.Helper()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(opts(name, c.LocalAddr().String()))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			t.Errorf("%s answered %q", name, buf[:n])
		}
	}
	c, err := net.Dial("tcp", s.TCPAddr)
	if err != nil {
		t.Fatal(err)
	}
	check("TCP", c)
	tc, err := tls.Dial("tcp", s.TLSAddr, &tls.Config{RootCAs: s.CA.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	check("TLS", tc)
	cs, err := s.Contacts(context.Background(), "1001")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Errorf("contacts before any REGISTER: %v", cs)
	}
}

func TestParseLookup(t *testing.T) {
	out := `{
	AoR: 1001
	Contacts: {
		Contact: {
			Address: sip:1001@127.0.0.1:5070;transport=tls
			Expires: 57
			Q: -1
			Call-ID: abc@x
			CSeq: 3
			Received: sip:127.0.0.1:40000;transport=tls
			Instance: <urn:uuid:00000000-0000-0000-0000-000000000001>
			Reg-Id: 1
		}
	}
}
`
	cs := parseLookup(out)
	if len(cs) != 1 {
		t.Fatalf("got %d contacts", len(cs))
	}
	c := cs[0]
	if c.Address != "sip:1001@127.0.0.1:5070;transport=tls" || c.Expires != "57" || c.CallID != "abc@x" || c.CSeq != "3" || c.RegID != "1" {
		t.Errorf("parsed %+v", c)
	}
}
