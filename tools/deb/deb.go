// Package deb writes and reads Debian binary packages with the standard
// library alone, and describes Tipring's own package (see tipring.go).
//
// A .deb is an ar archive of three members: "debian-binary" ("2.0\n"),
// control.tar.gz (the control file, the conffiles list, md5sums and the
// maintainer scripts) and data.tar.gz (the files to install). Write makes
// the same bytes from the same Package every time: entries sorted by path,
// owner root:root (uid and gid 0), every timestamp the Package's Epoch
// (SOURCE_DATE_EPOCH), gzip without a name or time in its header. The
// bytes depend on nothing else but the Go toolchain's compress/flate.
//
// Read is the inverse, for tests and for `mkdeb -list`; it needs no dpkg.
package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Field is one field of the control file, in the order written.
type Field struct {
	Name, Value string // a multi-line Value has its continuation lines indented by one space
}

// File is one entry of the data archive.
type File struct {
	Path string // absolute: "/usr/bin/tipring"
	Mode int64  // permission bits: 0o755
	Dir  bool
	Data []byte
}

// Package is everything Write needs.
type Package struct {
	// Control is the control file. Write adds Installed-Size after
	// Architecture when it is missing.
	Control   []Field
	Conffiles []string          // absolute paths of files in Files
	Scripts   map[string][]byte // maintainer scripts by name: postinst, prerm, postrm, …
	Files     []File            // parent directories are added (0755) when not listed
	Epoch     int64             // seconds since 1970: every mtime in the package
}

