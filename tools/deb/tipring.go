package deb

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The files of the package that are not built: unit, configuration,
// maintainer scripts, documentation.
//
//go:embed files
var files embed.FS

// Paths in Tipring's package.
const (
	ConfigPath  = "/etc/tipring/tipring.toml"
	UnitPath    = "/lib/systemd/system/tipring.service"
	StateDir    = "/var/lib/tipring"
	ConfigDir   = "/etc/tipring"
	OverlayPath = "/boot/firmware/overlays/tipring-si3215.dtbo"
	DocDir      = "/usr/share/doc/tipring"
)

// DefaultMaintainer is the Maintainer field unless one is given.
const DefaultMaintainer = "Tipring maintainers <maintainers@tipring.invalid>"

// Binaries are the programs the package carries, in /usr/bin; only tipring
// is required.
var Binaries = []string{"tipring", "simphone", "dsptool"}

// Arch is a Debian architecture Tipring is packaged for, and the Go
// settings that build for it.
type Arch struct {
	Debian string // amd64, arm64, armhf, armel
	GOARCH string
	GOARM  string // "" unless GOARCH is arm
	Board  bool   // a Raspberry Pi architecture: the package carries the overlay
}

// Arches are the architectures `make deb` builds. armhf is ARMv7 (Pi 2, 3,
// 4 and Zero 2 on a 32-bit Debian), armel ARMv6 (Pi Zero and 1).
var Arches = []Arch{
	{"amd64", "amd64", "", false},
	{"arm64", "arm64", "", true},
	{"armhf", "arm", "7", true},
	{"armel", "arm", "6", true},
}

// LookupArch returns the Arch called name.
func LookupArch(name string) (Arch, error) {
	for _, a := range Arches {
		if a.Debian == name {
			return a, nil
		}
	}
	var names []string
	for _, a := range Arches {
		names = append(names, a.Debian)
	}
	return Arch{}, fmt.Errorf("architecture %q is not one of %s", name, strings.Join(names, ", "))
}

// Options describe one build of Tipring's package.
type Options struct {
	Arch       string            // Debian architecture
	Version    string            // Debian version (DebianVersion makes one from git describe)
	Source     string            // what it was built from, for the changelog: "git describe" output
	Epoch      int64             // SOURCE_DATE_EPOCH
	Maintainer string            // DefaultMaintainer when empty
	Binaries   map[string][]byte // by name; "tipring" is required
	Overlay    []byte            // the compiled device-tree overlay; nil: none
}

