// Package config is the schema of Tipring's configuration file, its
// defaults, its validation, and its atomic store.
//
// One TOML file is the source of truth. Loading it is strict: an unknown key,
// a value of the wrong type, or a value out of range is an error that names
// the file, the line and the key, so a typo never silently falls back to a
// default. Saving writes a temporary file, syncs it, keeps the previous file
// as FILE.bak and renames the new one into place, so a power cut leaves
// either the old or the new configuration, never half of one.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/tipring/tipring/dsp/tone"
)

// Version is the schema version this build writes.
const Version = 1

// MaxPorts is the largest number of ports a board may have.
const MaxPorts = 64

// Config is the whole configuration.
type Config struct {
	Version int    `toml:"version"`
	Board   Board  `toml:"board"`
	Web     Web    `toml:"web"`
	SIP     SIP    `toml:"sip"`
	Region  Region `toml:"region"`
	Lines   []Line `toml:"line"`
}

// Board selects the hardware.
type Board struct {
	Name  string `toml:"name"`  // "sim" or a real board's name
	Ports int    `toml:"ports"` // simulated board only: how many ports (1–64, default 2)
}

// Web is the local web page and API.
type Web struct {
	Listen            string `toml:"listen"`              // host:port
	AdminPasswordHash string `toml:"admin_password_hash"` // from `tipring passwd`; empty = first-boot setup
}

// SIP is the account-independent SIP setup.
type SIP struct {
	Listen    string `toml:"listen"`    // UDP and TCP here; TLS on the next port
	Registrar string `toml:"registrar"` // host[:port]
	Transport string `toml:"transport"` // udp | tcp | tls
	CAFile    string `toml:"ca_file"`   // trust anchor for the server's certificate
}

// Region holds the country-dependent behaviour of the lines.
type Region struct {
	Country string `toml:"country"` // ISO code of the tone plan: us, uk, de, …
}

// Line is one port's account.
type Line struct {
	Port        int    `toml:"port"`
	User        string `toml:"user"`
	Password    string `toml:"password"`
	DisplayName string `toml:"display_name"`
}

// Default returns the configuration a fresh simulated gateway starts with.
func Default() Config {
	return Config{
		Version: Version,
		Board:   Board{Name: "sim", Ports: 2},
		Web:     Web{Listen: "127.0.0.1:8080"},
		SIP:     SIP{Listen: "127.0.0.1:5060", Transport: "tls"},
		Region:  Region{Country: "us"},
	}
}

// Error is a problem with one key of a configuration file.
type Error struct {
	File string // may be empty when parsing bytes
	Line int    // 1-based; 0 when the key is absent from the file
	Key  string // dotted path, e.g. "line[2].port"
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Load reads and validates the file at path.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates data; name is used in error messages.
func Parse(name string, data []byte) (Config, error) {
	c := Default()
	c.Version = 0
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(name, err)
	}
	if c.Version == 0 {
		c.Version = Version // files from before versioning are version 1
	}
	if c.Version > Version {
		return Config{}, &Error{File: name, Line: keyLines(data)["version"], Key: "version",
			Msg: fmt.Sprintf("file is version %d, this firmware understands up to %d", c.Version, Version)}
	}
	if errs := c.validate(); len(errs) > 0 {
		lines := keyLines(data)
		for _, e := range errs {
			e.File = name
			e.Line = lines[e.Key]
		}
		return Config{}, errs
	}
	return c, nil
}

func decodeError(name string, err error) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) {
		errs := make(Errors, 0, len(sm.Errors))
		for i := range sm.Errors {
			de := &sm.Errors[i]
			row, _ := de.Position()
			errs = append(errs, &Error{File: name, Line: row, Key: strings.Join(de.Key(), "."), Msg: "unknown key"})
		}
		return errs
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return &Error{File: name, Line: row, Key: strings.Join(de.Key(), "."), Msg: de.Error()}
	}
	return &Error{File: name, Msg: err.Error()}
}

