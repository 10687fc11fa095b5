package sdp

import (
	"errors"
	"strings"
	"testing"
)

// answerTo builds an answer body for our default offer (PCMU 0, PCMA 8,
// telephone-event 101 on 192.0.2.1:4000) from media lines.
func answerTo(media string) []byte {
	return crlf("v=0\no=peer 5 5 IN IP4 198.51.100.7\ns=-\nc=IN IP4 198.51.100.7\nt=0 0\n" + media)
}

// RFC 3264 §7: the offerer learns codec, payload types, ptime, address and
// keys from the answer.
func TestRFC3264Section7_ApplyAnswer(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
	if _, err := n.Offer(); err != nil {
		t.Fatal(err)
	}
	res, err := n.ApplyAnswer(readTestdata(t, "freeswitch_answer_srtp.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Codec != PCMA || res.PayloadType != 8 || res.RecvPayloadType != 8 || !res.DTMF ||
		res.DTMFPayloadType != 101 || res.DTMFEvents != "0-16" || res.Ptime != 20 {
		t.Errorf("result %+v", res)
	}
	if res.Remote.String() != "198.51.100.7:28470" || res.RemoteRTCP.String() != "198.51.100.7:28471" ||
		res.Direction != SendRecv || res.RemoteHold {
		t.Errorf("remote %v %v direction %v", res.Remote, res.RemoteRTCP, res.Direction)
	}
	if res.LocalCrypto == nil || res.LocalCrypto.Tag != 1 || res.RemoteCrypto == nil || res.RemoteCrypto.Tag != 1 {
		t.Fatalf("crypto %+v %+v", res.LocalCrypto, res.RemoteCrypto)
	}
	if _, err := n.ApplyAnswer(readTestdata(t, "freeswitch_answer_srtp.sdp")); !errors.Is(err, ErrNoOffer) {
		t.Errorf("second ApplyAnswer = %v, want ErrNoOffer", err)
	}
	if n.Result() != res {
		t.Error("Result() is not the last result")
	}
	// Our key for tag 1 is the one in our offer.
	if !strings.Contains(string(mustOffer(t, n)), "a=crypto:"+res.LocalCrypto.String()+"\r\n") {
		t.Error("local crypto is not the offered line")
	}
}

func mustOffer(t *testing.T, n *Negotiator) []byte {
	t.Helper()
	b, err := n.Offer()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3264 §6.1: the answerer SHOULD keep our payload type numbers; when it
// renumbers, we send with its numbers and receive with ours. A dynamic
// payload type without a=rtpmap in the answer takes the offer's mapping.
func TestRFC3264Section6_1_AnswerRenumbered(t *testing.T) {
	n := newTestNegotiator(t, Config{})
	mustOffer(t, n)
	res, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0 96\na=rtpmap:96 telephone-event/8000\na=fmtp:96 0-15\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.DTMFPayloadType != 96 || res.RecvDTMFPayloadType != 101 || res.DTMFEvents != "0-15" {
		t.Errorf("dtmf %d/%d %q", res.DTMFPayloadType, res.RecvDTMFPayloadType, res.DTMFEvents)
	}
	mustOffer(t, n)
	res, err = n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 8 101\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Codec != PCMA || res.DTMFPayloadType != 101 || res.DTMFEvents != "0-15" {
		t.Errorf("result %+v", res)
	}
}

// RFC 3264 §6 and §7: answers that break the rules are refused with an
// error saying which.
func TestRFC3264Section7_BadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		answer []byte
		want   error
	}{
		{"codec not offered", Config{}, answerTo("m=audio 7000 RTP/AVP 18\na=rtpmap:18 G729/8000\n"), ErrCodecNotOffered},
		{"codec not offered beside ours", Config{}, answerTo("m=audio 7000 RTP/AVP 0 13\n"), ErrCodecNotOffered},
		{"PCMA not offered", Config{Codecs: []Codec{PCMU}}, answerTo("m=audio 7000 RTP/AVP 8\n"), ErrCodecNotOffered},
		{"only events", Config{}, answerTo("m=audio 7000 RTP/AVP 101\n"), ErrCodecNotOffered},
		{"unmapped dynamic type", Config{}, answerTo("m=audio 7000 RTP/AVP 0 99\n"), ErrCodecNotOffered},
		{"no formats", Config{}, answerTo("m=audio 7000 RTP/AVP\n"), ErrCodecNotOffered},
		{"more m= lines", Config{}, answerTo("m=audio 7000 RTP/AVP 0\nm=video 0 RTP/AVP 31\n"), ErrMediaCount},
		{"no m= lines", Config{}, answerTo(""), ErrMediaCount},
		{"wrong media type", Config{}, answerTo("m=video 7000 RTP/AVP 0\n"), ErrMediaCount},
		{"rejected", Config{}, answerTo("m=audio 0 RTP/AVP 0\n"), ErrMediaRejected},
		{"no address", Config{}, crlf("v=0\no=- 1 1 IN IP4 198.51.100.7\ns=-\nt=0 0\nm=audio 7000 RTP/AVP 0\n"), ErrTransport},
		{"other transport", Config{}, answerTo("m=audio 7000 RTP/SAVP 0\n"), ErrTransport},
		{"crypto tag not offered", Config{SRTP: SRTPOptional},
			answerTo("m=audio 7000 RTP/AVP 0\na=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:AMlr9740jvz4upi+GdU4cxe8HfCx6TAbuapY8TOi\n"), ErrCryptoMismatch},
		{"crypto suite changed", Config{SRTP: SRTPOptional},
			answerTo("m=audio 7000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AMlr9740jvz4upi+GdU4cxe8HfCx6TAbuapY8TOi\n"), ErrCryptoMismatch},
		{"crypto malformed", Config{SRTP: SRTPOptional},
			answerTo("m=audio 7000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AMlr\n"), ErrCryptoMismatch},
		{"crypto unusable", Config{SRTP: SRTPOptional},
			answerTo("m=audio 7000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AMlr9740jvz4upi+GdU4cxe8HfCx6TAbuapY8TOi UNAUTHENTICATED_SRTP\n"), ErrCryptoMismatch},
		{"SRTP required, no crypto", Config{SRTP: SRTPRequired}, answerTo("m=audio 7000 RTP/SAVP 0\n"), ErrCryptoMismatch},
		{"malformed", Config{}, []byte("m=audio x"), ErrSyntax},
	}
	for _, tt := range tests {
		n := newTestNegotiator(t, tt.cfg)
		mustOffer(t, n)
		_, err := n.ApplyAnswer(tt.answer)
		if !errors.Is(err, ErrBadAnswer) || !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want ErrBadAnswer and %v", tt.name, err, tt.want)
		}
		if n.Result() != nil {
			t.Errorf("%s: bad answer left a result", tt.name)
		}
	}
}

