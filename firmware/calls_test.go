package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
	"github.com/tipring/tipring/dsp/wav"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/passwd"
)

// simLine is one entry of GET /api/sim/lines.
type simLine struct {
	Port     int    `json:"port"`
	Hook     string `json:"hook"`
	Ringing  bool   `json:"ringing"`
	CallerID *struct {
		Number string `json:"number"`
		Name   string `json:"name"`
	} `json:"callerId"`
	MWI      bool   `json:"mwi"`
	Polarity string `json:"polarity"`
}

func simLines(t *testing.T, g *gateway) []simLine {
	t.Helper()
	resp, err := http.Get("http://" + g.addr() + "/api/sim/lines")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []simLine
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitPhone polls the sim API until cond holds for the port's phone.
func waitPhone(t *testing.T, g *gateway, port int, what string, d time.Duration, cond func(simLine) bool) simLine {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		l := simLines(t, g)[port-1]
		if cond(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d: %s not seen within %v; phone %+v, line %+v", port, what, d, l, g.lines[port-1].Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState waits until the port's call control reports state.
func waitState(t *testing.T, g *gateway, port int, state string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for g.lines[port-1].Status().State != state {
		if time.Now().After(deadline) {
			t.Fatalf("port %d: state %q, want %q", port, g.lines[port-1].Status().State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hookAction(t *testing.T, g *gateway, port int, state string) {
	t.Helper()
	post(t, g, fmt.Sprintf("/api/sim/lines/%d/hook", port), fmt.Sprintf(`{"state":%q}`, state))
}

func dial(t *testing.T, g *gateway, port int, digits, method string) {
	t.Helper()
	post(t, g, fmt.Sprintf("/api/sim/lines/%d/dial", port), fmt.Sprintf(`{"digits":%q,"method":%q}`, digits, method))
}

// liftAndDial lifts port's handset, waits for dial tone and dials.
func liftAndDial(t *testing.T, g *gateway, port int, digits, method string) {
	t.Helper()
	hookAction(t, g, port, "off")
	waitState(t, g, port, "dialtone", time.Second)
	dial(t, g, port, digits, method)
}

// say plays samples into the port's mouthpiece.
func say(t *testing.T, g *gateway, port int, x []int16) {
	t.Helper()
	var buf bytes.Buffer
	if err := wav.Encode(&buf, wav.Audio{Rate: dsp.SampleRate, Samples: x}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://%s/api/sim/lines/%d/say", g.addr(), port), "audio/wav", &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("say: %s", resp.Status)
	}
}

// wantTones checks that x carries each frequency at about level dBm0 and
// little else.
func wantTones(t *testing.T, what string, x []int16, level float64, hz ...float64) {
	t.Helper()
	var sum float64
	for _, f := range hz {
		lvl := dsptest.Level(x, f)
		sum += math.Pow(10, lvl/10)
		if math.Abs(lvl-level) > 2 {
			t.Errorf("%s: %v Hz at %.1f dBm0, want %.0f ± 2", what, f, lvl, level)
		}
	}
	if total := dsp.DBm0FromRMS(dsp.RMS(x)); total-10*math.Log10(sum) > 1 {
		t.Errorf("%s: %.1f dBm0 in all, more than the tones %v Hz carry", what, total, hz)
	}
}

// cadence measures on/off run lengths in 10 ms blocks of x (a block is on
// above −40 dBm0). The first and last runs, which the recording cuts, are
// dropped, and the result starts with an on run.
func cadence(x []int16) []time.Duration {
	const block = 80
	var on []bool
	for i := 0; i+block <= len(x); i += block {
		on = append(on, dsp.DBm0FromRMS(dsp.RMS(x[i:i+block])) > -40)
	}
	var runs []time.Duration
	var ons []bool
	for i := 0; i < len(on); {
		j := i
		for j < len(on) && on[j] == on[i] {
			j++
		}
		runs = append(runs, time.Duration(j-i)*10*time.Millisecond)
		ons = append(ons, on[i])
		i = j
	}
	if len(runs) < 3 {
		return nil
	}
	runs, ons = runs[1:len(runs)-1], ons[1:len(ons)-1]
	if !ons[0] {
		runs = runs[1:]
	}
	return runs
}

// onRun returns the index of the first sample of the first on period of x
// that lasts at least d and is wholly inside x, or -1.
func onRun(x []int16, d time.Duration) int {
	const block = 80
	need := int(d / (10 * time.Millisecond))
	start, n, prevOff := -1, 0, false
	for i := 0; i+block <= len(x); i += block {
		if dsp.DBm0FromRMS(dsp.RMS(x[i:i+block])) > -40 {
			if n == 0 {
				start = i
			}
			n++
			continue
		}
		if n >= need && prevOff {
			return start
		}
		n, prevOff = 0, true
	}
	return -1
}

// wantCadence checks that the on/off pattern of x holds want (on, off, …),
// each run within ±30 ms.
func wantCadence(t *testing.T, what string, x []int16, want ...time.Duration) {
	t.Helper()
	runs := cadence(x)
	for k := 0; k+len(want) <= len(runs); k += 2 {
		ok := true
		for i, w := range want {
			if d := runs[k+i] - w; d < -30*time.Millisecond || d > 30*time.Millisecond {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	t.Errorf("%s: cadence %v, want %v in it", what, runs, want)
}

// tone makes a sine of f Hz at level dBm0 lasting d.
func toneSamples(f, level float64, d time.Duration) []int16 {
	n := int(d.Seconds() * dsp.SampleRate)
	x := make([]int16, n)
	a := dsp.PeakFromDBm0(level)
	for i := range x {
		x[i] = int16(a * math.Sin(2*math.Pi*f*float64(i)/dsp.SampleRate))
	}
	return x
}

const localDoc = `version = 1
[board]
name = "sim"
ports = 2
[web]
listen = "127.0.0.1:8080"
[sip]
listen = "127.0.0.1:0"
[region]
country = "us"
[[line]]
port = 1
user = "1001"
display_name = "KITCHEN"
extension = "21"
[[line]]
port = 2
user = "1002"
display_name = "OFFICE"
extension = "22"
`

// A call between two ports of the gateway, without any server: port 1
// pulse-dials port 2's extension, hears US ringback (440 + 480 Hz, 2 s on,
// 4 s off); port 2 rings with the caller's name and extension on its
// display; they talk both ways; port 2 hangs up and port 1 hears busy
// (480 + 620 Hz, 0.5 s on, 0.5 s off).
func TestLocalCallEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: native run only")
	}
	g := startGatewayDoc(t, t.TempDir(), localDoc)
	liftAndDial(t, g, 1, "22", "pulse")
	waitPhone(t, g, 2, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	waitState(t, g, 1, "ringback", time.Second)
	// Caller ID between the first and second ring.
	l := waitPhone(t, g, 2, "caller ID", 6*time.Second, func(l simLine) bool { return l.CallerID != nil })
	if l.CallerID.Name != "KITCHEN" || l.CallerID.Number != "21" {
		t.Errorf("port 2 shows %+v, want KITCHEN 21", *l.CallerID)
	}
	time.Sleep(6 * time.Second)
	rb := heard(t, g, 1, 12000)
	t.Logf("ringback cadence %v", cadence(rb))
	wantCadence(t, "ringback", rb, 2*time.Second, 4*time.Second)
	// The ringback's two tones at −19 dBm0 each (ANSI T1.401), over the
	// middle of an on period.
	if i := onRun(rb, 1900*time.Millisecond); i < 0 {
		t.Error("no whole 2 s burst of ringback")
	} else {
		wantTones(t, "ringback", rb[i+2000:i+14000], -19, 440, 480)
	}

	hookAction(t, g, 2, "off")
	waitState(t, g, 1, "connected", 2*time.Second)
	waitState(t, g, 2, "connected", time.Second)
	// Both ways: 1 kHz from port 1, 600 Hz from port 2.
	say(t, g, 1, toneSamples(1000, -10, 2*time.Second))
	say(t, g, 2, toneSamples(600, -16, 2*time.Second))
	time.Sleep(1500 * time.Millisecond)
	at2, at1 := heard(t, g, 2, 600), heard(t, g, 1, 600)
	if lvl := dsptest.Level(at2[:2400], 1000); math.Abs(lvl+10) > 1 {
		t.Errorf("port 2 hears port 1's 1 kHz at %.1f dBm0, want −10 ± 1", lvl)
	}
	if lvl := dsptest.Level(at1[:2400], 600); math.Abs(lvl+16) > 1 {
		t.Errorf("port 1 hears port 2's 600 Hz at %.1f dBm0, want −16 ± 1", lvl)
	}
	hookAction(t, g, 2, "on")
	waitState(t, g, 1, "busy", 2*time.Second)
	time.Sleep(2700 * time.Millisecond)
	busy := heard(t, g, 1, 2500)
	if i := onRun(busy, 450*time.Millisecond); i >= 0 {
		wantTones(t, "busy", busy[i+400:i+3600], -24, 480, 620)
	}
	wantCadence(t, "busy", busy, 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond)
	hookAction(t, g, 1, "on")
	waitState(t, g, 1, "idle", 3*time.Second)
	recs := g.history.List()
	if len(recs) != 2 || recs[0].Result != "answered" || recs[0].Duration < 1 {
		t.Errorf("call log %+v", recs)
	}
}

// localGateway runs the gateway with n ports and no server; extra goes into
// the [region] table.
func localGateway(t *testing.T, ports int, region string) *gateway {
	t.Helper()
	doc := fmt.Sprintf("version = 2\n[board]\nname = \"sim\"\nports = %d\n[web]\nlisten = \"127.0.0.1:8080\"\n[sip]\nlisten = \"127.0.0.1:0\"\n[region]\ncountry = \"us\"\n%s\n", ports, region)
	for p := 1; p <= ports; p++ {
		doc += fmt.Sprintf("[[line]]\nport = %d\nuser = \"10%02d\"\ndisplay_name = \"PORT %d\"\nextension = \"2%d\"\n", p, p, p, p)
	}
	return startGatewayDoc(t, t.TempDir(), doc)
}

// Caller ID by each standard reaches the phone's display, through the
// driver and the codec: ETSI V.23 announced by a dual-tone alert with the
// line reversed (EN 300 659-1), ETSI after the first ring, ETSI with a
// ring-pulse alert, and DTMF caller ID (number only).
func TestCallerIDStandardsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: native run only")
	}
	for _, tc := range []struct {
		name, region string
		wantName     string
		reversal     bool
	}{
		{"etsi-dtas-reversal", "caller_id = \"etsi-fsk\"\ncaller_id_alert = \"dtas\"\ncaller_id_polarity_reversal = true", "PORT 1", true},
		{"etsi-ring", "caller_id = \"etsi-fsk\"\ncaller_id_alert = \"ring\"", "PORT 1", false},
		{"etsi-rpas", "caller_id = \"etsi-fsk\"\ncaller_id_alert = \"rpas\"", "PORT 1", false},
		{"etsi-dtmf", "caller_id = \"etsi-dtmf\"", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := localGateway(t, 2, tc.region)
			hookAction(t, g, 1, "off")
			waitState(t, g, 1, "dialtone", time.Second)
			dial(t, g, 1, "22", "dtmf")
			reversed := false
			l := waitPhone(t, g, 2, "caller ID", 10*time.Second, func(l simLine) bool {
				reversed = reversed || l.Polarity == "reverse"
				return l.CallerID != nil
			})
			if l.CallerID.Number != "21" || l.CallerID.Name != tc.wantName {
				t.Errorf("display %+v, want %q 21", *l.CallerID, tc.wantName)
			}
			if reversed != tc.reversal {
				t.Errorf("line reversal seen: %v, want %v", reversed, tc.reversal)
			}
			waitPhone(t, g, 2, "ringing after caller ID", 8*time.Second, func(l simLine) bool { return l.Ringing })
			hookAction(t, g, 2, "off")
			waitState(t, g, 1, "connected", 3*time.Second)
			if p := simLines(t, g)[1].Polarity; p != "forward" {
				t.Errorf("answered with polarity %s", p)
			}
		})
	}
}

// Paging (*81) rings every other port; those that answer hear the caller;
// intercom (*80 and an extension) rings one port with its own cadence.
func TestPagingAndIntercomEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: native run only")
	}
	g := localGateway(t, 3, "")
	liftAndDial(t, g, 1, "*81", "dtmf")
	waitPhone(t, g, 2, "page ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	waitPhone(t, g, 3, "page ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	hookAction(t, g, 2, "off")
	hookAction(t, g, 3, "off")
	waitState(t, g, 2, "connected", 3*time.Second)
	waitState(t, g, 3, "connected", 3*time.Second)
	speak(t, g, 1, 900, 2*time.Second)
	time.Sleep(900 * time.Millisecond)
	hears(t, g, 2, 900, "the page on port 2")
	hears(t, g, 3, 900, "the page on port 3")
	hookAction(t, g, 1, "on")
	waitState(t, g, 2, "busy", 5*time.Second)
	hookAction(t, g, 2, "on")
	hookAction(t, g, 3, "on")
	waitState(t, g, 3, "idle", 5*time.Second)

	liftAndDial(t, g, 1, "*8023", "dtmf")
	waitPhone(t, g, 3, "intercom ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
	if simLines(t, g)[1].Ringing {
		t.Error("intercom to port 3 rang port 2")
	}
	time.Sleep(2 * time.Second)
	hookAction(t, g, 3, "off")
	waitState(t, g, 1, "connected", 3*time.Second)
}

// The call log is served at /api/calls to the admin.
func TestCallHistoryAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: native run only")
	}
	g := localGateway(t, 2, "")
	h, err := passwd.Hash("test password 1")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.Update(func(c *config.Config) error { c.Web.AdminPasswordHash = h; return nil }); err != nil {
		t.Fatal(err)
	}
	liftAndDial(t, g, 1, "22", "dtmf")
	waitState(t, g, 2, "ringing", 5*time.Second)
	hookAction(t, g, 1, "on")
	waitState(t, g, 2, "idle", 5*time.Second)
	req, _ := http.NewRequest("GET", "http://"+g.addr()+"/api/calls?port=2", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %s", resp.Status)
	}
	req.SetBasicAuth("admin", "test password 1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Calls []line.Record `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Calls) != 1 || body.Calls[0].Port != 2 || body.Calls[0].Direction != "in" || body.Calls[0].Number != "21" || body.Calls[0].Result != "missed" || !body.Calls[0].Local {
		t.Fatalf("calls %+v", body.Calls)
	}
}

// region.flash_max_ms reaches the hook detector: the virtual phone's
// 400 ms flash holds the call with the default limits (100–1000 ms), and
// hangs it up when flashes may last at most 300 ms.
func TestFlashTimingFromConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: native run only")
	}
	for _, tc := range []struct {
		region    string
		wantPort2 string
	}{{"", "connected"}, {"flash_max_ms = 300", "busy"}} {
		t.Run(tc.wantPort2, func(t *testing.T) {
			t.Parallel()
			g := localGateway(t, 2, tc.region)
			hookAction(t, g, 1, "off")
			waitState(t, g, 1, "dialtone", time.Second)
			dial(t, g, 1, "22", "dtmf")
			waitPhone(t, g, 2, "ringing", 5*time.Second, func(l simLine) bool { return l.Ringing })
			hookAction(t, g, 2, "off")
			waitState(t, g, 1, "connected", 3*time.Second)
			hookAction(t, g, 1, "flash")
			waitState(t, g, 1, "dialtone", 3*time.Second)
			waitState(t, g, 2, tc.wantPort2, 3*time.Second)
		})
	}
}
