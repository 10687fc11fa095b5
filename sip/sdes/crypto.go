package sdes

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Limits from the RFC 4568 §9 grammar and from what our SRTP stack uses.
const (
	// MaxTag is the largest tag: the grammar allows 1 to 9 digits.
	MaxTag = 999999999
	// MaxMKILength is the largest MKI length in bytes the grammar allows
	// (RFC 4568 §6.1: 1 to 128).
	MaxMKILength = 128
	// MaxUsableMKILength is the largest MKI length Check accepts. Deployed
	// peers use 1 to 4 bytes; longer MKIs only waste packet space.
	MaxUsableMKILength = 4
	// MaxKDR is the largest KDR exponent (RFC 4568 §6.3.1: 0 to 24).
	MaxKDR = 24
	// MinWSH is the smallest window size hint (RFC 4568 §6.3.7, RFC 3711
	// §3.3.2: the replay window is at least 64 packets).
	MinWSH = 64
)

// Crypto is one a=crypto attribute (RFC 4568 §4).
type Crypto struct {
	// Tag identifies the attribute within its media description; the
	// answer repeats the tag of the offered line it accepts.
	Tag uint32
	// Suite is the crypto-suite; it decides the key lengths and the SRTP
	// transform.
	Suite Suite
	// Keys holds the key parameters, at least one. RFC 4568 §6.1 allows
	// several on one line when each carries an MKI.
	Keys []Key
	// Params holds the session parameters.
	Params SessionParams
}

// Key is one "inline:" key parameter (RFC 4568 §6.1).
type Key struct {
	// MasterKey and MasterSalt are the SRTP master key and salt. For a
	// suite this package does not know, the whole decoded key-salt string
	// is in MasterKey and MasterSalt is empty.
	MasterKey, MasterSalt []byte
	// Lifetime is the number of SRTP packets the master key may protect;
	// 0 when the line gives none, in which case the suite's maximum
	// applies.
	Lifetime uint64
	// MKI is the master key identifier as it appears in each SRTP packet:
	// the MKI value, big-endian, in exactly the MKI length in bytes. It is
	// nil when the key has no MKI.
	MKI []byte
}

// SessionParams are the SRTP session parameters of RFC 4568 §6.3. The zero
// value means none were given.
type SessionParams struct {
	// KDR is the key derivation rate exponent (the rate is 2^KDR packets);
	// it is meaningful only when HasKDR is true. Without KDR the master key
	// is derived once (RFC 3711 key_derivation_rate 0).
	KDR    uint8
	HasKDR bool
	// UnencryptedSRTP, UnencryptedSRTCP and UnauthenticatedSRTP switch off
	// the matching protection.
	UnencryptedSRTP, UnencryptedSRTCP, UnauthenticatedSRTP bool
	// FECOrder is "FEC_SRTP" or "SRTP_FEC" when given.
	FECOrder string
	// FECKey holds the keys for the FEC stream when given.
	FECKey []Key
	// WSH is the SRTP replay window size hint in packets, 0 when absent.
	WSH uint32
	// Extensions holds the session parameters this package does not know,
	// in order. RFC 4568 §6.3 lets a receiver ignore one that starts with
	// "-"; any other makes the line unusable.
	Extensions []string
}

// Parse reads the value of an a=crypto attribute, the text after
// "a=crypto:". It accepts any run of spaces or tabs between fields and
// unpadded base64. It checks the syntax and, for a registered suite, the key
// length; whether the line can be used is Check's business.
func Parse(value string) (Crypto, error) {
	fields := strings.Fields(value)
	if len(fields) < 3 {
		return Crypto{}, fmt.Errorf("%w: want tag, suite and key parameters, got %d fields", ErrSyntax, len(fields))
	}
	var c Crypto
	tag, err := parseTag(fields[0])
	if err != nil {
		return Crypto{}, err
	}
	c.Tag = tag
	if !isSuiteName(fields[1]) {
		return Crypto{}, fmt.Errorf("%w: crypto-suite %q", ErrSyntax, fields[1])
	}
	c.Suite = canonicalSuite(fields[1])
	c.Keys, err = parseKeyParams(fields[2], c.Suite)
	if err != nil {
		return Crypto{}, fmt.Errorf("tag %d: %w", c.Tag, err)
	}
	for _, f := range fields[3:] {
		if err := c.Params.parse(f, c.Suite); err != nil {
			return Crypto{}, fmt.Errorf("tag %d: %w", c.Tag, err)
		}
	}
	return c, nil
}

