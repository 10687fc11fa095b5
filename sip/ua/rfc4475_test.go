package ua

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tortureVerdict is how RFC 4475 classifies a message and what the agent
// may do with it.
type tortureVerdict int

const (
	// answered: a valid request; the agent must send a final response,
	// of any class but 5xx (which would come from a failure of ours).
	answered tortureVerdict = iota
	// rejected: an invalid request; the agent answers one of the codes
	// listed (400 unless RFC 4475 names another) or drops it.
	rejected
	// ignored: a response matching no transaction of ours, which the
	// agent must drop silently, valid or not (RFC 3261 §18.1.2).
	ignored
)

func (v tortureVerdict) String() string {
	return [...]string{"answered", "rejected or dropped", "ignored"}[v]
}

// tortureCase is one message of RFC 4475 and what it should get.
type tortureCase struct {
	file    string
	section string // of RFC 4475
	valid   bool   // what RFC 4475 says of its syntax and semantics
	verdict tortureVerdict
	// codes are the final responses allowed for it; nil with answered
	// means any that is not 5xx.
	codes []int
	// sipgoDrops marks a valid request sipgo's parser refuses, which
	// therefore goes unanswered (see the test's doc comment).
	sipgoDrops bool
	// silentOn names a transport ("udp", "tcp") on which this valid
	// request may go unanswered, for the reason noted with it.
	silentOn string
	// streamCodes, where set, are the final responses allowed over TCP,
	// in any order: bytes the datagram rule ignores are, on a stream,
	// the next message.
	streamCodes []int
}

