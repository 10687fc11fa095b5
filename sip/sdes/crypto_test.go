package sdes

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Test keys: 30 bytes each (16-byte master key, 14-byte master salt), made
// for these tests.
const (
	key1 = "JTA7RlFcZ3J9iJOeqbS/ytXg6/YBDBciLThDTllk"
	key2 = "SlVga3aBjJeirbjDztnk7/oFEBsmMTxHUl1oc36J"
	key3 = "b3qFkJumsbzH0t3o8/4JFB8qNUBLVmFsd4KNmKOu"
	// key46 is 46 bytes, the length of an AES_256_CM key and salt.
	key46 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ=="
	// key29 is one byte short of an AES_CM_128 key and salt.
	key29 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw="
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, s string) Crypto {
	t.Helper()
	c, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return c
}

// RFC 4568 §4: tag, crypto-suite, key parameters, session parameters,
// separated by white space.
func TestRFC4568Section4_AttributeFields(t *testing.T) {
	c := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^20|1:4")
	if c.Tag != 1 || c.Suite != AES_CM_128_HMAC_SHA1_80 {
		t.Fatalf("tag %d suite %s", c.Tag, c.Suite)
	}
	if len(c.Keys) != 1 {
		t.Fatalf("%d keys", len(c.Keys))
	}
	k := c.Keys[0]
	if !bytes.Equal(k.MasterKey, mustHex(t, "25303b46515c67727d88939ea9b4bfca")) ||
		!bytes.Equal(k.MasterSalt, mustHex(t, "d5e0ebf6010c17222d38434e5964")) {
		t.Errorf("key %x salt %x", k.MasterKey, k.MasterSalt)
	}
	if k.Lifetime != 1<<20 {
		t.Errorf("lifetime %d", k.Lifetime)
	}
	if !bytes.Equal(k.MKI, []byte{0, 0, 0, 1}) {
		t.Errorf("MKI %x", k.MKI)
	}
	if got, want := c.String(), "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^20|1:4"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := c.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// RFC 4568 §4: white space between fields may be any run of spaces or tabs
// (peers pad with several); the tag may have leading zeros.
func TestRFC4568Section4_WhiteSpace(t *testing.T) {
	c := mustParse(t, " 007\tAES_CM_128_HMAC_SHA1_32   inline:"+key2+"  ")
	if c.Tag != 7 || c.Suite != AES_CM_128_HMAC_SHA1_32 || len(c.Keys) != 1 {
		t.Fatalf("%+v", c)
	}
	if got, want := c.String(), "7 AES_CM_128_HMAC_SHA1_32 inline:"+key2; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// RFC 4568 §6.1: lifetime as a decimal number or a power of two, the MKI as
// value:length, either one alone.
func TestRFC4568Section6_1_LifetimeAndMKI(t *testing.T) {
	tests := []struct {
		param    string
		lifetime uint64
		mki      []byte
		format   string
	}{
		{"inline:" + key1, 0, nil, "inline:" + key1},
		{"inline:" + key1 + "|1048576", 1 << 20, nil, "inline:" + key1 + "|2^20"},
		{"inline:" + key1 + "|1000", 1000, nil, "inline:" + key1 + "|1000"},
		{"inline:" + key1 + "|2^31", 1 << 31, nil, "inline:" + key1 + "|2^31"},
		{"inline:" + key1 + "|2^0", 1, nil, "inline:" + key1 + "|1"},
		{"inline:" + key1 + "|5:2", 0, []byte{0, 5}, "inline:" + key1 + "|5:2"},
		{"inline:" + key1 + "|2^48|258:2", 1 << 48, []byte{1, 2}, "inline:" + key1 + "|2^48|258:2"},
		{"inline:" + key1 + "|2^31|1:1", 1 << 31, []byte{1}, "inline:" + key1 + "|2^31|1:1"},
		{"inline:" + key1 + "|2^31|4294967295:4", 1 << 31, []byte{0xff, 0xff, 0xff, 0xff}, "inline:" + key1 + "|2^31|4294967295:4"},
		{"INLINE:" + key1 + "|0:1", 0, []byte{0}, "inline:" + key1 + "|0:1"},
	}
	for _, tt := range tests {
		c := mustParse(t, "3 AES_CM_128_HMAC_SHA1_80 "+tt.param)
		k := c.Keys[0]
		if k.Lifetime != tt.lifetime || !bytes.Equal(k.MKI, tt.mki) {
			t.Errorf("%s: lifetime %d MKI %x, want %d %x", tt.param, k.Lifetime, k.MKI, tt.lifetime, tt.mki)
		}
		if got, want := c.String(), "3 AES_CM_128_HMAC_SHA1_80 "+tt.format; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// RFC 4568 §6.1: MKI lengths of 1 to 128 bytes parse; only up to
// MaxUsableMKILength are used.
func TestRFC4568Section6_1_MKILengthRange(t *testing.T) {
	c := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|1:128")
	if len(c.Keys[0].MKI) != 128 || c.Keys[0].MKI[127] != 1 {
		t.Fatalf("MKI %x", c.Keys[0].MKI)
	}
	if err := c.Check(); !errors.Is(err, ErrUnsupportedParam) {
		t.Errorf("Check of a 128-byte MKI: %v, want ErrUnsupportedParam", err)
	}
	c = mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|1:4")
	if err := c.Check(); err != nil {
		t.Errorf("Check of a 4-byte MKI: %v", err)
	}
}

// RFC 4568 §6.1 (grammar §9.1): several key parameters on one line,
// separated by ";", each with its own MKI.
func TestRFC4568Section6_1_MultipleKeys(t *testing.T) {
	c := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^20|1:4;inline:"+key2+"|2^20|2:4")
	if len(c.Keys) != 2 {
		t.Fatalf("%d keys", len(c.Keys))
	}
	if !bytes.Equal(c.Keys[1].MKI, []byte{0, 0, 0, 2}) {
		t.Errorf("second MKI %x", c.Keys[1].MKI)
	}
	if err := c.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if got := c.String(); got != "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^20|1:4;inline:"+key2+"|2^20|2:4" {
		t.Errorf("String() = %q", got)
	}

	for _, bad := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + ";inline:" + key2,              // no MKI
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|1:4;inline:" + key2 + "|2:2", // lengths differ
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|1:4;inline:" + key2 + "|1:4", // same MKI
	} {
		if err := mustParse(t, bad).Check(); !errors.Is(err, ErrUnsupportedParam) {
			t.Errorf("Check(%q) = %v, want ErrUnsupportedParam", bad, err)
		}
	}
}

// RFC 4568 §6.2 and RFC 6188: registered suites we do not negotiate are
// parsed with their own key lengths and refused by Check; an unregistered
// suite is parsed without a length check.
func TestRFC4568Section6_2_Suites(t *testing.T) {
	c := mustParse(t, "3 AES_256_CM_HMAC_SHA1_80 inline:"+key46)
	if len(c.Keys[0].MasterKey) != 32 || len(c.Keys[0].MasterSalt) != 14 {
		t.Errorf("AES_256 key %d salt %d", len(c.Keys[0].MasterKey), len(c.Keys[0].MasterSalt))
	}
	if err := c.Check(); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("Check(AES_256) = %v, want ErrUnsupportedSuite", err)
	}
	if _, err := Parse("3 AES_256_CM_HMAC_SHA1_80 inline:" + key1); !errors.Is(err, ErrKeyLength) {
		t.Errorf("AES_256 with a 30-byte key: %v, want ErrKeyLength", err)
	}
	c = mustParse(t, "4 X_FUTURE_SUITE inline:"+key29)
	if len(c.Keys[0].MasterKey) != 29 || c.Keys[0].MasterSalt != nil {
		t.Errorf("unknown suite key %d salt %d", len(c.Keys[0].MasterKey), len(c.Keys[0].MasterSalt))
	}
	if err := c.Check(); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("Check(unknown) = %v, want ErrUnsupportedSuite", err)
	}
	if got := c.String(); got != "4 X_FUTURE_SUITE inline:"+key29 {
		t.Errorf("String() = %q", got)
	}
	// Lower-case spelling of a registered suite is recognised.
	if c := mustParse(t, "1 aes_cm_128_hmac_sha1_80 inline:"+key1); c.Suite != AES_CM_128_HMAC_SHA1_80 {
		t.Errorf("suite %q", c.Suite)
	}
	for _, s := range SupportedSuites() {
		if p, ok := s.Profile(); !ok || p == 0 {
			t.Errorf("%s has no profile", s)
		}
	}
	if _, ok := Suite("F8_128_HMAC_SHA1_80").Profile(); ok {
		t.Error("F8 has a profile")
	}
}

// RFC 4568 §6.1: the lifetime must not exceed the suite's maximum of 2^48
// SRTP packets (RFC 3711 §9.2).
func TestRFC4568Section6_1_LifetimeLimit(t *testing.T) {
	if err := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^48").Check(); err != nil {
		t.Errorf("2^48: %v", err)
	}
	if err := mustParse(t, "1 AES_CM_128_HMAC_SHA1_80 inline:"+key1+"|2^49").Check(); !errors.Is(err, ErrUnsupportedParam) {
		t.Errorf("2^49: %v, want ErrUnsupportedParam", err)
	}
}

