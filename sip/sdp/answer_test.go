package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/sip/sdes"
)

// mline formats an m= line's value.
func mline(m *Media) string {
	return strings.Join(append([]string{m.Type, strconv.Itoa(m.Port), m.Proto}, m.Formats...), " ")
}

// RFC 3264 §6.1: for each vendor's offer the answerer picks the first codec
// in the offer's order that we support, keeps the offer's payload type
// numbers, answers every m= line, and reports where to send.
func TestRFC3264Section6_1_VendorOffers(t *testing.T) {
	tests := []struct {
		file       string
		cfg        Config
		codec      Codec
		pt, dtmfPT uint8
		events     string
		ptime      int
		remote     string
		rtcp       string
		mlines     []string
		tag        uint32
	}{
		{file: "asterisk_offer.sdp", codec: PCMU, pt: 0, dtmfPT: 101, events: "0-16", ptime: 20,
			remote: "192.0.2.10:17982", rtcp: "192.0.2.10:17983", mlines: []string{"audio 4000 RTP/AVP 0 101"}},
		{file: "freeswitch_offer_srtp.sdp", cfg: Config{SRTP: SRTPOptional}, codec: PCMU, pt: 0, dtmfPT: 101, events: "0-16", ptime: 20,
			remote: "198.51.100.7:24576", rtcp: "198.51.100.7:24577", mlines: []string{"audio 4000 RTP/SAVP 0 101"}, tag: 3},
		{file: "baresip_offer.sdp", cfg: Config{RTCPMux: true}, codec: PCMU, pt: 0, dtmfPT: 101, events: "0-15", ptime: 20,
			remote: "[2001:db8::20]:10000", rtcp: "[2001:db8::20]:10000",
			mlines: []string{"audio 4000 RTP/AVP 0 101", "video 0 RTP/AVP 100 102"}},
		{file: "cisco_offer.sdp", codec: PCMU, pt: 0, dtmfPT: 101, events: "0-16", ptime: 20,
			remote: "203.0.113.46:16384", rtcp: "203.0.113.46:16385", mlines: []string{"audio 4000 RTP/AVP 0 101"}},
		{file: "grandstream_offer.sdp", codec: PCMA, pt: 8, dtmfPT: 101, events: "0-15", ptime: 30,
			remote: "192.0.2.55:5004", rtcp: "192.0.2.55:5005", mlines: []string{"audio 4000 RTP/AVP 8 101"}},
		{file: "polycom_offer.sdp", cfg: Config{SRTP: SRTPRequired, Codecs: []Codec{PCMA, PCMU}}, codec: PCMU, pt: 0, dtmfPT: 127, events: "0-15", ptime: 20,
			remote: "198.51.100.21:2222", rtcp: "198.51.100.21:2223", mlines: []string{"audio 4000 RTP/AVP 0 127"}, tag: 1},
		{file: "lync_offer.sdp", cfg: Config{SRTP: SRTPRequired}, codec: PCMU, pt: 0, dtmfPT: 101, events: "0-16", ptime: 20,
			remote: "203.0.113.80:52480", rtcp: "203.0.113.80:52481",
			mlines: []string{"audio 4000 RTP/SAVP 0 101", "video 0 RTP/SAVP 122 121 123"}, tag: 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n := newTestNegotiator(t, tt.cfg)
			body, res, err := n.Answer(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if res.Codec != tt.codec || res.PayloadType != tt.pt || res.RecvPayloadType != tt.pt ||
				!res.DTMF || res.DTMFPayloadType != tt.dtmfPT || res.DTMFEvents != tt.events || res.Ptime != tt.ptime {
				t.Errorf("result %+v", res)
			}
			if res.Remote.String() != tt.remote || res.RemoteRTCP.String() != tt.rtcp {
				t.Errorf("remote %v rtcp %v", res.Remote, res.RemoteRTCP)
			}
			if res.Direction != SendRecv || res.RemoteHold {
				t.Errorf("direction %v hold %v", res.Direction, res.RemoteHold)
			}
			s := mustParse(t, body)
			var mlines []string
			for _, m := range s.Media {
				mlines = append(mlines, mline(m))
				if m.Port == 0 && len(m.Attributes) != 0 {
					t.Errorf("rejected %s stream has attributes", m.Type)
				}
			}
			if !reflect.DeepEqual(mlines, tt.mlines) {
				t.Errorf("m= lines %q, want %q", mlines, tt.mlines)
			}
			if tt.tag == 0 {
				if res.LocalCrypto != nil || len(s.Media[0].Attrs("crypto")) != 0 {
					t.Errorf("unexpected SRTP")
				}
				return
			}
			if res.LocalCrypto == nil || res.RemoteCrypto == nil || res.RemoteCrypto.Tag != tt.tag || res.LocalCrypto.Tag != tt.tag {
				t.Fatalf("crypto %+v", res.RemoteCrypto)
			}
			lines := s.Media[0].Attrs("crypto")
			if len(lines) != 1 || lines[0] != res.LocalCrypto.String() {
				t.Errorf("answer crypto lines %q", lines)
			}
		})
	}
}

