package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/capture"
)

// loginGateway sets the admin password on a fresh gateway and returns a
// logged-in client without JavaScript.
func loginGateway(t *testing.T, g *gateway, pw string) *http.Client {
	t.Helper()
	base := "http://" + g.addr()
	c := wpClient(t)
	_, _, tok := wpGet(t, c, base+"/setup")
	if code, _ := wpPost(t, c, base+"/setup", url.Values{"csrf": {tok}, "password": {pw}, "confirm": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("setup: %d", code)
	}
	return c
}

// metricsText fetches /metrics with HTTP Basic credentials.
func metricsText(t *testing.T, g *gateway, pw string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+g.addr()+"/metrics", nil)
	req.SetBasicAuth("admin", pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	return string(b)
}

var promSampleLine = regexp.MustCompile(`^([a-z_]+)(\{[^}]*\})? (\S+)$`)

// promSamples maps `name{labels}` to its value, checking every line is a
// comment or a sample.
func promSamples(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ln := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(ln, "# ") {
			continue
		}
		m := promSampleLine.FindStringSubmatch(ln)
		if m == nil {
			t.Fatalf("malformed metrics line %q", ln)
		}
		out[m[1]+m[2]] = m[3]
	}
	return out
}

// A capture started on the maintenance page during a call between two
// lines through Kamailio holds the INVITE, its 200 and the ACK, and RTP
// both ways; the page offers it as a pcap. /metrics shows the lines
// registered, the calls in progress and, afterwards, in the call log.
func TestCaptureAndMetricsDuringCall(t *testing.T) {
	g := sipGateway(t, "")
	const pw = "blue-Harbor-42"
	c := loginGateway(t, g, pw)
	base := "http://" + g.addr()
	_, page, tok := wpGet(t, c, base+"/maintenance")
	if !strings.Contains(page, "Capture for 60 s") {
		t.Fatal("the maintenance page offers no capture")
	}
	if code, _ := wpPost(t, c, base+"/maintenance/capture", url.Values{"csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("starting the capture: %d", code)
	}
	placeCall(t, g, 1, 2, "1002")
	speak(t, g, 1, 1000, 500*time.Millisecond)
	time.Sleep(time.Second)
	m := promSamples(t, metricsText(t, g, pw))
	for k, want := range map[string]string{
		`tipring_line_registration{port="1",state="registered"}`: "1",
		`tipring_line_registration{port="3",state="registered"}`: "1",
		`tipring_line_registration{port="1",state="failed"}`:     "0",
		`tipring_calls_in_progress`:                              "2",
	} {
		if m[k] != want {
			t.Errorf("%s = %q, want %s", k, m[k], want)
		}
	}
	if _, ok := m[`tipring_call_jitter_ms{port="1"}`]; !ok {
		t.Error("no jitter for the call on port 1")
	}
	if _, ok := m[`tipring_call_packets_lost{port="2"}`]; !ok {
		t.Error("no loss figure for the call on port 2")
	}
	hookAction(t, g, 2, "on")
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 5*time.Second)
	waitState(t, g, 2, "idle", 5*time.Second)

	_, page, _ = wpGet(t, c, base+"/maintenance")
	if !strings.Contains(page, "Capturing:") || !strings.Contains(page, `href="/maintenance/capture.pcap"`) {
		t.Error("the maintenance page does not show the running capture and its download")
	}
	resp, err := c.Get(base + "/maintenance/capture.pcap")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".pcap") {
		t.Fatalf("download: %s %q", resp.Status, resp.Header.Get("Content-Disposition"))
	}
	// The file is checked independently of the writer: the global header,
	// then IPv4/UDP datagrams (capture.ReadPCAP checks every header).
	if len(file) < 24 || binary.LittleEndian.Uint32(file) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(file[20:]) != 101 {
		t.Fatalf("not a LINKTYPE_RAW pcap: % x", file[:min(24, len(file))])
	}
	pkts, err := capture.ReadPCAP(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var invite, ok200, ack, bye bool
	rtp := map[string]int{} // by direction: "out" from a gateway RTP port, "in" to one
	for _, p := range pkts {
		s := string(p.Payload)
		switch {
		case strings.HasPrefix(s, "INVITE sip:1002@") || strings.Contains(s, "\r\n\r\nINVITE sip:1002@"):
			invite = true
		case strings.Contains(s, "SIP/2.0 200 OK") && strings.Contains(s, " INVITE\r\n"):
			ok200 = true
		case strings.Contains(s, "ACK sip:"):
			ack = true
		case strings.Contains(s, "BYE sip:"):
			bye = true
		}
		if len(p.Payload) >= 172 && p.Payload[0]>>6 == 2 && p.Payload[1]&0x7f == 0 {
			// G.711 µ-law RTP (SRTP keeps the header in the clear).
			if p.Src.Port() >= 16384 && p.Src.Port() <= 32767 {
				rtp["out"]++
			}
			if p.Dst.Port() >= 16384 && p.Dst.Port() <= 32767 {
				rtp["in"]++
			}
		}
	}
	if !invite || !ok200 || !ack || !bye {
		t.Errorf("SIP in the capture: INVITE %v, 200 OK %v, ACK %v, BYE %v (%d packets)", invite, ok200, ack, bye, len(pkts))
	}
	if rtp["out"] < 50 || rtp["in"] < 50 {
		t.Errorf("RTP in the capture: %v, want at least 50 each way", rtp)
	}
	m = promSamples(t, metricsText(t, g, pw))
	if m[`tipring_calls_total{port="1",direction="out",result="answered"}`] != "1" || m[`tipring_calls_in_progress`] != "0" {
		t.Errorf("after the call: calls_total %q, in progress %q", m[`tipring_calls_total{port="1",direction="out",result="answered"}`], m[`tipring_calls_in_progress`])
	}
}
