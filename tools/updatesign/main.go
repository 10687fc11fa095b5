// Command updatesign makes the signing key of Tipring firmware updates and
// signs packages with it (firmware/update, tools/deb/README.md).
//
//	updatesign -genkey PREFIX            writes PREFIX.key (private, 0600) and PREFIX.pub
//	updatesign -key PREFIX.key FILE.deb…  writes FILE.deb.sig next to each package
//	updatesign -verify PREFIX.pub FILE.deb…  checks FILE.deb.sig against the key
//
// PREFIX.pub holds the public key in standard base64 on one line: put it
// in the gateway's configuration (update.public_keys) or build it in
// (-ldflags -X main.updateKey=…). PREFIX.key holds the Ed25519 private key
// (its 32-byte seed) in base64; keep it off the gateways.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tipring/tipring/firmware/update"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "updatesign: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("updatesign", flag.ContinueOnError)
	genkey := fs.String("genkey", "", "write a new key pair to `PREFIX`.key and PREFIX.pub")
	keyFile := fs.String("key", "", "sign the packages with this private key `file`")
	verify := fs.String("verify", "", "check the packages' .sig files against this public key `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *genkey != "":
		if fs.NArg() > 0 {
			return errors.New("-genkey takes no files")
		}
		return genKey(*genkey, stdout)
	case *keyFile != "":
		if fs.NArg() == 0 {
			return errors.New("name the packages to sign")
		}
		priv, err := readPrivate(*keyFile)
		if err != nil {
			return err
		}
		for _, f := range fs.Args() {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if err := writeFile(f+".sig", update.Sign(priv, data), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s.sig (key %s)\n", f, update.Fingerprint(priv.Public().(ed25519.PublicKey)))
		}
		return nil
	case *verify != "":
		b, err := os.ReadFile(*verify)
		if err != nil {
			return err
		}
		pub, err := update.ParseKey(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", *verify, err)
		}
		for _, f := range fs.Args() {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			sig, err := os.ReadFile(f + ".sig")
			if err != nil {
				return err
			}
			if _, err := update.Verify(data, sig, []ed25519.PublicKey{pub}); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			fmt.Fprintf(stdout, "%s: good signature by %s\n", f, update.Fingerprint(pub))
		}
		return nil
	}
	fs.Usage()
	return errors.New("give -genkey PREFIX, -key FILE or -verify FILE")
}

func genKey(prefix string, stdout io.Writer) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	for _, name := range []string{prefix + ".key", prefix + ".pub"} {
		if _, err := os.Stat(name); err == nil {
			return fmt.Errorf("%s exists: not overwriting a key", name)
		}
	}
	if err := writeFile(prefix+".key", []byte(base64.StdEncoding.EncodeToString(priv.Seed())+"\n"), 0o600); err != nil {
		return err
	}
	if err := writeFile(prefix+".pub", []byte(base64.StdEncoding.EncodeToString(pub)+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.key (private: keep it safe)\n%s.pub (public, key %s): put this line in update.public_keys\n%s\n",
		prefix, prefix, update.Fingerprint(pub), base64.StdEncoding.EncodeToString(pub))
	return nil
}

func readPrivate(name string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s is not a key from updatesign -genkey (base64 of a 32-byte Ed25519 seed)", name)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// writeFile writes through a temporary file, so that a signature is
// never half written.
func writeFile(name string, data []byte, mode os.FileMode) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}
