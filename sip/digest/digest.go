// Package digest answers HTTP Digest access authentication challenges as
// SIP uses them (RFC 3261 §22.4): it parses WWW-Authenticate and
// Proxy-Authenticate values and computes the matching Authorization or
// Proxy-Authorization value.
//
// It implements RFC 2617 and its successor RFC 7616 with the algorithms
// RFC 8760 names for SIP: MD5, SHA-256 and SHA-512/256, each also in its
// "-sess" form, with qop "auth" and "auth-int" or without qop (RFC 2069
// compatibility). A client that caches a challenge increments the nonce
// count itself and passes it in [Options].
package digest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
)

// Errors returned by this package.
var (
	// ErrNotDigest means the challenge uses another scheme than Digest.
	ErrNotDigest = errors.New("digest: not a Digest challenge")
	// ErrMalformed means the challenge could not be parsed.
	ErrMalformed = errors.New("digest: malformed challenge")
	// ErrUnsupportedAlgorithm means the challenge names an algorithm this
	// package does not implement.
	ErrUnsupportedAlgorithm = errors.New("digest: unsupported algorithm")
	// ErrUnsupportedQop means the challenge offers only qop values this
	// package does not implement.
	ErrUnsupportedQop = errors.New("digest: unsupported qop")
)

// Challenge is a parsed Digest challenge.
type Challenge struct {
	Realm  string
	Domain string
	Nonce  string
	Opaque string
	// Algorithm is as sent; empty means MD5.
	Algorithm string
	// QOP lists the offered quality-of-protection values; empty means the
	// RFC 2069 form without qop.
	QOP []string
	// Stale reports that the previous credentials were right but their
	// nonce expired: answer again with the same password.
	Stale bool
	// Userhash asks for the user name to be hashed (RFC 7616 §3.4.4).
	Userhash bool
}

// Options are the request-side inputs of a response.
type Options struct {
	// Method is the SIP method, e.g. "REGISTER".
	Method string
	// URI is the digest-uri, in SIP the Request-URI.
	URI string
	// Username and Password are the credentials.
	Username string
	Password string
	// NC is the nonce count: 1 for the first request with a nonce, then
	// one more for each request reusing it. Zero is taken as 1.
	NC uint32
	// Cnonce is the client nonce; a random one is made when empty.
	Cnonce string
	// Body is the message body, used only with qop "auth-int".
	Body []byte
}

// Credentials is a computed Digest response.
type Credentials struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string
	Cnonce    string
	Opaque    string
	QOP       string
	NC        uint32
	Userhash  bool
}

// algorithms maps each supported algorithm, upper-case, to its hash.
var algorithms = map[string]func() hash.Hash{
	"MD5":         md5.New,
	"SHA-256":     sha256.New,
	"SHA-512-256": sha512.New512_256,
}

// strength orders algorithms from weakest to strongest.
var strength = []string{"MD5", "SHA-256", "SHA-512-256"}

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value
// such as `Digest realm="example.com", nonce="abc", qop="auth"`.
func ParseChallenge(value string) (*Challenge, error) {
	value = strings.TrimSpace(value)
	end := strings.IndexAny(value, " \t\r\n")
	if end < 0 {
		end = len(value)
	}
	scheme, rest := value[:end], value[end:]
	if !strings.EqualFold(scheme, "Digest") {
		return nil, ErrNotDigest
	}
	params, err := parseParams(rest)
	if err != nil {
		return nil, err
	}
	c := &Challenge{}
	for _, p := range params {
		switch strings.ToLower(p.name) {
		case "realm":
			c.Realm = p.value
		case "domain":
			c.Domain = p.value
		case "nonce":
			c.Nonce = p.value
		case "opaque":
			c.Opaque = p.value
		case "algorithm":
			c.Algorithm = p.value
		case "stale":
			c.Stale = strings.EqualFold(p.value, "true")
		case "userhash":
			c.Userhash = strings.EqualFold(p.value, "true")
		case "qop":
			for q := range strings.SplitSeq(p.value, ",") {
				if q = strings.TrimSpace(q); q != "" {
					c.QOP = append(c.QOP, strings.ToLower(q))
				}
			}
		}
	}
	if c.Nonce == "" {
		return nil, fmt.Errorf("%w: no nonce", ErrMalformed)
	}
	return c, nil
}

type param struct{ name, value string }

