package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/sip/siptest/kamailiotest"
	"github.com/tipring/tipring/sip/siptest/sipptest"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// sipGateway runs Kamailio (registrar and proxy, TLS, a throwaway CA) and
// the gateway on the simulated board with three ports registered as 1001,
// 1002 and 1003, and waits until all three are registered.
func sipGateway(t *testing.T, extra string) *gateway {
	t.Helper()
	g, _ := sipGatewayServer(t, extra)
	return g
}

// sipGatewayServer is sipGateway, also returning the Kamailio.
func sipGatewayServer(t *testing.T, extra string) (*gateway, *kamailiotest.Server) {
	t.Helper()
	return sipGatewayWith(t, "", extra, [3]string{})
}

// sipGatewayWith is sipGatewayServer with more keys for the [sip] table,
// the [region] table and each port's [[line]].
func sipGatewayWith(t *testing.T, sipExtra, extra string, lineExtra [3]string) (*gateway, *kamailiotest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end with Kamailio: native run only")
	}
	ca, err := testca.New("gateway test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv := kamailiotest.Start(t, kamailiotest.Config{CA: ca, Users: []kamailiotest.User{
		{Name: "1001", Password: "pw1001"}, {Name: "1002", Password: "pw1002"}, {Name: "1003", Password: "pw1003"},
		{Name: "1004", Password: "pw1004"}, // a far end of the test's own
	}})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf(`version = 1
[board]
name = "sim"
ports = 3
[web]
listen = "127.0.0.1:8080"
[sip]
listen = "127.0.0.1:0"
registrar = %q
transport = "tls"
ca_file = "ca.pem"
srtp = "optional"
register_expires_s = 120
mwi_subscribe = false
%s
[region]
country = "us"
%s
[[line]]
port = 1
user = "1001"
password = "pw1001"
display_name = "KITCHEN"
%s
[[line]]
port = 2
user = "1002"
password = "pw1002"
display_name = "OFFICE"
%s
[[line]]
port = 3
user = "1003"
password = "pw1003"
display_name = "GARAGE"
%s
`, srv.TLSAddr, sipExtra, extra, lineExtra[0], lineExtra[1], lineExtra[2])
	g := startGatewayDoc(t, dir, doc)
	deadline := time.Now().Add(15 * time.Second)
	for _, st := range g.lineStatus() {
		for st.Registration != "registered" {
			if time.Now().After(deadline) {
				t.Fatalf("port %d not registered: %s %s", st.Port, st.Registration, st.RegistrationError)
			}
			time.Sleep(50 * time.Millisecond)
			st = g.lineStatus()[st.Port-1]
		}
	}
	return g, srv
}

// placeCall makes port from call the number and port to answer; it returns
// once both talk.
func placeCall(t *testing.T, g *gateway, from, to int, number string) {
	t.Helper()
	liftAndDial(t, g, from, number+"#", "dtmf")
	waitPhone(t, g, to, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, to, "off")
	waitState(t, g, from, "connected", 5*time.Second)
	waitState(t, g, to, "connected", time.Second)
}

// hears checks that port hears f Hz (said by someone else) above −30 dBm0.
func hears(t *testing.T, g *gateway, port int, f float64, what string) {
	t.Helper()
	x := heard(t, g, port, 400)
	if lvl := dsptest.Level(x, f); lvl < -30 {
		t.Errorf("port %d does not hear %s (%v Hz at %.1f dBm0)", port, what, f, lvl)
	}
}

// peakLevel is the strongest level of f Hz over 100 ms windows of x.
func peakLevel(x []int16, f float64) float64 {
	best := math.Inf(-1)
	for i := 0; i+800 <= len(x); i += 400 {
		best = max(best, dsptest.Level(x[i:i+800], f))
	}
	return best
}

// speak makes port say f Hz for d at −12 dBm0.
func speak(t *testing.T, g *gateway, port int, f float64, d time.Duration) {
	t.Helper()
	say(t, g, port, toneSamples(f, -12, d))
}

