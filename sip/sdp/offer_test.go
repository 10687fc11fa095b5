package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// RFC 3264 §5: the initial offer lists our codecs in preference order with
// rtpmap for each, telephone-event with its events, ptime and direction,
// in RFC 4566 order with CRLF.
func TestRFC3264Section5_InitialOffer(t *testing.T) {
	n := newTestNegotiator(t, Config{})
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
m=audio 4000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`)
	if string(got) != string(want) {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}
}

// RFC 3264 §5 with RFC 4568 §7.1.1: SRTP required offers RTP/SAVP, optional
// offers RTP/AVP (best effort), both with one a=crypto per suite, 80-bit
// tag first.
func TestRFC4568Section7_1_1_OfferCrypto(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPRequired})
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
m=audio 4000 RTP/SAVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQl
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:JicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJD
a=sendrecv
`)
	if string(got) != string(want) {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}

	n = newTestNegotiator(t, Config{SRTP: SRTPRequired, MKILength: 2})
	got, err = n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range mediaSection(t, got, 0).Attrs("crypto") {
		if !strings.HasSuffix(v, "|1:2") {
			t.Errorf("offer with MKILength 2: crypto %q lacks MKI 1 of 2 bytes", v)
		}
	}
	if _, err := NewNegotiator(Config{MKILength: 5}, netip.MustParseAddrPort("192.0.2.1:4000"), nil); !errors.Is(err, ErrConfig) {
		t.Errorf("MKILength 5: %v, want ErrConfig", err)
	}

	n = newTestNegotiator(t, Config{SRTP: SRTPOptional})
	got, err = n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	m := mediaSection(t, got, 0)
	if m.Proto != "RTP/AVP" || len(m.Attrs("crypto")) != 2 {
		t.Errorf("optional SRTP offer: %s with %d crypto lines", m.Proto, len(m.Attrs("crypto")))
	}
}

// RFC 3264 §5.1: the offer follows our preferences: codec order, ptime,
// no telephone-event unless digits go by RFC 4733, our own dynamic payload
// type, IPv6, RTCP multiplexing.
func TestRFC3264Section5_1_OfferPreferences(t *testing.T) {
	tests := []struct {
		cfg     Config
		local   string
		formats []string
		attrs   []string
		conn    string
	}{
		{Config{Codecs: []Codec{PCMA}, Ptime: 30, DTMF: DTMFInband}, "192.0.2.1:4000",
			[]string{"8"}, []string{"rtpmap:8 PCMA/8000", "ptime:30", "sendrecv"}, "IN IP4 192.0.2.1"},
		{Config{Codecs: []Codec{PCMA, PCMU}, Ptime: 10, DTMFPayloadType: 96, RTCPMux: true}, "[2001:db8::1]:5004",
			[]string{"8", "0", "96"},
			[]string{"rtpmap:8 PCMA/8000", "rtpmap:0 PCMU/8000", "rtpmap:96 telephone-event/8000", "fmtp:96 0-16", "ptime:10", "rtcp-mux", "sendrecv"},
			"IN IP6 2001:db8::1"},
		{Config{DTMF: DTMFInfo}, "192.0.2.1:4000", []string{"0", "8"},
			[]string{"rtpmap:0 PCMU/8000", "rtpmap:8 PCMA/8000", "ptime:20", "sendrecv"}, "IN IP4 192.0.2.1"},
	}
	for i, tt := range tests {
		n, err := NewNegotiator(tt.cfg, netip.MustParseAddrPort(tt.local), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := n.Offer()
		if err != nil {
			t.Fatal(err)
		}
		s := mustParse(t, body)
		m := s.Media[0]
		var attrs []string
		for _, a := range m.Attributes {
			attrs = append(attrs, strings.TrimSuffix(a.Key+":"+a.Value, ":"))
		}
		c := s.Connection
		if !reflect.DeepEqual(m.Formats, tt.formats) || !reflect.DeepEqual(attrs, tt.attrs) ||
			c.NetType+" "+c.AddrType+" "+c.Address != tt.conn {
			t.Errorf("case %d:\n%s", i, body)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Codecs: []Codec{Codec(18)}},
		{Codecs: []Codec{PCMU, PCMU}},
		{Ptime: 40},
		{DTMFPayloadType: 95},
		{DTMFPayloadType: 128},
		{DTMF: 7},
		{SRTP: 9},
		{Username: "a b"},
		{SessionName: "x\r\ny=1"},
	}
	for _, cfg := range bad {
		if _, err := NewNegotiator(cfg, localRTP, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
	for _, l := range []string{"0.0.0.0:4000", "192.0.2.1:0", "[::]:4000", "[fe80::1%eth0]:4000"} {
		if _, err := NewNegotiator(Config{}, netip.MustParseAddrPort(l), nil); !errors.Is(err, ErrConfig) {
			t.Errorf("local %s: %v, want ErrConfig", l, err)
		}
	}
	if _, err := NewNegotiator(Config{}, netip.AddrPort{}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("zero local: %v", err)
	}
	n := newTestNegotiator(t, Config{})
	if err := n.SetLocal(netip.AddrPort{}); !errors.Is(err, ErrConfig) {
		t.Errorf("SetLocal(zero) = %v", err)
	}
}

// RFC 3264 §8: the session id stays, the version grows by one exactly when
// the description changes.
func TestRFC3264Section8_OriginVersion(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
	origin := func(body []byte) Origin { return mustParse(t, body).Origin }
	first, _ := n.Offer()
	again, _ := n.Offer()
	if origin(first) != origin(again) || string(first) != string(again) {
		t.Errorf("unchanged re-offer changed:\n%s\n%s", first, again)
	}
	n.SetHold(HoldSendOnly)
	held, _ := n.Offer()
	if o := origin(held); o.SessionVersion != "2" || o.SessionID != origin(first).SessionID {
		t.Errorf("hold re-offer origin %+v", o)
	}
	if err := n.SetLocal(netip.MustParseAddrPort("192.0.2.1:4002")); err != nil {
		t.Fatal(err)
	}
	moved, _ := n.Offer()
	if o := origin(moved); o.SessionVersion != "3" {
		t.Errorf("moved re-offer origin %+v", o)
	}
	// Keys are kept for the dialog: the crypto lines do not change.
	if a, b := mediaSection(t, first, 0).Attrs("crypto"), mediaSection(t, moved, 0).Attrs("crypto"); !reflect.DeepEqual(a, b) {
		t.Errorf("re-offer rekeyed:\n%q\n%q", a, b)
	}
	// Answers share the origin and its version counter.
	ans, _, err := n.Answer(readTestdata(t, "asterisk_offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if o := origin(ans); o.SessionVersion != "4" || o.SessionID != origin(first).SessionID {
		t.Errorf("answer origin %+v", o)
	}
	ans2, _, err := n.Answer(readTestdata(t, "asterisk_offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ans2) != string(ans) {
		t.Errorf("same offer, different answer:\n%s\n%s", ans, ans2)
	}
}
