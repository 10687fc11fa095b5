package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/syslog"
)

// syslogRFC5424 matches one message as the gateway sends it: facility
// local0 (PRI 128–135), version 1, UTC timestamp, host, app "tipring",
// procid, no msgid, no structured data.
var syslogRFC5424 = regexp.MustCompile(`^<(12[89]|13[0-5])>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [!-~]+ tipring \d+ - - \S.*$`)

// syslogSink collects what a UDP and a TCP syslog listener receive.
type syslogSink struct {
	mu        sync.Mutex
	udp, tcp  []string
	raw       strings.Builder // every byte received, for the secrets check
	udpAddr   string
	tcpAddr   string
	badFrames int
}

func (s *syslogSink) add(tcp bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tcp {
		s.tcp = append(s.tcp, msg)
	} else {
		s.udp = append(s.udp, msg)
	}
}

func (s *syslogSink) find(tcp bool, substr string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.udp
	if tcp {
		list = s.tcp
	}
	for _, m := range list {
		if strings.Contains(m, substr) {
			return m, true
		}
	}
	return "", false
}

func startSyslogSink(t *testing.T) *syslogSink {
	t.Helper()
	s := &syslogSink{}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	s.udpAddr, s.tcpAddr = pc.LocalAddr().String(), ln.Addr().String()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.raw.Write(buf[:n])
			s.mu.Unlock()
			s.add(false, string(buf[:n]))
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					m, err := syslog.ReadFrame(r, syslog.MaxMessage)
					if err != nil {
						if err != io.EOF {
							s.mu.Lock()
							s.badFrames++
							s.mu.Unlock()
						}
						return
					}
					s.mu.Lock()
					s.raw.WriteString(m)
					s.mu.Unlock()
					s.add(true, m)
				}
			}()
		}
	}()
	return s
}

// The gateway sends its log to a syslog server as RFC 5424 messages over
// UDP; changed to TCP (RFC 6587 octet counting) on the page's store, it
// follows without a restart. The line passwords of the configuration are
// never in anything sent, even at debug level with registrations failing.
func TestSyslogGateway(t *testing.T) {
	sink := startSyslogSink(t)
	const pw1, pw2 = "Zebra-Password-1111", "Yak-Password-2222"
	doc := fmt.Sprintf(`version = 2
[board]
name = "sim"
ports = 2
[web]
listen = "127.0.0.1:8080"
[sip]
listen = "127.0.0.1:0"
registrar = "127.0.0.1:9"
transport = "udp"
register_expires_s = 60
[syslog]
server = %q
transport = "udp"
level = "debug"
[[line]]
port = 1
user = "1001"
password = %q
[[line]]
port = 2
user = "1002"
password = %q
`, sink.udpAddr, pw1, pw2)
	g := startGatewayDoc(t, t.TempDir(), doc)
	wait := func(tcp bool, substr string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if m, ok := sink.find(tcp, substr); ok {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("syslog (tcp %v) never received %q", tcp, substr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	up := wait(false, "tipring up")
	if !syslogRFC5424.MatchString(up) {
		t.Errorf("not an RFC 5424 message: %q", up)
	}
	if !strings.HasPrefix(up, "<134>1 ") || !strings.Contains(up, " board=sim") {
		t.Errorf("info message %q: want PRI 134 (local0.info) and the attributes", up)
	}
	host, _ := os.Hostname()
	if h := strings.Fields(up)[2]; host != "" && h != host {
		t.Errorf("hostname %q, want %q", h, host)
	}
	// A page save that changes [syslog] moves the log to TCP at once.
	if err := g.store.Update(func(c *config.Config) error {
		c.Syslog = config.Syslog{Server: sink.tcpAddr, Transport: "tcp", Level: "info"}
		c.Lines[1].DisplayName = "Porch" // something to log about
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m := wait(true, "apply")
	if !syslogRFC5424.MatchString(m) {
		t.Errorf("not an RFC 5424 message over TCP: %q", m)
	}
	g.log.Warn("syslog test marker", "k", "v w")
	if m := wait(true, "syslog test marker"); !strings.HasPrefix(m, "<132>1 ") || !strings.HasSuffix(m, `syslog test marker k="v w"`) {
		t.Errorf("warning %q", m)
	}
	time.Sleep(200 * time.Millisecond)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, secret := range []string{pw1, pw2} {
		if strings.Contains(sink.raw.String(), secret) {
			t.Errorf("a line password was sent to syslog")
		}
	}
	if sink.badFrames > 0 {
		t.Errorf("%d TCP frames without octet counting", sink.badFrames)
	}
	for _, list := range [][]string{sink.udp, sink.tcp} {
		for _, m := range list {
			if !syslogRFC5424.MatchString(m) {
				t.Errorf("not RFC 5424: %q", m)
			}
		}
	}
}