// Port 1 dials 1002 with DTMF through Kamailio over TLS; port 2 rings with
// the caller's name and number; answered, the two talk both ways (SRTP,
// SDES); a key pressed on port 1 reaches port 2 as an RFC 4733 event and
// is played there exactly once (the tone itself is muted from the audio);
// port 2 hangs up and port 1 hears busy.
func TestSIPCallEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	liftAndDial(t, g, 1, "1002#", "dtmf")
	l := waitPhone(t, g, 2, "caller ID", 8*time.Second, func(l simLine) bool { return l.CallerID != nil })
	if l.CallerID.Number != "1001" || l.CallerID.Name != "KITCHEN" {
		t.Errorf("port 2 shows %+v, want KITCHEN 1001", *l.CallerID)
	}
	waitState(t, g, 1, "ringback", time.Second)
	hookAction(t, g, 2, "off")
	waitState(t, g, 1, "connected", 5*time.Second)
	st := g.lines[0].Status()
	if st.Call == nil || st.Call.Number != "1002" || st.Call.Codec != "PCMU" {
		t.Errorf("port 1 status call %+v", st.Call)
	}
	speak(t, g, 1, 1000, 2*time.Second)
	speak(t, g, 2, 600, 2*time.Second)
	time.Sleep(1500 * time.Millisecond)
	at2, at1 := heard(t, g, 2, 500), heard(t, g, 1, 500)
	if lvl := dsptest.Level(at2, 1000); math.Abs(lvl+12) > 1.5 {
		t.Errorf("port 2 hears port 1's 1 kHz at %.1f dBm0, want −12 ± 1.5", lvl)
	}
	if lvl := dsptest.Level(at1, 600); math.Abs(lvl+12) > 1.5 {
		t.Errorf("port 1 hears port 2's 600 Hz at %.1f dBm0, want −12 ± 1.5", lvl)
	}
	// A key during the call.
	time.Sleep(600 * time.Millisecond)
	dial(t, g, 1, "5", "dtmf")
	time.Sleep(1200 * time.Millisecond)
	x := heard(t, g, 2, 1500)
	det := dtmf.NewDetector(dtmf.DefaultConfig())
	evs := det.Flush(det.Process(nil, x))
	var digits string
	for _, ev := range evs {
		if ev.Kind == dtmf.Begin {
			digits += string(ev.Digit)
		}
	}
	if digits != "5" {
		t.Errorf("port 2 heard digits %q, want exactly one 5", digits)
	}
	hookAction(t, g, 2, "on")
	waitState(t, g, 1, "busy", 5*time.Second)
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 3*time.Second)
	waitState(t, g, 2, "idle", 3*time.Second)
}

// Call waiting: port 1 talks to port 2 when port 3 calls; port 1 hears the
// call-waiting tone, port 3 ringback; flash answers port 3 and holds port
// 2; flash swaps back; hanging up on one leaves the other to recall.
func TestSIPCallWaitingEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	placeCall(t, g, 2, 1, "1001")
	liftAndDial(t, g, 3, "1001#", "dtmf")
	waitState(t, g, 3, "ringback", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	// SAS: 440 Hz for 300 ms (GR-506), then CAS 2130 + 2750 Hz; the
	// strongest 100 ms of each.
	x := heard(t, g, 1, 1500)
	if lvl := peakLevel(x, 440); lvl < -25 {
		t.Errorf("no call-waiting tone: 440 Hz at %.1f dBm0", lvl)
	}
	if lvl := peakLevel(x, 2130); lvl < -30 {
		t.Errorf("no CAS: 2130 Hz at %.1f dBm0", lvl)
	}
	// The phone acknowledged the CAS (DTMF D) and shows who waits.
	l := waitPhone(t, g, 1, "caller ID on call waiting", 5*time.Second, func(l simLine) bool { return l.CallerID != nil })
	if l.CallerID.Number != "1003" || l.CallerID.Name != "GARAGE" {
		t.Errorf("call waiting display %+v, want GARAGE 1003", *l.CallerID)
	}
	hookAction(t, g, 1, "flash")
	waitState(t, g, 3, "connected", 5*time.Second)
	speak(t, g, 3, 700, 2*time.Second)
	time.Sleep(700 * time.Millisecond)
	hears(t, g, 1, 700, "port 3")
	hookAction(t, g, 1, "flash")
	time.Sleep(700 * time.Millisecond)
	speak(t, g, 2, 500, 2*time.Second)
	time.Sleep(700 * time.Millisecond)
	hears(t, g, 1, 500, "port 2 after the swap")
	// Hang up on port 2: port 3, on hold, rings port 1 back.
	hookAction(t, g, 1, "on")
	waitPhone(t, g, 1, "recall ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 1, "off")
	waitState(t, g, 1, "connected", 3*time.Second)
	speak(t, g, 3, 800, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 1, 800, "port 3 after the recall")
}

// Three-way conference on the gateway, then attended transfer: port 1
// calls port 2, flashes, calls port 3, flashes again: all three hear each
// other, mixed by port 1's line. Port 1 hangs up: port 2 and port 3 are
// connected to each other by REFER with Replaces.
func TestSIPConferenceAndTransferEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	placeCall(t, g, 1, 2, "1002")
	hookAction(t, g, 1, "flash")
	waitState(t, g, 1, "dialtone", 3*time.Second)
	dial(t, g, 1, "1003#", "dtmf")
	waitPhone(t, g, 3, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 3, "off")
	waitState(t, g, 1, "connected", 5*time.Second)
	hookAction(t, g, 1, "flash")
	waitState(t, g, 1, "conference", 3*time.Second)
	time.Sleep(800 * time.Millisecond) // port 2 resumed
	speak(t, g, 2, 600, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 3, 600, "port 2 through the conference")
	hears(t, g, 1, 600, "port 2 in the conference")
	speak(t, g, 3, 800, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 2, 800, "port 3 through the conference")

	// Drop port 3 with a flash, consult it again, and transfer.
	hookAction(t, g, 1, "flash")
	waitState(t, g, 1, "connected", 3*time.Second)
	waitState(t, g, 3, "busy", 5*time.Second)
	hookAction(t, g, 3, "on")
	waitState(t, g, 3, "idle", 3*time.Second)
	hookAction(t, g, 1, "flash")
	waitState(t, g, 1, "dialtone", 3*time.Second)
	dial(t, g, 1, "1003#", "dtmf")
	waitPhone(t, g, 3, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 3, "off")
	waitState(t, g, 1, "connected", 5*time.Second)
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	speak(t, g, 2, 600, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 3, 600, "port 2 after the transfer")
	if n := g.lines[0].Status().Calls; n != 0 {
		t.Errorf("port 1 still has %d calls after transferring", n)
	}
}

