package sdp

import (
	"net/netip"
	"strings"
	"testing"
)

// countingReader yields 0, 1, 2, … so that session ids and keys are
// predictable.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

var localRTP = netip.MustParseAddrPort("192.0.2.1:4000")

func newTestNegotiator(t testing.TB, cfg Config) *Negotiator {
	t.Helper()
	n, err := NewNegotiator(cfg, localRTP, &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// crlf turns a readable multi-line literal into an SDP body.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

// mediaSection returns the media section with index i of an SDP body.
func mediaSection(t testing.TB, body []byte, i int) *Media {
	t.Helper()
	s := mustParse(t, body)
	if i >= len(s.Media) {
		t.Fatalf("no m= line %d in\n%s", i, body)
	}
	return s.Media[i]
}
