package sdes

import (
	"strings"

	"github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto-suite name as it appears in an a=crypto line
// (RFC 4568 §6.2, RFC 6188, RFC 7714).
type Suite string

// The crypto-suites this package negotiates. They are listed in our order of
// preference: the 80-bit tag first, as RFC 4568 §6.2 recommends.
const (
	AES_CM_128_HMAC_SHA1_80 Suite = "AES_CM_128_HMAC_SHA1_80" //nolint:revive // the registered name
	AES_CM_128_HMAC_SHA1_32 Suite = "AES_CM_128_HMAC_SHA1_32" //nolint:revive // the registered name
)

// SupportedSuites lists the suites we offer and accept, most preferred
// first.
func SupportedSuites() []Suite {
	return []Suite{AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32}
}

// suiteInfo is what the parser knows about a registered suite: the lengths
// of its master key and master salt in bytes, the largest key lifetime in
// SRTP packets (0 when unlimited by the suite), and the pion profile when we
// can use it.
type suiteInfo struct {
	keyLen, saltLen int
	maxLifetime     uint64
	profile         srtp.ProtectionProfile
	supported       bool
}

// lookupSuite returns what we know of a registered suite. Only the two
// AES_CM_128 suites are negotiated; the others are recognised so that their
// key lengths are checked, and are then skipped.
func lookupSuite(s Suite) (suiteInfo, bool) {
	const srtpMax = 1 << 48 // RFC 3711 §9.2: at most 2^48 SRTP packets per master key
	switch s {
	case AES_CM_128_HMAC_SHA1_80:
		return suiteInfo{16, 14, srtpMax, srtp.ProtectionProfileAes128CmHmacSha1_80, true}, true
	case AES_CM_128_HMAC_SHA1_32:
		return suiteInfo{16, 14, srtpMax, srtp.ProtectionProfileAes128CmHmacSha1_32, true}, true
	case "F8_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_32":
		return suiteInfo{16, 14, srtpMax, 0, false}, true
	case "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32":
		return suiteInfo{24, 14, srtpMax, 0, false}, true
	case "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32":
		return suiteInfo{32, 14, srtpMax, 0, false}, true
	case "AEAD_AES_128_GCM":
		return suiteInfo{16, 12, srtpMax, 0, false}, true
	case "AEAD_AES_256_GCM":
		return suiteInfo{32, 12, srtpMax, 0, false}, true
	}
	return suiteInfo{}, false
}

// canonicalSuite returns the registered spelling of s when it names a known
// suite in another letter case (some peers send lower case), and s
// otherwise.
func canonicalSuite(s string) Suite {
	u := Suite(strings.ToUpper(s))
	if _, ok := lookupSuite(u); ok {
		return u
	}
	return Suite(s)
}

// Supported reports whether the suite is one we negotiate.
func (s Suite) Supported() bool {
	info, _ := lookupSuite(s)
	return info.supported
}

// Profile returns the pion/srtp protection profile for a supported suite.
func (s Suite) Profile() (srtp.ProtectionProfile, bool) {
	info, _ := lookupSuite(s)
	if !info.supported {
		return 0, false
	}
	return info.profile, true
}

// KeyLengths returns the master key and master salt lengths in bytes of a
// registered suite; ok is false for a suite we do not know.
func (s Suite) KeyLengths() (key, salt int, ok bool) {
	info, ok := lookupSuite(s)
	return info.keyLen, info.saltLen, ok
}