// Busy and unknown numbers: a line whose phone is off the hook answers
// 486 and the caller hears busy; a number Kamailio does not know (404)
// gives congestion (reorder: 480 + 620 Hz, 0.25 s on, 0.25 s off).
func TestSIPBusyAndUnknownEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	hookAction(t, g, 2, "off")
	waitState(t, g, 2, "dialtone", time.Second)
	liftAndDial(t, g, 1, "1002#", "dtmf")
	waitState(t, g, 1, "busy", 5*time.Second)
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 3*time.Second)
	hookAction(t, g, 1, "off")
	waitState(t, g, 1, "dialtone", time.Second)
	// Rotary: no # to end the number, so the digit map's short timer does.
	dial(t, g, 1, "1999", "pulse")
	waitState(t, g, 1, "congestion", 10*time.Second)
	time.Sleep(1300 * time.Millisecond)
	x := heard(t, g, 1, 1000)
	wantCadence(t, "congestion", x, 250*time.Millisecond, 250*time.Millisecond, 250*time.Millisecond)
	if i := onRun(x, 240*time.Millisecond); i >= 0 {
		wantTones(t, "congestion", x[i+200:i+1800], -24, 480, 620)
	}
	recs := g.history.List()
	if len(recs) < 2 || recs[0].Result != "404 Not Found" || recs[1].Result != "486 Busy Here" {
		t.Errorf("call log %+v", recs)
	}
}

// Feature codes through the phone: *78 (do not disturb) makes port 2
// refuse calls; *72 forwards port 2 to 1003, and a call to 1002 rings port
// 3 (302 through Kamailio, followed by the caller).
func TestSIPFeatureCodesEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	feature := func(port int, code string) {
		t.Helper()
		hookAction(t, g, port, "off")
		waitState(t, g, port, "dialtone", time.Second)
		dial(t, g, port, code, "dtmf")
		waitState(t, g, port, "confirm", 5*time.Second)
		hookAction(t, g, port, "on")
		waitState(t, g, port, "idle", 3*time.Second)
	}
	feature(2, "*78")
	if !g.store.Get().Lines[1].DND {
		t.Error("*78 not saved in the configuration")
	}
	liftAndDial(t, g, 1, "1002#", "dtmf")
	waitState(t, g, 1, "congestion", 5*time.Second)
	if simLines(t, g)[1].Ringing {
		t.Error("port 2 rang with do not disturb")
	}
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 3*time.Second)
	feature(2, "*79")
	feature(2, "*721003#")
	if fw := g.store.Get().Lines[1].ForwardAlways; fw != "1003" {
		t.Errorf("forward saved as %q", fw)
	}
	liftAndDial(t, g, 1, "1002#", "dtmf")
	waitPhone(t, g, 3, "ringing (forwarded)", 8*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 3, "off")
	waitState(t, g, 1, "connected", 5*time.Second)
}

