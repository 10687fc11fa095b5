// Package hostport checks and completes the addresses the SIP packages (ua,
// call, mwi) are configured with: a next hop as host, host:port, [v6] or
// [v6]:port, its default port per transport, and the user and domain of
// an address of record.
package hostport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the port of a transport when none is given (RFC 3261
// §19.1.2): 5061 for TLS, 5060 otherwise.
func DefaultPort(transport string) uint16 {
	if transport == "tls" {
		return 5061
	}
	return 5060
}

// Split splits "host", "host:port", "[v6]" or "[v6]:port"; port is 0
// when absent.
func Split(spec string) (host string, port uint16, err error) {
	if h, p, err := net.SplitHostPort(spec); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 || h == "" {
			return "", 0, fmt.Errorf("bad port in %q", spec)
		}
		return h, uint16(n), nil
	}
	bracketed := strings.HasPrefix(spec, "[")
	if bracketed != strings.HasSuffix(spec, "]") {
		return "", 0, fmt.Errorf("bad host %q", spec)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(spec, "["), "]")
	if bracketed && net.ParseIP(h) == nil {
		return "", 0, fmt.Errorf("bad host %q: brackets hold an IPv6 address", spec)
	}
	if h == "" || strings.ContainsAny(h, "[]/@;<> \t\r\n") || (strings.Contains(h, ":") && net.ParseIP(h) == nil) {
		return "", 0, fmt.Errorf("bad host %q", spec)
	}
	return h, 0, nil
}

// Complete returns spec as host:port, with transport's default port when
// spec has none.
func Complete(spec, transport string) (string, error) {
	host, port, err := Split(spec)
	if err != nil {
		return "", err
	}
	if port == 0 {
		port = DefaultPort(transport)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port))), nil
}

// Transport returns t in lower case, "tls" when empty, or an error when it
// is not udp, tcp, tls or one of also.
func Transport(t string, also ...string) (string, error) {
	t = strings.ToLower(t)
	switch t {
	case "":
		return "tls", nil
	case "udp", "tcp", "tls":
		return t, nil
	}
	for _, a := range also {
		if t == a {
			return t, nil
		}
	}
	return "", fmt.Errorf("transport %q (want udp, tcp, tls%s)", t, strings.Join(append([]string{""}, also...), " or "))
}

// CheckAOR reports whether user and domain make an address of record
// sip:user@domain that the packages can write without escaping.
func CheckAOR(user, domain string) error {
	switch {
	case user == "" || domain == "":
		return errors.New("user and domain are required")
	case strings.ContainsAny(user, "@:;<>?& \t\r\n") || strings.ContainsAny(domain, "@;<>? \t\r\n/"):
		return fmt.Errorf("bad character in user %q or domain %q", user, domain)
	}
	return nil
}