func parseTag(s string) (uint32, error) {
	if len(s) == 0 || len(s) > 9 || !allDigits(s) {
		return 0, fmt.Errorf("%w: %q", ErrTag, s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrTag, s)
	}
	return uint32(n), nil
}

func isSuiteName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseKeyParams reads key-param *(";" key-param) (RFC 4568 §9.1).
func parseKeyParams(s string, suite Suite) ([]Key, error) {
	parts := strings.Split(s, ";")
	keys := make([]Key, 0, len(parts))
	for i, p := range parts {
		k, err := parseKeyParam(p, suite)
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("key parameter %d: %w", i+1, err)
			}
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parseKeyParam reads "inline:" key-salt ["|" lifetime] ["|" mki]
// (RFC 4568 §9.2).
func parseKeyParam(s string, suite Suite) (Key, error) {
	method, info, ok := strings.Cut(s, ":")
	if !ok || method == "" || info == "" {
		return Key{}, fmt.Errorf("%w: key parameter of %d characters is not method:info", ErrSyntax, len(s))
	}
	if !strings.EqualFold(method, "inline") {
		return Key{}, fmt.Errorf("%w: %q", ErrKeyMethod, method)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return Key{}, fmt.Errorf("%w: inline key has %d '|' fields, at most 3 allowed", ErrSyntax, len(parts))
	}
	var k Key
	material, err := decodeBase64(parts[0])
	if err != nil {
		return Key{}, err
	}
	if keyLen, saltLen, known := suite.KeyLengths(); known {
		if len(material) != keyLen+saltLen {
			return Key{}, fmt.Errorf("%w: %s needs %d bytes of key and salt, got %d",
				ErrKeyLength, suite, keyLen+saltLen, len(material))
		}
		k.MasterKey, k.MasterSalt = material[:keyLen:keyLen], material[keyLen:]
	} else {
		k.MasterKey = material
	}
	rest := parts[1:]
	if len(rest) > 0 && !strings.Contains(rest[0], ":") {
		if k.Lifetime, err = parseLifetime(rest[0]); err != nil {
			return Key{}, err
		}
		rest = rest[1:]
	}
	switch len(rest) {
	case 0:
	case 1:
		if k.MKI, err = parseMKI(rest[0]); err != nil {
			return Key{}, err
		}
	default:
		return Key{}, fmt.Errorf("%w: lifetime %q must come before the MKI", ErrSyntax, rest[1])
	}
	return k, nil
}

// decodeBase64 decodes the key-salt string. RFC 4568 uses padded base64
// (RFC 4648 §4); some peers drop the padding, so both are accepted.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty key", ErrBase64)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.Strict().DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %d characters", ErrBase64, len(s))
	}
	return b, nil
}

// parseLifetime reads lifetime = ["2^"] 1*(DIGIT).
func parseLifetime(s string) (uint64, error) {
	digits, pow := strings.CutPrefix(s, "2^")
	if digits == "" || !allDigits(digits) {
		return 0, fmt.Errorf("%w: %q", ErrLifetime, s)
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrLifetime, s)
	}
	if pow {
		if n > 63 {
			return 0, fmt.Errorf("%w: %q overflows 64 bits", ErrLifetime, s)
		}
		return 1 << n, nil
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: zero", ErrLifetime)
	}
	return n, nil
}

// maxMKIDigits bounds the decimal MKI value: 2^1024 has 309 digits, and a
// few leading zeros are tolerated.
const maxMKIDigits = 320

// parseMKI reads mki = mki-value ":" mki-length and returns the value as
// big-endian bytes of the given length.
func parseMKI(s string) ([]byte, error) {
	v, l, _ := strings.Cut(s, ":")
	if v == "" || !allDigits(v) || len(v) > maxMKIDigits {
		return nil, fmt.Errorf("%w: value %q", ErrMKI, v)
	}
	if l == "" || len(l) > 3 || !allDigits(l) {
		return nil, fmt.Errorf("%w: length %q", ErrMKI, l)
	}
	n, _ := strconv.Atoi(l)
	if n < 1 || n > MaxMKILength {
		return nil, fmt.Errorf("%w: length %d outside 1 to %d bytes", ErrMKI, n, MaxMKILength)
	}
	var val big.Int
	val.SetString(v, 10)
	if val.BitLen() > 8*n {
		return nil, fmt.Errorf("%w: value %s does not fit in %d bytes", ErrMKI, v, n)
	}
	return val.FillBytes(make([]byte, n)), nil
}