// Message waiting: an unsolicited message-summary NOTIFY (as Asterisk
// sends to a registered contact) lights port 1's lamp by FSK VMWI, and its
// dial tone stutters.
func TestSIPMessageWaitingEndToEnd(t *testing.T) {
	g := sipGateway(t, "")
	sc := sipptest.Start(t, sipptest.Config{Scenario: "testdata/mwi_notify.xml", Remote: g.sip.agent.LocalAddr().String(), Service: "1001"})
	sc.Wait(10 * time.Second)
	waitPhone(t, g, 1, "message waiting lamp", 8*time.Second, func(l simLine) bool { return l.MWI })
	hookAction(t, g, 1, "off")
	waitState(t, g, 1, "dialtone", time.Second)
	time.Sleep(1500 * time.Millisecond)
	// Stutter dial tone: 350 + 440 Hz interrupted (0.1 s on, 0.1 s off)
	// before it turns steady.
	x := heard(t, g, 1, 1500)
	runs := cadence(x)
	if len(runs) < 4 {
		t.Errorf("dial tone does not stutter: cadence %v", runs)
	}
}

// A fax machine on port 1 calls port 2: its calling tone (CNG, 1100 Hz,
// 0.5 s on, 3 s off, T.30) is heard by both lines, which switch the call
// to voiceband data: a re-INVITE offering the codec in use alone with
// silence suppression off (V.152, RFC 3108), no echo canceller, a fixed
// jitter buffer. The tone reaches port 2 at its level.
func TestSIPFaxPassThroughEndToEnd(t *testing.T) {
	g, srv := sipGatewayServer(t, "")
	placeCall(t, g, 1, 2, "1002")
	cng := make([]int16, 0, 8000*4)
	for range 2 {
		cng = append(cng, toneSamples(1100, -10, 500*time.Millisecond)...)
		cng = append(cng, make([]int16, 8000*3)...)
	}
	t0 := time.Now()
	say(t, g, 1, cng)
	deadline := time.Now().Add(8 * time.Second)
	for {
		s1, s2 := g.lines[0].Status().Call, g.lines[1].Status().Call
		if s1 != nil && s2 != nil && s1.Fax && s2.Fax {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pass-through: port 1 %+v, port 2 %+v", s1, s2)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The second burst (3.5 s to 4 s), after the switch, at its level.
	time.Sleep(time.Until(t0.Add(4300 * time.Millisecond)))
	x := heard(t, g, 2, 4000)
	if i := onRun(x, 450*time.Millisecond); i < 0 {
		t.Fatal("port 2 did not hear the second CNG burst whole")
	} else if lvl := dsptest.Level(x[i+400:i+3600], 1100); math.Abs(lvl+10) > 1 {
		t.Errorf("CNG reaches port 2 at %.2f dBm0, want −10 ± 1", lvl)
	}
	if !srv.WaitLog("WITHINDLG INVITE", 5*time.Second) {
		t.Error("no re-INVITE passed Kamailio")
	}
	if st := g.lines[1].Status().Call; st == nil || st.State != "active" {
		t.Errorf("the call did not survive the switch: %+v", st)
	}
}

// More of the phone's features through Kamailio: a hotline on port 3 calls
// port 1 as soon as it is lifted; port 2 forwards on no answer (5 s) to
// 1003; *66 redials; flash, *98 and a number transfer the held call blind;
// with sip.dtmf = "info" a key goes out in a SIP INFO and the far end's
// phone hears it.
func TestSIPMoreFeaturesEndToEnd(t *testing.T) {
	g, _ := sipGatewayWith(t, `dtmf = "info"`, "", [3]string{"", "forward_no_answer = \"1003\"\nforward_no_answer_s = 5", "hotline = \"1001\""})
	// Hotline.
	hookAction(t, g, 3, "off")
	waitPhone(t, g, 1, "ringing from the hotline", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 1, "off")
	waitState(t, g, 3, "connected", 5*time.Second)
	// A key by SIP INFO, played to the other phone.
	time.Sleep(500 * time.Millisecond)
	dial(t, g, 3, "7", "dtmf")
	time.Sleep(1200 * time.Millisecond)
	if got := digitsIn(heard(t, g, 1, 1500)); got != "7" {
		t.Errorf("port 1 heard %q, want the 7 port 3 sent by INFO", got)
	}
	hookAction(t, g, 3, "on")
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 5*time.Second)
	waitState(t, g, 3, "idle", 5*time.Second)

	// Forward on no answer: port 2 rings 5 s, then port 3.
	liftAndDial(t, g, 1, "1002#", "dtmf")
	waitPhone(t, g, 2, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	start := time.Now()
	waitPhone(t, g, 3, "ringing after no answer", 10*time.Second, func(l simLine) bool { return l.Ringing })
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("forwarded after %v, want 5 s", d)
	}
	if simLines(t, g)[1].Ringing {
		t.Error("port 2 still rings after forwarding")
	}
	hookAction(t, g, 1, "on")
	waitState(t, g, 3, "idle", 5*time.Second)
	waitState(t, g, 1, "idle", 5*time.Second)

	// *66 redials 1002 (the number dialed, not where it was forwarded).
	liftAndDial(t, g, 1, "*66", "dtmf")
	waitPhone(t, g, 2, "ringing from the redial", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 2, "off")
	waitState(t, g, 1, "connected", 5*time.Second)

	// Flash, *98 1003#: port 2 is transferred to port 3.
	hookAction(t, g, 1, "flash")
	waitState(t, g, 1, "dialtone", 3*time.Second)
	dial(t, g, 1, "*981003#", "dtmf")
	waitPhone(t, g, 3, "ringing from the transfer", 8*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 3, "off")
	waitState(t, g, 3, "connected", 5*time.Second)
	speak(t, g, 2, 600, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 3, 600, "port 2 after the blind transfer")
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 5*time.Second)
}

