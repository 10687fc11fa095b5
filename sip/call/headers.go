package call

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxHeaderLen bounds the header values this package interprets.
const maxHeaderLen = 4096

// nameAddr is one name-addr or addr-spec of RFC 3261 §25.1 with its
// header parameters.
type nameAddr struct {
	Display string
	URI     string
	Params  map[string]string // lower-case names; "" for a name alone
}

// splitList splits a header value at commas outside quotes and angle
// brackets, trimming each element and dropping empty ones.
func splitList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if start <= len(v) {
		if s := strings.TrimSpace(v[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseParams reads ";name=value;name" parameters. Quoted values are
// unquoted.
func parseParams(s string) (map[string]string, error) {
	p := make(map[string]string)
	s = strings.TrimSpace(s)
	for s != "" {
		if s[0] != ';' {
			return nil, fmt.Errorf("%w: parameter list %q", ErrMalformed, s)
		}
		s = strings.TrimLeft(s[1:], " \t")
		end := 0
		quoted := false
		for end < len(s) && (quoted || s[end] != ';') {
			if s[end] == '"' {
				quoted = !quoted
			} else if quoted && s[end] == '\\' {
				end++
			}
			end++
		}
		if quoted {
			return nil, fmt.Errorf("%w: unterminated quote in parameters", ErrMalformed)
		}
		if end > len(s) {
			end = len(s)
		}
		item := strings.TrimSpace(s[:end])
		s = s[end:]
		if item == "" {
			return nil, fmt.Errorf("%w: empty parameter", ErrMalformed)
		}
		name, value, _ := strings.Cut(item, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == "" || !isToken(name) {
			return nil, fmt.Errorf("%w: parameter name %q", ErrMalformed, name)
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = unquote(value[1 : len(value)-1])
		}
		p[name] = value
	}
	return p, nil
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isToken reports whether s is an RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("-.!%*_+`'~", rune(c)) {
			return false
		}
	}
	return true
}

// parseNameAddr parses one element of a name-addr list: `"Name" <uri>;p`,
// `Name <uri>;p` or a bare `uri;p` (whose parameters are header
// parameters, RFC 3261 §20.10).
func parseNameAddr(v string) (nameAddr, error) {
	var na nameAddr
	v = strings.TrimSpace(v)
	if len(v) > maxHeaderLen {
		return na, fmt.Errorf("%w: header value too long", ErrMalformed)
	}
	rest := ""
	switch {
	case strings.HasPrefix(v, `"`):
		end := -1
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '"' {
				end = i
				break
			}
		}
		if end < 0 {
			return na, fmt.Errorf("%w: unterminated display name", ErrMalformed)
		}
		na.Display = unquote(v[1:end])
		v = strings.TrimSpace(v[end+1:])
		if !strings.HasPrefix(v, "<") {
			return na, fmt.Errorf("%w: display name without <uri>", ErrMalformed)
		}
		fallthrough
	case strings.Contains(v, "<"):
		lt := strings.IndexByte(v, '<')
		gt := strings.IndexByte(v, '>')
		if gt < lt {
			return na, fmt.Errorf("%w: unbalanced <> in %q", ErrMalformed, v)
		}
		if na.Display == "" {
			na.Display = strings.TrimSpace(v[:lt])
		}
		na.URI = strings.TrimSpace(v[lt+1 : gt])
		rest = v[gt+1:]
	default:
		uri, params, _ := strings.Cut(v, ";")
		na.URI = strings.TrimSpace(uri)
		if params != "" {
			rest = ";" + params
		}
	}
	if na.URI == "" || strings.ContainsAny(na.URI, " \t<>\"") {
		return na, fmt.Errorf("%w: URI %q", ErrMalformed, na.URI)
	}
	if !strings.Contains(na.URI, ":") {
		return na, fmt.Errorf("%w: URI %q has no scheme", ErrMalformed, na.URI)
	}
	p, err := parseParams(rest)
	if err != nil {
		return na, err
	}
	na.Params = p
	return na, nil
}

// Party is a calling or called party as the line should present it: for
// caller ID, a display name and a number, either of which may be
// withheld.
type Party struct {
	// Name is the display name; empty when unknown or withheld.
	Name string
	// Number is the user part of the party's URI (or the tel: number);
	// empty when unknown or withheld.
	Number string
	// URI is the full address the identity came from, empty when
	// withheld.
	URI string
	// NamePrivate and NumberPrivate report that the caller withheld them
	// (RFC 3323 Privacy, or an anonymous From); caller ID shows "P".
	NamePrivate, NumberPrivate bool
}

// userOf returns the user part of a sip:, sips: or tel: URI, without
// parameters, or "".
func userOf(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "tel":
		n, _, _ := strings.Cut(rest, ";")
		return n
	case "sip", "sips":
		user, _, ok := strings.Cut(rest, "@")
		if !ok {
			return ""
		}
		user, _, _ = strings.Cut(user, ";")
		user, _, _ = strings.Cut(user, ":") // a password, never shown
		if u, err := url.PathUnescape(user); err == nil {
			user = u
		}
		return user
	}
	return ""
}

func hostOf(uri string) string {
	_, rest, _ := strings.Cut(uri, "@")
	h, _, _ := strings.Cut(rest, ";")
	h, _, _ = strings.Cut(h, ">")
	return strings.ToLower(h)
}

// parsePrivacy parses a Privacy header (RFC 3323 §4.2): a list of
// priv-values separated by ";" (some peers use ","). Values are
// lower-cased.
func parsePrivacy(v string) ([]string, error) {
	if len(v) > maxHeaderLen {
		return nil, fmt.Errorf("%w: Privacy too long", ErrMalformed)
	}
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !isToken(f) {
			return nil, fmt.Errorf("%w: Privacy value %q", ErrMalformed, f)
		}
		out = append(out, f)
	}
	return out, nil
}

