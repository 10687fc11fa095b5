package sdes

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives String and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|2^20|1:4",
		"2 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|2^31|1:1",
		"1 AES_CM_128_HMAC_SHA1_32 inline:" + key1 + "|1:4;inline:" + key2 + "|2:4 KDR=3 WSH=64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + " UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP",
		"9 AES_256_CM_HMAC_SHA1_80 inline:" + key46 + " FEC_ORDER=FEC_SRTP FEC_KEY=inline:" + key46,
		"4 X_SUITE inline:QUJD -ext",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|2^64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key1 + "|1:129",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		_ = c.Check()
		out := c.String()
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, its String %q refused: %v", s, out, err)
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip of %q:\n%+v\n%+v", s, c, back)
		}
	})
}
