package sdes

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/pion/srtp/v3"
)

// Check reports whether our SRTP stack can honour the attribute. It refuses
// a suite we do not negotiate, several keys without distinct MKIs of one
// length (RFC 4568 §6.1), an MKI longer than MaxUsableMKILength, a lifetime
// beyond the suite's limit, a key derivation rate (pion/srtp derives the
// session keys once), UNAUTHENTICATED_SRTP (pion/srtp always
// authenticates), and an unknown session parameter not marked optional with
// "-" (RFC 4568 §6.3). FEC_ORDER and FEC_KEY are accepted and ignored: we
// use no FEC. WSH is a hint and is accepted.
func (c Crypto) Check() error {
	info, _ := lookupSuite(c.Suite)
	if !info.supported {
		return fmt.Errorf("%w: %s", ErrUnsupportedSuite, c.Suite)
	}
	if len(c.Keys) == 0 {
		return fmt.Errorf("tag %d: %w", c.Tag, ErrNoKey)
	}
	for i, k := range c.Keys {
		if len(k.MasterKey) != info.keyLen || len(k.MasterSalt) != info.saltLen {
			return fmt.Errorf("tag %d key %d: %w", c.Tag, i+1, ErrKeyLength)
		}
		if k.Lifetime > info.maxLifetime {
			return fmt.Errorf("%w: tag %d key %d: lifetime %s exceeds %s's 2^48 packets",
				ErrUnsupportedParam, c.Tag, i+1, formatLifetime(k.Lifetime), c.Suite)
		}
		if len(k.MKI) > MaxUsableMKILength {
			return fmt.Errorf("%w: tag %d key %d: MKI of %d bytes, we use at most %d",
				ErrUnsupportedParam, c.Tag, i+1, len(k.MKI), MaxUsableMKILength)
		}
		if len(c.Keys) > 1 {
			if len(k.MKI) == 0 || len(k.MKI) != len(c.Keys[0].MKI) {
				return fmt.Errorf("%w: tag %d: several keys need MKIs of one length", ErrUnsupportedParam, c.Tag)
			}
			for _, prev := range c.Keys[:i] {
				if bytes.Equal(prev.MKI, k.MKI) {
					return fmt.Errorf("%w: tag %d: two keys share one MKI", ErrUnsupportedParam, c.Tag)
				}
			}
		}
	}
	p := c.Params
	switch {
	case p.HasKDR:
		return fmt.Errorf("%w: tag %d: KDR=%d, we derive session keys once", ErrUnsupportedParam, c.Tag, p.KDR)
	case p.UnauthenticatedSRTP:
		return fmt.Errorf("%w: tag %d: UNAUTHENTICATED_SRTP", ErrUnsupportedParam, c.Tag)
	}
	for _, e := range p.Extensions {
		if !strings.HasPrefix(e, "-") {
			return fmt.Errorf("%w: tag %d: session parameter %q", ErrUnsupportedParam, c.Tag, e)
		}
	}
	return nil
}