// tortureCases is RFC 4475 message by message: §3.1.1 valid messages,
// §3.1.2 invalid ones, §3.2 transaction-layer and §3.3 application-layer
// semantics, §3.4 backward compatibility. The agent is a user agent with
// a stand-in line for user "user" (see tortureAgent): INVITEs to it are
// answered 486, to anyone else 404, REGISTER and MESSAGE 405 (it is no
// registrar), OPTIONS 200. Where the RFC wants a specific code of an
// element that acts on the field (420 of a proxy or UAS that checks
// Require, 415 of one that reads the body, 416 of one that routes on the
// Request-URI), the code our agent actually gives as a UA without those
// checks is allowed too and the reason noted.
var tortureCases = []tortureCase{
	// §3.1.1.1 A short tortuous INVITE: valid, to an unknown user (404).
	// sipgo answers 400 itself: its RFC 2543 transaction key wants a
	// From tag it does not find in the folded From ("'tag' param not
	// found"), a sipgo limitation.
	{file: "wsinv.dat", section: "3.1.1.1", valid: true, verdict: answered, codes: []int{404, 400}},
	// §3.1.1.2 Wide range of valid characters: an unknown method, 405.
	{file: "intmeth.dat", section: "3.1.1.2", valid: true, verdict: answered, codes: []int{405}},
	// §3.1.1.3 Valid use of the % escaping mechanism.
	{file: "esc01.dat", section: "3.1.1.3", valid: true, verdict: answered},
	// §3.1.1.4 Escaped nulls in URIs (REGISTER, 405 here).
	{file: "escnull.dat", section: "3.1.1.4", valid: true, verdict: answered, codes: []int{405}},
	// §3.1.1.5 Use of % when it is not an escape: method RE%47IST%45R
	// is not REGISTER, an unknown method (405).
	{file: "esc02.dat", section: "3.1.1.5", valid: true, verdict: answered, codes: []int{405}},
	// §3.1.1.6 No LWS between display name and <.
	{file: "lwsdisp.dat", section: "3.1.1.6", valid: true, verdict: answered, codes: []int{200}},
	// §3.1.1.7 Long values in header fields.
	// Over UDP the answer, which repeats the long headers, is larger
	// than the MTU, and sipgo refuses to send it ("size of packet larger
	// than MTU"), so it goes unanswered there.
	{file: "longreq.dat", section: "3.1.1.7", valid: true, verdict: answered, silentOn: "udp"},
	// §3.1.1.8 Extra trailing octets in a UDP datagram: the first
	// request (a REGISTER) is answered, the rest ignored.
	// The test is about UDP; over TCP the CRLF and INVITE after the
	// REGISTER make sipgo's stream parser drop the whole read ("is not
	// a SIP message"), REGISTER included.
	{file: "dblreq.dat", section: "3.1.1.8", valid: true, verdict: answered, codes: []int{405}, silentOn: "tcp",
		// Over TCP the trailing INVITE is a request of its own (to an
		// unknown user: 404), answered concurrently with the REGISTER.
		streamCodes: []int{405, 404}},
	// §3.1.1.9 Semicolon-separated parameters in the URI user part.
	{file: "semiuri.dat", section: "3.1.1.9", valid: true, verdict: answered, codes: []int{200}},
	// §3.1.1.10 Varied and unknown transport types in Via.
	{file: "transports.dat", section: "3.1.1.10", valid: true, verdict: answered, codes: []int{200}},
	// §3.1.1.11 Multipart MIME message (MESSAGE, 405 here).
	{file: "mpart01.dat", section: "3.1.1.11", valid: true, verdict: answered, codes: []int{405}},
	// §3.1.1.12 Unusual reason phrase: a valid response nobody asked for.
	{file: "unreason.dat", section: "3.1.1.12", valid: true, verdict: ignored},
	// §3.1.1.13 Empty reason phrase: likewise.
	{file: "noreason.dat", section: "3.1.1.13", valid: true, verdict: ignored},

	// §3.1.2.1 Extraneous header field separators.
	{file: "badinv01.dat", section: "3.1.2.1", verdict: rejected, codes: []int{400}},
	// §3.1.2.2 Content-Length larger than the message: 400 over UDP;
	// over a stream the receiver waits for the rest (silence).
	{file: "clerr.dat", section: "3.1.2.2", verdict: rejected, codes: []int{400}},
	// §3.1.2.3 Negative Content-Length.
	{file: "ncl.dat", section: "3.1.2.3", verdict: rejected, codes: []int{400}},
	// §3.1.2.4 Request scalar fields with overlarge values.
	{file: "scalar02.dat", section: "3.1.2.4", verdict: rejected, codes: []int{400}},
	// §3.1.2.5 Response scalar fields with overlarge values: dropped.
	{file: "scalarlg.dat", section: "3.1.2.5", verdict: ignored},
	// §3.1.2.6 Unterminated quoted string in display name.
	{file: "quotbal.dat", section: "3.1.2.6", verdict: rejected, codes: []int{400}},
	// §3.1.2.7 <> enclosing Request-URI.
	{file: "ltgtruri.dat", section: "3.1.2.7", verdict: rejected, codes: []int{400}},
	// §3.1.2.8 Malformed SIP Request-URI (embedded LWS).
	{file: "lwsruri.dat", section: "3.1.2.8", verdict: rejected, codes: []int{400}},
	// §3.1.2.9 Multiple SP separating Request-Line elements.
	{file: "lwsstart.dat", section: "3.1.2.9", verdict: rejected, codes: []int{400}},
	// §3.1.2.10 SP characters at end of Request-Line.
	{file: "trws.dat", section: "3.1.2.10", verdict: rejected, codes: []int{400}},
	// §3.1.2.11 Escaped headers in SIP Request-URI.
	{file: "escruri.dat", section: "3.1.2.11", verdict: rejected, codes: []int{400}},
	// §3.1.2.12 Invalid time zone in Date: the RFC lets an element that
	// does not use Date ignore it, so an INVITE answered normally
	// (486 from the stand-in line) is fine too.
	{file: "baddate.dat", section: "3.1.2.12", verdict: rejected, codes: []int{400, 486}},
	// §3.1.2.13 Failure to enclose name-addr URI in <> (REGISTER). A
	// registrar must answer 400; we are none and answer 405.
	{file: "regbadct.dat", section: "3.1.2.13", verdict: rejected, codes: []int{400, 405}},
	// §3.1.2.14 Spaces within addr-spec.
	{file: "badaspec.dat", section: "3.1.2.14", verdict: rejected, codes: []int{400}},
	// §3.1.2.15 Non-token characters in display name. sipgo's parser
	// takes the unquoted display name as it is and the OPTIONS is
	// answered 200; nothing of ours reads display names of requests, so
	// this is left to sipgo.
	{file: "baddn.dat", section: "3.1.2.15", verdict: rejected, codes: []int{400, 200}},
	// §3.1.2.16 Unknown protocol version: 505 Version Not Supported.
	{file: "badvers.dat", section: "3.1.2.16", verdict: rejected, codes: []int{400, 505}},
	// §3.1.2.17 Start line and CSeq method mismatch.
	{file: "mismatch01.dat", section: "3.1.2.17", verdict: rejected, codes: []int{400}},
	// §3.1.2.18 Unknown method with CSeq method mismatch.
	{file: "mismatch02.dat", section: "3.1.2.18", verdict: rejected, codes: []int{400}},
	// §3.1.2.19 Overlarge response code: dropped.
	{file: "bigcode.dat", section: "3.1.2.19", verdict: ignored},

	// §3.2.1 Missing transaction identifier (RFC 2543 branch): valid.
	{file: "badbranch.dat", section: "3.2.1", valid: true, verdict: answered, codes: []int{200}},

	// §3.3.1 Missing required header fields: 400.
	{file: "insuf.dat", section: "3.3.1", verdict: rejected, codes: []int{400}},
	// §3.3.2 Request-URI with unknown scheme: 416 Unsupported URI
	// Scheme.
	{file: "unkscm.dat", section: "3.3.2", verdict: rejected, codes: []int{416}},
	// §3.3.3 Known but atypical scheme (soap.beep): valid; an element
	// that does not serve it may answer 416. sipgo's URI parser refuses
	// a scheme with a dot ("invalid uri scheme") and drops the message.
	{file: "novelsc.dat", section: "3.3.3", valid: true, verdict: answered, codes: []int{416}, sipgoDrops: true},
	// §3.3.4 Unknown URI schemes in header fields: valid (REGISTER,
	// 405 here).
	{file: "unksm2.dat", section: "3.3.4", valid: true, verdict: answered, codes: []int{405}},
	// §3.3.5 Proxy-Require and Require with unknown extensions: 420 Bad
	// Extension from a UAS that checks Require. Ours answers OPTIONS
	// without looking at Require.
	{file: "bext01.dat", section: "3.3.5", verdict: rejected, codes: []int{420, 200}},
	// §3.3.6 Unknown Content-Type: 415 from a UAS that reads the body;
	// our stand-in line answers before (486).
	{file: "invut.dat", section: "3.3.6", verdict: rejected, codes: []int{415, 486}},
	// §3.3.7 Unknown authorization scheme: valid (REGISTER, 405 here).
	{file: "regaut01.dat", section: "3.3.7", valid: true, verdict: answered, codes: []int{405}},
	// §3.3.8 Multiple values in single-value fields: 400.
	{file: "multi01.dat", section: "3.3.8", verdict: rejected, codes: []int{400}},
	// §3.3.9 Multiple Content-Length values: 400.
	{file: "mcl01.dat", section: "3.3.9", verdict: rejected, codes: []int{400}},
	// §3.3.10 200 OK with a broadcast Via: dropped.
	{file: "bcast.dat", section: "3.3.10", verdict: ignored},
	// §3.3.11 Max-Forwards of zero: an OPTIONS a UAS answers.
	{file: "zeromf.dat", section: "3.3.11", valid: true, verdict: answered, codes: []int{200}},
	// §3.3.12 REGISTER with a Contact header parameter: valid.
	{file: "cparam01.dat", section: "3.3.12", valid: true, verdict: answered, codes: []int{405}},
	// §3.3.13 REGISTER with a url-parameter: valid.
	{file: "cparam02.dat", section: "3.3.13", valid: true, verdict: answered, codes: []int{405}},
	// §3.3.14 REGISTER with an escaped header in a Contact URI: a
	// registrar must not store it (400); we answer REGISTER 405.
	{file: "regescrt.dat", section: "3.3.14", verdict: rejected, codes: []int{400, 405}},
	// §3.3.15 Unacceptable Accept offering: 415 or 488 from a UAS that
	// gets to the body; our stand-in line answers before (486).
	{file: "sdp01.dat", section: "3.3.15", verdict: rejected, codes: []int{415, 488, 486}},

	// §3.4.1 INVITE with RFC 2543 syntax: valid.
	// Without Content-Length it cannot be framed on a stream (RFC 3261
	// §18.3, §20.14): over TCP the agent waits for a body that never
	// ends.
	// Over UDP sipgo answers 400 itself: without a branch its RFC 2543
	// transaction key needs a From tag, which RFC 2543 did not require.
	{file: "inv2543.dat", section: "3.4.1", valid: true, verdict: answered, codes: []int{486, 400}, silentOn: "tcp"},

	// Not in RFC 4475: a request line without SIP version, and no Via
	// or CSeq; malformed.
	{file: "test.dat", section: "-", verdict: rejected, codes: []int{400}},
}

