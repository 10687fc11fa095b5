package web

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/line"
)

// promSample is one sample line of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	promLine  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	promLabel = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)`)
)

// parseProm parses the text exposition format strictly: HELP and TYPE
// comments, then `name{label="value",...} value` lines of announced
// families.
func parseProm(text string) ([]promSample, error) {
	var out []promSample
	typed := map[string]string{}
	for i, ln := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(ln, "# TYPE "); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || (f[1] != "gauge" && f[1] != "counter") {
				return nil, fmt.Errorf("line %d: bad TYPE %q", i+1, ln)
			}
			typed[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(ln, "# HELP ") {
			continue
		}
		m := promLine.FindStringSubmatch(ln)
		if m == nil {
			return nil, fmt.Errorf("line %d: malformed %q", i+1, ln)
		}
		if typed[m[1]] == "" {
			return nil, fmt.Errorf("line %d: %s has no TYPE", i+1, m[1])
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: value %q", i+1, m[3])
		}
		s := promSample{name: m[1], labels: map[string]string{}, value: v}
		for rest := m[2]; rest != ""; {
			lm := promLabel.FindStringSubmatch(rest)
			if lm == nil {
				return nil, fmt.Errorf("line %d: bad labels %q", i+1, m[2])
			}
			val, err := strconv.Unquote(`"` + lm[2] + `"`)
			if err != nil {
				return nil, fmt.Errorf("line %d: label value %q", i+1, lm[2])
			}
			s.labels[lm[1]] = val
			rest = rest[len(lm[0]):]
		}
		out = append(out, s)
	}
	return out, nil
}

// promValue finds the sample of name whose labels include want.
func promValue(samples []promSample, name string, want map[string]string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func TestMetricsRegistrationCallsAndQuality(t *testing.T) {
	lines := []line.Status{
		{Port: 1, Hook: "off", State: "connected", Registration: "registered", Calls: 1,
			Call: &line.CallStatus{Direction: "out", Number: "1002", State: "connected", JitterMS: 2.5, Lost: 3}},
		{Port: 2, Hook: "on", State: "idle", Registration: "failed", RegistrationError: "403 Forbidden", Underruns: 7},
		{Port: 3, Hook: "on", State: "idle"},
	}
	calls := []line.Record{
		{Port: 1, Direction: "out", Result: "answered"}, {Port: 1, Direction: "out", Result: "answered"},
		{Port: 1, Direction: "in", Result: "missed"}, {Port: 2, Direction: "out", Result: `486 Busy "Here"`},
	}
	var b bytes.Buffer
	writeMetrics(&b, "v1", time.Minute, lines, calls)
	samples, err := parseProm(b.String())
	if err != nil {
		t.Fatalf("%v in\n%s", err, b.String())
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tipring_line_registration", map[string]string{"port": "1", "state": "registered"}, 1},
		{"tipring_line_registration", map[string]string{"port": "1", "state": "failed"}, 0},
		{"tipring_line_registration", map[string]string{"port": "2", "state": "failed"}, 1},
		{"tipring_line_registration", map[string]string{"port": "3", "state": "none"}, 1},
		{"tipring_line_registration", map[string]string{"port": "3", "state": "registered"}, 0},
		{"tipring_calls_in_progress", nil, 1},
		{"tipring_calls_total", map[string]string{"port": "1", "direction": "out", "result": "answered"}, 2},
		{"tipring_calls_total", map[string]string{"port": "1", "direction": "in", "result": "missed"}, 1},
		{"tipring_calls_total", map[string]string{"port": "2", "direction": "out", "result": `486 Busy "Here"`}, 1},
		{"tipring_call_jitter_ms", map[string]string{"port": "1"}, 2.5},
		{"tipring_call_packets_lost", map[string]string{"port": "1"}, 3},
		{"tipring_pcm_underruns_total", map[string]string{"port": "2"}, 7},
		{"tipring_line_state", map[string]string{"port": "1", "state": "connected"}, 1},
	} {
		if v, ok := promValue(samples, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if _, ok := promValue(samples, "tipring_call_jitter_ms", map[string]string{"port": "2"}); ok {
		t.Error("jitter reported for a line without a call")
	}
}
