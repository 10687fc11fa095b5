package update

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// MaxPackageSize bounds an uploaded package, and MaxBinarySize the program
// unpacked from it (the arm64 binary is about 15 MB).
const (
	MaxPackageSize = 64 << 20
	MaxBinarySize  = 64 << 20
)

// BinaryPath is the program inside the package's data archive.
const BinaryPath = "usr/bin/tipring"

// Package is what an update takes from a .deb.
type Package struct {
	Name    string // control Package: "tipring"
	Version string // control Version: also the slot's directory name
	Arch    string // control Architecture: amd64, arm64, armhf, armel
	Binary  []byte // usr/bin/tipring
}

// versionRE is what a slot directory may be named after: a Debian version
// with no path separator and no leading dot.
var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~:-]{0,63}$`)

// GOARCH maps a Debian architecture to Go's name for it.
func GOARCH(debArch string) string {
	switch debArch {
	case "amd64", "arm64", "riscv64":
		return debArch
	case "armhf", "armel":
		return "arm"
	case "i386":
		return "386"
	}
	return ""
}

// ReadPackage takes the program out of a Tipring .deb (an ar archive of
// debian-binary, control.tar.gz and data.tar.gz, as tools/deb writes;
// uncompressed tars too) and checks that it runs on goarch. It reads
// nothing outside b and writes nothing.
func ReadPackage(b []byte, goarch string) (*Package, error) {
	if len(b) > MaxPackageSize {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrPackage, MaxPackageSize>>20)
	}
	members, err := readAr(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPackage, err)
	}
	var control []byte
	var p Package
	seen := map[string]bool{}
	for _, m := range members {
		kind, _, _ := strings.Cut(m.name, ".")
		switch kind {
		case "debian-binary", "control", "data":
		default:
			continue
		}
		if seen[kind] {
			return nil, fmt.Errorf("%w: two %s members", ErrPackage, kind)
		}
		seen[kind] = true
		switch kind {
		case "debian-binary":
			if !strings.HasPrefix(string(m.data), "2.") {
				return nil, fmt.Errorf("%w: debian-binary is %q, not 2.x", ErrPackage, truncate(string(m.data), 16))
			}
		case "control":
			if control, err = tarFile(m.name, m.data, "control", 1<<20); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrPackage, err)
			}
			if control == nil {
				return nil, fmt.Errorf("%w: %s has no control file", ErrPackage, m.name)
			}
		case "data":
			if p.Binary, err = tarFile(m.name, m.data, BinaryPath, MaxBinarySize); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrPackage, err)
			}
		}
	}
	switch {
	case !seen["debian-binary"]:
		return nil, fmt.Errorf("%w: no debian-binary member: not a Debian package", ErrPackage)
	case control == nil:
		return nil, fmt.Errorf("%w: no control archive", ErrPackage)
	case p.Binary == nil:
		return nil, fmt.Errorf("%w: no /%s in the data archive", ErrPackage, BinaryPath)
	case len(p.Binary) == 0:
		return nil, fmt.Errorf("%w: /%s is empty", ErrPackage, BinaryPath)
	}
	fields := parseControl(control)
	p.Name, p.Version, p.Arch = fields["Package"], fields["Version"], fields["Architecture"]
	if p.Name != "tipring" {
		return nil, fmt.Errorf("%w: package %q is not tipring", ErrPackage, p.Name)
	}
	if !versionRE.MatchString(p.Version) {
		return nil, fmt.Errorf("%w: version %q is not a Debian version", ErrPackage, truncate(p.Version, 70))
	}
	if g := GOARCH(p.Arch); g != goarch {
		return nil, fmt.Errorf("%w: it is for %q, this gateway is %s (Debian %s)", ErrPackage, truncate(p.Arch, 20), goarch, debArches(goarch))
	}
	return &p, nil
}

func debArches(goarch string) string {
	if goarch == "arm" {
		return "armhf or armel"
	}
	if goarch == "386" {
		return "i386"
	}
	return goarch
}

type arMember struct {
	name string
	data []byte
}

// readAr splits a common-format ar archive (what dpkg-deb writes: 16-byte
// names, optionally ending in "/", decimal sizes, members padded to even
// offsets). The data of each member is a slice of b.
func readAr(b []byte) ([]arMember, error) {
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		return nil, errors.New("not an ar archive (no \"!<arch>\" magic)")
	}
	var out []arMember
	rest := b[8:]
	for len(rest) > 0 {
		if len(out) == 16 {
			return nil, errors.New("more than 16 ar members")
		}
		if len(rest) < 60 || string(rest[58:60]) != "`\n" {
			return nil, fmt.Errorf("ar member %d: bad header", len(out)+1)
		}
		name := strings.TrimSuffix(strings.TrimRight(string(rest[:16]), " "), "/")
		if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
			return nil, fmt.Errorf("ar member %d: bad name %q", len(out)+1, name)
		}
		size, err := strconv.ParseInt(strings.TrimRight(string(rest[48:58]), " "), 10, 64)
		if err != nil || size < 0 || size > int64(len(rest)-60) {
			return nil, fmt.Errorf("ar member %q: bad size", name)
		}
		out = append(out, arMember{name, rest[60 : 60+size]})
		rest = rest[60+size:]
		if size%2 == 1 && len(rest) > 0 {
			if rest[0] != '\n' {
				return nil, fmt.Errorf("ar member %q: bad padding", name)
			}
			rest = rest[1:]
		}
	}
	return out, nil
}

// tarFile returns the regular file want (relative, clean: "usr/bin/tipring")
// from the tar member, nil when it is not there. Entries are matched by
// their cleaned name ("./usr/bin/tipring" and "usr/bin/tipring" both
// match); names that climb out ("../x") or a second entry of want are
// refused, as is want being anything but a regular file or larger than
// limit.
func tarFile(member string, data []byte, want string, limit int64) ([]byte, error) {
	var r io.Reader = bytes.NewReader(data)
	switch path.Ext(member) {
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		defer zr.Close()
		r = zr
	case ".tar":
	default:
		return nil, fmt.Errorf("%s: compression not supported (Tipring packages use gzip)", member)
	}
	tr := tar.NewReader(r)
	var found []byte
	for n := 0; ; n++ {
		if n > 10000 {
			return nil, fmt.Errorf("%s: more than 10000 entries", member)
		}
		h, err := tr.Next()
		if err == io.EOF {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		clean := path.Clean("/" + name)[1:]
		if strings.HasPrefix(h.Name, "/") || strings.HasPrefix(path.Clean(name), "..") {
			return nil, fmt.Errorf("%s: entry %q leaves the archive", member, truncate(h.Name, 80))
		}
		if clean != want {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%s: /%s is in it twice", member, want)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: /%s is not a regular file", member, want)
		}
		if h.Size > limit {
			return nil, fmt.Errorf("%s: /%s is larger than %d MiB", member, want, limit>>20)
		}
		found, err = io.ReadAll(io.LimitReader(tr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("%s: /%s: %w", member, want, err)
		}
		if int64(len(found)) > limit {
			return nil, fmt.Errorf("%s: /%s is larger than %d MiB", member, want, limit>>20)
		}
		if found == nil {
			found = []byte{}
		}
	}
}

// parseControl reads a control file's fields (continuation lines are
// skipped: no field this package reads has them).
func parseControl(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			if _, dup := out[k]; !dup {
				out[k] = strings.TrimSpace(v)
			}
		}
	}
	return out
}
