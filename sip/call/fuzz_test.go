package call

import (
	"strings"
	"testing"
)

// Every parser of peer input must return a value or an error, never
// panic, and what it accepts must be consistent.

func FuzzNameAddr(f *testing.F) {
	for _, s := range []string{`"A" <sip:1@h>;tag=x`, `sip:1@h;tag=y`, `<tel:+1>`, `"\"q\"" <sip:a@b>`, `<`, `"`, `x <y`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		na, err := parseNameAddr(s)
		if err == nil && (na.URI == "" || !strings.Contains(na.URI, ":")) {
			t.Fatalf("accepted %q with URI %q", s, na.URI)
		}
		_ = callerParty(s, []string{s}, s)
	})
}

func FuzzAlertInfo(f *testing.F) {
	f.Add(`<http://x/y.wav>;a=b, <urn:alert:service:normal>`)
	f.Add(`<<>>,`)
	f.Fuzz(func(t *testing.T, s string) {
		ai, err := parseAlertInfo(s)
		if err == nil {
			for _, a := range ai {
				if a.URI == "" {
					t.Fatalf("empty URI accepted from %q", s)
				}
			}
		}
	})
}

func FuzzSessionExpires(f *testing.F) {
	f.Add("1800;refresher=uac")
	f.Add("90")
	f.Add(";;")
	f.Fuzz(func(t *testing.T, s string) {
		se, err := parseSessionExpires(s)
		if err == nil {
			again, err := parseSessionExpires(se.String())
			if err != nil || again != se {
				t.Fatalf("%q: %+v does not round-trip: %+v %v", s, se, again, err)
			}
		}
		_, _ = parseMinSE(s)
	})
}

func FuzzReplacesAndReferTo(f *testing.F) {
	f.Add("a@b;to-tag=1;from-tag=2", "<sip:x@y?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>")
	f.Add("x;early-only", "sip:x@y")
	f.Fuzz(func(t *testing.T, rep, rt string) {
		if r, err := parseReplaces(rep); err == nil {
			back, err := parseReferTo(referToValue("sip:u@h", &r))
			if err != nil || back.Replaces == nil || *back.Replaces != r {
				t.Fatalf("Replaces %+v does not round-trip through Refer-To: %+v %v", r, back.Replaces, err)
			}
		}
		_, _ = parseReferTo(rt)
	})
}

func FuzzPrivacyRAckDTMFSipfrag(f *testing.F) {
	f.Add("id;user", "1 2 INVITE", "Signal=1\r\nDuration=100", "SIP/2.0 200 OK")
	f.Fuzz(func(t *testing.T, privacy, rack, dtmf, frag string) {
		_, _ = parsePrivacy(privacy)
		_, _ = parseRAck(rack)
		_, _ = parseRSeq(rack)
		if d, _, err := parseDTMFRelay([]byte(dtmf)); err == nil && !strings.ContainsRune("0123456789*#ABCD", d) {
			t.Fatalf("digit %q from %q", d, dtmf)
		}
		if code, _, err := parseSipfrag([]byte(frag)); err == nil && (code < 100 || code > 699) {
			t.Fatalf("status %d from %q", code, frag)
		}
	})
}
