package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
)

const testEpoch = 1795571527 // 2026-11-25 01:52:07 UTC

func TestDebianVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+git4.gabc1234+dirty"},
		{"v1.3.0-rc1", "1.3.0~rc1"},
		{"v1.3.0-rc1-2-g0123abc", "1.3.0~rc1+git2.g0123abc"},
		{"de4c020", "0~git20261125.015207.gde4c020"},
		{"de4c020-dirty", "0~git20261125.015207.gde4c020+dirty"},
		{"dev", "0~dev"},
		{"release_2", "0~release.2"},
	} {
		got, err := DebianVersion(c.in, testEpoch)
		if err != nil || got != c.want {
			t.Errorf("DebianVersion(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := DebianVersion("", testEpoch); err == nil {
		t.Error("DebianVersion(\"\") succeeded")
	}
	// The order dpkg would give them, checked when dpkg is here.
	if _, err := exec.LookPath("dpkg"); err == nil {
		order := []string{"0~git20261125.015207.gde4c020", "0~git20261126.000000.g1111111", "1.2.3~rc1", "1.2.3", "1.2.3+git4.gabc1234", "1.2.3+git4.gabc1234+dirty", "1.2.4"}
		for i := 1; i < len(order); i++ {
			if err := exec.Command("dpkg", "--compare-versions", order[i-1], "lt", order[i]).Run(); err != nil {
				t.Errorf("dpkg: %s is not before %s", order[i-1], order[i])
			}
		}
	}
}

// stubPackage is Tipring's package around small stand-ins for the binaries.
func stubPackage(t *testing.T, arch string) *Package {
	t.Helper()
	p, err := Tipring(Options{
		Arch: arch, Version: "1.2.3+git4.gabc1234", Source: "v1.2.3-4-gabc1234", Epoch: testEpoch,
		Binaries: map[string][]byte{"tipring": []byte("tipring binary"), "simphone": []byte("simphone binary")},
		Overlay:  []byte("dtbo"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPackageLayout(t *testing.T) {
	p := stubPackage(t, "arm64")
	b1, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := stubPackage(t, "arm64").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatal("two builds from the same inputs differ")
	}
	if p.Name() != "tipring_1.2.3+git4.gabc1234_arm64.deb" {
		t.Errorf("Name = %q", p.Name())
	}
	a := checkPackage(t, b1, "arm64", "1.2.3+git4.gabc1234", testEpoch)
	want := []string{"./", "./boot/", "./boot/firmware/", "./boot/firmware/overlays/", "./boot/firmware/overlays/tipring-si3215.dtbo",
		"./etc/", "./etc/tipring/", "./etc/tipring/tipring.toml",
		"./lib/", "./lib/systemd/", "./lib/systemd/system/", "./lib/systemd/system/tipring.service",
		"./usr/", "./usr/bin/", "./usr/bin/simphone", "./usr/bin/tipring",
		"./usr/share/", "./usr/share/doc/", "./usr/share/doc/tipring/", "./usr/share/doc/tipring/README.Debian",
		"./usr/share/doc/tipring/changelog.Debian.gz", "./usr/share/doc/tipring/copyright",
		"./var/", "./var/lib/", "./var/lib/tipring/"}
	var got []string
	for _, e := range a.Data {
		got = append(got, e.Header.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("data entries:\n got %q\nwant %q", got, want)
	}
	if e := a.Lookup("/usr/bin/dsptool"); e != nil {
		t.Error("dsptool packaged although not given")
	}
	cl := a.Lookup(DocDir + "/changelog.Debian.gz")
	zr, err := gzip.NewReader(bytes.NewReader(cl.Data))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(text), "tipring (1.2.3+git4.gabc1234) unstable; urgency=medium\n") ||
		!strings.Contains(string(text), "Built from v1.2.3-4-gabc1234.") ||
		!strings.Contains(string(text), " -- "+DefaultMaintainer+"  Wed, 25 Nov 2026 01:52:07 +0000\n") {
		t.Errorf("changelog.Debian:\n%s", text)
	}
	if !zr.Header.ModTime.IsZero() || zr.Header.Name != "" {
		t.Errorf("changelog.Debian.gz header carries %v %q", zr.Header.ModTime, zr.Header.Name)
	}

	// The amd64 package (for tests) carries no overlay for the Pi.
	b, err := stubPackage(t, "amd64").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if a := checkPackage(t, b, "amd64", "1.2.3+git4.gabc1234", testEpoch); a.Lookup(OverlayPath) != nil || a.Lookup("/boot") != nil {
		t.Error("amd64 package carries the overlay")
	}
}

// checkPackage reads a package with the Go reader and checks what every
// Tipring package must be.
func checkPackage(t *testing.T, b []byte, arch, version string, epoch int64) *Archive {
	t.Helper()
	a, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Members, []string{"debian-binary", "control.tar.gz", "data.tar.gz"}) {
		t.Errorf("ar members %q", a.Members)
	}
	for name, want := range map[string]string{
		"Package": "tipring", "Version": version, "Architecture": arch, "Maintainer": DefaultMaintainer,
		"Depends": "adduser", "Section": "comm", "Priority": "optional",
	} {
		if got := a.Field(name); got != want {
			t.Errorf("control %s = %q, want %q", name, got, want)
		}
	}
	var fields []string
	for _, f := range a.Control {
		fields = append(fields, f.Name)
	}
	if want := []string{"Package", "Version", "Architecture", "Installed-Size", "Maintainer", "Depends", "Section", "Priority", "Description"}; !slices.Equal(fields, want) {
		t.Errorf("control fields %q, want %q", fields, want)
	}
	if d := a.Field("Description"); !strings.Contains(d, "\n Tipring is") || strings.Contains(d, "\n\n") {
		t.Errorf("Description %q", d)
	}
	var files []File
	for _, e := range a.Data {
		files = append(files, File{Dir: e.Header.Typeflag == tar.TypeDir, Data: e.Data})
	}
	if got, want := a.Field("Installed-Size"), fmt.Sprint(InstalledSize(files)); got != want {
		t.Errorf("Installed-Size %s, want %s", got, want)
	}
	if got := string(a.Files["conffiles"]); got != ConfigPath+"\n" {
		t.Errorf("conffiles %q", got)
	}
	mtime := time.Unix(epoch, 0)
	for _, list := range [][]Entry{a.Ctrl, a.Data} {
		for _, e := range list {
			h := e.Header
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
				t.Errorf("%s: owner %d/%d %s/%s", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
			}
			if !h.ModTime.Equal(mtime) {
				t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, mtime)
			}
			if !strings.HasPrefix(h.Name, "./") {
				t.Errorf("%s: name not under ./", h.Name)
			}
		}
	}
	for i := 1; i < len(a.Data); i++ {
		if a.Data[i-1].Header.Name >= a.Data[i].Header.Name {
			t.Errorf("data entries out of order: %s, %s", a.Data[i-1].Header.Name, a.Data[i].Header.Name)
		}
	}
	modes := map[string]int64{
		"/usr/bin/tipring": 0o755, UnitPath: 0o644, ConfigPath: 0o600, ConfigDir: 0o750, StateDir: 0o750,
		DocDir + "/copyright": 0o644, DocDir + "/changelog.Debian.gz": 0o644, "/usr": 0o755,
	}
	for p, mode := range modes {
		e := a.Lookup(p)
		if e == nil {
			t.Errorf("%s missing", p)
			continue
		}
		if e.Header.Mode != mode {
			t.Errorf("%s: mode %o, want %o", p, e.Header.Mode, mode)
		}
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		var e *Entry
		for i := range a.Ctrl {
			if a.Ctrl[i].Header.Name == "./"+s {
				e = &a.Ctrl[i]
			}
		}
		if e == nil || e.Header.Mode != 0o755 || !bytes.HasPrefix(e.Data, []byte("#!/bin/sh\n")) {
			t.Errorf("maintainer script %s missing, not 0755 or not /bin/sh", s)
		}
	}
	// md5sums: every regular file but the conffile, each sum right.
	sums := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(a.Files["md5sums"])), "\n") {
		sum, name, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("md5sums line %q", l)
		}
		sums["/"+name] = sum
	}
	for _, e := range a.Data {
		if e.Header.Typeflag != tar.TypeReg {
			continue
		}
		p := strings.TrimPrefix(e.Header.Name, ".")
		sum, ok := sums[p]
		switch {
		case p == ConfigPath && ok:
			t.Errorf("md5sums lists the conffile")
		case p != ConfigPath && sum != fmt.Sprintf("%x", md5.Sum(e.Data)):
			t.Errorf("md5sums: %s is %q", p, sum)
		}
	}
	return a
}

