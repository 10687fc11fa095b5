package sipmsg

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// RFC 3261 §20.33: Retry-After is delta-seconds, optionally followed by a
// comment and parameters; Expires and Min-Expires are bare delta-seconds.
func TestSeconds(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"18000;duration=3600":    18000 * time.Second,
		"120 (I'm in a meeting)": 120 * time.Second,
		" 3600 ":                 3600 * time.Second,
		"0":                      0,
	} {
		res := sip.NewResponse(503, "Service Unavailable")
		res.AppendHeader(sip.NewHeader("Retry-After", v))
		if got, ok := Seconds(res, "Retry-After"); !ok || got != want {
			t.Errorf("Retry-After %q: %v, %v; want %v", v, got, ok, want)
		}
	}
	res := sip.NewResponse(200, "OK")
	for _, v := range []string{"", "soon", "-5", "99999999999"} {
		res.RemoveHeader("Expires")
		res.AppendHeader(sip.NewHeader("Expires", v))
		if got, ok := Seconds(res, "Expires"); ok {
			t.Errorf("Expires %q: %v, want no value", v, got)
		}
	}
	res.RemoveHeader("Expires")
	if _, ok := Seconds(res, "Expires"); ok {
		t.Error("a missing header gave a value")
	}
}

func TestValues(t *testing.T) {
	res := sip.NewResponse(401, "Unauthorized")
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="a"`))
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="b"`))
	if got := Values(res, "WWW-Authenticate"); len(got) != 2 || got[1] != `Digest realm="b"` {
		t.Fatalf("%q", got)
	}
}