// tortureDir returns ../shared/testdata/rfc4475 next to the module root
// (the directory holding go.mod above the working directory), or "".
func tortureDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
	d := filepath.Join(dir, "..", "shared", "testdata", "rfc4475")
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return ""
	}
	return d
}

// tortureUser is the user of the agent's stand-in line.
const tortureUser = "user"

// tortureAgent starts an agent on loopback with a stand-in for a line:
// INVITEs to tortureUser are answered 486 Busy Here after reading the
// headers a line reads, to anyone else 404 as the call router does.
func tortureAgent(t *testing.T) *Agent {
	a, _ := newAgentWith(t, AgentConfig{})
	a.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		code, reason := 404, "Not Found"
		if req.Recipient.User == tortureUser {
			// What a line looks at before it rings.
			_, _, _, _ = req.From(), req.To(), req.Contact(), req.ContentType()
			_ = req.Body()
			code, reason = 486, "Busy Here"
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	})
	return a
}

// The time the agent has to answer a message, and how long silence is
// waited for when dropping it is allowed.
const (
	tortureAnswerWait  = 3 * time.Second
	tortureSilenceWait = 400 * time.Millisecond
)

// statusRE finds the status codes of responses in what was read.
var statusRE = regexp.MustCompile(`(?m)^SIP/2\.0 (\d{3}) `)

