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
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/internal/atomicfile"
	"github.com/tipring/tipring/firmware/line/digitmap"
)

// Version is the schema version this build writes. Files of an older
// version are migrated in memory when loaded (see migrations) and written
// back in this version by the next save.
const Version = 2

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
	// Provision and Syslog are optional: their zero values (no URL, no
	// server) turn them off, so files without them need no migration.
	Provision Provision `toml:"provision"`
	Syslog    Syslog    `toml:"syslog"`
	// Update is optional too: with no public key, no firmware update is
	// accepted.
	Update Update `toml:"update"`
}

// Update governs firmware updates uploaded on the Maintenance page or to
// POST /api/update (package firmware/update).
type Update struct {
	// PublicKeys are the Ed25519 public keys (standard base64, as
	// `updatesign -genkey` writes them in PREFIX.pub) whose signatures
	// an update must carry, besides the one built into the program, if
	// any. None: no update is accepted.
	PublicKeys []string `toml:"public_keys,omitempty"`
	// ConfirmS is how long a new version must stay healthy before it is
	// committed (5…3600 s, default 60); HealthTimeoutS how long it may
	// take to come up healthy (10…3600 s, default 120). Either failing,
	// the previous version is back.
	ConfirmS       int `toml:"confirm_s"`
	HealthTimeoutS int `toml:"health_timeout_s"`
}

// Provision fetches the configuration from a server, for fleets of
// gateways: on boot and every IntervalMin minutes.
type Provision struct {
	// URL is an https:// address; {mac} in it becomes the MAC address
	// of the interface with the default route (lower case, no colons).
	// Empty turns provisioning off.
	URL         string `toml:"url"`
	IntervalMin int    `toml:"interval_min"` // minutes between fetches (1…10080, default 60)
	// CAFile is the trust anchor of the server's certificate (PEM,
	// relative to the configuration file); empty means the system roots.
	CAFile string `toml:"ca_file"`
	// SignatureKey is an Ed25519 public key (standard base64). When set,
	// the server must also serve URL+".sig" holding the base64
	// Ed25519 signature of the file, and a file without a good signature
	// is refused.
	SignatureKey string `toml:"signature_key"`
}

// Syslog sends the log to a remote syslog server (RFC 5424).
type Syslog struct {
	Server    string `toml:"server"`    // host:port; empty = no remote log
	Transport string `toml:"transport"` // udp | tcp (RFC 6587 octet counting); default udp
	Level     string `toml:"level"`     // debug | info | warn | error; default info
}

// Board selects the hardware.
type Board struct {
	Name  string `toml:"name"`  // "sim" or a real board's name
	Ports int    `toml:"ports"` // simulated board only: how many ports (1–64, default 2)
	// Watchdog is the hardware watchdog device the gateway feeds while
	// its lines run: empty means /dev/watchdog on a real board and none
	// on the simulated one, "off" none.
	Watchdog string `toml:"watchdog"`
	// PlayoutMS is how soon after a PCM period begins the frames the
	// lines computed from its capture start to play, in ms (2–20; 0
	// means 20): the playback latency the board adds, and each line's
	// deadline for its frame. Lower is quicker to the ear and less
	// forgiving of a busy CPU: a late frame plays as a gap (an underrun).
	PlayoutMS int `toml:"playout_ms"`
}

// Web is the local web page and API.
type Web struct {
	Listen            string `toml:"listen"`              // host:port
	AdminPasswordHash string `toml:"admin_password_hash"` // from `tipring passwd`; empty = first-boot setup
}

// SIP is the account-independent SIP setup.
type SIP struct {
	Listen          string   `toml:"listen"`           // UDP and TCP here; TLS on the next port
	Registrar       string   `toml:"registrar"`        // host[:port]; empty = lines do not register (local calls only)
	BackupRegistrar string   `toml:"backup_registrar"` // host[:port], tried when the registrar fails
	OutboundProxy   string   `toml:"outbound_proxy"`   // host[:port] every request goes through
	Domain          string   `toml:"domain"`           // address-of-record domain; default the registrar's host
	Transport       string   `toml:"transport"`        // udp | tcp | tls
	CAFile          string   `toml:"ca_file"`          // trust anchor for the server's certificate
	SRTP            string   `toml:"srtp"`             // off | optional | required
	Codecs          []string `toml:"codecs"`           // in order of preference: pcmu, pcma
	DTMF            string   `toml:"dtmf"`             // rfc4733 | info | inband
	PtimeMS         int      `toml:"ptime_ms"`         // 10, 20 or 30
	RTPPortMin      int      `toml:"rtp_port_min"`     // even RTP ports are taken from this range
	RTPPortMax      int      `toml:"rtp_port_max"`
	RegisterExpires int      `toml:"register_expires_s"` // binding lifetime asked for
	MWI             bool     `toml:"mwi_subscribe"`      // SUBSCRIBE to message-summary for each line
	// KeepaliveS is the interval of the CRLF keep-alives (RFC 5626) on
	// TCP and TLS connections to the server, which keep NAT bindings
	// open and find a dead connection: 10…600 seconds, 0 turns them off.
	KeepaliveS int `toml:"keepalive_s"`
	// FaxReinvite re-offers a call as plain G.711 pass-through when a fax
	// or modem tone is heard on it.
	FaxReinvite bool `toml:"fax_reinvite"`
}