// validate checks every field and returns one Error per problem, keyed by
// the path keyLines produces.
func (c *Config) validate() Errors {
	var errs Errors
	bad := func(key, format string, a ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	if c.Version < 1 {
		bad("version", "must be 1 or more")
	}
	if c.Board.Name == "" {
		bad("board.name", "must name a board, e.g. \"sim\"")
	}
	if c.Board.Ports < 1 || c.Board.Ports > MaxPorts {
		bad("board.ports", "%d is out of range 1…%d", c.Board.Ports, MaxPorts)
	}
	if err := checkHostPort(c.Web.Listen, true); err != nil {
		bad("web.listen", "%v", err)
	}
	if h := c.Web.AdminPasswordHash; h != "" && !strings.HasPrefix(h, "$argon2id$") {
		bad("web.admin_password_hash", "is not a hash from `tipring passwd`")
	}
	if err := checkHostPort(c.SIP.Listen, true); err != nil {
		bad("sip.listen", "%v", err)
	}
	if c.SIP.Registrar != "" {
		if err := checkHostPort(c.SIP.Registrar, false); err != nil {
			bad("sip.registrar", "%v", err)
		}
	}
	switch c.SIP.Transport {
	case "udp", "tcp", "tls":
	default:
		bad("sip.transport", "%q is not one of udp, tcp, tls", c.SIP.Transport)
	}
	if _, err := tone.Lookup(c.Region.Country); err != nil {
		bad("region.country", "%v", err)
	}
	seen := map[int]int{}
	for i, l := range c.Lines {
		key := fmt.Sprintf("line[%d]", i+1)
		if l.Port < 1 || l.Port > c.Board.Ports {
			bad(key+".port", "%d is not a port of this board (1…%d)", l.Port, c.Board.Ports)
		} else if j, dup := seen[l.Port]; dup {
			bad(key+".port", "port %d is already configured by line[%d]", l.Port, j)
		}
		seen[l.Port] = i + 1
		if l.User == "" {
			bad(key+".user", "must not be empty")
		} else if strings.ContainsAny(l.User, " \t\r\n@:;<>\"") {
			bad(key+".user", "%q contains characters a SIP user part cannot carry unescaped", l.User)
		}
		if strings.ContainsAny(l.DisplayName, "\r\n\"") {
			bad(key+".display_name", "must not contain quotes or line breaks")
		}
	}
	return errs
}

// checkHostPort accepts host:port; with needPort false a bare host is fine.
// A listen address (needPort) may use port 0, which asks the kernel for a
// free port.
func checkHostPort(s string, needPort bool) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if needPort {
			return fmt.Errorf("%q is not host:port", s)
		}
		host, port = s, ""
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		low := 1
		if needPort {
			low = 0
		}
		if err != nil || n < low || n > 65535 {
			return fmt.Errorf("port %q is not %d…65535", port, low)
		}
	}
	if host == "" {
		if needPort {
			return nil // ":8080" listens on every address
		}
		return fmt.Errorf("%q has no host", s)
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return nil
	}
	if len(host) > 253 || strings.ContainsAny(host, " /\\@") {
		return fmt.Errorf("%q is not a host name or address", host)
	}
	return nil
}

// Save writes c to path atomically: temp file in the same directory, fsync,
// the old file kept as path+".bak", rename, fsync of the directory.
func Save(path string, c Config) error {
	if errs := c.validate(); len(errs) > 0 {
		return fmt.Errorf("config: refusing to save an invalid configuration: %w", errs)
	}
	data, err := toml.Marshal(c)
	if err != nil {
		return fmt.Errorf("config: encode: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("config: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if old, err := os.ReadFile(path); err == nil {
		if err := os.WriteFile(path+".bak", old, 0o600); err != nil {
			return fmt.Errorf("config: keep last good copy: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not every file system supports it
		d.Close()
	}
	return nil
}
