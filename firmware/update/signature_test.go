package update

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func TestVerify(t *testing.T) {
	good, other := testKey(t, 1), testKey(t, 2)
	data := []byte("!<arch>\nthe package")
	sig := Sign(good, data)
	trusted := []ed25519.PublicKey{pub(other), pub(good)}

	if k, err := Verify(data, sig, trusted); err != nil || !k.Equal(pub(good)) {
		t.Fatalf("good signature: %v, %v", k, err)
	}
	// A signature file with Windows line ends is the same signature.
	if _, err := Verify(data, bytes.ReplaceAll(sig, []byte("\n"), []byte("\r\n")), trusted); err != nil {
		t.Fatalf("CRLF signature: %v", err)
	}
	tampered := bytes.Clone(data)
	tampered[len(tampered)-1] ^= 1
	badSig := bytes.Clone(sig)
	badSig[len(SignatureHeader)+60] ^= 0x20 // a letter of the base64 signature changes case
	for _, tc := range []struct {
		name      string
		data, sig []byte
		trusted   []ed25519.PublicKey
		want      error
	}{
		{"no trusted key", data, sig, nil, ErrNoTrustedKey},
		{"unsigned", data, nil, trusted, ErrUnsigned},
		{"untrusted key", data, Sign(other, data), []ed25519.PublicKey{pub(good)}, ErrUntrustedKey},
		{"one flipped bit in the package", tampered, sig, trusted, ErrBadSignature},
		{"signature altered", data, badSig, trusted, ErrBadSignature},
		{"another file's signature", data, Sign(good, []byte("other")), trusted, ErrBadSignature},
		{"bare base64 signature", data, []byte("AAAA"), trusted, ErrSignatureFormat},
		{"wrong header", data, bytes.Replace(sig, []byte("v1"), []byte("v2"), 1), trusted, ErrSignatureFormat},
		{"trailing line", data, append(bytes.Clone(sig), "extra\n"...), trusted, ErrSignatureFormat},
		{"short key", data, []byte(SignatureHeader + "\nkey AAAA\nsig AAAA\n"), trusted, ErrSignatureFormat},
		{"huge", data, bytes.Repeat([]byte("x"), MaxSignatureSize+1), trusted, ErrSignatureFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Verify(tc.data, tc.sig, tc.trusted)
			if !errors.Is(err, tc.want) || k != nil {
				t.Fatalf("Verify = %v, %v; want %v", k, err, tc.want)
			}
		})
	}
	// The refusal of an untrusted key names it, so the admin knows which
	// key to add, or which build was signed with the wrong one.
	_, err := Verify(data, Sign(other, data), []ed25519.PublicKey{pub(good)})
	if !strings.Contains(err.Error(), Fingerprint(pub(other))) {
		t.Errorf("untrusted: %v does not name %s", err, Fingerprint(pub(other)))
	}
	if !strings.Contains(ErrNoTrustedKey.Error(), "update.public_keys") {
		t.Errorf("no key: %v does not say how to add one", ErrNoTrustedKey)
	}
}

func TestParseSignatureRoundTrip(t *testing.T) {
	k := testKey(t, 3)
	s, err := ParseSignature(Sign(k, []byte("x")))
	if err != nil || !s.Key.Equal(pub(k)) || !ed25519.Verify(s.Key, []byte("x"), s.Sig) {
		t.Fatalf("%+v %v", s, err)
	}
	if !bytes.Equal(s.Marshal(), Sign(k, []byte("x"))) {
		t.Fatal("Marshal is not the signed form")
	}
}

func FuzzParseSignature(f *testing.F) {
	k := testKey(f, 4)
	f.Add(Sign(k, []byte("package")))
	f.Add([]byte(SignatureHeader + "\nkey \nsig \n"))
	f.Add([]byte(""))
	f.Add([]byte(SignatureHeader + "\r\nkey AAAA\r\nsig AAAA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignature(b)
		if err != nil {
			if !errors.Is(err, ErrSignatureFormat) && !errors.Is(err, ErrUnsigned) {
				t.Fatalf("error %v is not ErrSignatureFormat", err)
			}
			return
		}
		if len(s.Key) != ed25519.PublicKeySize || len(s.Sig) != ed25519.SignatureSize {
			t.Fatalf("parsed sizes %d %d", len(s.Key), len(s.Sig))
		}
		again, err := ParseSignature(s.Marshal())
		if err != nil || !again.Key.Equal(s.Key) || !bytes.Equal(again.Sig, s.Sig) {
			t.Fatalf("round trip: %v", err)
		}
		// Only the signer's key verifies: never panics on any input.
		Verify([]byte("package"), b, []ed25519.PublicKey{pub(k)})
	})
}