// Region holds the country-dependent behaviour of the lines.
type Region struct {
	Country string `toml:"country"` // ISO code of the tone plan: us, uk, de, …
	// CallerID is the caller-ID standard: bellcore, etsi-fsk, etsi-dtmf,
	// bt, or "off"; empty means the country's usual one.
	CallerID string `toml:"caller_id"`
	// CallerIDAlert is how ETSI caller ID is announced: ring (after the
	// first ring), dtas (dual-tone alert before ringing), rpas (ring pulse
	// before ringing); empty means dtas.
	CallerIDAlert string `toml:"caller_id_alert"`
	// CallerIDPolarity reverses the line before ETSI or DTMF caller ID.
	CallerIDPolarity bool `toml:"caller_id_polarity_reversal"`
	// FlashMinMS and FlashMaxMS bound a hook flash: shorter breaks are dial
	// pulses, longer ones hang up.
	FlashMinMS int `toml:"flash_min_ms"`
	FlashMaxMS int `toml:"flash_max_ms"`
	// HowlerAfterS is how long a phone left off the hook after a call or a
	// failed dial hears busy or congestion before the howler.
	HowlerAfterS int `toml:"howler_after_s"`
}

// Line is one port's account and features.
type Line struct {
	Port        int    `toml:"port"`
	User        string `toml:"user"`
	Password    string `toml:"password"`
	AuthUser    string `toml:"auth_user"` // digest user name; default user
	DisplayName string `toml:"display_name"`
	// Extension is the number other ports of this gateway dial to reach
	// this one without a server; default "**" and the port number.
	Extension string `toml:"extension"`
	// DigitMap decides when a dialed number is complete (Cisco/SPA
	// syntax); empty means DefaultDigitMap.
	DigitMap string `toml:"digit_map"`
	// CallerID sends the calling party's name and number to the phone.
	CallerID bool `toml:"caller_id"`
	// CallWaiting lets a second call in during a call; without it the
	// second caller hears busy.
	CallWaiting bool `toml:"call_waiting"`
	// DND rejects incoming calls (the phone hears stutter dial tone).
	DND bool `toml:"dnd"`
	// AnonymousReject refuses callers who withhold their number.
	AnonymousReject bool `toml:"anonymous_reject"`
	// ForwardAlways, ForwardBusy and ForwardNoAnswer send incoming calls
	// to another number: always, when the line is busy, or after
	// ForwardNoAnswerS seconds of ringing.
	ForwardAlways    string `toml:"forward_always"`
	ForwardBusy      string `toml:"forward_busy"`
	ForwardNoAnswer  string `toml:"forward_no_answer"`
	ForwardNoAnswerS int    `toml:"forward_no_answer_s"`
	// Hotline is dialed as soon as the phone goes off the hook; with
	// WarmlineS > 0 only when no digit is dialed for that many seconds.
	Hotline   string `toml:"hotline"`
	WarmlineS int    `toml:"warmline_s"`
}

// DefaultDigitMap is the digit map of a line that sets none: emergency
// numbers at once, North American numbers by their length, feature codes,
// local extensions, and anything else after the short timer or #.
const DefaultDigitMap = "(911S0|1[2-9]xxxxxxxxx|[2-9]xxxxxx|*xx|**x.T|xx.T|x.#)"

// DefaultExtension is the local extension of port n when none is set.
func DefaultExtension(n int) string { return "**" + strconv.Itoa(n) }

// Ext returns the line's local extension.
func (l Line) Ext() string {
	if l.Extension != "" {
		return l.Extension
	}
	return DefaultExtension(l.Port)
}

