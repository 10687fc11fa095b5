package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader is the first line of a signature file.
const SignatureHeader = "tipring-update-signature v1"

// MaxSignatureSize bounds a signature file; a real one is about 160 bytes.
const MaxSignatureSize = 4 << 10

// Signature is a detached Ed25519 signature over a whole package file, as
// its signature file holds it:
//
//	tipring-update-signature v1
//	key <base64 public key, 32 bytes>
//	sig <base64 signature, 64 bytes>
//
// Lines end in "\n" (a "\r" before it is tolerated); nothing else may
// follow. The key line names the signer, so that a gateway trusting several
// keys says which one signed, and one trusting none of them says so
// rather than "bad signature".
type Signature struct {
	Key ed25519.PublicKey
	Sig []byte
}

// Sign signs data with priv and returns the signature file.
func Sign(priv ed25519.PrivateKey, data []byte) []byte {
	s := Signature{Key: priv.Public().(ed25519.PublicKey), Sig: ed25519.Sign(priv, data)}
	return s.Marshal()
}

// Marshal returns the signature file.
func (s Signature) Marshal() []byte {
	return []byte(SignatureHeader + "\nkey " + base64.StdEncoding.EncodeToString(s.Key) +
		"\nsig " + base64.StdEncoding.EncodeToString(s.Sig) + "\n")
}

// ParseSignature reads a signature file.
func ParseSignature(b []byte) (Signature, error) {
	if len(b) == 0 {
		return Signature{}, ErrUnsigned
	}
	if len(b) > MaxSignatureSize {
		return Signature{}, fmt.Errorf("%w: larger than %d bytes", ErrSignatureFormat, MaxSignatureSize)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 3 || lines[0] != SignatureHeader {
		return Signature{}, fmt.Errorf("%w: want the 3 lines %q, key and sig", ErrSignatureFormat, SignatureHeader)
	}
	field := func(line, name string, size int) ([]byte, error) {
		v, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			return nil, fmt.Errorf("%w: line %q does not start with %q", ErrSignatureFormat, truncate(line, 40), name+" ")
		}
		d, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil || len(d) != size {
			return nil, fmt.Errorf("%w: %s is not %d bytes of base64", ErrSignatureFormat, name, size)
		}
		return d, nil
	}
	key, err := field(lines[1], "key", ed25519.PublicKeySize)
	if err != nil {
		return Signature{}, err
	}
	sig, err := field(lines[2], "sig", ed25519.SignatureSize)
	if err != nil {
		return Signature{}, err
	}
	return Signature{Key: key, Sig: sig}, nil
}

// Verify checks that sigFile is a good signature of data by one of the
// trusted keys and returns that key. It refuses everything when trusted is
// empty.
func Verify(data, sigFile []byte, trusted []ed25519.PublicKey) (ed25519.PublicKey, error) {
	if len(trusted) == 0 {
		return nil, ErrNoTrustedKey
	}
	s, err := ParseSignature(sigFile)
	if err != nil {
		return nil, err
	}
	for _, k := range trusted {
		if bytes.Equal(k, s.Key) {
			if !ed25519.Verify(k, data, s.Sig) {
				return nil, fmt.Errorf("%w (key %s)", ErrBadSignature, Fingerprint(k))
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: signed by key %s", ErrUntrustedKey, Fingerprint(s.Key))
}

// Fingerprint names a public key briefly: "SHA256:" and the first 16 hex
// digits of the SHA-256 of its 32 bytes.
func Fingerprint(k ed25519.PublicKey) string {
	h := sha256.Sum256(k)
	return "SHA256:" + hex.EncodeToString(h[:8])
}

// ParseKey decodes a standard-base64 Ed25519 public key.
func ParseKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 Ed25519 public key (32 bytes)")
	}
	return ed25519.PublicKey(b), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