// The shipped configuration loads, names the real board, and holds no
// password: the first visit sets it.
func TestShippedConfig(t *testing.T) {
	data, err := files.ReadFile("files/tipring.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(ConfigPath, data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Board.Name != "rpi-si3215" || c.Board.Ports != 1 || c.Web.Listen != ":8443" || c.Web.AdminPasswordHash != "" {
		t.Errorf("config: board %q ports %d, web %q, hash %q", c.Board.Name, c.Board.Ports, c.Web.Listen, c.Web.AdminPasswordHash)
	}
	if len(c.Lines) != 0 {
		t.Errorf("config has %d lines; none should be configured", len(c.Lines))
	}
}

func TestUnitFile(t *testing.T) {
	data, err := files.ReadFile("files/tipring.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			unit[k] = append(unit[k], v)
		}
	}
	for k, want := range map[string]string{
		"ExecStart": "/usr/bin/tipring -config " + ConfigPath, "Restart": "on-failure", "User": "tipring",
		"SupplementaryGroups": "spi gpio audio", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
		"ReadWritePaths": ConfigDir + " " + StateDir, "DevicePolicy": "closed",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK", "WantedBy": "multi-user.target",
	} {
		if got := unit[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if _, ok := unit["RestartSec"]; !ok {
		t.Error("no RestartSec")
	}
	if _, ok := unit["WatchdogSec"]; ok {
		t.Error("WatchdogSec set, but tipring does not speak sd_notify")
	}
	if got := len(unit["DeviceAllow"]); got < 4 {
		t.Errorf("%d DeviceAllow lines", got)
	}
}

// The maintainer scripts run with every command they call replaced by a
// stub that logs it: they use only the commands expected, in the order
// expected, and never fail.
func TestMaintainerScripts(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	stub := "#!" + sh + "\necho \"${0##*/} $*\" >> " + log + "\n" +
		"[ \"${0##*/}\" != getent ] || exit 2\n" // no such user or group yet
	for _, c := range []string{"getent", "addgroup", "adduser", "chown", "chmod", "deb-systemd-helper", "systemctl", "rm", "rmdir"} {
		if err := os.WriteFile(filepath.Join(dir, c), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(script string, args ...string) string {
		t.Helper()
		os.Remove(log)
		data, _ := files.ReadFile("files/" + script)
		cmd := exec.Command(sh, append([]string{"-c", string(data), script}, args...)...)
		cmd.Env = []string{"PATH=" + dir}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
		}
		b, _ := os.ReadFile(log)
		return string(b)
	}
	got := run("postinst", "configure", "")
	for _, want := range []string{
		"addgroup --quiet --system spi\n", "addgroup --quiet --system gpio\n",
		"adduser --quiet --system --group --no-create-home --home /var/lib/tipring --shell /usr/sbin/nologin --gecos Tipring telephone adapter tipring\n",
		"chown tipring:tipring /etc/tipring /var/lib/tipring\n", "chmod 0750 /etc/tipring /var/lib/tipring\n",
		"deb-systemd-helper --quiet was-enabled tipring.service\n", "deb-systemd-helper enable tipring.service\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("postinst configure: no %q in\n%s", want, got)
		}
	}
	if got := run("postrm", "purge"); !strings.Contains(got, "rm -rf /var/lib/tipring\n") ||
		!strings.Contains(got, "/etc/tipring/web-key.pem") || !strings.Contains(got, "deb-systemd-helper purge tipring.service\n") {
		t.Errorf("postrm purge:\n%s", got)
	}
	if got := run("postrm", "remove"); strings.Contains(got, "rm ") {
		t.Errorf("postrm remove deletes files:\n%s", got)
	}
	run("prerm", "remove")
	run("prerm", "upgrade", "1.0")
}

// TestBuild builds real packages the way `make deb` does (deb.mk), twice,
// and checks them with the Go reader, with dpkg-deb and systemd-analyze
// when they are here, and by running the packaged amd64 binary. -short
// builds amd64 only and checks reproducibility by packaging its binaries
// twice; without -short arm64 is built too, and every binary twice.
func TestBuild(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	arches := "amd64"
	if !testing.Short() {
		arches = "amd64 arm64"
	}
	const describe = "v1.2.3-4-gabc1234"
	const version = "1.2.3+git4.gabc1234"
	build := func(dir string) {
		t.Helper()
		cmd := exec.Command(mk, "--no-print-directory", "-f", "tools/deb/deb.mk", "deb",
			"DEB_ARCHES="+arches, "DEB_DIR="+dir, "VERSION="+describe)
		cmd.Dir = root
		for _, e := range os.Environ() {
			switch k, _, _ := strings.Cut(e, "="); k {
			case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GOARCH", "GOARM", "GOFLAGS", "CGO_ENABLED", "SOURCE_DATE_EPOCH":
			default:
				cmd.Env = append(cmd.Env, e)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make deb: %v\n%s", err, out)
		}
	}
	dir1 := t.TempDir()
	build(dir1)

	epoch := int64(0)
	if out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%ct").Output(); err == nil {
		fmt.Sscan(string(out), &epoch)
	}
	for _, arch := range strings.Fields(arches) {
		name := filepath.Join(dir1, "tipring_"+version+"_"+arch+".deb")
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", filepath.Base(name), len(b))
		a := checkPackage(t, b, arch, version, epoch)
		for _, bin := range Binaries {
			if a.Lookup("/usr/bin/"+bin) == nil {
				t.Errorf("%s: no /usr/bin/%s", arch, bin)
			}
		}
		_, dtc := exec.LookPath("dtc")
		if hasOverlay := a.Lookup(OverlayPath) != nil; hasOverlay != (dtc == nil && arch != "amd64") {
			t.Errorf("%s: overlay packaged: %v (dtc found: %v)", arch, hasOverlay, dtc == nil)
		}
		if arch == "amd64" {
			checkWithDpkg(t, name)
			checkInstalled(t, name, a, describe)
		}
	}

	// Reproducibility.
	dir2 := t.TempDir()
	if testing.Short() {
		// The same binaries packaged again.
		args := []string{"-arch", "amd64", "-bin", filepath.Join(dir1, "amd64"), "-version", describe, "-epoch", fmt.Sprint(epoch), "-o", dir2}
		if dtbo := filepath.Join(dir1, "tipring-si3215.dtbo"); fileExists(dtbo) {
			args = append(args, "-dtbo", dtbo)
		}
		cmd := exec.Command(filepath.Join(dir1, "mkdeb"), args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mkdeb: %v\n%s", err, out)
		}
	} else {
		build(dir2)
	}
	for _, arch := range strings.Fields(arches) {
		name := "tipring_" + version + "_" + arch + ".deb"
		b1, err1 := os.ReadFile(filepath.Join(dir1, name))
		b2, err2 := os.ReadFile(filepath.Join(dir2, name))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s: two builds differ", name)
		}
	}
}