// Select returns the first attribute, in the offerer's order of preference,
// that Check accepts: the answerer's choice of RFC 4568 §7.1.2. When none
// is usable the error wraps ErrNoKey and the reason the last one was
// refused.
func Select(offered []Crypto) (Crypto, error) {
	var last error
	for _, c := range offered {
		err := c.Check()
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil {
		return Crypto{}, fmt.Errorf("%w: no crypto attribute offered", ErrNoKey)
	}
	return Crypto{}, fmt.Errorf("%w: none of %d crypto attributes usable: %w", ErrNoKey, len(offered), last)
}

// NewKey makes a fresh master key and salt for suite from rnd, or from
// crypto/rand when rnd is nil.
func NewKey(suite Suite, rnd io.Reader) (Key, error) {
	info, _ := lookupSuite(suite)
	if !info.supported {
		return Key{}, fmt.Errorf("%w: %s", ErrUnsupportedSuite, suite)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	material := make([]byte, info.keyLen+info.saltLen)
	if _, err := io.ReadFull(rnd, material); err != nil {
		return Key{}, fmt.Errorf("sdes: generating %s key: %w", suite, err)
	}
	return Key{MasterKey: material[:info.keyLen:info.keyLen], MasterSalt: material[info.keyLen:]}, nil
}

// Generate makes a crypto attribute under tag with a fresh key from rnd, or
// from crypto/rand when rnd is nil.
func Generate(tag uint32, suite Suite, rnd io.Reader) (Crypto, error) {
	if tag > MaxTag {
		return Crypto{}, fmt.Errorf("%w: %d", ErrTag, tag)
	}
	key, err := NewKey(suite, rnd)
	if err != nil {
		return Crypto{}, err
	}
	return Crypto{Tag: tag, Suite: suite, Keys: []Key{key}}, nil
}

// Respond makes the answer to an accepted offered attribute (RFC 4568
// §7.1.2): the same tag and suite, with our key. key must have been made
// for the offered suite; it is copied, not shared. Respond repeats
// UNENCRYPTED_SRTP and UNENCRYPTED_SRTCP, which apply to both directions,
// and gives our key an MKI of the same length when the offer's key has one
// and ours has none, since peers that send an MKI (Microsoft's among them)
// expect one back.
func Respond(offered Crypto, key Key) (Crypto, error) {
	if err := offered.Check(); err != nil {
		return Crypto{}, err
	}
	keyLen, saltLen, _ := offered.Suite.KeyLengths()
	if len(key.MasterKey) != keyLen || len(key.MasterSalt) != saltLen {
		return Crypto{}, fmt.Errorf("%w: our key does not fit %s", ErrKeyLength, offered.Suite)
	}
	own := Key{
		MasterKey:  bytes.Clone(key.MasterKey),
		MasterSalt: bytes.Clone(key.MasterSalt),
		Lifetime:   key.Lifetime,
		MKI:        bytes.Clone(key.MKI),
	}
	if n := len(offered.Keys[0].MKI); n > 0 && len(own.MKI) == 0 {
		own.MKI = make([]byte, n)
		own.MKI[n-1] = 1
	}
	c := Crypto{Tag: offered.Tag, Suite: offered.Suite, Keys: []Key{own}}
	c.Params.UnencryptedSRTP = offered.Params.UnencryptedSRTP
	c.Params.UnencryptedSRTCP = offered.Params.UnencryptedSRTCP
	return c, nil
}

// Profile returns the pion/srtp protection profile of the attribute's
// suite.
func (c Crypto) Profile() (srtp.ProtectionProfile, error) {
	p, ok := c.Suite.Profile()
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnsupportedSuite, c.Suite)
	}
	return p, nil
}

// ContextOptions returns the pion/srtp options the attribute implies: the
// MKI of its first key, and no encryption of SRTP or SRTCP when
// UNENCRYPTED_SRTP or UNENCRYPTED_SRTCP is given.
func (c Crypto) ContextOptions() []srtp.ContextOption {
	var opts []srtp.ContextOption
	if len(c.Keys) > 0 && len(c.Keys[0].MKI) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(c.Keys[0].MKI))
	}
	if c.Params.UnencryptedSRTP {
		opts = append(opts, srtp.SRTPNoEncryption())
	}
	if c.Params.UnencryptedSRTCP {
		opts = append(opts, srtp.SRTCPNoEncryption())
	}
	return opts
}

// NewContext builds a pion/srtp context from the attribute: from our own
// attribute to protect what we send, from the peer's to unprotect what we
// receive. Every key of the line is loaded under its MKI; the first one
// protects. opts come after the attribute's own options, for example
// srtp.SRTPReplayProtection for a receiving context.
func (c Crypto) NewContext(opts ...srtp.ContextOption) (*srtp.Context, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	profile, err := c.Profile()
	if err != nil {
		return nil, err
	}
	first := c.Keys[0]
	ctx, err := srtp.CreateContext(first.MasterKey, first.MasterSalt, profile,
		append(c.ContextOptions(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: tag %d: %w", ErrContext, c.Tag, err)
	}
	for _, k := range c.Keys[1:] {
		if err := ctx.AddCipherForMKI(k.MKI, k.MasterKey, k.MasterSalt); err != nil {
			return nil, fmt.Errorf("%w: tag %d: %w", ErrContext, c.Tag, err)
		}
	}
	return ctx, nil
}
