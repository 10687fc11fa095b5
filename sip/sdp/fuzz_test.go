package sdp

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func addSamples(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sdp")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\nm=audio 1/2 RTP/AVP\nc=IN IP4 0.0.0.0/5\na=\na=:x\n"))
}

// FuzzParse checks that Parse never panics and that Marshal is a fixed
// point: what it writes parses back to the same output.
func FuzzParse(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(body)
		if err != nil {
			return
		}
		out := s.Marshal()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("our own output does not parse: %v\n%q", err, out)
		}
		if out2 := again.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not stable:\n%q\n%q", out, out2)
		}
	})
}

// FuzzAnswer checks that answering any body never panics, fails with a
// parse error or ErrNotAcceptable only, and that a successful answer is
// well formed with one m= line per offered one.
func FuzzAnswer(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		n := newTestNegotiator(t, Config{SRTP: SRTPOptional, RTCPMux: true})
		ans, res, err := n.Answer(body)
		if err != nil {
			if !errors.Is(err, ErrNotAcceptable) && !errors.Is(err, ErrSyntax) &&
				!errors.Is(err, ErrEmpty) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		offer, _ := Parse(body)
		s, err := Parse(ans)
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, ans)
		}
		if len(s.Media) != len(offer.Media) || res == nil || !res.Remote.IsValid() {
			t.Fatalf("answer has %d m= lines for %d offered; result %+v", len(s.Media), len(offer.Media), res)
		}
		// Read as an offer, our answer is acceptable to another Negotiator.
		if _, _, err := newTestNegotiator(t, Config{SRTP: SRTPOptional}).Answer(ans); err != nil {
			t.Fatalf("our answer is not an acceptable offer: %v\n%s", err, ans)
		}
	})
}

// FuzzApplyAnswer checks that any answer to our offer is either accepted
// with a usable result or refused with ErrBadAnswer, never a panic.
func FuzzApplyAnswer(f *testing.F) {
	addSamples(f)
	f.Add(answerTo("m=audio 7000 RTP/AVP 0 101\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AMlr9740jvz4upi+GdU4cxe8HfCx6TAbuapY8TOi\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		n := newTestNegotiator(t, Config{SRTP: SRTPOptional})
		if _, err := n.Offer(); err != nil {
			t.Fatal(err)
		}
		res, err := n.ApplyAnswer(body)
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) {
				t.Fatalf("error without ErrBadAnswer: %v", err)
			}
			return
		}
		if res.Codec != PCMU && res.Codec != PCMA || !res.Remote.IsValid() {
			t.Fatalf("result %+v", res)
		}
		if (res.LocalCrypto == nil) != (res.RemoteCrypto == nil) {
			t.Fatalf("half an SRTP pair: %+v", res)
		}
	})
}