// parseParams reads a comma-separated auth-param list (RFC 7235 §2.1).
func parseParams(s string) ([]param, error) {
	var out []param
	i := 0
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && !isSpace(s[i]) {
			i++
		}
		name := s[start:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' || name == "" {
			return nil, fmt.Errorf("%w: parameter %q without value", ErrMalformed, name)
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var value string
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				ch := s[i]
				i++
				if ch == '\\' && i < len(s) {
					b.WriteByte(s[i])
					i++
					continue
				}
				if ch == '"' {
					closed = true
					break
				}
				b.WriteByte(ch)
			}
			if !closed {
				return nil, fmt.Errorf("%w: unterminated quoted value of %q", ErrMalformed, name)
			}
			value = b.String()
		} else {
			start := i
			for i < len(s) && s[i] != ',' && !isSpace(s[i]) {
				i++
			}
			value = s[start:i]
		}
		out = append(out, param{name: name, value: value})
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i < len(s) && s[i] != ',' {
			return nil, fmt.Errorf("%w: junk after %q", ErrMalformed, name)
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// baseAlgorithm splits an algorithm name into its hash name and whether it
// is a session variant.
func baseAlgorithm(alg string) (string, bool) {
	a := strings.ToUpper(alg)
	if a == "" {
		return "MD5", false
	}
	if b, ok := strings.CutSuffix(a, "-SESS"); ok {
		return b, true
	}
	return a, false
}

// Supported reports whether this package can answer the challenge:
// a known algorithm and either no qop or a qop it implements.
func (c *Challenge) Supported() bool {
	b, _ := baseAlgorithm(c.Algorithm)
	if _, ok := algorithms[b]; !ok {
		return false
	}
	return len(c.QOP) == 0 || slices.Contains(c.QOP, "auth") || slices.Contains(c.QOP, "auth-int")
}

// ChallengeHeader is the header a response of status carries its
// challenges in: Proxy-Authenticate for 407, WWW-Authenticate otherwise.
func ChallengeHeader(status int) string {
	if status == 407 {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

// StrongestOf parses header values (those of ChallengeHeader) and returns
// the strongest supported challenge among them (see Strongest), or nil;
// values that do not parse are skipped.
func StrongestOf(values []string) *Challenge {
	var cs []*Challenge
	for _, v := range values {
		if c, err := ParseChallenge(v); err == nil {
			cs = append(cs, c)
		}
	}
	return Strongest(cs)
}

// Strongest returns the supported challenge with the strongest algorithm,
// preferring the earliest listed among equals (RFC 7616 §3.7), or nil.
func Strongest(cs []*Challenge) *Challenge {
	var best *Challenge
	bestRank := -1
	for _, c := range cs {
		if !c.Supported() {
			continue
		}
		b, _ := baseAlgorithm(c.Algorithm)
		if r := slices.Index(strength, b); r > bestRank {
			best, bestRank = c, r
		}
	}
	return best
}

// Respond computes the credentials answering c for the request described
// by o.
func Respond(c *Challenge, o Options) (*Credentials, error) {
	base, sess := baseAlgorithm(c.Algorithm)
	newHash, ok := algorithms[base]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, c.Algorithm)
	}
	h := func(parts ...string) string {
		x := newHash()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	cr := &Credentials{
		Username:  o.Username,
		Realm:     c.Realm,
		Nonce:     c.Nonce,
		URI:       o.URI,
		Algorithm: c.Algorithm,
		Opaque:    c.Opaque,
		Userhash:  c.Userhash,
	}
	if c.Userhash {
		cr.Username = h(o.Username, c.Realm)
	}
	switch {
	case len(c.QOP) == 0:
	case slices.Contains(c.QOP, "auth"):
		cr.QOP = "auth"
	case slices.Contains(c.QOP, "auth-int"):
		cr.QOP = "auth-int"
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedQop, strings.Join(c.QOP, ","))
	}
	if cr.QOP != "" || sess {
		cr.Cnonce = o.Cnonce
		if cr.Cnonce == "" {
			var b [12]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, fmt.Errorf("digest: cnonce: %w", err)
			}
			cr.Cnonce = hex.EncodeToString(b[:])
		}
	}
	ha1 := h(o.Username, c.Realm, o.Password)
	if sess {
		ha1 = h(ha1, c.Nonce, cr.Cnonce)
	}
	ha2 := h(o.Method, o.URI)
	if cr.QOP == "auth-int" {
		ha2 = h(o.Method, o.URI, h(string(o.Body)))
	}
	if cr.QOP == "" {
		cr.Response = h(ha1, c.Nonce, ha2)
		return cr, nil
	}
	cr.NC = max(o.NC, 1)
	cr.Response = h(ha1, c.Nonce, fmt.Sprintf("%08x", cr.NC), cr.Cnonce, cr.QOP, ha2)
	return cr, nil
}

// String renders the credentials as an Authorization or
// Proxy-Authorization header value.
func (cr *Credentials) String() string {
	var b strings.Builder
	b.WriteString("Digest ")
	quoted := func(name, v string) {
		b.WriteString(name)
		b.WriteString(`="`)
		for i := 0; i < len(v); i++ {
			if v[i] == '"' || v[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
		b.WriteString(`", `)
	}
	quoted("username", cr.Username)
	quoted("realm", cr.Realm)
	quoted("nonce", cr.Nonce)
	quoted("uri", cr.URI)
	quoted("response", cr.Response)
	if cr.Algorithm != "" {
		b.WriteString("algorithm=" + cr.Algorithm + ", ")
	}
	if cr.Cnonce != "" {
		quoted("cnonce", cr.Cnonce)
	}
	if cr.Opaque != "" {
		quoted("opaque", cr.Opaque)
	}
	if cr.QOP != "" {
		b.WriteString("qop=" + cr.QOP + ", nc=" + fmt.Sprintf("%08x", cr.NC) + ", ")
	}
	if cr.Userhash {
		b.WriteString("userhash=true, ")
	}
	return strings.TrimSuffix(b.String(), ", ")
}

// Redacted renders the credentials like String but without the response
// and cnonce, for logs.
func (cr *Credentials) Redacted() string {
	return "Digest username=" + strconv.Quote(cr.Username) + ", realm=" + strconv.Quote(cr.Realm) +
		", algorithm=" + cr.Algorithm + ", qop=" + cr.QOP + fmt.Sprintf(", nc=%08x", cr.NC)
}