// Best-effort SRTP: an answer without crypto to our RTP/AVP offer with
// crypto falls back to plain RTP.
func TestRFC4568Section7_1_3_BestEffortFallback(t *testing.T) {
	n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
	mustOffer(t, n)
	res, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0 101\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.LocalCrypto != nil || res.RemoteCrypto != nil {
		t.Error("SRTP without crypto in the answer")
	}
}

// RFC 3264 §8.4: hold is a re-offer with sendonly (or inactive), resume a
// re-offer with sendrecv; the answer's direction limits ours.
func TestRFC3264Section8_4_HoldResume(t *testing.T) {
	n := newTestNegotiator(t, Config{})
	mustOffer(t, n)
	if _, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0 101\na=sendrecv\n")); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		hold    Hold
		offered string
		answer  string
		result  Direction
		remote  bool
	}{
		{HoldSendOnly, "sendonly", "recvonly", SendOnly, false},
		{HoldSendOnly, "sendonly", "inactive", Inactive, true},
		{HoldInactive, "inactive", "inactive", Inactive, false},
		{NotHeld, "sendrecv", "sendrecv", SendRecv, false},
		{NotHeld, "sendrecv", "sendonly", RecvOnly, true},
		// An answerer that ignores our hold gets no more than we offered.
		{HoldSendOnly, "sendonly", "sendrecv", SendOnly, false},
	}
	for i, st := range steps {
		n.SetHold(st.hold)
		offer := mustOffer(t, n)
		if d := mustParse(t, offer).DirectionFor(mediaSection(t, offer, 0)); d.String() != st.offered {
			t.Errorf("step %d: offered %v, want %s", i, d, st.offered)
		}
		if _, ok := mediaSection(t, offer, 0).Attr(st.offered); !ok {
			t.Errorf("step %d: no explicit a=%s", i, st.offered)
		}
		res, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0 101\na=" + st.answer + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Direction != st.result || res.RemoteHold != st.remote {
			t.Errorf("step %d: direction %v remote hold %v, want %v %v", i, res.Direction, res.RemoteHold, st.result, st.remote)
		}
	}
	// An answer that holds us the RFC 2543 way.
	n.SetHold(NotHeld)
	mustOffer(t, n)
	res, err := n.ApplyAnswer(crlf("v=0\no=- 1 2 IN IP4 198.51.100.7\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 7000 RTP/AVP 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Direction != RecvOnly || !res.RemoteHold {
		t.Errorf("c=0.0.0.0 answer: direction %v remote hold %v", res.Direction, res.RemoteHold)
	}
	// CancelOffer drops a re-offer that failed; the previous result stays.
	mustOffer(t, n)
	n.CancelOffer()
	if _, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0\n")); !errors.Is(err, ErrNoOffer) {
		t.Errorf("after CancelOffer: %v", err)
	}
	if n.Result() != res {
		t.Error("CancelOffer changed the result")
	}
}