// RFC 3264 §6.1: a dynamic telephone-event payload type is echoed, whatever
// number the offerer chose.
func TestRFC3264Section6_1_DynamicPayloadTypeEchoed(t *testing.T) {
	for _, pt := range []string{"96", "101", "127"} {
		offer := crlf(`
v=0
o=- 1 1 IN IP4 192.0.2.7
s=-
c=IN IP4 192.0.2.7
t=0 0
m=audio 6000 RTP/AVP 8 ` + pt + `
a=rtpmap:8 PCMA/8000
a=rtpmap:` + pt + ` TELEPHONE-EVENT/8000
a=fmtp:` + pt + ` 0-15
`)
		n := newTestNegotiator(t, Config{})
		body, res, err := n.Answer(offer)
		if err != nil {
			t.Fatal(err)
		}
		m := mediaSection(t, body, 0)
		if !reflect.DeepEqual(m.Formats, []string{"8", pt}) || res.DTMFPayloadType != mustPT(t, pt) {
			t.Errorf("pt %s: formats %q result %d", pt, m.Formats, res.DTMFPayloadType)
		}
		if got := m.Attrs("rtpmap"); got[1] != pt+" telephone-event/8000" {
			t.Errorf("rtpmap %q", got)
		}
		if got := m.Attrs("fmtp"); len(got) != 1 || got[0] != pt+" 0-15" {
			t.Errorf("fmtp %q", got)
		}
	}
}

func mustPT(t *testing.T, s string) uint8 {
	pt, ok := validPT(s)
	if !ok {
		t.Fatalf("bad pt %q", s)
	}
	return pt
}

// RFC 4733 §2.4.1: the answer's event list is what both sides support;
// without fmtp the list is 0-15; an offer of only events we do not know
// leaves telephone-event out. DTMF by other methods never answers it.
func TestRFC4733Section2_4_1_EventLists(t *testing.T) {
	tests := []struct {
		fmtp   string
		cfg    Config
		events string
	}{
		{"a=fmtp:101 0-15\r\n", Config{}, "0-15"},
		{"a=fmtp:101 0-16\r\n", Config{}, "0-16"},
		{"a=fmtp:101 0-255\r\n", Config{}, "0-16"},
		{"a=fmtp:101 0-11,16\r\n", Config{}, "0-11,16"},
		{"a=fmtp:101 1, 3 ,5-7\r\n", Config{}, "1,3,5-7"},
		{"", Config{}, "0-15"},
		{"a=fmtp:101 32-41\r\n", Config{}, ""},
		{"a=fmtp:101 0-15\r\n", Config{DTMF: DTMFInband}, ""},
	}
	for _, tt := range tests {
		offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\n" +
			"a=rtpmap:101 telephone-event/8000\r\n" + tt.fmtp
		n := newTestNegotiator(t, tt.cfg)
		body, res, err := n.Answer([]byte(offer))
		if err != nil {
			t.Fatal(err)
		}
		m := mediaSection(t, body, 0)
		if res.DTMFEvents != tt.events || res.DTMF != (tt.events != "") || (len(m.Formats) == 2) != res.DTMF {
			t.Errorf("%q: events %q formats %q", tt.fmtp, res.DTMFEvents, m.Formats)
		}
	}
}