// Map returns the line's digit map.
func (l Line) Map() string {
	if l.DigitMap != "" {
		return l.DigitMap
	}
	return DefaultDigitMap
}

// lineDefaults are the values of a [[line]] key that is absent. The
// decoder starts each array entry from zero values, so booleans that are on
// by default are set after decoding from the keys the file lacks.
func lineDefaults(l *Line, present func(key string) bool) {
	if !present("caller_id") {
		l.CallerID = true
	}
	if !present("call_waiting") {
		l.CallWaiting = true
	}
	if !present("forward_no_answer_s") {
		l.ForwardNoAnswerS = 20
	}
}

// NewLine returns a line for port with the defaults a file gets.
func NewLine(port int) Line {
	l := Line{Port: port}
	lineDefaults(&l, func(string) bool { return false })
	return l
}

// Default returns the configuration a fresh simulated gateway starts with.
func Default() Config {
	return Config{
		Version: Version,
		Board:   Board{Name: "sim", Ports: 2},
		Web:     Web{Listen: "127.0.0.1:8080"},
		SIP: SIP{Listen: "127.0.0.1:5060", Transport: "tls", SRTP: "optional", Codecs: []string{"pcmu", "pcma"},
			DTMF: "rfc4733", PtimeMS: 20, RTPPortMin: 16384, RTPPortMax: 32767, RegisterExpires: 3600, MWI: true,
			KeepaliveS: 30, FaxReinvite: true},
		Region:    Region{Country: "us", FlashMinMS: 100, FlashMaxMS: 1000, HowlerAfterS: 30},
		Provision: Provision{IntervalMin: 60},
		Update:    Update{ConfirmS: 60, HealthTimeoutS: 120},
		Syslog:    Syslog{Transport: "udp", Level: "info"},
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
		c.Version = 1 // files from before versioning are version 1
	}
	lines := keyLines(data)
	for i := range c.Lines {
		prefix := fmt.Sprintf("line[%d].", i+1)
		lineDefaults(&c.Lines[i], func(key string) bool { _, ok := lines[prefix+key]; return ok })
	}
	if c.Version > Version {
		return Config{}, &Error{File: name, Line: lines["version"], Key: "version",
			Msg: fmt.Sprintf("file is version %d, this firmware understands up to %d", c.Version, Version)}
	}
	if c.Version < 1 {
		return Config{}, &Error{File: name, Line: lines["version"], Key: "version", Msg: fmt.Sprintf("%d is not a version (1…%d)", c.Version, Version)}
	}
	migrate(&c)
	if errs := c.validate(); len(errs) > 0 {
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

// Validate checks every field of c, as Parse and Save do, and returns nil
// or the Errors found, one per problem, each keyed by its dotted path
// ("sip.registrar", "line[2].forward_busy", where line[i] is the i-th entry
// of Lines counting from 1). Forms use it to show each message next to its
// field before anything is saved.
func (c Config) Validate() error {
	if errs := c.validate(); len(errs) > 0 {
		return errs
	}
	return nil
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
	if w := c.Board.Watchdog; w != "" && w != "off" && !filepath.IsAbs(w) {
		bad("board.watchdog", "%q is not an absolute device path or \"off\"", w)
	}
	if c.Board.Ports < 1 || c.Board.Ports > MaxPorts {
		bad("board.ports", "%d is out of range 1…%d", c.Board.Ports, MaxPorts)
	}
	if p := c.Board.PlayoutMS; p != 0 && (p < 2 || p > 20) {
		bad("board.playout_ms", "%d is out of range 2…20 (ms)", p)
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
	for _, k := range []struct{ key, v string }{{"sip.backup_registrar", c.SIP.BackupRegistrar}, {"sip.outbound_proxy", c.SIP.OutboundProxy}} {
		if k.v != "" {
			if err := checkHostPort(k.v, false); err != nil {
				bad(k.key, "%v", err)
			}
		}
	}
	if d := c.SIP.Domain; d != "" && (len(d) > 253 || strings.ContainsAny(d, " /\\@:;<>\"")) {
		bad("sip.domain", "%q is not a domain name or address", d)
	}
	switch c.SIP.Transport {
	case "udp", "tcp", "tls":
	default:
		bad("sip.transport", "%q is not one of udp, tcp, tls", c.SIP.Transport)
	}
	switch c.SIP.SRTP {
	case "off", "optional", "required":
	default:
		bad("sip.srtp", "%q is not one of off, optional, required", c.SIP.SRTP)
	}
	if len(c.SIP.Codecs) == 0 {
		bad("sip.codecs", "must name at least one codec (pcmu, pcma)")
	}
	for i, cd := range c.SIP.Codecs {
		if cd != "pcmu" && cd != "pcma" {
			bad("sip.codecs", "codec %d, %q, is not pcmu or pcma", i+1, cd)
		} else if slices.Contains(c.SIP.Codecs[:i], cd) {
			bad("sip.codecs", "codec %d, %q, is already in the list", i+1, cd)
		}
	}
	switch c.SIP.DTMF {
	case "rfc4733", "info", "inband":
	default:
		bad("sip.dtmf", "%q is not one of rfc4733, info, inband", c.SIP.DTMF)
	}
	switch c.SIP.PtimeMS {
	case 10, 20, 30:
	default:
		bad("sip.ptime_ms", "%d is not 10, 20 or 30", c.SIP.PtimeMS)
	}
	if c.SIP.RTPPortMin < 1024 || c.SIP.RTPPortMin > 65534 {
		bad("sip.rtp_port_min", "%d is out of range 1024…65534", c.SIP.RTPPortMin)
	}
	if c.SIP.RTPPortMax < c.SIP.RTPPortMin+3 || c.SIP.RTPPortMax > 65535 {
		bad("sip.rtp_port_max", "%d must be at least rtp_port_min+3 and at most 65535", c.SIP.RTPPortMax)
	}
	if e := c.SIP.RegisterExpires; e < 60 || e > 86400 {
		bad("sip.register_expires_s", "%d is out of range 60…86400", e)
	}
	if k := c.SIP.KeepaliveS; k != 0 && (k < 10 || k > 600) {
		bad("sip.keepalive_s", "%d is not 0 (off) or 10…600", k)
	}
	if _, err := tone.Lookup(c.Region.Country); err != nil {
		bad("region.country", "%v", err)
	}
	switch c.Region.CallerID {
	case "", "off", "bellcore", "etsi-fsk", "etsi-dtmf", "bt":
	default:
		bad("region.caller_id", "%q is not one of bellcore, etsi-fsk, etsi-dtmf, bt, off", c.Region.CallerID)
	}
	switch c.Region.CallerIDAlert {
	case "", "ring", "dtas", "rpas":
	default:
		bad("region.caller_id_alert", "%q is not one of ring, dtas, rpas", c.Region.CallerIDAlert)
	}
	if c.Region.FlashMinMS < 100 || c.Region.FlashMinMS > 500 {
		bad("region.flash_min_ms", "%d is out of range 100…500 (shorter breaks are dial pulses)", c.Region.FlashMinMS)
	}
	if c.Region.FlashMaxMS <= c.Region.FlashMinMS || c.Region.FlashMaxMS > 2000 {
		bad("region.flash_max_ms", "%d must be above flash_min_ms and at most 2000", c.Region.FlashMaxMS)
	}
	if c.Region.HowlerAfterS < 5 || c.Region.HowlerAfterS > 600 {
		bad("region.howler_after_s", "%d is out of range 5…600", c.Region.HowlerAfterS)
	}
	if u := c.Provision.URL; u != "" {
		if pu, err := url.Parse(strings.ReplaceAll(u, "{mac}", "0")); err != nil || pu.Scheme != "https" || pu.Host == "" {
			bad("provision.url", "%q is not an https:// address", u)
		}
	}
	if n := c.Provision.IntervalMin; n < 1 || n > 10080 {
		bad("provision.interval_min", "%d is out of range 1…10080", n)
	}
	if k := c.Provision.SignatureKey; k != "" {
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
			bad("provision.signature_key", "is not a base64 Ed25519 public key (32 bytes)")
		}
	}
	for i, k := range c.Update.PublicKeys {
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k)); err != nil || len(b) != 32 {
			bad("update.public_keys", "key %d is not a base64 Ed25519 public key (32 bytes; updatesign -genkey writes one in PREFIX.pub)", i+1)
		} else if slices.Contains(c.Update.PublicKeys[:i], k) {
			bad("update.public_keys", "key %d is already in the list", i+1)
		}
	}
	if n := c.Update.ConfirmS; n < 5 || n > 3600 {
		bad("update.confirm_s", "%d is out of range 5…3600", n)
	}
	if n := c.Update.HealthTimeoutS; n < 10 || n > 3600 {
		bad("update.health_timeout_s", "%d is out of range 10…3600", n)
	}
	if c.Syslog.Server != "" {
		if err := checkHostPort(c.Syslog.Server, true); err != nil {
			bad("syslog.server", "%v", err)
		}
	}
	switch c.Syslog.Transport {
	case "udp", "tcp":
	default:
		bad("syslog.transport", "%q is not one of udp, tcp", c.Syslog.Transport)
	}
	switch c.Syslog.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("syslog.level", "%q is not one of debug, info, warn, error", c.Syslog.Level)
	}
	exts := map[string]int{}
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
		if l.AuthUser != "" && strings.ContainsAny(l.AuthUser, "\r\n\"") {
			bad(key+".auth_user", "must not contain quotes or line breaks")
		}
		if e := l.Extension; e != "" && !isDialString(e) {
			bad(key+".extension", "%q may hold only 0-9, * and #", e)
		}
		if j, dup := exts[l.Ext()]; dup {
			bad(key+".extension", "%q is already the extension of line[%d]", l.Ext(), j)
		}
		exts[l.Ext()] = i + 1
		if l.DigitMap != "" {
			if _, err := digitmap.Parse(l.DigitMap); err != nil {
				bad(key+".digit_map", "%v", err)
			}
		}
		for _, f := range []struct{ name, v string }{{"forward_always", l.ForwardAlways}, {"forward_busy", l.ForwardBusy}, {"forward_no_answer", l.ForwardNoAnswer}, {"hotline", l.Hotline}} {
			if f.v != "" && !isTarget(f.v) {
				bad(key+"."+f.name, "%q is not a number or SIP address", f.v)
			}
		}
		if l.ForwardNoAnswerS < 5 || l.ForwardNoAnswerS > 300 {
			bad(key+".forward_no_answer_s", "%d is out of range 5…300", l.ForwardNoAnswerS)
		}
		if l.WarmlineS < 0 || l.WarmlineS > 60 {
			bad(key+".warmline_s", "%d is out of range 0…60", l.WarmlineS)
		} else if l.WarmlineS > 0 && l.Hotline == "" {
			bad(key+".warmline_s", "needs a hotline number to dial")
		}
	}
	return errs
}