// callerParty works out the calling party of an incoming INVITE: the
// first P-Asserted-Identity (RFC 3325 §9.1) when there is one, else From,
// with the RFC 3323 Privacy header and the anonymous From convention
// (RFC 3323 §4.1.1.3) marking name and number withheld.
func callerParty(from string, pai []string, privacy string) Party {
	var p Party
	src := ""
	var na nameAddr
	for _, v := range pai {
		for _, el := range splitList(v) {
			if n, err := parseNameAddr(el); err == nil && userOf(n.URI) != "" {
				na, src = n, "pai"
				break
			}
		}
		if src != "" {
			break
		}
	}
	if src == "" {
		if n, err := parseNameAddr(from); err == nil {
			na = n
		}
	}
	p.Name = strings.TrimSpace(na.Display)
	p.Number = userOf(na.URI)
	p.URI = na.URI
	if strings.EqualFold(p.Number, "anonymous") || hostOf(na.URI) == "anonymous.invalid" {
		p.NumberPrivate = true
	}
	if strings.EqualFold(p.Name, "anonymous") {
		p.NamePrivate = true
	}
	vals, _ := parsePrivacy(privacy)
	for _, pv := range vals {
		switch pv {
		case "id", "header", "user":
			p.NamePrivate, p.NumberPrivate = true, true
		}
	}
	if p.NamePrivate {
		p.Name = ""
	}
	if p.NumberPrivate {
		p.Number, p.URI = "", ""
	}
	return p
}

// AlertInfo is one Alert-Info value (RFC 3261 §20.4): a URI naming a
// ring tone, often an "info" or "http" URI, or a URN of RFC 7462, which
// the line maps to a ring cadence.
type AlertInfo struct {
	// URI is the value inside the angle brackets.
	URI string
	// Params are its header parameters, names lower-cased.
	Params map[string]string
}

// parseAlertInfo parses an Alert-Info header value.
func parseAlertInfo(v string) ([]AlertInfo, error) {
	if len(v) > maxHeaderLen {
		return nil, fmt.Errorf("%w: Alert-Info too long", ErrMalformed)
	}
	var out []AlertInfo
	for _, el := range splitList(v) {
		if !strings.HasPrefix(el, "<") {
			return nil, fmt.Errorf("%w: Alert-Info value %q without <>", ErrMalformed, el)
		}
		na, err := parseNameAddr(el)
		if err != nil {
			return nil, err
		}
		out = append(out, AlertInfo{URI: na.URI, Params: na.Params})
	}
	return out, nil
}

// sessionExpires is a Session-Expires value (RFC 4028 §4).
type sessionExpires struct {
	Interval  time.Duration
	Refresher string // "uac", "uas" or ""
}

