package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxSize is the largest body Parse accepts. A telephone call's SDP is a
// kilobyte or two; a UDP datagram cannot carry more than 64 KiB anyway.
const MaxSize = 64 << 10

// Session is a parsed session description (RFC 4566 §5), reduced to the
// fields offer/answer needs. Lines of other types (i=, u=, e=, p=, r=, z=,
// k=) are dropped.
type Session struct {
	Origin Origin
	// Name is the s= line.
	Name string
	// Connection is the session-level c= line, nil when absent.
	Connection *Connection
	// Bandwidths holds the session-level b= values.
	Bandwidths []string
	// Timing is the value of the first t= line; peers that omit t= leave it
	// empty, and Marshal writes "0 0".
	Timing string
	// Attributes holds the session-level a= lines in order.
	Attributes []Attribute
	// Media holds the m= sections in order.
	Media []*Media
}

// Origin is the o= line (RFC 4566 §5.2). SessionID and SessionVersion are
// kept as the peer wrote them: some write numbers beyond 64 bits.
type Origin struct {
	Username, SessionID, SessionVersion string
	NetType, AddrType, Address          string
}

// Connection is a c= line (RFC 4566 §5.7). A multicast TTL or address count
// after a slash is dropped.
type Connection struct {
	NetType, AddrType, Address string
}

// Media is an m= section (RFC 4566 §5.14).
type Media struct {
	// Type is the media type: audio, video, image, application, …
	Type string
	// Port is the transport port; 0 marks a rejected or disabled stream.
	Port int
	// NumPorts is the port count after a slash, 0 when absent.
	NumPorts int
	// Proto is the transport protocol, such as RTP/AVP or RTP/SAVP.
	Proto string
	// Formats holds the format list; for RTP, payload type numbers.
	Formats []string
	// Connection is the media-level c= line, nil when absent.
	Connection *Connection
	// Bandwidths holds the media-level b= values.
	Bandwidths []string
	// Attributes holds the media-level a= lines in order.
	Attributes []Attribute
}

// Attribute is one a= line: a property attribute has an empty Value.
type Attribute struct {
	Key, Value string
}

// Parse reads a session description. It is tolerant of what deployed peers
// send: CRLF or bare LF line ends, white space at line ends, lines in any
// order after o=, a missing v= or t=, unknown line types and attributes,
// lower-case network and address types. It fails only on a line that is not
// <letter>=<value>, a v= other than 0, and malformed o=, c= or m= lines.
func Parse(body []byte) (*Session, error) {
	if len(body) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), MaxSize)
	}
	s := &Session{}
	var (
		cur                       *Media
		seen, seenO, seenT, seenS bool
	)
	rest := body
	for n := 1; len(rest) > 0; n++ {
		var raw []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			raw, rest = rest, nil
		}
		line := strings.TrimRight(string(raw), " \t\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' || !isAlpha(line[0]) {
			return nil, fmt.Errorf("%w: line %d is not <type>=<value>", ErrSyntax, n)
		}
		seen = true
		val := strings.TrimSpace(line[2:])
		switch line[0] {
		case 'v':
			if val != "0" {
				return nil, fmt.Errorf("%w: line %d: version %q, want 0", ErrSyntax, n, val)
			}
		case 'o':
			if cur != nil || seenO {
				continue
			}
			o, err := parseOrigin(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			s.Origin, seenO = o, true
		case 's':
			if cur == nil && !seenS {
				s.Name, seenS = val, true
			}
		case 't':
			if cur == nil && !seenT {
				s.Timing, seenT = val, true
			}
		case 'c':
			c, err := parseConnection(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			// A second c= at one level lists further multicast
			// addresses; unicast telephony uses the first.
			if cur == nil && s.Connection == nil {
				s.Connection = c
			} else if cur != nil && cur.Connection == nil {
				cur.Connection = c
			}
		case 'b':
			if cur == nil {
				s.Bandwidths = append(s.Bandwidths, val)
			} else {
				cur.Bandwidths = append(cur.Bandwidths, val)
			}
		case 'a':
			k, v, _ := strings.Cut(val, ":")
			a := Attribute{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)}
			if cur == nil {
				s.Attributes = append(s.Attributes, a)
			} else {
				cur.Attributes = append(cur.Attributes, a)
			}
		case 'm':
			m, err := parseMedia(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			s.Media = append(s.Media, m)
			cur = m
		}
	}
	if !seen {
		return nil, ErrEmpty
	}
	return s, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func parseOrigin(v string) (Origin, error) {
	f := strings.Fields(v)
	if len(f) != 6 {
		return Origin{}, fmt.Errorf("%w: o= has %d fields, want 6", ErrSyntax, len(f))
	}
	return Origin{
		Username: f[0], SessionID: f[1], SessionVersion: f[2],
		NetType: strings.ToUpper(f[3]), AddrType: strings.ToUpper(f[4]), Address: f[5],
	}, nil
}

func parseConnection(v string) (*Connection, error) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return nil, fmt.Errorf("%w: c= has %d fields, want 3", ErrSyntax, len(f))
	}
	addr, _, _ := strings.Cut(f[2], "/")
	return &Connection{NetType: strings.ToUpper(f[0]), AddrType: strings.ToUpper(f[1]), Address: addr}, nil
}

