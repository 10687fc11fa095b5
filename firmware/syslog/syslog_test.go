package syslog

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rfc5424 matches a message as Format writes it: PRI VERSION TIMESTAMP
// HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG (RFC 5424 §6).
var rfc5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([!-~]{1,255}) tipring (\d+) - - (.*)$`)

func newTee(t *testing.T, transport, addr string) (*slog.Logger, *Tee, *Sender) {
	t.Helper()
	tee := NewTee(slog.NewTextHandler(io.Discard, nil))
	s, err := New(Config{Server: addr, Transport: transport, Level: slog.LevelInfo, Hostname: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	tee.SetSender(s)
	t.Cleanup(func() {
		if old := tee.SetSender(nil); old != nil {
			old.Close()
		}
	})
	return slog.New(tee), tee, s
}

func checkMessage(t *testing.T, msg string, wantPRI int, wantText string) {
	t.Helper()
	m := rfc5424.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("not RFC 5424: %q", msg)
	}
	if pri, _ := strconv.Atoi(m[1]); pri != wantPRI {
		t.Errorf("PRI %d, want %d in %q", pri, wantPRI, msg)
	}
	if m[3] != "gw-1" {
		t.Errorf("hostname %q", m[3])
	}
	if m[5] != wantText {
		t.Errorf("message %q, want %q", m[5], wantText)
	}
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	log, _, _ := newTee(t, "udp", pc.LocalAddr().String())
	log.Debug("not sent")
	log.With("line", 1).WithGroup("reg").Warn("registration failed", "err", "403 Forbidden", "user", "1001")
	buf := make([]byte, 4096)
	pc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	// local0 (16) × 8 + warning (4)
	checkMessage(t, string(buf[:n]), 132, `registration failed line=1 reg.err="403 Forbidden" reg.user=1001`)
}

// Over TCP each message is framed by its length (RFC 6587 §3.4.1), and
// the sender reconnects when the server closes the connection.
func TestTCPOctetCountingAndReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msgs := make(chan string, 10)
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
					m, err := ReadFrame(r, MaxMessage)
					if err != nil {
						if err != io.EOF {
							msgs <- "bad frame: " + err.Error()
						}
						return
					}
					msgs <- m
					if strings.Contains(m, "hang up") {
						return // the server drops the connection
					}
				}
			}()
		}
	}()
	log, _, _ := newTee(t, "tcp", ln.Addr().String())
	recv := func() string {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("nothing received")
			return ""
		}
	}
	log.Info("first")
	checkMessage(t, recv(), 134, "first")
	log.Error("hang up", "code", 3)
	checkMessage(t, recv(), 131, "hang up code=3")
	// The next write may still go into the closed connection; the
	// sender notices and reconnects, so one of the next messages arrives.
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		log.Info("again", "i", i)
		select {
		case m := <-msgs:
			if !rfc5424.MatchString(m) {
				t.Fatalf("not RFC 5424 after reconnecting: %q", m)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no message after the server closed the connection")
		}
	}
}

// Logging never waits for a server that does not read: the queue fills
// and further messages are dropped and counted.
func TestNeverBlocks(t *testing.T) {
	s, err := New(Config{Server: "127.0.0.1:9", Transport: "tcp", Queue: 4,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	tee := NewTee(slog.DiscardHandler)
	tee.SetSender(s)
	log := slog.New(tee)
	start := time.Now()
	for i := range 1000 {
		log.Info("message", "i", i)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 records took %v", d)
	}
	if s.Dropped() < 990 {
		t.Errorf("dropped %d, want nearly all", s.Dropped())
	}
	tee.SetSender(nil)
	s.Close()
}

func TestFormatLimits(t *testing.T) {
	s := &Sender{cfg: Config{Hostname: "a host", App: "tipring"}, procid: "7"}
	b := s.Format(time.Unix(0, 0), slog.LevelDebug, strings.Repeat("é", 3000)+"\nx")
	if len(b) > MaxMessage {
		t.Errorf("message of %d bytes", len(b))
	}
	if !strings.HasPrefix(string(b), "<135>1 1970-01-01T00:00:00.000000Z ahost tipring 7 - - é") {
		t.Errorf("header %q", b[:60])
	}
}

// RFC 6587 §3.4.1: MSG-LEN is a non-zero decimal without leading zeros,
// then one space, then exactly that many octets.
func TestReadFrame(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("5 hello11 <14>1 - x y0 bad"))
	for _, want := range []string{"hello", "<14>1 - x y"} {
		if got, err := ReadFrame(r, MaxMessage); err != nil || got != want {
			t.Fatalf("%q, %v; want %q", got, err, want)
		}
	}
	for _, bad := range []string{"0 ", "05 hello", "x hello", "-1 a", "3000 " + strings.Repeat("a", 3000)} {
		if got, err := ReadFrame(bufio.NewReader(strings.NewReader(bad)), MaxMessage); err == nil {
			t.Errorf("%.10q read as %.10q", bad, got)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add("5 hello")
	f.Add("0 ")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ReadFrame(bufio.NewReader(strings.NewReader(in)), MaxMessage)
		if err == nil && len(m) > MaxMessage {
			t.Fatalf("a frame of %d octets", len(m))
		}
	})
}