// RFC 3264 §6.1: the answer direction mirrors the offer's, limited by our
// own hold state.
func TestRFC3264Section6_1_DirectionTable(t *testing.T) {
	tests := []struct {
		offer      string
		hold       Hold
		answer     Direction
		remoteHold bool
	}{
		{"sendrecv", NotHeld, SendRecv, false},
		{"sendonly", NotHeld, RecvOnly, true},
		{"recvonly", NotHeld, SendOnly, false},
		{"inactive", NotHeld, Inactive, true},
		{"sendrecv", HoldSendOnly, SendOnly, false},
		{"sendonly", HoldSendOnly, Inactive, true},
		{"recvonly", HoldSendOnly, SendOnly, false},
		{"inactive", HoldSendOnly, Inactive, true},
		{"sendrecv", HoldInactive, Inactive, false},
		{"sendonly", HoldInactive, Inactive, true},
		{"recvonly", HoldInactive, Inactive, false},
		{"", NotHeld, SendRecv, false},
	}
	for _, tt := range tests {
		attr := ""
		if tt.offer != "" {
			attr = "a=" + tt.offer + "\r\n"
		}
		offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n" + attr
		n := newTestNegotiator(t, Config{})
		n.SetHold(tt.hold)
		body, res, err := n.Answer([]byte(offer))
		if err != nil {
			t.Fatal(err)
		}
		s := mustParse(t, body)
		if got := s.DirectionFor(s.Media[0]); got != tt.answer || res.Direction != tt.answer || res.RemoteHold != tt.remoteHold {
			t.Errorf("offer %q hold %d: answer %v result %v remote hold %v, want %v %v",
				tt.offer, tt.hold, got, res.Direction, res.RemoteHold, tt.answer, tt.remoteHold)
		}
		if _, ok := s.Media[0].Attr(tt.answer.String()); !ok {
			t.Errorf("answer has no explicit a=%s", tt.answer)
		}
	}
}

