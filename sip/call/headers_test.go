package call

import (
	"testing"
	"time"
)

// RFC 3325 §9.1 and RFC 3323 §4.2: the caller comes from
// P-Asserted-Identity before From, and Privacy withholds it.
func TestRFC3325Section9CallerParty(t *testing.T) {
	for _, tc := range []struct {
		name, from, privacy string
		pai                 []string
		want                Party
	}{
		{"from only", `"Alice" <sip:5551234@example.com>;tag=1`, "", nil,
			Party{Name: "Alice", Number: "5551234", URI: "sip:5551234@example.com"}},
		{"asserted", `<sip:anonymous@anonymous.invalid>;tag=1`, "", []string{`"Bob" <sip:+15550001@example.com;user=phone>, <tel:+15550001>`},
			Party{Name: "Bob", Number: "+15550001", URI: "sip:+15550001@example.com;user=phone"}},
		{"tel asserted", `<sip:x@y>;tag=1`, "none", []string{`<tel:+4930123>`},
			Party{Number: "+4930123", URI: "tel:+4930123"}},
		{"privacy id", `"Carol" <sip:5550002@example.com>;tag=1`, "id", []string{`<sip:5550002@example.com>`},
			Party{NamePrivate: true, NumberPrivate: true}},
		{"privacy user;header", `"Carol" <sip:5550002@example.com>;tag=1`, "user; header", nil,
			Party{NamePrivate: true, NumberPrivate: true}},
		{"anonymous from", `"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`, "", nil,
			Party{NamePrivate: true, NumberPrivate: true}},
		{"unquoted display", `Dave <sip:5550003@example.com>;tag=1`, "", nil,
			Party{Name: "Dave", Number: "5550003", URI: "sip:5550003@example.com"}},
		{"escaped user", `<sip:%2B4930@example.com>;tag=1`, "", nil,
			Party{Number: "+4930", URI: "sip:%2B4930@example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := callerParty(tc.from, tc.pai, tc.privacy); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// RFC 3261 §20.4: Alert-Info values.
func TestRFC3261Section20_4AlertInfo(t *testing.T) {
	ai, err := parseAlertInfo(`<http://www.example.com/sounds/moo.wav>, <urn:alert:service:call-waiting>;appearance=2`)
	if err != nil {
		t.Fatal(err)
	}
	if len(ai) != 2 || ai[0].URI != "http://www.example.com/sounds/moo.wav" || ai[1].URI != "urn:alert:service:call-waiting" || ai[1].Params["appearance"] != "2" {
		t.Errorf("got %+v", ai)
	}
	if _, err := parseAlertInfo(`http://no-brackets`); err == nil {
		t.Error("Alert-Info without <> accepted")
	}
}

// RFC 4028 §4 and §5: Session-Expires and Min-SE.
func TestRFC4028Section4SessionExpires(t *testing.T) {
	se, err := parseSessionExpires("1800;refresher=UAC")
	if err != nil || se.Interval != 1800*time.Second || se.Refresher != "uac" {
		t.Errorf("got %+v, %v", se, err)
	}
	if se.String() != "1800;refresher=uac" {
		t.Errorf("String %q", se.String())
	}
	for _, bad := range []string{"", "abc", "-5", "90;refresher=both", "99999999999"} {
		if _, err := parseSessionExpires(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if d, err := parseMinSE("90;lr"); err != nil || d != 90*time.Second {
		t.Errorf("Min-SE %v, %v", d, err)
	}
}

// RFC 3262 §7: RSeq and RAck.
func TestRFC3262Section7RSeqRAck(t *testing.T) {
	if n, err := parseRSeq(" 988789 "); err != nil || n != 988789 {
		t.Errorf("RSeq %d, %v", n, err)
	}
	if _, err := parseRSeq("0"); err == nil {
		t.Error("RSeq 0 accepted")
	}
	r, err := parseRAck("776656 1 invite")
	if err != nil || r.RSeq != 776656 || r.CSeq != 1 || r.Method != "INVITE" {
		t.Errorf("RAck %+v, %v", r, err)
	}
	if _, err := parseRAck("1 INVITE"); err == nil {
		t.Error("short RAck accepted")
	}
}

// RFC 3891 §6.1 and RFC 3515 §2.1: Replaces, on its own and escaped in a
// Refer-To URI.
func TestRFC3891Section6ReplacesInReferTo(t *testing.T) {
	r, err := parseReplaces("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only")
	if err != nil || r.CallID != "98732@sip.example.com" || r.FromTag != "r33th4x0r" || r.ToTag != "ff87ff" || !r.EarlyOnly {
		t.Errorf("Replaces %+v, %v", r, err)
	}
	if _, err := parseReplaces("abc;to-tag=1"); err == nil {
		t.Error("Replaces without from-tag accepted")
	}
	v := referToValue("sip:bob@example.com", &replaces{CallID: "12345@192.168.118.3", ToTag: "12345", FromTag: "5FFE-3994"})
	rt, err := parseReferTo(v)
	if err != nil {
		t.Fatal(err)
	}
	if rt.URI != "sip:bob@example.com" || rt.Replaces == nil || rt.Replaces.CallID != "12345@192.168.118.3" || rt.Replaces.FromTag != "5FFE-3994" {
		t.Errorf("Refer-To %q parsed as %+v %+v", v, rt, rt.Replaces)
	}
	rt, err = parseReferTo(`<sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>`)
	if err != nil || rt.Replaces == nil || rt.Replaces.ToTag != "12345" {
		t.Errorf("RFC 3891 example: %+v, %v", rt, err)
	}
	if _, err := parseReferTo("<mailto:x@y>"); err == nil {
		t.Error("mailto Refer-To accepted")
	}
}

// draft-kaplan-dispatch-info-dtmf-package style application/dtmf-relay
// bodies, and RFC 3420 sipfrag status lines.
func TestDTMFRelayAndSipfrag(t *testing.T) {
	d, dur, err := parseDTMFRelay([]byte("Signal=5\r\nDuration=160\r\n"))
	if err != nil || d != '5' || dur != 160*time.Millisecond {
		t.Errorf("dtmf-relay %c %v %v", d, dur, err)
	}
	if d, _, err := parseDTMFRelay([]byte("Signal= 11\nDuration=100")); err != nil || d != '#' {
		t.Errorf("signal 11: %c %v", d, err)
	}
	if _, _, err := parseDTMFRelay([]byte("Duration=100")); err == nil {
		t.Error("body without signal accepted")
	}
	code, reason, err := parseSipfrag([]byte("SIP/2.0 180 Ringing\r\n"))
	if err != nil || code != 180 || reason != "Ringing" {
		t.Errorf("sipfrag %d %q %v", code, reason, err)
	}
	if _, _, err := parseSipfrag([]byte("INVITE sip:x SIP/2.0")); err == nil {
		t.Error("request line accepted as status")
	}
}