// Field returns the value of the control field name, or "".
func (p *Package) Field(name string) string {
	for _, f := range p.Control {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Name is the conventional file name: PACKAGE_VERSION_ARCH.deb.
func (p *Package) Name() string {
	return p.Field("Package") + "_" + p.Field("Version") + "_" + p.Field("Architecture") + ".deb"
}

// Write writes the package to w.
func (p *Package) Write(w io.Writer) error {
	files, err := p.dataEntries()
	if err != nil {
		return err
	}
	data, err := tarGz(files, p.Epoch)
	if err != nil {
		return fmt.Errorf("deb: data.tar.gz: %w", err)
	}
	ctrl, err := tarGz(p.controlEntries(files), p.Epoch)
	if err != nil {
		return fmt.Errorf("deb: control.tar.gz: %w", err)
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", ctrl},
		{"data.tar.gz", data},
	} {
		if err := arMember(&ar, m.name, m.data, p.Epoch); err != nil {
			return err
		}
	}
	_, err = w.Write(ar.Bytes())
	return err
}

// Bytes returns the package as Write writes it.
func (p *Package) Bytes() ([]byte, error) {
	var b bytes.Buffer
	err := p.Write(&b)
	return b.Bytes(), err
}

// dataEntries returns the data archive's entries, parents included,
// sorted by path, as tar names ("./usr/bin/tipring", "./usr/bin/").
func (p *Package) dataEntries() ([]File, error) {
	byPath := map[string]File{}
	for _, f := range p.Files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("deb: %q is not a clean absolute path", f.Path)
		}
		if _, dup := byPath[f.Path]; dup {
			return nil, fmt.Errorf("deb: %s listed twice", f.Path)
		}
		byPath[f.Path] = f
	}
	for _, f := range p.Files {
		for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
			if g, ok := byPath[d]; ok {
				if !g.Dir {
					return nil, fmt.Errorf("deb: %s is a file and the parent of %s", d, f.Path)
				}
				continue
			}
			byPath[d] = File{Path: d, Mode: 0o755, Dir: true}
		}
	}
	for _, c := range p.Conffiles {
		if f, ok := byPath[c]; !ok || f.Dir {
			return nil, fmt.Errorf("deb: conffile %s is not a file of the package", c)
		}
	}
	out := []File{{Path: "./", Mode: 0o755, Dir: true}}
	for _, f := range byPath {
		f.Path = "." + f.Path
		if f.Dir {
			f.Path += "/"
		}
		out = append(out, f)
	}
	slices.SortFunc(out[1:], func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// InstalledSize is the Installed-Size field for files: KiB, each file
// rounded up, one per directory (as dpkg-gencontrol counts).
func InstalledSize(files []File) int64 {
	var n int64
	for _, f := range files {
		if f.Dir {
			n++
		} else {
			n += (int64(len(f.Data)) + 1023) / 1024
		}
	}
	return n
}

func (p *Package) controlEntries(data []File) []File {
	fields := slices.Clone(p.Control)
	if p.Field("Installed-Size") == "" {
		size := Field{"Installed-Size", strconv.FormatInt(InstalledSize(data), 10)}
		i := slices.IndexFunc(fields, func(f Field) bool { return f.Name == "Architecture" })
		fields = slices.Insert(fields, i+1, size)
	}
	var control strings.Builder
	for _, f := range fields {
		control.WriteString(f.Name + ": " + f.Value + "\n")
	}
	conf := map[string]bool{}
	for _, c := range p.Conffiles {
		conf[c] = true
	}
	var sums strings.Builder
	for _, f := range data {
		if !f.Dir && !conf[strings.TrimPrefix(f.Path, ".")] {
			fmt.Fprintf(&sums, "%x  %s\n", md5.Sum(f.Data), strings.TrimPrefix(f.Path, "./"))
		}
	}
	out := []File{
		{Path: "./", Mode: 0o755, Dir: true},
		{Path: "./control", Mode: 0o644, Data: []byte(control.String())},
		{Path: "./md5sums", Mode: 0o644, Data: []byte(sums.String())},
	}
	if len(p.Conffiles) > 0 {
		c := slices.Sorted(slices.Values(p.Conffiles))
		out = append(out, File{Path: "./conffiles", Mode: 0o644, Data: []byte(strings.Join(c, "\n") + "\n")})
	}
	for name, s := range p.Scripts {
		out = append(out, File{Path: "./" + name, Mode: 0o755, Data: s})
	}
	slices.SortFunc(out[1:], func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// tarGz makes a gzip-compressed tar of entries, in their order.
func tarGz(entries []File, epoch int64) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	mtime := time.Unix(epoch, 0).UTC()
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.Path,
			Mode:    e.Mode,
			Uid:     0,
			Gid:     0,
			Uname:   "root",
			Gname:   "root",
			ModTime: mtime,
			Format:  tar.FormatGNU,
		}
		if e.Dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// arMember appends one member in the common ar format: a 60-byte header
// (name, mtime, uid, gid, octal mode, size, "`\n"), the data, and a newline
// to pad an odd size.
func arMember(w *bytes.Buffer, name string, data []byte, epoch int64) error {
	if len(name) > 16 {
		return fmt.Errorf("deb: ar member name %q longer than 16 bytes", name)
	}
	fmt.Fprintf(w, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, epoch, 0, 0, "100644", len(data))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte('\n')
	}
	return nil
}

// Entry is one entry of a tar archive inside a package, as Read found it.
type Entry struct {
	Header *tar.Header
	Data   []byte
}

// Archive is a package as Read found it.
type Archive struct {
	Members []string          // ar members, in order
	Control []Field           // the control file's fields, in order
	Files   map[string][]byte // control.tar members by name without "./": control, conffiles, postinst, …
	Ctrl    []Entry           // control.tar entries, in order
	Data    []Entry           // data.tar entries, in order
}

// Field returns the value of the control field name, or "".
func (a *Archive) Field(name string) string {
	p := Package{Control: a.Control}
	return p.Field(name)
}

// Lookup returns the data entry for an absolute path ("/usr/bin/tipring";
// directories without the trailing slash), or nil.
func (a *Archive) Lookup(p string) *Entry {
	for i := range a.Data {
		n := strings.TrimSuffix(strings.TrimPrefix(a.Data[i].Header.Name, "."), "/")
		if n == p || (n == "" && p == "/") {
			return &a.Data[i]
		}
	}
	return nil
}

// Read parses a package made by Write or by dpkg-deb with gzip or no
// compression.
func Read(b []byte) (*Archive, error) {
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		return nil, errors.New("deb: not an ar archive")
	}
	a := &Archive{Files: map[string][]byte{}}
	rest := b[8:]
	for len(rest) > 0 {
		if len(rest) < 60 || string(rest[58:60]) != "`\n" {
			return nil, errors.New("deb: bad ar member header")
		}
		name := strings.TrimSuffix(strings.TrimRight(string(rest[:16]), " "), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(rest[48:58])), 10, 64)
		if err != nil || size < 0 || size > int64(len(rest)-60) {
			return nil, fmt.Errorf("deb: ar member %q: bad size", name)
		}
		data := rest[60 : 60+size]
		rest = rest[60+size:]
		if size%2 == 1 && len(rest) > 0 {
			rest = rest[1:]
		}
		a.Members = append(a.Members, name)
		switch {
		case name == "debian-binary":
			if string(data) != "2.0\n" {
				return nil, fmt.Errorf("deb: debian-binary is %q", data)
			}
		case strings.HasPrefix(name, "control.tar"):
			if a.Ctrl, err = readTar(name, data); err != nil {
				return nil, err
			}
		case strings.HasPrefix(name, "data.tar"):
			if a.Data, err = readTar(name, data); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range a.Ctrl {
		if e.Header.Typeflag == tar.TypeReg {
			a.Files[strings.TrimPrefix(e.Header.Name, "./")] = e.Data
		}
	}
	control, ok := a.Files["control"]
	if !ok {
		return nil, errors.New("deb: no control file")
	}
	for _, line := range strings.SplitAfter(string(control), "\n") {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
		case line[0] == ' ' || line[0] == '\t':
			if len(a.Control) == 0 {
				return nil, errors.New("deb: control file starts with a continuation line")
			}
			a.Control[len(a.Control)-1].Value += "\n" + line
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("deb: control line %q has no colon", line)
			}
			a.Control = append(a.Control, Field{name, strings.TrimSpace(value)})
		}
	}
	return a, nil
}

func readTar(member string, data []byte) ([]Entry, error) {
	var r io.Reader = bytes.NewReader(data)
	switch path.Ext(member) {
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("deb: %s: %w", member, err)
		}
		r = zr
	case ".tar":
	default:
		return nil, fmt.Errorf("deb: %s: compression not supported by this reader", member)
	}
	var out []Entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("deb: %s: %w", member, err)
		}
		d, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("deb: %s: %s: %w", member, h.Name, err)
		}
		out = append(out, Entry{h, d})
	}
}