var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$`)

// Tipring returns Tipring's package.
func Tipring(o Options) (*Package, error) {
	arch, err := LookupArch(o.Arch)
	if err != nil {
		return nil, err
	}
	if !debVersion.MatchString(o.Version) {
		return nil, fmt.Errorf("version %q is not a Debian version", o.Version)
	}
	if o.Maintainer == "" {
		o.Maintainer = DefaultMaintainer
	}
	if len(o.Binaries["tipring"]) == 0 {
		return nil, fmt.Errorf("no tipring binary")
	}
	if o.Source == "" {
		o.Source = o.Version
	}
	read := func(name string) []byte {
		b, err := files.ReadFile("files/" + name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		return b
	}
	p := &Package{
		Control: []Field{
			{"Package", "tipring"},
			{"Version", o.Version},
			{"Architecture", arch.Debian},
			{"Maintainer", o.Maintainer},
			{"Depends", "adduser"},
			{"Section", "comm"},
			{"Priority", "optional"},
			{"Description", "analog telephone adapter: FXS phones as SIP lines\n" +
				" Tipring is firmware for a Raspberry Pi class board with an FXS SLIC\n" +
				" (Silicon Labs Si3210/Si3215/Si3216, Silvertel Ag1171): each analog\n" +
				" phone plugged in becomes a SIP line registered with your server over\n" +
				" TLS, configured on a local web page.\n" +
				" .\n" +
				" This package runs it as a systemd service and carries the Raspberry\n" +
				" Pi device-tree overlay for the Si321x boards."},
		},
		Conffiles: []string{ConfigPath},
		Scripts: map[string][]byte{
			"postinst": read("postinst"),
			"prerm":    read("prerm"),
			"postrm":   read("postrm"),
		},
		Epoch: o.Epoch,
	}
	changelog, err := changelog(o)
	if err != nil {
		return nil, err
	}
	p.Files = []File{
		{Path: ConfigDir, Mode: 0o750, Dir: true},
		{Path: ConfigPath, Mode: 0o600, Data: read("tipring.toml")},
		{Path: StateDir, Mode: 0o750, Dir: true},
		{Path: UnitPath, Mode: 0o644, Data: read("tipring.service")},
		{Path: DocDir + "/copyright", Mode: 0o644, Data: read("copyright")},
		{Path: DocDir + "/README.Debian", Mode: 0o644, Data: read("README.Debian")},
		{Path: DocDir + "/changelog.Debian.gz", Mode: 0o644, Data: changelog},
	}
	for _, name := range Binaries {
		if b := o.Binaries[name]; len(b) > 0 {
			p.Files = append(p.Files, File{Path: "/usr/bin/" + name, Mode: 0o755, Data: b})
		}
	}
	for name := range o.Binaries {
		if !strings.Contains(" "+strings.Join(Binaries, " ")+" ", " "+name+" ") {
			return nil, fmt.Errorf("unknown binary %q", name)
		}
	}
	if len(o.Overlay) > 0 && arch.Board {
		p.Files = append(p.Files, File{Path: OverlayPath, Mode: 0o644, Data: o.Overlay})
	}
	return p, nil
}

// changelog is changelog.Debian.gz: one entry for this build, compressed
// without a name or a time in the gzip header.
func changelog(o Options) ([]byte, error) {
	date := time.Unix(o.Epoch, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
	text := fmt.Sprintf("tipring (%s) unstable; urgency=medium\n\n"+
		"  * Built from %s.\n\n"+
		" -- %s  %s\n", o.Version, o.Source, o.Maintainer, date)
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var (
	describeAfterTag = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]{4,40})$`)
	bareHash         = regexp.MustCompile(`^[0-9a-f]{4,40}$`)
	notVersionChar   = regexp.MustCompile(`[^A-Za-z0-9.+~]`)
)

// DebianVersion maps `git describe --always --dirty` output (or a version
// given by hand) to a Debian version that sorts the way the builds follow
// each other:
//
//	v1.2.3                → 1.2.3
//	v1.2.3-4-gabc1234     → 1.2.3+git4.gabc1234    (after 1.2.3, before 1.2.4)
//	v1.3.0-rc1            → 1.3.0~rc1              (before 1.3.0)
//	abc1234 (no tag yet)  → 0~git20261125.015207.gabc1234 (commit time, UTC)
//	…-dirty               → …+dirty
//
// epoch is the commit time, used only for an untagged hash.
func DebianVersion(describe string, epoch int64) (string, error) {
	s := strings.TrimSpace(describe)
	if s == "" {
		return "", fmt.Errorf("empty version")
	}
	dirty := strings.HasSuffix(s, "-dirty")
	s = strings.TrimSuffix(s, "-dirty")
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') && s[1] >= '0' && s[1] <= '9' {
		s = s[1:]
	}
	var v string
	switch {
	case bareHash.MatchString(s) && !strings.Contains(s, "."):
		t := time.Unix(epoch, 0).UTC()
		v = "0~git" + t.Format("20060102.150405") + ".g" + s
	default:
		extra := ""
		if m := describeAfterTag.FindStringSubmatch(s); m != nil {
			s, extra = m[1], "+git"+m[2]+".g"+m[3]
		}
		v = upstream(s) + extra
	}
	if dirty {
		v += "+dirty"
	}
	if !debVersion.MatchString(v) {
		return "", fmt.Errorf("cannot make a Debian version of %q (got %q)", describe, v)
	}
	return v, nil
}

// upstream maps a tag to an upstream version: a hyphen before letters
// (a pre-release) becomes "~", other hyphens and stray characters ".".
func upstream(tag string) string {
	parts := strings.Split(tag, "-")
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			if p != "" && (p[0] < '0' || p[0] > '9') {
				b.WriteByte('~')
			} else {
				b.WriteByte('.')
			}
		}
		b.WriteString(p)
	}
	v := notVersionChar.ReplaceAllString(b.String(), ".")
	if v == "" || v[0] < '0' || v[0] > '9' {
		v = "0~" + v
	}
	return v
}
