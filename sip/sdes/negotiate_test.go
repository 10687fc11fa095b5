package sdes

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// countingReader yields 0, 1, 2, … so that generated keys are predictable.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

// RFC 4568 §7.1.2: the answerer takes the first offered attribute it can
// use, in the offerer's order, and answers with the same tag and suite and
// a key of its own.
func TestRFC4568Section7_1_2_AnswererSelects(t *testing.T) {
	offered := []Crypto{
		mustParse(t, "1 AES_256_CM_HMAC_SHA1_80 inline:"+key46),
		mustParse(t, "2 AES_CM_128_HMAC_SHA1_80 inline:"+key1+" KDR=10"),
		mustParse(t, "3 AES_CM_128_HMAC_SHA1_32 inline:"+key2+" UNENCRYPTED_SRTCP"),
		mustParse(t, "4 AES_CM_128_HMAC_SHA1_80 inline:"+key3),
	}
	chosen, err := Select(offered)
	if err != nil {
		t.Fatal(err)
	}
	if chosen.Tag != 3 {
		t.Fatalf("chose tag %d, want 3", chosen.Tag)
	}
	key, err := NewKey(chosen.Suite, &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := Respond(chosen, key)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Tag != 3 || ans.Suite != AES_CM_128_HMAC_SHA1_32 || !ans.Params.UnencryptedSRTCP {
		t.Errorf("answer %+v", ans)
	}
	if ans.Keys[0].MKI != nil {
		t.Errorf("answer MKI %x to an offer without one", ans.Keys[0].MKI)
	}
	if got, want := ans.String(), "3 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd UNENCRYPTED_SRTCP"; got != want {
		t.Errorf("answer %q, want %q", got, want)
	}

	if _, err := Select(offered[:2]); !errors.Is(err, ErrNoKey) || !errors.Is(err, ErrUnsupportedParam) {
		t.Errorf("Select of unusable lines = %v", err)
	}
	if _, err := Select(nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("Select(nil) = %v", err)
	}
	if _, err := Respond(offered[0], key); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("Respond(AES_256) = %v", err)
	}
}

// An offer whose key carries an MKI gets an answer key with an MKI of the
// same length, value 1.
func TestRFC4568Section7_1_2_AnswerMirrorsMKI(t *testing.T) {
	key, err := NewKey(AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := Respond(mustParse(t, "2 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^31|1:1"), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ans.Keys[0].MKI, []byte{1}) || ans.Tag != 2 {
		t.Errorf("answer %s", ans.String()[:30])
	}
	if err := ans.Check(); err != nil {
		t.Error(err)
	}
	if !bytes.Equal(ans.Keys[0].MasterKey, key.MasterKey) || &ans.Keys[0].MasterKey[0] == &key.MasterKey[0] {
		t.Error("answer key is not a copy of ours")
	}
	if _, err := Respond(mustParse(t, "2 AES_CM_128_HMAC_SHA1_80 inline:"+key1), Key{MasterKey: key.MasterKey}); !errors.Is(err, ErrKeyLength) {
		t.Errorf("Respond with a short key = %v", err)
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate(1, AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(1, AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Keys[0].MasterKey, b.Keys[0].MasterKey) {
		t.Error("two generated keys are equal")
	}
	if len(a.Keys[0].MasterKey) != 16 || len(a.Keys[0].MasterSalt) != 14 {
		t.Errorf("key %d salt %d", len(a.Keys[0].MasterKey), len(a.Keys[0].MasterSalt))
	}
	back := mustParse(t, a.String())
	if !bytes.Equal(back.Keys[0].MasterKey, a.Keys[0].MasterKey) || !bytes.Equal(back.Keys[0].MasterSalt, a.Keys[0].MasterSalt) {
		t.Error("generated attribute does not survive String and Parse")
	}
	if _, err := Generate(1, "AES_256_CM_HMAC_SHA1_80", nil); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("Generate(AES_256) = %v", err)
	}
	if _, err := Generate(MaxTag+1, AES_CM_128_HMAC_SHA1_80, nil); !errors.Is(err, ErrTag) {
		t.Errorf("Generate(tag too big) = %v", err)
	}
	if _, err := Generate(1, AES_CM_128_HMAC_SHA1_80, bytes.NewReader(make([]byte, 10))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Generate from a short reader = %v", err)
	}
}

func testPacket() *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 4711, Timestamp: 160, SSRC: 0x11223344},
		Payload: bytes.Repeat([]byte{0xd5}, 160),
	}
}