// checkWithDpkg checks the package with dpkg-deb, when it is installed.
func checkWithDpkg(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Log("no dpkg-deb: checked with the Go reader only")
		return
	}
	info, err := exec.Command("dpkg-deb", "--info", name).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --info: %v\n%s", err, info)
	}
	for _, want := range []string{" Package: tipring\n", " Architecture: amd64\n", " Depends: adduser\n", "conffiles", "postinst", "prerm", "postrm"} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf("dpkg-deb --info has no %q:\n%s", want, info)
		}
	}
	list, err := exec.Command("dpkg-deb", "--contents", name).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --contents: %v\n%s", err, list)
	}
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/bin/tipring\n",
		"-rw-r--r-- root/root", "./lib/systemd/system/tipring.service\n",
		"-rw------- root/root", "./etc/tipring/tipring.toml\n",
	} {
		if !bytes.Contains(list, []byte(want)) {
			t.Errorf("dpkg-deb --contents has no %q:\n%s", want, list)
		}
	}
	// dpkg-deb's own structural checks of a package.
	if out, err := exec.Command("dpkg-deb", "--field", name, "Version").CombinedOutput(); err != nil {
		t.Errorf("dpkg-deb --field: %v\n%s", err, out)
	}
}

// checkInstalled unpacks the package (dpkg-deb -x, else the Go reader),
// runs the packaged tipring, and verifies the unit with systemd-analyze.
func checkInstalled(t *testing.T, name string, a *Archive, describe string) {
	t.Helper()
	root := t.TempDir()
	if _, err := exec.LookPath("dpkg-deb"); err == nil {
		if out, err := exec.Command("dpkg-deb", "-x", name, root).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
		}
	} else {
		for _, e := range a.Data {
			p := filepath.Join(root, filepath.FromSlash(e.Header.Name))
			if e.Header.Typeflag == tar.TypeDir {
				os.MkdirAll(p, 0o755)
			} else if err := os.WriteFile(p, e.Data, os.FileMode(e.Header.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := filepath.Join(root, "usr/bin/tipring")
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != describe {
		t.Errorf("tipring -version: %q, %v; want %q", out, err, describe)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/tipring")); err != nil {
		t.Error(err)
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("no systemd-analyze: unit not verified")
		return
	}
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/tipring.service"))
	if err != nil {
		t.Fatal(err)
	}
	// The unit names /usr/bin/tipring, which is not installed here.
	unit = bytes.Replace(unit, []byte("ExecStart=/usr/bin/tipring"), []byte("ExecStart="+bin), 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tipring.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "verify", "--man=no", filepath.Join(dir, "tipring.service"))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice")
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