// RFC 4568 §6.3: the SRTP session parameters.
func TestRFC4568Section6_3_SessionParams(t *testing.T) {
	base := "1 AES_CM_128_HMAC_SHA1_80 inline:" + key1
	tests := []struct {
		params string
		want   SessionParams
		usable bool
	}{
		{"KDR=0", SessionParams{HasKDR: true}, false},
		{"KDR=24", SessionParams{KDR: 24, HasKDR: true}, false},
		{"UNENCRYPTED_SRTP", SessionParams{UnencryptedSRTP: true}, true},
		{"UNENCRYPTED_SRTCP", SessionParams{UnencryptedSRTCP: true}, true},
		{"UNAUTHENTICATED_SRTP", SessionParams{UnauthenticatedSRTP: true}, false},
		{"FEC_ORDER=FEC_SRTP", SessionParams{FECOrder: "FEC_SRTP"}, true},
		{"FEC_ORDER=SRTP_FEC", SessionParams{FECOrder: "SRTP_FEC"}, true},
		{"WSH=64", SessionParams{WSH: 64}, true},
		{"FEC_ORDER=FEC_SRTP WSH=128", SessionParams{WSH: 128, FECOrder: "FEC_SRTP"}, true},
		{"-X_OPTIONAL=1", SessionParams{Extensions: []string{"-X_OPTIONAL=1"}}, true},
		{"X_MANDATORY", SessionParams{Extensions: []string{"X_MANDATORY"}}, false},
	}
	for _, tt := range tests {
		c := mustParse(t, base+" "+tt.params)
		if !reflect.DeepEqual(c.Params, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.params, c.Params, tt.want)
		}
		err := c.Check()
		if tt.usable && err != nil {
			t.Errorf("Check(%s) = %v, want usable", tt.params, err)
		}
		if !tt.usable && !errors.Is(err, ErrUnsupportedParam) {
			t.Errorf("Check(%s) = %v, want ErrUnsupportedParam", tt.params, err)
		}
		if got := c.String(); got != base+" "+tt.params {
			t.Errorf("String() = %q", got)
		}
	}

	c := mustParse(t, base+" FEC_KEY=inline:"+key2+"|2^20|1:4")
	if len(c.Params.FECKey) != 1 || !bytes.Equal(c.Params.FECKey[0].MKI, []byte{0, 0, 0, 1}) {
		t.Errorf("FEC_KEY %+v", c.Params.FECKey)
	}
	if err := c.Check(); err != nil {
		t.Errorf("Check with FEC_KEY: %v", err)
	}

	for _, bad := range []string{"KDR=25", "KDR=x", "KDR=", "KDR=100", "WSH=63", "WSH=", "WSH=99999999999", "FEC_ORDER=BOTH", "FEC_KEY=inline:!!"} {
		if _, err := Parse(base + " " + bad); !errors.Is(err, ErrSessionParam) {
			t.Errorf("Parse(%s) = %v, want ErrSessionParam", bad, err)
		}
	}
}

