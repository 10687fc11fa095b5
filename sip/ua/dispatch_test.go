package ua

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawRequest sends one request over UDP to the agent and returns the
// first line and the headers of the final response.
func rawRequest(t *testing.T, a *Agent, method, extra string) string {
	t.Helper()
	c, err := net.DialUDP("udp", nil, a.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	branch := sip.GenerateBranch()
	msg := fmt.Sprintf("%s sip:1001@%s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=%s\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:peer@%s>;tag=%s\r\n"+
		"To: <sip:1001@%s>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 %s\r\n"+
		"%s"+
		"Content-Length: 0\r\n\r\n",
		method, a.LocalAddr(), local, branch, local, branch[8:], a.LocalAddr(), branch, method, extra)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%s: no response: %v", method, err)
		}
		if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 1")) {
			return string(buf[:n])
		}
	}
}

func statusLine(res string) string {
	line, _, _ := strings.Cut(res, "\r\n")
	return line
}

// RFC 3261 §8.2.1: a method nobody handles is answered 405 with Allow,
// OPTIONS is answered 200 by default, and handlers added while the
// agent runs take over at once.
func TestRFC3261Section8_2_1HandlersAddedAtRunTime(t *testing.T) {
	a := newAgent(t, nil)
	if got := statusLine(rawRequest(t, a, "MESSAGE", "")); got != "SIP/2.0 405 Method Not Allowed" {
		t.Fatalf("MESSAGE without handler: %q", got)
	}
	if res := rawRequest(t, a, "OPTIONS", ""); statusLine(res) != "SIP/2.0 200 OK" || !strings.Contains(res, "Allow: OPTIONS") {
		t.Fatalf("OPTIONS without handler:\n%s", res)
	}
	a.Handle(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	})
	if got := statusLine(rawRequest(t, a, "MESSAGE", "")); got != "SIP/2.0 202 Accepted" {
		t.Fatalf("MESSAGE with handler: %q", got)
	}
	if res := rawRequest(t, a, "INFO", ""); !strings.Contains(res, "Allow: OPTIONS, MESSAGE") {
		t.Errorf("405 to INFO lacks MESSAGE in Allow:\n%s", res)
	}
	a.Handle(sip.MESSAGE, nil)
	if got := statusLine(rawRequest(t, a, "MESSAGE", "")); got != "SIP/2.0 405 Method Not Allowed" {
		t.Fatalf("MESSAGE after removal: %q", got)
	}
}

// RFC 6665 §8.2.1 and §7.2.1: NOTIFYs are dispatched by event package
// ahead of the handler for the method; with no handler for the method a
// package nobody handles is answered 489 Bad Event with Allow-Events.
func TestRFC6665Section8_2_1NotifyByEventPackage(t *testing.T) {
	a := newAgent(t, nil)
	answer := func(code int) Handler {
		return func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Test", nil))
		}
	}
	a.HandleEvent(sip.NOTIFY, "Message-Summary", answer(200))
	if got := statusLine(rawRequest(t, a, "NOTIFY", "Event: message-summary\r\n")); got != "SIP/2.0 200 Test" {
		t.Errorf("message-summary: %q", got)
	}
	res := rawRequest(t, a, "NOTIFY", "Event: refer;id=7\r\n")
	if statusLine(res) != "SIP/2.0 489 Bad Event" || !strings.Contains(res, "Allow-Events: message-summary") {
		t.Errorf("refer without handler:\n%s", res)
	}
	a.Handle(sip.NOTIFY, answer(481))
	if got := statusLine(rawRequest(t, a, "NOTIFY", "o: refer;id=7\r\n")); got != "SIP/2.0 481 Test" {
		t.Errorf("refer (compact Event) to the method handler: %q", got)
	}
	if got := statusLine(rawRequest(t, a, "NOTIFY", "Event: message-summary\r\n")); got != "SIP/2.0 200 Test" {
		t.Errorf("message-summary with a method handler too: %q", got)
	}
}

// Handlers change while requests arrive; run with -race this shows the
// table is read and written under its lock.
func TestHandleWhileRequestsArrive(t *testing.T) {
	a := newAgent(t, nil)
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	a.Handle(sip.INFO, ok)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			a.Handle(sip.INFO, ok)
			a.HandleEvent(sip.NOTIFY, fmt.Sprint("pkg", i%4), nil)
		}
	})
	for range 20 {
		if got := statusLine(rawRequest(t, a, "INFO", "")); got != "SIP/2.0 200 OK" {
			t.Errorf("INFO: %q", got)
		}
	}
	close(stop)
	wg.Wait()
}
