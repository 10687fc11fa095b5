package update_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/tipring/tipring/firmware/update"
)

// A package is accepted only with a good signature by a trusted key.
func ExampleVerify() {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, ed25519.SeedSize))
	trusted := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	pkg := []byte("!<arch>\n…the .deb…")
	sig := update.Sign(key, pkg) // what `updatesign -key` writes to FILE.deb.sig

	signer, err := update.Verify(pkg, sig, trusted)
	fmt.Println(update.Fingerprint(signer), err)

	pkg[len(pkg)-1] ^= 1 // one flipped bit
	_, err = update.Verify(pkg, sig, trusted)
	fmt.Println(errors.Is(err, update.ErrBadSignature))

	_, err = update.Verify(pkg, sig, nil)
	fmt.Println(errors.Is(err, update.ErrNoTrustedKey))
	// Output:
	// SHA256:b600306cfa76723f <nil>
	// true
	// true
}
