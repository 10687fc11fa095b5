// Package updatetest builds update packages for tests: Tipring's real
// Debian package (tools/deb, as `make deb` does) around a program the test
// chooses.
package updatetest

import (
	"runtime"
	"testing"

	"github.com/tipring/tipring/tools/deb"
)

// Deb returns the package of version for the Debian architecture arch
// ("" for this machine's) holding bin as usr/bin/tipring.
func Deb(tb testing.TB, arch, version string, bin []byte) []byte {
	tb.Helper()
	if arch == "" {
		arch = map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}[runtime.GOARCH]
	}
	p, err := deb.Tipring(deb.Options{Arch: arch, Version: version, Epoch: 1700000000, Binaries: map[string][]byte{"tipring": bin}})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := p.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
