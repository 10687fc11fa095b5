// Package sipmsg reads header values from SIP messages the way the SIP
// packages (ua, call, mwi) all need them.
package sipmsg

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Message is what the helpers read: a request or a response.
type Message interface {
	GetHeader(name string) sip.Header
	GetHeaders(name string) []sip.Header
}

// Values returns the values of every header named name, in order.
func Values(m Message, name string) []string {
	var out []string
	for _, h := range m.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

// Seconds reads a header holding delta-seconds (Expires, Min-Expires,
// Retry-After), ignoring what follows the digits: Retry-After's comment
// and parameters (RFC 3261 §20.33).
func Seconds(m Message, name string) (time.Duration, bool) {
	h := m.GetHeader(name)
	if h == nil {
		return 0, false
	}
	v := strings.TrimSpace(h.Value())
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(v[:end], 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