// maxSessionExpires bounds the intervals we accept, so that timers stay
// representable.
const maxSessionExpires = 1 << 31 * time.Second

func parseDelta(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 10 {
		return 0, fmt.Errorf("%w: delta-seconds %q", ErrMalformed, s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: delta-seconds %q", ErrMalformed, s)
	}
	return time.Duration(n) * time.Second, nil
}

// parseSessionExpires parses "1800;refresher=uac".
func parseSessionExpires(v string) (sessionExpires, error) {
	var se sessionExpires
	if len(v) > maxHeaderLen {
		return se, fmt.Errorf("%w: Session-Expires too long", ErrMalformed)
	}
	d, params, _ := strings.Cut(v, ";")
	iv, err := parseDelta(d)
	if err != nil {
		return se, err
	}
	se.Interval = iv
	if params != "" {
		p, err := parseParams(";" + params)
		if err != nil {
			return se, err
		}
		switch r := strings.ToLower(p["refresher"]); r {
		case "", "uac", "uas":
			se.Refresher = r
		default:
			return se, fmt.Errorf("%w: refresher %q", ErrMalformed, r)
		}
	}
	return se, nil
}

func (se sessionExpires) String() string {
	s := strconv.FormatInt(int64(se.Interval/time.Second), 10)
	if se.Refresher != "" {
		s += ";refresher=" + se.Refresher
	}
	return s
}

// parseMinSE parses a Min-SE value (RFC 4028 §5): delta-seconds with
// optional parameters.
func parseMinSE(v string) (time.Duration, error) {
	if len(v) > maxHeaderLen {
		return 0, fmt.Errorf("%w: Min-SE too long", ErrMalformed)
	}
	d, _, _ := strings.Cut(v, ";")
	return parseDelta(d)
}

// parseRSeq parses an RSeq value (RFC 3262 §7.1).
func parseRSeq(v string) (uint32, error) {
	v = strings.TrimSpace(v)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: RSeq %q", ErrMalformed, v)
	}
	return uint32(n), nil
}

// rack is an RAck value (RFC 3262 §7.2): the RSeq and CSeq of the
// response acknowledged.
type rack struct {
	RSeq, CSeq uint32
	Method     string
}

func parseRAck(v string) (rack, error) {
	var r rack
	f := strings.Fields(v)
	if len(f) != 3 {
		return r, fmt.Errorf("%w: RAck %q", ErrMalformed, v)
	}
	rs, err1 := strconv.ParseUint(f[0], 10, 32)
	cs, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil || !isToken(f[2]) {
		return r, fmt.Errorf("%w: RAck %q", ErrMalformed, v)
	}
	return rack{RSeq: uint32(rs), CSeq: uint32(cs), Method: strings.ToUpper(f[2])}, nil
}

// replaces is a Replaces value (RFC 3891 §6.1) naming a dialog from the
// point of view of the UA receiving it: to-tag is that UA's own tag.
type replaces struct {
	CallID, ToTag, FromTag string
	EarlyOnly              bool
}

func parseReplaces(v string) (replaces, error) {
	var r replaces
	if len(v) > maxHeaderLen {
		return r, fmt.Errorf("%w: Replaces too long", ErrMalformed)
	}
	id, params, _ := strings.Cut(v, ";")
	r.CallID = strings.TrimSpace(id)
	if r.CallID == "" || strings.ContainsFunc(r.CallID, unicode.IsSpace) {
		return r, fmt.Errorf("%w: Replaces Call-ID %q", ErrMalformed, r.CallID)
	}
	p, err := parseParams(";" + params)
	if params == "" || err != nil {
		return r, fmt.Errorf("%w: Replaces %q needs to-tag and from-tag", ErrMalformed, v)
	}
	var okTo, okFrom bool
	r.ToTag, okTo = p["to-tag"]
	r.FromTag, okFrom = p["from-tag"]
	_, r.EarlyOnly = p["early-only"]
	if !okTo || !okFrom || r.ToTag == "" || r.FromTag == "" {
		return r, fmt.Errorf("%w: Replaces %q needs to-tag and from-tag", ErrMalformed, v)
	}
	return r, nil
}

func (r replaces) String() string {
	s := r.CallID + ";to-tag=" + r.ToTag + ";from-tag=" + r.FromTag
	if r.EarlyOnly {
		s += ";early-only"
	}
	return s
}