// RFC 3605: a=rtcp gives the RTCP port, and optionally the address.
func TestRFC3605_RTCPAttribute(t *testing.T) {
	tests := []struct {
		attrs string
		cfg   Config
		rtcp  string
		mux   bool
	}{
		{"", Config{}, "198.51.100.7:7001", false},
		{"a=rtcp:7009\n", Config{}, "198.51.100.7:7009", false},
		{"a=rtcp:7009 IN IP4 198.51.100.99\n", Config{}, "198.51.100.99:7009", false},
		{"a=rtcp:7009 IN IP6 2001:db8::9\n", Config{}, "[2001:db8::9]:7009", false},
		{"a=rtcp:junk\n", Config{}, "198.51.100.7:7001", false},
		{"a=rtcp-mux\n", Config{}, "198.51.100.7:7001", false},
		{"a=rtcp-mux\n", Config{RTCPMux: true}, "198.51.100.7:7000", true},
		{"a=rtcp:7009\na=rtcp-mux\n", Config{RTCPMux: true}, "198.51.100.7:7000", true},
	}
	for _, tt := range tests {
		n := newTestNegotiator(t, tt.cfg)
		mustOffer(t, n)
		res, err := n.ApplyAnswer(answerTo("m=audio 7000 RTP/AVP 0\n" + tt.attrs))
		if err != nil {
			t.Fatal(err)
		}
		if res.RemoteRTCP.String() != tt.rtcp || res.RTCPMux != tt.mux {
			t.Errorf("%q: rtcp %v mux %v", tt.attrs, res.RemoteRTCP, res.RTCPMux)
		}
	}
}

// RFC 3605 at the edge: a stream on port 65535 has no next port.
func TestRFC3605_LastPort(t *testing.T) {
	n := newTestNegotiator(t, Config{})
	mustOffer(t, n)
	res, err := n.ApplyAnswer(answerTo("m=audio 65535 RTP/AVP 0 101\na=fmtp:101 200-210\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.RemoteRTCP.Port() != 65535 {
		t.Errorf("rtcp %v", res.RemoteRTCP)
	}
	if res.DTMF {
		t.Errorf("telephone-event with no event we know negotiated: %q", res.DTMFEvents)
	}
}

// RFC 5761 §5.1.1: we answer a=rtcp-mux only when we multiplex.
func TestRFC5761Section5_1_1_AnswerRTCPMux(t *testing.T) {
	for _, mux := range []bool{false, true} {
		n := newTestNegotiator(t, Config{RTCPMux: mux})
		body, res, err := n.Answer(readTestdata(t, "baresip_offer.sdp"))
		if err != nil {
			t.Fatal(err)
		}
		_, has := mediaSection(t, body, 0).Attr("rtcp-mux")
		if has != mux || res.RTCPMux != mux {
			t.Errorf("RTCPMux %v: answer has rtcp-mux %v, result %v", mux, has, res.RTCPMux)
		}
	}
}
