// Package sdes implements SDP security descriptions for SRTP: the a=crypto
// attribute of RFC 4568.
//
// An a=crypto line carries, in clear text inside the signalling, the master
// key and master salt an endpoint will use to protect the media it sends:
//
//	a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]
//
// The offerer lists one line per suite it accepts, each under its own tag;
// the answerer picks one, answers with the same tag and suite and its own
// key. Each side then encrypts with its own key and decrypts with the
// peer's. Parse and Crypto.String read and write the attribute value (the
// part after "a=crypto:"); NewKey and Generate make our keys with
// crypto/rand; Select and Respond implement the answerer's choice (RFC 4568
// §7.1); and Crypto.NewContext hands the result to pion/srtp.
//
// The parser accepts every registered suite and every session parameter of
// RFC 4568 §6.3 so that a line can be read, checked and skipped cleanly;
// Crypto.Check then says whether our SRTP stack can honour it. Only
// AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 are negotiated.
//
// Keys are secrets: nothing in this package logs them, and callers should
// not log a formatted attribute either.
package sdes
