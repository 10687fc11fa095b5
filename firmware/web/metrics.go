package web

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tipring/tipring/firmware/line"
)

// metrics writes the Prometheus text exposition format (version 0.0.4):
// for each metric a HELP and a TYPE line, then its samples.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	writeMetrics(w, s.o.Version, time.Since(s.o.Started), s.o.Lines(), s.o.Calls())
}

// regStates are the registration states a line's gauge covers: those of
// the SIP agent, and "none" for a port without an account.
var regStates = []string{"none", "registering", "registered", "failed", "stopped"}

func writeMetrics(w io.Writer, version string, up time.Duration, lines []line.Status, calls []line.Record) {
	var b strings.Builder
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	family("tipring_build_info", "gauge", "Always 1; the label carries the firmware version.")
	fmt.Fprintf(&b, "tipring_build_info{version=%s} 1\n", quoteLabel(version))
	family("tipring_uptime_seconds", "gauge", "Seconds since the gateway started.")
	fmt.Fprintf(&b, "tipring_uptime_seconds %s\n", strconv.FormatFloat(up.Seconds(), 'f', 3, 64))
	family("tipring_line_off_hook", "gauge", "1 while the phone on the port is off-hook.")
	for _, l := range lines {
		v := 0
		if l.Hook == "off" {
			v = 1
		}
		fmt.Fprintf(&b, "tipring_line_off_hook{port=\"%d\"} %d\n", l.Port, v)
	}
	family("tipring_line_state", "gauge", "1 for the call state the line is in, 0 for the others.")
	for _, l := range lines {
		for _, st := range line.States() {
			v := 0
			if st == l.State {
				v = 1
			}
			fmt.Fprintf(&b, "tipring_line_state{port=\"%d\",state=%s} %d\n", l.Port, quoteLabel(st), v)
		}
	}
	family("tipring_line_registration", "gauge", "1 for the registration state the line's account is in, 0 for the others.")
	for _, l := range lines {
		cur := l.Registration
		if cur == "" {
			cur = "none"
		}
		for _, st := range regStates {
			v := 0
			if st == cur {
				v = 1
			}
			fmt.Fprintf(&b, "tipring_line_registration{port=\"%d\",state=%s} %d\n", l.Port, quoteLabel(st), v)
		}
		if !slices.Contains(regStates, cur) {
			fmt.Fprintf(&b, "tipring_line_registration{port=\"%d\",state=%s} 1\n", l.Port, quoteLabel(cur))
		}
	}
	family("tipring_calls_in_progress", "gauge", "Calls the lines are in or being offered, held and waiting ones included.")
	inProgress := 0
	for _, l := range lines {
		inProgress += l.Calls
		if l.Calls == 0 && l.Call != nil {
			inProgress++
		}
	}
	fmt.Fprintf(&b, "tipring_calls_in_progress %d\n", inProgress)
	family("tipring_calls_total", "counter", "Calls in the call log by line, direction and result (answered, missed, busy, a SIP status, ...).")
	type callKey struct {
		port        int
		dir, result string
	}
	counts := map[callKey]int{}
	for _, r := range calls {
		counts[callKey{r.Port, r.Direction, r.Result}]++
	}
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b callKey) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.dir, b.dir), cmp.Compare(a.result, b.result))
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "tipring_calls_total{port=\"%d\",direction=%s,result=%s} %d\n", k.port, quoteLabel(k.dir), quoteLabel(k.result), counts[k])
	}
	family("tipring_call_jitter_ms", "gauge", "Interarrival jitter of the RTP stream of the line's call in progress, in milliseconds.")
	for _, l := range lines {
		if l.Call != nil {
			fmt.Fprintf(&b, "tipring_call_jitter_ms{port=\"%d\"} %s\n", l.Port, strconv.FormatFloat(l.Call.JitterMS, 'f', 3, 64))
		}
	}
	family("tipring_call_packets_lost", "gauge", "RTP packets lost so far in the line's call in progress.")
	for _, l := range lines {
		if l.Call != nil {
			fmt.Fprintf(&b, "tipring_call_packets_lost{port=\"%d\"} %d\n", l.Port, l.Call.Lost)
		}
	}
	family("tipring_pcm_underruns_total", "counter", "PCM periods the port's stream had no frame to play.")
	for _, l := range lines {
		fmt.Fprintf(&b, "tipring_pcm_underruns_total{port=\"%d\"} %d\n", l.Port, l.Underruns)
	}
	io.WriteString(w, b.String())
}

// quoteLabel quotes a label value with the escapes the text format allows:
// backslash, double quote and line feed.
func quoteLabel(v string) string {
	v = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
	return `"` + v + `"`
}