// RFC 4568 §9: input that does not follow the grammar is refused with an
// error naming what is wrong.
func TestRFC4568Section9_Malformed(t *testing.T) {
	const s = "AES_CM_128_HMAC_SHA1_80"
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"1", ErrSyntax},
		{"1 " + s, ErrSyntax},
		{"x " + s + " inline:" + key1, ErrTag},
		{"1234567890 " + s + " inline:" + key1, ErrTag},
		{"-1 " + s + " inline:" + key1, ErrTag},
		{"1 AES-CM " + "inline:" + key1, ErrSyntax},
		{"1 " + s + " " + key1, ErrSyntax},
		{"1 " + s + " inline:", ErrSyntax},
		{"1 " + s + " :" + key1, ErrSyntax},
		{"1 " + s + " uri:sip:keys@example.com", ErrKeyMethod},
		{"1 " + s + " inline:" + key1[:39] + "!", ErrBase64},
		{"1 " + s + " inline:" + key1[:37], ErrBase64},
		{"1 " + s + " inline:|2^20", ErrBase64},
		{"1 " + s + " inline:" + key29, ErrKeyLength},
		{"1 " + s + " inline:" + key46, ErrKeyLength},
		{"1 " + s + " inline:" + key1 + "|2^64", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|2^99999999999999999999", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|18446744073709551616", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|0", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|2^", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|-5", ErrLifetime},
		{"1 " + s + " inline:" + key1 + "|1:0", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|1:129", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|1:1000", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|256:1", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|1:", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|:1", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|x:1", ErrMKI},
		{"1 " + s + " inline:" + key1 + "|1:4|2^20", ErrSyntax},
		{"1 " + s + " inline:" + key1 + "|2^20|1:4|5", ErrSyntax},
		{"1 " + s + " inline:" + key1 + "|2^20|2^20", ErrMKI},
		{"1 " + s + " inline:" + key1 + ";", ErrSyntax},
		{"1 " + s + " inline:" + key1 + ";inline:" + key29 + "|2:1", ErrKeyLength},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), key1[:20]) {
			t.Errorf("error %q shows the key", err)
		}
	}
}

// Microsoft Lync and Skype for Business send several crypto lines, with a
// 2^31 lifetime and a one-byte MKI.
func TestLyncCryptoLines(t *testing.T) {
	lines := []string{
		"2 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|2^31|1:1",
		"5 AES_CM_128_HMAC_SHA1_80 inline:" + key2 + "|2^31",
		"6 AES_CM_128_HMAC_SHA1_32 inline:" + key3 + "|2^31|1:1",
	}
	var offered []Crypto
	for _, l := range lines {
		offered = append(offered, mustParse(t, l))
	}
	c, err := Select(offered)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tag != 2 || !bytes.Equal(c.Keys[0].MKI, []byte{1}) || c.Keys[0].Lifetime != 1<<31 {
		t.Errorf("selected %+v", c)
	}
}