// digitsIn runs a DTMF receiver over x and returns the digits it found.
func digitsIn(x []int16) string {
	det := dtmf.NewDetector(dtmf.DefaultConfig())
	var digits string
	for _, ev := range det.Flush(det.Process(nil, x)) {
		if ev.Kind == dtmf.Begin {
			digits += string(ev.Digit)
		}
	}
	return digits
}

// A caller from outside (SIPp) asking for distinctive ring 3 with its
// identity in P-Asserted-Identity: port 1 rings 0.4 s, 0.2 s off, 0.4 s,
// 0.2 s, 0.8 s, 4 s (GR-506 dr3) and shows the asserted name and number;
// the caller cancels and the call log has a missed call. An anonymous
// caller is refused with 433 on a line that rejects them.
func TestSIPAlertInfoAndAnonymousEndToEnd(t *testing.T) {
	g, _ := sipGatewayWith(t, "", "", [3]string{"", "", "anonymous_reject = true"})
	sc := sipptest.Start(t, sipptest.Config{Scenario: "testdata/invite_dr3.xml", Remote: g.sip.agent.LocalAddr().String(), Service: "1001"})
	var rings []bool
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		rings = append(rings, simLines(t, g)[0].Ringing)
		time.Sleep(20 * time.Millisecond)
	}
	l := simLines(t, g)[0]
	if l.CallerID == nil || l.CallerID.Number != "5551234" || l.CallerID.Name != "ALERT TEST" {
		t.Errorf("display %+v, want ALERT TEST 5551234 from P-Asserted-Identity", l.CallerID)
	}
	// The ringing after caller ID: find the dr3 bursts.
	var runs []int // in 20 ms polls
	for i := 0; i < len(rings); {
		j := i
		for j < len(rings) && rings[j] == rings[i] {
			j++
		}
		if rings[i] {
			runs = append(runs, j-i)
		}
		i = j
	}
	t.Logf("ring bursts (×20 ms): %v", runs)
	found := false
	for i := 0; i+3 <= len(runs); i++ {
		near := func(n, want int) bool { return n >= want-4 && n <= want+4 }
		if near(runs[i], 20) && near(runs[i+1], 20) && near(runs[i+2], 40) {
			found = true
		}
	}
	if !found {
		t.Errorf("no dr3 pattern (0.4, 0.4, 0.8 s bursts) in %v", runs)
	}
	sc.Wait(15 * time.Second)
	waitState(t, g, 1, "idle", 3*time.Second)
	if recs := g.history.List(); len(recs) == 0 || recs[0].Result != "missed" || recs[0].Number != "5551234" {
		t.Errorf("call log %+v", recs)
	}
	sipptest.Start(t, sipptest.Config{Scenario: "testdata/invite_anonymous.xml", Remote: g.sip.agent.LocalAddr().String(), Service: "1003"}).Wait(10 * time.Second)
	if simLines(t, g)[2].Ringing {
		t.Error("port 3 rang for an anonymous caller")
	}
}