// finalCodes returns the final status codes in data, in order.
func finalCodes(data []byte) []int {
	var codes []int
	for _, m := range statusRE.FindAllSubmatch(data, -1) {
		if c, _ := strconv.Atoi(string(m[1])); c >= 200 {
			codes = append(codes, c)
		}
	}
	return codes
}

// headerOf returns the value of the first header of msg named name or
// by its compact form, trimmed, or "".
func headerOf(msg []byte, name, compact string) string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for line := range strings.SplitSeq(string(head), "\r\n") {
		n, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n = strings.TrimSpace(n); strings.EqualFold(n, name) || strings.EqualFold(n, compact) {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// viaPort returns the port of the top Via's sent-by in msg, default 5060.
func viaPort(msg []byte) int {
	for line := range strings.SplitSeq(string(msg), "\r\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n := strings.ToLower(strings.TrimSpace(name)); n != "via" && n != "v" {
			continue
		}
		f := strings.Fields(val)
		if len(f) < 2 {
			return 5060
		}
		hostport, _, _ := strings.Cut(f[1], ";")
		hostport, _, _ = strings.Cut(hostport, ",")
		if _, port, err := net.SplitHostPort(hostport); err == nil {
			if p, err := strconv.Atoi(port); err == nil && p > 0 && p < 65536 {
				return p
			}
		}
		return 5060
	}
	return 5060
}

// sendTortureUDP sends msg to the agent in one datagram and returns what
// came back within wait, until a final response. Over UDP responses go
// to the source address and the Via port (RFC 3261 §18.2.2), so the
// datagram is sent from that port on loopback when it is free; when it
// is not, from any port, and answers may go unseen (bound is false).
func sendTortureUDP(t *testing.T, a *Agent, msg []byte, wait time.Duration) (got []byte, bound bool) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: viaPort(msg)})
	bound = err == nil
	if err != nil {
		if c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	defer c.Close()
	callID := headerOf(msg, "Call-ID", "i")
	if _, err := c.WriteTo(msg, a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 65536)
	for {
		if err := c.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return got, bound
		}
		if headerOf(buf[:n], "Call-ID", "i") != callID {
			// A retransmission of an earlier answer to this port.
			continue
		}
		got = append(got, buf[:n]...)
		if len(finalCodes(buf[:n])) > 0 {
			return got, bound
		}
	}
}

// sendTortureTCP sends msg on a fresh TCP connection to the agent and
// returns what came back within wait, until a final response or the
// agent closing the connection.
func sendTortureTCP(t *testing.T, a *Agent, msg []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", a.LocalAddr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil || len(finalCodes(got)) > 0 {
			return got
		}
	}
}

// optionsAlive checks that the agent still answers an OPTIONS over UDP
// within a second.
func optionsAlive(a *Agent) error {
	c, err := net.DialUDP("udp", nil, a.LocalAddr())
	if err != nil {
		return err
	}
	defer c.Close()
	branch := sip.GenerateBranch()
	local := c.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;rport;branch=%s\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=%s\r\n"+
		"To: <sip:%s>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n",
		a.LocalAddr(), local, branch, local, branch[8:], a.LocalAddr(), branch)
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return fmt.Errorf("no answer to OPTIONS: %w", err)
	}
	if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200 ")) {
		return errors.New("OPTIONS answered " + statusLine(string(buf[:n])))
	}
	return nil
}