// parse reads one session parameter (RFC 4568 §6.3).
func (p *SessionParams) parse(s string, suite Suite) error {
	name, val, hasVal := strings.Cut(s, "=")
	switch {
	case s == "UNENCRYPTED_SRTP":
		p.UnencryptedSRTP = true
	case s == "UNENCRYPTED_SRTCP":
		p.UnencryptedSRTCP = true
	case s == "UNAUTHENTICATED_SRTP":
		p.UnauthenticatedSRTP = true
	case hasVal && name == "KDR":
		n, err := strconv.ParseUint(val, 10, 8)
		if err != nil || len(val) > 2 || n > MaxKDR {
			return fmt.Errorf("%w: KDR=%q, want 0 to %d", ErrSessionParam, val, MaxKDR)
		}
		p.KDR, p.HasKDR = uint8(n), true
	case hasVal && name == "FEC_ORDER":
		if val != "FEC_SRTP" && val != "SRTP_FEC" {
			return fmt.Errorf("%w: FEC_ORDER=%q", ErrSessionParam, val)
		}
		p.FECOrder = val
	case hasVal && name == "FEC_KEY":
		keys, err := parseKeyParams(val, suite)
		if err != nil {
			return fmt.Errorf("%w: FEC_KEY: %w", ErrSessionParam, err)
		}
		p.FECKey = keys
	case hasVal && name == "WSH":
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n < MinWSH {
			return fmt.Errorf("%w: WSH=%q, want at least %d", ErrSessionParam, val, MinWSH)
		}
		p.WSH = uint32(n)
	default:
		p.Extensions = append(p.Extensions, s)
	}
	return nil
}

// String formats the attribute value, the text that follows "a=crypto:".
// The result contains the keys in clear.
func (c Crypto) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(c.Tag), 10))
	b.WriteByte(' ')
	b.WriteString(string(c.Suite))
	b.WriteByte(' ')
	writeKeys(&b, c.Keys)
	p := c.Params
	if p.HasKDR {
		b.WriteString(" KDR=")
		b.WriteString(strconv.Itoa(int(p.KDR)))
	}
	if p.UnencryptedSRTP {
		b.WriteString(" UNENCRYPTED_SRTP")
	}
	if p.UnencryptedSRTCP {
		b.WriteString(" UNENCRYPTED_SRTCP")
	}
	if p.UnauthenticatedSRTP {
		b.WriteString(" UNAUTHENTICATED_SRTP")
	}
	if p.FECOrder != "" {
		b.WriteString(" FEC_ORDER=")
		b.WriteString(p.FECOrder)
	}
	if len(p.FECKey) > 0 {
		b.WriteString(" FEC_KEY=")
		writeKeys(&b, p.FECKey)
	}
	if p.WSH != 0 {
		b.WriteString(" WSH=")
		b.WriteString(strconv.FormatUint(uint64(p.WSH), 10))
	}
	for _, e := range p.Extensions {
		b.WriteByte(' ')
		b.WriteString(e)
	}
	return b.String()
}

func writeKeys(b *strings.Builder, keys []Key) {
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString("inline:")
		material := make([]byte, 0, len(k.MasterKey)+len(k.MasterSalt))
		material = append(append(material, k.MasterKey...), k.MasterSalt...)
		b.WriteString(base64.StdEncoding.EncodeToString(material))
		if k.Lifetime != 0 {
			b.WriteByte('|')
			b.WriteString(formatLifetime(k.Lifetime))
		}
		if len(k.MKI) > 0 {
			b.WriteByte('|')
			b.WriteString(new(big.Int).SetBytes(k.MKI).String())
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(len(k.MKI)))
		}
	}
}

// formatLifetime writes a power of two as 2^n, the way peers write it, and
// anything else in decimal.
func formatLifetime(n uint64) string {
	if n > 1 && n&(n-1) == 0 {
		return "2^" + strconv.Itoa(bits.TrailingZeros64(n))
	}
	return strconv.FormatUint(n, 10)
}