func parseMedia(v string) (*Media, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return nil, fmt.Errorf("%w: m= has %d fields, want at least 3", ErrSyntax, len(f))
	}
	m := &Media{Type: f[0], Proto: f[2]}
	port, count, hasCount := strings.Cut(f[1], "/")
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: m= port %q", ErrSyntax, f[1])
	}
	m.Port = int(p)
	if hasCount {
		c, err := strconv.ParseUint(count, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: m= port count %q", ErrSyntax, f[1])
		}
		m.NumPorts = int(c)
	}
	if len(f) > 3 {
		m.Formats = f[3:]
	}
	return m, nil
}

// Marshal writes the session description in the order RFC 4566 §5
// prescribes (v o s c b t a, then per media m c b a), each line ending in
// CRLF. Empty fields get the placeholders RFC 4566 allows ("-" for s=,
// "0 0" for t=).
func (s *Session) Marshal() []byte {
	var b bytes.Buffer
	line := func(typ byte, parts ...string) {
		b.WriteByte(typ)
		b.WriteByte('=')
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteString("\r\n")
	}
	o := s.Origin
	line('v', "0")
	line('o', or(o.Username, "-"), " ", or(o.SessionID, "0"), " ", or(o.SessionVersion, "0"), " ",
		or(o.NetType, "IN"), " ", or(o.AddrType, "IP4"), " ", or(o.Address, "0.0.0.0"))
	line('s', or(s.Name, "-"))
	writeConnection(line, s.Connection)
	for _, bw := range s.Bandwidths {
		line('b', bw)
	}
	line('t', or(s.Timing, "0 0"))
	writeAttributes(line, s.Attributes)
	for _, m := range s.Media {
		port := strconv.Itoa(m.Port)
		if m.NumPorts > 0 {
			port += "/" + strconv.Itoa(m.NumPorts)
		}
		parts := []string{m.Type, " ", port, " ", m.Proto}
		for _, f := range m.Formats {
			parts = append(parts, " ", f)
		}
		line('m', parts...)
		writeConnection(line, m.Connection)
		for _, bw := range m.Bandwidths {
			line('b', bw)
		}
		writeAttributes(line, m.Attributes)
	}
	return b.Bytes()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writeConnection(line func(byte, ...string), c *Connection) {
	if c != nil {
		line('c', or(c.NetType, "IN"), " ", or(c.AddrType, "IP4"), " ", or(c.Address, "0.0.0.0"))
	}
}

func writeAttributes(line func(byte, ...string), attrs []Attribute) {
	for _, a := range attrs {
		if a.Value == "" {
			line('a', a.Key)
		} else {
			line('a', a.Key, ":", a.Value)
		}
	}
}

// Attr returns the value of the first session-level attribute named key.
func (s *Session) Attr(key string) (string, bool) { return findAttr(s.Attributes, key) }

// Attr returns the value of the first media-level attribute named key.
func (m *Media) Attr(key string) (string, bool) { return findAttr(m.Attributes, key) }

// Attrs returns the values of all media-level attributes named key.
func (m *Media) Attrs(key string) []string {
	var vals []string
	for _, a := range m.Attributes {
		if strings.EqualFold(a.Key, key) {
			vals = append(vals, a.Value)
		}
	}
	return vals
}

func findAttr(attrs []Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Key, key) {
			return a.Value, true
		}
	}
	return "", false
}

// ConnectionFor returns the connection that applies to m: its own c= line,
// or else the session's (RFC 4566 §5.7). It is nil when neither exists.
func (s *Session) ConnectionFor(m *Media) *Connection {
	if m.Connection != nil {
		return m.Connection
	}
	return s.Connection
}

// Addr returns the connection address as an IP address; ok is false for a
// non-IN network type, a host name or garbage.
func (c *Connection) Addr() (netip.Addr, bool) {
	if c == nil || c.NetType != "IN" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(c.Address)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// IsHold reports whether the address is 0.0.0.0 (or ::), the way RFC 2543
// put a stream on hold, still sent by older peers (RFC 3264 §8.4).
func (c *Connection) IsHold() bool {
	a, ok := c.Addr()
	return ok && a.IsUnspecified()
}

// DirectionFor returns the direction of m: its own direction attribute, or
// else the session's, or else sendrecv (RFC 3264 §5.1).
func (s *Session) DirectionFor(m *Media) Direction {
	if d, ok := directionOf(m.Attributes); ok {
		return d
	}
	if d, ok := directionOf(s.Attributes); ok {
		return d
	}
	return SendRecv
}

func directionOf(attrs []Attribute) (Direction, bool) {
	for _, a := range attrs {
		if d, ok := ParseDirection(a.Key); ok {
			return d, true
		}
	}
	return 0, false
}
