package sdes

import "errors"

// Errors returned by Parse and by the checks that decide whether a crypto
// attribute can be used. Callers test for them with errors.Is; the returned
// errors wrap them with the offending text.
var (
	// ErrSyntax means the attribute does not follow the RFC 4568 §9 grammar.
	ErrSyntax = errors.New("sdes: malformed crypto attribute")
	// ErrTag means the tag is not a decimal number of 1 to 9 digits.
	ErrTag = errors.New("sdes: invalid tag")
	// ErrKeyMethod means a key parameter uses a method other than "inline".
	ErrKeyMethod = errors.New("sdes: unsupported key method")
	// ErrBase64 means the inline key and salt are not valid base64.
	ErrBase64 = errors.New("sdes: key is not valid base64")
	// ErrKeyLength means the decoded key and salt do not have the length the
	// crypto-suite requires.
	ErrKeyLength = errors.New("sdes: wrong master key and salt length")
	// ErrLifetime means the key lifetime is zero, malformed or does not fit
	// in 64 bits.
	ErrLifetime = errors.New("sdes: invalid key lifetime")
	// ErrMKI means the MKI value or length is malformed, the length is
	// outside 1 to 128 bytes, or the value does not fit in the length.
	ErrMKI = errors.New("sdes: invalid MKI")
	// ErrSessionParam means a known session parameter has a malformed value.
	ErrSessionParam = errors.New("sdes: invalid session parameter")

	// ErrUnsupportedSuite means the crypto-suite is parsed but not one we
	// negotiate.
	ErrUnsupportedSuite = errors.New("sdes: unsupported crypto-suite")
	// ErrUnsupportedParam means the attribute asks for something our SRTP
	// stack cannot honour (a session parameter, an MKI we do not handle, a
	// lifetime beyond the suite's limit).
	ErrUnsupportedParam = errors.New("sdes: unsupported crypto parameter")
	// ErrNoKey means an attribute carries no key parameter we could use.
	ErrNoKey = errors.New("sdes: no usable key")
	// ErrContext wraps an error pion/srtp returned while NewContext built a
	// context.
	ErrContext = errors.New("sdes: creating SRTP context")
)
