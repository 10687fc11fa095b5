// Command mkdeb writes Tipring's Debian package from binaries built
// beforehand, with no dpkg on the build machine, byte for byte the same
// from the same inputs (tools/deb/README.md).
//
//	mkdeb -arch ARCH -bin DIR -version DESCRIBE [-dtbo FILE] [-epoch N] [-o DIR]
//	mkdeb -list FILE.deb
//
// DIR holds tipring and, when they built, simphone and dsptool. DESCRIBE is
// `git describe --always --dirty` output, mapped to a Debian version
// (-deb-version gives one as is). -epoch defaults to $SOURCE_DATE_EPOCH.
// The package goes to DIR/tipring_VERSION_ARCH.deb; its path is printed.
//
// -list prints a package's control file, conffiles and contents, as
// `dpkg-deb --info` and `--contents` would, without dpkg.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tipring/tipring/tools/deb"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "mkdeb: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	arch := fs.String("arch", "", "Debian architecture: amd64, arm64, armhf, armel")
	bin := fs.String("bin", "", "directory with the built binaries")
	version := fs.String("version", "", "`git describe --always --dirty` output")
	debVersion := fs.String("deb-version", "", "Debian version, used as is")
	dtbo := fs.String("dtbo", "", "compiled device-tree overlay (ARM packages only)")
	epoch := fs.String("epoch", os.Getenv("SOURCE_DATE_EPOCH"), "timestamp of every file, seconds since 1970")
	maint := fs.String("maintainer", deb.DefaultMaintainer, "Maintainer field")
	out := fs.String("o", ".", "output directory")
	list := fs.String("list", "", "print the control file and contents of this package, then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list != "" {
		return listDeb(*list, stdout)
	}
	if *arch == "" || *bin == "" || (*version == "" && *debVersion == "") {
		fs.Usage()
		return fmt.Errorf("-arch, -bin and -version (or -deb-version) are required")
	}
	if *epoch == "" {
		return fmt.Errorf("no -epoch and no SOURCE_DATE_EPOCH: the build would not be reproducible")
	}
	sec, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil || sec < 0 {
		return fmt.Errorf("epoch %q is not a count of seconds", *epoch)
	}
	v := *debVersion
	if v == "" {
		if v, err = deb.DebianVersion(*version, sec); err != nil {
			return err
		}
	}
	source := *version
	if source == "" {
		source = v
	}
	bins := map[string][]byte{}
	for _, name := range deb.Binaries {
		b, err := os.ReadFile(filepath.Join(*bin, name))
		if os.IsNotExist(err) && name != "tipring" {
			continue
		}
		if err != nil {
			return err
		}
		bins[name] = b
	}
	var overlay []byte
	if *dtbo != "" {
		if overlay, err = os.ReadFile(*dtbo); err != nil {
			return err
		}
	}
	p, err := deb.Tipring(deb.Options{
		Arch: *arch, Version: v, Source: source, Epoch: sec, Maintainer: *maint,
		Binaries: bins, Overlay: overlay,
	})
	if err != nil {
		return err
	}
	b, err := p.Bytes()
	if err != nil {
		return err
	}
	dst := filepath.Join(*out, p.Name())
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	fmt.Fprintln(stdout, dst)
	return nil
}

func listDeb(name string, w io.Writer) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	a, err := deb.Read(b)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(w, "%s: %d bytes, members %s\n", name, len(b), strings.Join(a.Members, " "))
	for _, f := range a.Control {
		fmt.Fprintf(w, " %s: %s\n", f.Name, f.Value)
	}
	if c := a.Files["conffiles"]; len(c) > 0 {
		fmt.Fprintf(w, " conffiles:\n")
		for _, l := range strings.Fields(string(c)) {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	for _, e := range a.Data {
		h := e.Header
		kind := "-"
		if h.Typeflag == tar.TypeDir {
			kind = "d"
		}
		fmt.Fprintf(w, "%s%s %s/%s %9d %s %s\n", kind, os.FileMode(h.Mode).Perm().String()[1:], h.Uname, h.Gname,
			h.Size, h.ModTime.UTC().Format("2006-01-02 15:04"), h.Name)
	}
	return nil
}
