package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenkeySignVerify: a key pair, a signature next to the file that
// verifies with the public key, a refusal once the file changes, and no
// key overwritten.
func TestGenkeySignVerify(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	var out bytes.Buffer
	if err := run([]string{"-genkey", prefix}, &out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", fi, err)
	}
	if err := run([]string{"-genkey", prefix}, &out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second -genkey: %v", err)
	}
	deb := filepath.Join(dir, "tipring_1.0_amd64.deb")
	os.WriteFile(deb, []byte("!<arch>\npretend"), 0o644)
	if err := run([]string{"-key", prefix + ".key", deb}, &out); err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(deb + ".sig")
	if err != nil || !strings.HasPrefix(string(sig), "tipring-update-signature v1\nkey ") {
		t.Fatalf("signature %q, %v", sig, err)
	}
	if err := run([]string{"-verify", prefix + ".pub", deb}, &out); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(deb, []byte("!<arch>\npretenD"), 0o644)
	if err := run([]string{"-verify", prefix + ".pub", deb}, &out); err == nil {
		t.Fatal("a changed package verified")
	}
}
