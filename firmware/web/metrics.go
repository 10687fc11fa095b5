package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tipring/tipring/firmware/line"
)

// metrics writes the Prometheus text exposition format (version 0.0.4):
// for each metric a HELP and a TYPE line, then its samples.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	writeMetrics(w, s.o.Version, time.Since(s.o.Started), s.o.Lines())
}

func writeMetrics(w io.Writer, version string, up time.Duration, lines []line.Status) {
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