// RFC 3264 §8.4: an offer with c=0.0.0.0 (RFC 2543 hold) means "do not send
// to me"; we answer recvonly and report the hold.
func TestRFC3264Section8_4_OldStyleHold(t *testing.T) {
	n := newTestNegotiator(t, Config{})
	body, res, err := n.Answer(readTestdata(t, "rfc2543_hold.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Direction != RecvOnly || !res.RemoteHold || !res.Remote.Addr().IsUnspecified() {
		t.Errorf("result %+v", res)
	}
	if res.Codec != PCMU || res.DTMFPayloadType != 101 {
		t.Errorf("codec %v dtmf %d", res.Codec, res.DTMFPayloadType)
	}
	if m := mediaSection(t, body, 0); !reflect.DeepEqual(m.Attributes[len(m.Attributes)-1], Attribute{Key: "recvonly"}) {
		t.Errorf("answer %s", body)
	}
}

// RFC 3264 §6: a stream we cannot use is rejected with port 0; when no
// audio stream is left the offer is not acceptable (the caller sends 488).
func TestRFC3264Section6_NotAcceptable(t *testing.T) {
	head := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
	tests := []struct {
		name  string
		body  string
		cfg   Config
		cause error
	}{
		{"G.729 only", head + "m=audio 6000 RTP/AVP 18 101\r\na=rtpmap:101 telephone-event/8000\r\n", Config{}, ErrNoCommonCodec},
		{"PCMA not configured", head + "m=audio 6000 RTP/AVP 8\r\n", Config{Codecs: []Codec{PCMU}}, ErrNoCommonCodec},
		{"PCMU at 16 kHz", head + "m=audio 6000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n", Config{}, ErrNoCommonCodec},
		{"no media", head, Config{}, ErrNoAudio},
		{"audio at port 0", head + "m=audio 0 RTP/AVP 0\r\n", Config{}, ErrNoAudio},
		{"T.38 only", string(readTestdata(t, "t38_reoffer.sdp")), Config{}, ErrNoAudio},
		{"DTLS-SRTP", head + "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 AB:CD\r\n", Config{SRTP: SRTPOptional}, ErrTransport},
		{"no connection", "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n", Config{}, ErrTransport},
		{"host name", head + "m=audio 6000 RTP/AVP 0\r\nc=IN IP4 media.example.com\r\n", Config{}, ErrTransport},
		{"SAVP with SRTP off", string(readTestdata(t, "freeswitch_offer_srtp.sdp")), Config{}, ErrSRTPDisabled},
		{"SRTP required, none offered", string(readTestdata(t, "asterisk_offer.sdp")), Config{SRTP: SRTPRequired}, ErrSRTPRequired},
		{"SRTP required, only AES_256", head + "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:of71tMbHOfjnx3Shs4zGKtbB2SRi0fFerOJYQMjLGfM7sh0shpsLFnEPCmLhkQ==\r\n",
			Config{SRTP: SRTPRequired}, ErrSRTPRequired},
		{"SAVP without crypto", head + "m=audio 6000 RTP/SAVP 0\r\n", Config{SRTP: SRTPOptional}, ErrNoUsableCrypto},
		{"SAVP with a bad key", head + "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n", Config{SRTP: SRTPOptional}, ErrNoUsableCrypto},
	}
	for _, tt := range tests {
		n := newTestNegotiator(t, tt.cfg)
		_, res, err := n.Answer([]byte(tt.body))
		if !errors.Is(err, ErrNotAcceptable) || !errors.Is(err, tt.cause) || res != nil {
			t.Errorf("%s: %v, want ErrNotAcceptable and %v", tt.name, err, tt.cause)
		}
		if n.Result() != nil {
			t.Errorf("%s: failed answer left a result", tt.name)
		}
	}
	if _, _, err := newTestNegotiator(t, Config{}).Answer([]byte("garbage")); !errors.Is(err, ErrSyntax) || errors.Is(err, ErrNotAcceptable) {
		t.Errorf("garbage: %v, want ErrSyntax only", err)
	}
}

// RFC 3264 §6: with several audio streams we take the first we can use and
// reject the rest; a T.38 stream next to audio is rejected, keeping its
// format list.
func TestRFC3264Section6_SeveralStreams(t *testing.T) {
	offer := crlf(`
v=0
o=- 1 1 IN IP4 192.0.2.7
s=-
c=IN IP4 192.0.2.7
t=0 0
m=audio 6000 RTP/AVP 18
m=audio 6002 RTP/AVP 8
m=audio 6004 RTP/AVP 0
m=image 6006 udptl t38
a=T38FaxVersion:0
`)
	n := newTestNegotiator(t, Config{})
	body, res, err := n.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	s := mustParse(t, body)
	var ports []int
	for _, m := range s.Media {
		ports = append(ports, m.Port)
	}
	if !reflect.DeepEqual(ports, []int{0, 4000, 0, 0}) || res.Codec != PCMA || res.Remote.Port() != 6002 {
		t.Errorf("ports %v codec %v remote %v", ports, res.Codec, res.Remote)
	}
	if m := s.Media[3]; m.Type != "image" || m.Proto != "udptl" || !reflect.DeepEqual(m.Formats, []string{"t38"}) {
		t.Errorf("image answer %+v", m)
	}
	// A re-offer keeps all four m= lines (RFC 3264 §8).
	re, err := n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	rs := mustParse(t, re)
	if len(rs.Media) != 4 || rs.Media[1].Port != 4000 || rs.Media[0].Port != 0 || rs.Media[3].Type != "image" {
		t.Errorf("re-offer:\n%s", re)
	}
}

// RFC 3264 §6.1 and RFC 4566 §6: we send with the offer's ptime when we can,
// and never above its maxptime.
func TestRFC3264Section6_1_Ptime(t *testing.T) {
	tests := []struct {
		attrs string
		cfg   Config
		ptime int
	}{
		{"a=ptime:30\r\n", Config{}, 30},
		{"a=ptime:10\r\n", Config{}, 10},
		{"a=ptime:20.0\r\n", Config{Ptime: 30}, 20},
		{"a=ptime:40\r\n", Config{}, 20},
		{"a=ptime:60\r\n", Config{Ptime: 30}, 30},
		{"", Config{Ptime: 30}, 30},
		{"a=maxptime:20\r\n", Config{Ptime: 30}, 20},
		{"a=ptime:30\r\na=maxptime:20\r\n", Config{}, 20},
		{"a=maxptime:5\r\n", Config{}, 10},
		{"a=ptime:abc\r\n", Config{}, 20},
		{"a=ptime:NaN\r\na=maxptime:NaN\r\n", Config{}, 20},
	}
	for _, tt := range tests {
		offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n" + tt.attrs
		n := newTestNegotiator(t, tt.cfg)
		body, res, err := n.Answer([]byte(offer))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := mediaSection(t, body, 0).Attr("ptime"); res.Ptime != tt.ptime || v != strconv.Itoa(tt.ptime) {
			t.Errorf("%q: ptime %d (a=ptime:%s), want %d", tt.attrs, res.Ptime, v, tt.ptime)
		}
	}
}

// RFC 4568 §7.1.2 under each SRTP policy: which offers get SRTP, and the
// answer keeps the offer's tag, suite and transport.
func TestRFC4568Section7_1_2_AnswerPolicy(t *testing.T) {
	head := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
	crypto := "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:xw15mFgFe8hB2nVXcKTCYzlhtDbGEmFS6kEN1ylE|2^20\r\n"
	tests := []struct {
		name   string
		policy SRTPPolicy
		body   string
		srtp   bool
	}{
		{"off ignores crypto on AVP", SRTPOff, head + "m=audio 6000 RTP/AVP 0\r\n" + crypto, false},
		{"optional takes crypto on AVP", SRTPOptional, head + "m=audio 6000 RTP/AVP 0\r\n" + crypto, true},
		{"optional without crypto", SRTPOptional, head + "m=audio 6000 RTP/AVP 0\r\n", false},
		{"optional with SAVP", SRTPOptional, head + "m=audio 6000 RTP/SAVP 0\r\n" + crypto, true},
		{"required with AVP crypto", SRTPRequired, head + "m=audio 6000 RTP/AVP 0\r\n" + crypto, true},
		{"required with SAVPF", SRTPRequired, head + "m=audio 6000 RTP/SAVPF 0\r\n" + crypto, true},
		{"skips a broken line", SRTPRequired, head + "m=audio 6000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!\r\n" + crypto, true},
	}
	for _, tt := range tests {
		n := newTestNegotiator(t, Config{SRTP: tt.policy})
		body, res, err := n.Answer([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		m := mediaSection(t, body, 0)
		lines := m.Attrs("crypto")
		if (res.LocalCrypto != nil) != tt.srtp || (len(lines) == 1) != tt.srtp {
			t.Errorf("%s: SRTP %v, crypto lines %d", tt.name, res.LocalCrypto != nil, len(lines))
			continue
		}
		if !tt.srtp {
			continue
		}
		ours, err := sdes.Parse(lines[0])
		if err != nil {
			t.Fatal(err)
		}
		if ours.Tag != 7 || ours.Suite != sdes.AES_CM_128_HMAC_SHA1_32 || ours.Keys[0].Lifetime != 0 || ours.Keys[0].MKI != nil {
			t.Errorf("%s: answer crypto tag %d suite %s", tt.name, ours.Tag, ours.Suite)
		}
		if res.RemoteCrypto.Keys[0].Lifetime != 1<<20 {
			t.Errorf("%s: remote lifetime %d", tt.name, res.RemoteCrypto.Keys[0].Lifetime)
		}
		if m.Proto != mediaSection(t, []byte(tt.body), 0).Proto {
			t.Errorf("%s: answer proto %s", tt.name, m.Proto)
		}
	}
}

// RFC 4568 §6.1 with Microsoft's MKI habit: the answer to a Lync offer uses
// the first usable line (tag 2, 1-byte MKI) and gives our key an MKI of the
// same length; SRTP contexts built from both sides interoperate.
func TestRFC4568Section6_1_LyncMKIAnswer(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
	body, res, err := n.Answer(readTestdata(t, "lync_offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	line := mediaSection(t, body, 0).Attrs("crypto")[0]
	if !strings.HasPrefix(line, "2 AES_CM_128_HMAC_SHA1_80 inline:") || !strings.HasSuffix(line, "|1:1") {
		t.Errorf("answer crypto %q", line)
	}
	if got := res.RemoteCrypto.Keys[0]; got.Lifetime != 1<<31 || !reflect.DeepEqual(got.MKI, []byte{1}) {
		t.Errorf("remote key lifetime %d MKI %x", got.Lifetime, got.MKI)
	}

	// The peer protects with its key; we unprotect with RemoteCrypto.
	peerSend, err := res.RemoteCrypto.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	weRecv, err := res.RemoteCrypto.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	// We protect with LocalCrypto; the peer unprotects with what it read
	// from our answer.
	weSend, err := res.LocalCrypto.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sdes.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	peerRecv, err := parsed.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	pkt := []byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8}
	for i, c := range [][2]*srtp.Context{{peerSend, weRecv}, {weSend, peerRecv}} {
		enc, err := c[0].EncryptRTP(nil, pkt, nil)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c[1].DecryptRTP(nil, enc, nil)
		if err != nil {
			t.Fatalf("direction %d: %v", i, err)
		}
		if string(dec) != string(pkt) {
			t.Errorf("direction %d: round trip changed the packet", i)
		}
	}
}

// The contract the RTP layer relies on: a re-answer with the same keys says
// so, and the payload types and address come from the latest exchange.
func TestRFC4568Section7_1_4_ReofferKeepsKeys(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
	_, first, err := n.Answer(readTestdata(t, "polycom_offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	body, held, err := n.Answer(readTestdata(t, "polycom_hold.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if !held.SameSRTP(first) {
		t.Error("re-answer with unchanged keys reported a change")
	}
	if held.Direction != RecvOnly || !held.RemoteHold {
		t.Errorf("hold: direction %v remote hold %v", held.Direction, held.RemoteHold)
	}
	if d := mustParse(t, body).DirectionFor(mediaSection(t, body, 0)); d != RecvOnly {
		t.Errorf("answer to sendonly is %v", d)
	}
	if held.SameSRTP(nil) {
		t.Error("SameSRTP(nil)")
	}
	other, err := NewNegotiator(Config{SRTP: SRTPOptional}, netip.MustParseAddrPort("192.0.2.1:4000"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, fresh, err := other.Answer(readTestdata(t, "polycom_offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.SameSRTP(first) {
		t.Error("different keys reported the same")
	}
}