// referTo is a Refer-To value (RFC 3515 §2.1): the target URI without
// its headers, and the Replaces header it may embed (RFC 3891 §5).
type referTo struct {
	URI      string
	Replaces *replaces
}

func parseReferTo(v string) (referTo, error) {
	var rt referTo
	na, err := parseNameAddr(v)
	if err != nil {
		return rt, err
	}
	uri, hdrs, _ := strings.Cut(na.URI, "?")
	scheme, _, _ := strings.Cut(uri, ":")
	switch strings.ToLower(scheme) {
	case "sip", "sips", "tel":
	default:
		return rt, fmt.Errorf("%w: Refer-To scheme %q", ErrMalformed, scheme)
	}
	rt.URI = uri
	for _, h := range strings.Split(hdrs, "&") {
		if h == "" {
			continue
		}
		name, value, _ := strings.Cut(h, "=")
		if !strings.EqualFold(name, "Replaces") {
			continue
		}
		raw, err := url.QueryUnescape(value)
		if err != nil {
			return rt, fmt.Errorf("%w: Refer-To Replaces: %w", ErrMalformed, err)
		}
		r, err := parseReplaces(raw)
		if err != nil {
			return rt, err
		}
		rt.Replaces = &r
	}
	return rt, nil
}

// referToValue renders a Refer-To value for uri, with an escaped
// Replaces header when r is not nil.
func referToValue(uri string, r *replaces) string {
	if r == nil {
		return "<" + uri + ">"
	}
	return "<" + uri + "?Replaces=" + escapeHeader(r.String()) + ">"
}

// escapeHeader escapes a URI header value (RFC 3261 §25.1 hvalue).
func escapeHeader(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()[]/?:+$", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// parseDTMFRelay parses an application/dtmf-relay body ("Signal=5\r\n
// Duration=160"): the digit and its duration, 0 when absent.
func parseDTMFRelay(body []byte) (rune, time.Duration, error) {
	if len(body) > maxHeaderLen {
		return 0, 0, fmt.Errorf("%w: dtmf-relay body too long", ErrMalformed)
	}
	var digit rune
	var dur time.Duration
	for _, line := range strings.Split(string(body), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "signal":
			d, ok := dtmfDigit(v)
			if !ok {
				return 0, 0, fmt.Errorf("%w: dtmf-relay signal %q", ErrMalformed, v)
			}
			digit = d
		case "duration":
			ms, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return 0, 0, fmt.Errorf("%w: dtmf-relay duration %q", ErrMalformed, v)
			}
			dur = time.Duration(ms) * time.Millisecond
		}
	}
	if digit == 0 {
		return 0, 0, fmt.Errorf("%w: dtmf-relay body without a signal", ErrMalformed)
	}
	return digit, dur, nil
}

// dtmfDigit maps a signal ("5", "*", "A", or the RFC 4733 event numbers
// 10 and 11 some phones send) to a digit.
func dtmfDigit(v string) (rune, bool) {
	switch v {
	case "10":
		return '*', true
	case "11":
		return '#', true
	}
	if len(v) != 1 {
		return 0, false
	}
	c := rune(v[0])
	switch {
	case c >= '0' && c <= '9', c == '*', c == '#':
		return c, true
	case c >= 'A' && c <= 'D':
		return c, true
	case c >= 'a' && c <= 'd':
		return unicode.ToUpper(c), true
	}
	return 0, false
}

// parseSipfrag reads the status line of a message/sipfrag body (RFC
// 3420) as sent in NOTIFYs for REFER (RFC 3515 §2.4.5).
func parseSipfrag(body []byte) (int, string, error) {
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimRight(line, "\r")
	if len(line) > maxHeaderLen {
		return 0, "", fmt.Errorf("%w: sipfrag too long", ErrMalformed)
	}
	f := strings.SplitN(line, " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, "", fmt.Errorf("%w: sipfrag status line %q", ErrMalformed, line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 || len(f[1]) != 3 {
		return 0, "", fmt.Errorf("%w: sipfrag status code %q", ErrMalformed, f[1])
	}
	reason := ""
	if len(f) == 3 {
		reason = f[2]
	}
	return code, reason, nil
}

// hasOption reports whether a Supported or Require list holds tag.
func hasOption(values []string, tag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}
