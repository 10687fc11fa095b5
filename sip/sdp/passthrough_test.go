package sdp

import (
	"strings"
	"testing"
)

// ITU-T V.152 (voiceband data over G.711) with RFC 3108's silenceSupp: once
// a call carries fax or modem tones, the re-offer keeps the codec the call
// uses, alone, and asks for no telephone-events, no comfort noise and no
// silence suppression, which would each damage a modem's signal.
func TestV152PassThroughReoffer(t *testing.T) {
	n := newTestNegotiator(t, Config{ComfortNoise: true, Codecs: []Codec{PCMU, PCMA}})
	if _, err := n.Offer(); err != nil {
		t.Fatal(err)
	}
	// The peer chose PCMA.
	if _, err := n.ApplyAnswer(crlf(`
v=0
o=peer 1 1 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP 8 13 101
a=rtpmap:101 telephone-event/8000
`)); err != nil {
		t.Fatal(err)
	}
	n.SetPassThrough(true)
	got, err := n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{"m=audio 4000 RTP/AVP 8\r\n", "a=rtpmap:8 PCMA/8000\r\n", "a=silenceSupp:off - - - -\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("pass-through offer lacks %q:\n%s", want, s)
		}
	}
	for _, not := range []string{"telephone-event", "CN/8000", "PCMU"} {
		if strings.Contains(s, not) {
			t.Errorf("pass-through offer holds %q:\n%s", not, s)
		}
	}
	res, err := n.ApplyAnswer(crlf(`
v=0
o=peer 1 2 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP 8
`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Codec != PCMA || res.DTMF || res.ComfortNoise {
		t.Errorf("pass-through result %+v", res)
	}
}
