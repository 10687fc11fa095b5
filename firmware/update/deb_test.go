package update

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tipring/tipring/firmware/update/updatetest"
)

// testDeb builds Tipring's real package around bin.
func testDeb(t testing.TB, arch, version string, bin []byte) []byte {
	t.Helper()
	return updatetest.Deb(t, arch, version, bin)
}

// handDeb builds a package by hand: control fields and data entries as
// given, for the packages tools/deb would never write.
func handDeb(t testing.TB, control string, entries ...tar.Header) []byte {
	t.Helper()
	tgz := func(files map[string]string, hs []tar.Header) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		for name, body := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			tw.Write([]byte(body))
		}
		for _, h := range hs {
			body := strings.Repeat("x", int(h.Size))
			tw.WriteHeader(&h)
			tw.Write([]byte(body))
		}
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", tgz(map[string]string{"./control": control}, nil)},
		{"data.tar.gz", tgz(nil, entries)},
	} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.data))
		ar.Write(m.data)
		if len(m.data)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	return ar.Bytes()
}

const amd64Control = "Package: tipring\nVersion: 2.0\nArchitecture: amd64\n"

func reg(name string, size int64) tar.Header {
	return tar.Header{Name: name, Mode: 0o755, Size: size, Typeflag: tar.TypeReg}
}

func TestReadPackage(t *testing.T) {
	bin := []byte("\x7fELF pretend program")
	p, err := ReadPackage(testDeb(t, "arm64", "1.2.3-1", bin), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "tipring" || p.Version != "1.2.3-1" || p.Arch != "arm64" || !bytes.Equal(p.Binary, bin) {
		t.Fatalf("read %+v", p)
	}
	// armhf and armel packages run where Go says arm.
	for _, a := range []string{"armhf", "armel"} {
		if _, err := ReadPackage(testDeb(t, a, "1.0", bin), "arm"); err != nil {
			t.Errorf("%s on arm: %v", a, err)
		}
	}
}

func TestReadPackageRefuses(t *testing.T) {
	bin := []byte("program")
	good := testDeb(t, "amd64", "2.0", bin)
	huge := append([]byte("!<arch>\n"), make([]byte, MaxPackageSize)...)
	xz := bytes.Replace(good, []byte("data.tar.gz"), []byte("data.tar.xz"), 1)
	for _, tc := range []struct {
		name   string
		pkg    []byte
		goarch string
		want   string
	}{
		{"wrong architecture", testDeb(t, "arm64", "2.0", bin), "amd64", `it is for "arm64", this gateway is amd64`},
		{"arm package on amd64", testDeb(t, "armhf", "2.0", bin), "amd64", `"armhf"`},
		{"amd64 package on arm", good, "arm", "armhf or armel"},
		{"oversize", huge, "amd64", "larger than 64 MiB"},
		{"not an ar archive", []byte("PK\x03\x04 a zip"), "amd64", "not an ar archive"},
		{"truncated", good[:len(good)-100], "amd64", "bad size"},
		{"xz data", xz, "amd64", "compression not supported"},
		{"another package", handDeb(t, "Package: bash\nVersion: 5\nArchitecture: amd64\n", reg("./usr/bin/tipring", 4)), "amd64", `package "bash"`},
		{"no program", handDeb(t, amd64Control, reg("./usr/bin/other", 4)), "amd64", "no /usr/bin/tipring"},
		{"empty program", handDeb(t, amd64Control, reg("./usr/bin/tipring", 0)), "amd64", "is empty"},
		{"program twice", handDeb(t, amd64Control, reg("./usr/bin/tipring", 4), reg("usr/bin/tipring", 4)), "amd64", "in it twice"},
		{"program is a symlink", handDeb(t, amd64Control, tar.Header{Name: "./usr/bin/tipring", Typeflag: tar.TypeSymlink, Linkname: "/bin/sh"}), "amd64", "not a regular file"},
		{"climbing path", handDeb(t, amd64Control, reg("../usr/bin/tipring", 4)), "amd64", "leaves the archive"},
		{"climbing path inside", handDeb(t, amd64Control, reg("./usr/../../etc/passwd", 4)), "amd64", "leaves the archive"},
		{"absolute path", handDeb(t, amd64Control, reg("/usr/bin/tipring", 4)), "amd64", "leaves the archive"},
		{"version with a slash", handDeb(t, "Package: tipring\nVersion: ../../x\nArchitecture: amd64\n", reg("./usr/bin/tipring", 4)), "amd64", "not a Debian version"},
		{"dot version", handDeb(t, "Package: tipring\nVersion: ..\nArchitecture: amd64\n", reg("./usr/bin/tipring", 4)), "amd64", "not a Debian version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadPackage(tc.pkg, tc.goarch)
			if !errors.Is(err, ErrPackage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadPackage = %+v, %v; want ErrPackage …%s…", p, err, tc.want)
			}
		})
	}
}

// TestProgramSizeLimit: the program is read up to the limit and refused
// beyond it, whatever its tar header claims.
func TestProgramSizeLimit(t *testing.T) {
	pkg := handDeb(t, amd64Control, reg("./usr/bin/tipring", 2048))
	members, err := readAr(pkg)
	if err != nil {
		t.Fatal(err)
	}
	data := members[2].data
	if b, err := tarFile("data.tar.gz", data, BinaryPath, 2048); err != nil || len(b) != 2048 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := tarFile("data.tar.gz", data, BinaryPath, 2047); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("over the limit: %v", err)
	}
}

func FuzzReadPackage(f *testing.F) {
	f.Add(testDeb(f, "amd64", "2.0", []byte("program")))
	f.Add(handDeb(f, amd64Control, reg("./usr/bin/tipring", 4)))
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPackage(b, "amd64")
		if err != nil {
			if !errors.Is(err, ErrPackage) {
				t.Fatalf("error %v is not ErrPackage", err)
			}
			return
		}
		if p.Name != "tipring" || !versionRE.MatchString(p.Version) || GOARCH(p.Arch) != "amd64" || len(p.Binary) == 0 {
			t.Fatalf("accepted %+v", p)
		}
	})
}