// RFC 3711 §3.1: with an MKI, every SRTP packet carries it between the
// encrypted payload and the authentication tag. A context built from a
// parsed Lync line with a one-byte MKI protects a packet, the MKI shows up
// there, and a context built from the same line unprotects it.
func TestRFC3711Section3_1_MKIInPacket(t *testing.T) {
	line := mustParse(t, "2 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^31|1:1")
	enc, err := line.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := line.NewContext(srtp.SRTPReplayProtection(64))
	if err != nil {
		t.Fatal(err)
	}
	pkt := testPacket()
	plain, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	protected, err := enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	const tagLen = 10 // HMAC-SHA1-80
	if len(protected) != len(plain)+1+tagLen {
		t.Fatalf("protected length %d, want %d", len(protected), len(plain)+1+tagLen)
	}
	if mki := protected[len(protected)-tagLen-1 : len(protected)-tagLen]; !bytes.Equal(mki, []byte{1}) {
		t.Errorf("MKI in packet %x, want 01", mki)
	}
	if bytes.Equal(protected[12:12+160], plain[12:]) {
		t.Error("payload not encrypted")
	}
	got, err := dec.DecryptRTP(nil, protected, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Error("round trip changed the packet")
	}
}

// RFC 4568 §6.1: several keys with MKIs on one line all go into the
// receiving context; a packet under the second key's MKI is unprotected.
func TestRFC4568Section6_1_MultipleKeysContext(t *testing.T) {
	both := mustParse(t, "1 AES_CM_128_HMAC_SHA1_32 inline:"+key1+"|2^20|1:4;inline:"+key2+"|2^20|2:4")
	second := mustParse(t, "1 AES_CM_128_HMAC_SHA1_32 inline:"+key2+"|2^20|2:4")
	enc, err := second.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := both.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := testPacket().Marshal()
	protected, err := enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	const tagLen = 4 // HMAC-SHA1-32
	if mki := protected[len(protected)-tagLen-4 : len(protected)-tagLen]; !bytes.Equal(mki, []byte{0, 0, 0, 2}) {
		t.Errorf("MKI in packet %x", mki)
	}
	got, err := dec.DecryptRTP(nil, protected, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Error("round trip changed the packet")
	}
}

// Our generated key and the peer's parsed key make a working pair without
// MKI, and UNENCRYPTED_SRTP leaves the payload readable but authenticated.
func TestNewContextOptions(t *testing.T) {
	ours, err := Generate(1, AES_CM_128_HMAC_SHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	ours.Params.UnencryptedSRTP = true
	enc, err := ours.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := mustParse(t, ours.String()).NewContext()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := testPacket().Marshal()
	protected, err := enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(protected[:len(plain)], plain) || len(protected) != len(plain)+10 {
		t.Error("UNENCRYPTED_SRTP packet is not plain text plus tag")
	}
	if _, err := dec.DecryptRTP(nil, protected, nil); err != nil {
		t.Fatal(err)
	}
	protected[20] ^= 1
	if _, err := dec.DecryptRTP(nil, protected, nil); err == nil {
		t.Error("tampered packet accepted")
	}
	if _, err := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+" KDR=1").NewContext(); !errors.Is(err, ErrUnsupportedParam) {
		t.Errorf("NewContext with KDR = %v", err)
	}
}