// checkTorture judges what the agent answered to one message. heard is
// false where answers could not be seen (UDP from another port than the
// Via's, or a stream message the agent legitimately waits on).
func checkTorture(t *testing.T, tc tortureCase, transport string, got []byte, heard bool) {
	t.Helper()
	codes := finalCodes(got)
	switch {
	case tc.verdict == ignored:
		if len(got) > 0 {
			t.Errorf("answered a response: %q", statusLine(string(got)))
		}
	case len(codes) == 0:
		if tc.verdict == answered && heard && !tc.sipgoDrops && tc.silentOn != transport {
			t.Errorf("valid request not answered within %v", tortureAnswerWait)
		}
	case transport == "tcp" && tc.streamCodes != nil:
		for _, c := range codes {
			if !slices.Contains(tc.streamCodes, c) {
				t.Errorf("answered %d over a stream, want only %v", c, tc.streamCodes)
			}
		}
	case len(codes) > 1:
		t.Errorf("several final responses: %v", codes)
	case tc.codes != nil && !slices.Contains(tc.codes, codes[0]):
		t.Errorf("answered %d, want one of %v", codes[0], tc.codes)
	case tc.verdict == answered && codes[0] >= 500:
		t.Errorf("valid request answered %d", codes[0])
	}
	if len(codes) > 0 {
		t.Logf("%s (RFC 4475 §%s, %s): answered %v", tc.file, tc.section, tc.verdict, codes)
	} else {
		t.Logf("%s (RFC 4475 §%s, %s): no answer", tc.file, tc.section, tc.verdict)
	}
}

// RFC 4475: every torture message sent at the agent's listener, over UDP
// (one datagram each) and over TCP (a fresh connection each), is answered
// as the table says, or dropped where that is allowed; the agent never
// crashes or hangs, and answers an OPTIONS within a second after each.
func TestRFC4475TortureMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("sends every RFC 4475 message over UDP and TCP")
	}
	dir := tortureDir(t)
	if dir == "" {
		t.Skip("RFC 4475 messages not found in ../shared/testdata/rfc4475 next to the module")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.dat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(tortureCases, func(tc tortureCase) bool { return tc.file == filepath.Base(f) }) {
			t.Errorf("%s is not in the table", filepath.Base(f))
		}
	}
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range tortureCases {
			t.Run(transport+"/"+strings.TrimSuffix(tc.file, ".dat"), func(t *testing.T) {
				msg, err := os.ReadFile(filepath.Join(dir, tc.file))
				if errors.Is(err, os.ErrNotExist) {
					t.Skipf("%s missing", tc.file)
				}
				if err != nil {
					t.Fatal(err)
				}
				// A fresh agent for each: several messages share branch,
				// sent-by and method, and to one agent the second would be
				// a retransmission of the first (RFC 3261 §17.2.3).
				a := tortureAgent(t)
				wait := tortureAnswerWait
				if tc.verdict != answered || tc.sipgoDrops || tc.silentOn == transport {
					wait = tortureSilenceWait
				}
				var got []byte
				heard := true
				if transport == "udp" {
					got, heard = sendTortureUDP(t, a, msg, wait)
				} else {
					got = sendTortureTCP(t, a, msg, wait)
				}
				checkTorture(t, tc, transport, got, heard)
				if err := optionsAlive(a); err != nil {
					t.Fatalf("after %s over %s: %v", tc.file, transport, err)
				}
			})
		}
	}
}

// A handler that panics does not take the gateway down: the request is
// answered 500 and the agent goes on answering.
func TestHandlerPanicAnswered500(t *testing.T) {
	a, _ := newAgentWith(t, AgentConfig{})
	a.Handle(sip.INFO, func(*sip.Request, sip.ServerTransaction) { panic("handler bug") })
	if got := statusLine(rawRequest(t, a, "INFO", "")); got != "SIP/2.0 500 Server Internal Error" {
		t.Fatalf("INFO to a panicking handler: %q", got)
	}
	if err := optionsAlive(a); err != nil {
		t.Fatal(err)
	}
}