// isDialString reports whether s holds only keypad characters.
func isDialString(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '*' && c != '#' {
			return false
		}
	}
	return true
}

// isTarget accepts a number to dial or a SIP address (user@host, sip:…).
func isTarget(s string) bool {
	if isDialString(s) || (len(s) > 1 && s[0] == '+' && isDialString(s[1:])) {
		return true
	}
	return len(s) <= 256 && !strings.ContainsAny(s, " \t\r\n<>\"") && (strings.Contains(s, "@") || strings.HasPrefix(s, "sip:") || strings.HasPrefix(s, "sips:"))
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
// the old file kept as path+".bak" (itself written atomically), rename,
// fsync of the directory. A crash at any moment leaves path holding either
// the old or the new configuration, and path+".bak" a complete one.
func Save(path string, c Config) error {
	if errs := c.validate(); len(errs) > 0 {
		return fmt.Errorf("config: refusing to save an invalid configuration: %w", errs)
	}
	data, err := Marshal(c)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil {
		if err := atomicfile.Write(path+".bak", old, 0o600); err != nil {
			return fmt.Errorf("config: keep last good copy: %w", err)
		}
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // make the renames durable; not every file system supports it
		d.Close()
	}
	return nil
}

// Marshal encodes c as the TOML Save writes, without validating it.
func Marshal(c Config) ([]byte, error) {
	data, err := toml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return data, nil
}

// Redact returns a copy of c without its secrets: every line's SIP
// password and the admin password hash. It is what a configuration
// download carries unless the admin asks for the secrets.
func Redact(c Config) Config {
	c = c.clone()
	c.Web.AdminPasswordHash = ""
	for i := range c.Lines {
		c.Lines[i].Password = ""
	}
	return c
}

// KeepSecrets returns a copy of c in which the secrets c lacks are taken
// from cur: an empty admin password hash becomes cur's, and a line without
// a password gets the password of cur's line on the same port. Uploading a
// redacted download thus changes settings without losing the passwords.
func KeepSecrets(c, cur Config) Config {
	c = c.clone()
	if c.Web.AdminPasswordHash == "" {
		c.Web.AdminPasswordHash = cur.Web.AdminPasswordHash
	}
	for i := range c.Lines {
		if c.Lines[i].Password != "" {
			continue
		}
		for _, o := range cur.Lines {
			if o.Port == c.Lines[i].Port {
				c.Lines[i].Password = o.Password
			}
		}
	}
	return c
}
