package sdp

import (
	"strconv"
	"strings"
	"testing"
)

func itoa(n int) string      { return strconv.Itoa(n) }
func join(f []string) string { return strings.Join(f, " ") }

// RFC 3389 §5: comfort noise is offered as the static payload type 13 with
// the encoding name CN at 8000 Hz, after the codecs.
func TestRFC3389Section5_OfferCN(t *testing.T) {
	n := newTestNegotiator(t, Config{ComfortNoise: true})
	got, err := n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	want := crlf(`
v=0
o=- 70921738076545 1 IN IP4 192.0.2.1
s=Tipring
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 0 8 13 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`)
	if string(got) != string(want) {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}

	// The answer keeps CN: negotiated.
	res, err := n.ApplyAnswer(crlf(`
v=0
o=peer 1 1 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP 0 13 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
`))
	if err != nil {
		t.Fatal(err)
	}
	if !res.ComfortNoise || res.CNPayloadType != 13 || res.RecvCNPayloadType != 13 {
		t.Errorf("answer with CN: ComfortNoise %v send %d recv %d, want true 13 13", res.ComfortNoise, res.CNPayloadType, res.RecvCNPayloadType)
	}

	// An answer without 13 declines it.
	if _, err := n.Offer(); err != nil {
		t.Fatal(err)
	}
	res, err = n.ApplyAnswer(crlf(`
v=0
o=peer 1 2 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if res.ComfortNoise {
		t.Error("answer without CN: ComfortNoise negotiated")
	}
}

// Without Config.ComfortNoise nothing changes: no 13 in the offer, and an
// answer that adds it answers a format we did not offer.
func TestRFC3389Section5_NoCNByDefault(t *testing.T) {
	n := newTestNegotiator(t, Config{})
	got, err := n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if m := mediaSection(t, got, 0); len(m.Formats) != 3 || m.Formats[2] != "101" {
		t.Errorf("offer formats %v, want 0 8 101", m.Formats)
	}
	if _, err := n.ApplyAnswer(crlf(`
v=0
o=peer 1 1 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP 0 13
`)); err == nil {
		t.Error("an answer with CN we did not offer was taken")
	}
}

// RFC 3389 §5 answers: an offer with CN gets CN back when we want it (the
// static type, or a dynamic one mapped to CN/8000), and not otherwise.
func TestRFC3389Section5_AnswerCN(t *testing.T) {
	offer := func(formats, extra string) []byte {
		return crlf(`
v=0
o=peer 1 1 IN IP4 192.0.2.9
s=-
c=IN IP4 192.0.2.9
t=0 0
m=audio 5000 RTP/AVP ` + formats + `
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
` + extra)
	}
	for _, tc := range []struct {
		name   string
		cn     bool
		offer  []byte
		want   bool
		wantPT uint8
		m      string
	}{
		{"static", true, offer("0 13 101", ""), true, 13, "audio 4000 RTP/AVP 0 13 101"},
		{"static-rtpmap", true, offer("8 13 101", "a=rtpmap:13 CN/8000\n"), true, 13, "audio 4000 RTP/AVP 8 13 101"},
		{"dynamic", true, offer("0 98 101", "a=rtpmap:98 CN/8000\n"), true, 98, "audio 4000 RTP/AVP 0 98 101"},
		{"wideband-cn", true, offer("0 98 101", "a=rtpmap:98 CN/16000\n"), false, 0, "audio 4000 RTP/AVP 0 101"},
		{"not-offered", true, offer("0 101", ""), false, 0, "audio 4000 RTP/AVP 0 101"},
		{"off", false, offer("0 13 101", ""), false, 0, "audio 4000 RTP/AVP 0 101"},
	} {
		n := newTestNegotiator(t, Config{ComfortNoise: tc.cn})
		body, res, err := n.Answer(tc.offer)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if res.ComfortNoise != tc.want || res.CNPayloadType != tc.wantPT || res.RecvCNPayloadType != tc.wantPT {
			t.Errorf("%s: ComfortNoise %v PT %d/%d, want %v %d", tc.name, res.ComfortNoise, res.CNPayloadType, res.RecvCNPayloadType, tc.want, tc.wantPT)
		}
		m := mediaSection(t, body, 0)
		if got := m.Type + " " + itoa(m.Port) + " " + m.Proto + " " + join(m.Formats); got != tc.m {
			t.Errorf("%s: answer m=%s, want %s", tc.name, got, tc.m)
		}
		if tc.want {
			found := false
			for _, v := range m.Attrs("rtpmap") {
				found = found || v == itoa(int(tc.wantPT))+" CN/8000"
			}
			if !found {
				t.Errorf("%s: answer lacks a=rtpmap:%d CN/8000:\n%s", tc.name, tc.wantPT, body)
			}
		}
	}
}
