package sdp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Codec is an audio codec we send and receive. Its value is its static RTP
// payload type (RFC 3551 §6).
type Codec uint8

// The codecs an ATA carries: G.711 in both laws.
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

// Name returns the encoding name used in a=rtpmap.
func (c Codec) Name() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "PT" + strconv.Itoa(int(c))
}

// ClockRate is the RTP clock rate of every codec and event stream we use.
const ClockRate = 8000

// telephoneEvent is the encoding name of RFC 4733 events.
const telephoneEvent = "telephone-event"

// comfortNoise is the encoding name of RFC 3389 comfort noise, and
// ComfortNoisePayloadType its static payload type at 8000 Hz (RFC 3551
// §6, RFC 3389 §5).
const (
	comfortNoise            = "CN"
	ComfortNoisePayloadType = 13
)

// maxEvent is the highest RFC 4733 event we handle: 0-9 * # A-D are 0-15,
// and 16 is a hook flash, which an ATA relays.
const maxEvent = 16

// rtpMap is one payload type's encoding as resolved from a=rtpmap or the
// static table.
type rtpMap struct {
	name string
	rate int
}

// payloadMap resolves the payload types of m: a=rtpmap where present, the
// static assignments of RFC 3551 for 0, 8 and 13 (CN) otherwise.
func payloadMap(m *Media) map[string]rtpMap {
	maps := make(map[string]rtpMap, len(m.Formats))
	for _, v := range m.Attrs("rtpmap") {
		pt, enc, ok := strings.Cut(v, " ")
		if !ok {
			continue
		}
		f := strings.Split(strings.TrimSpace(enc), "/")
		if len(f) < 2 {
			continue
		}
		rate, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		if _, dup := maps[pt]; !dup {
			maps[pt] = rtpMap{name: f[0], rate: rate}
		}
	}
	for _, c := range []Codec{PCMU, PCMA} {
		pt := strconv.Itoa(int(c))
		if _, ok := maps[pt]; !ok {
			maps[pt] = rtpMap{name: c.Name(), rate: ClockRate}
		}
	}
	if _, ok := maps["13"]; !ok {
		maps["13"] = rtpMap{name: comfortNoise, rate: ClockRate}
	}
	return maps
}

// codecOf returns which of our codecs a payload type carries.
func codecOf(r rtpMap) (Codec, bool) {
	if r.rate != ClockRate {
		return 0, false
	}
	switch {
	case strings.EqualFold(r.name, "PCMU"):
		return PCMU, true
	case strings.EqualFold(r.name, "PCMA"):
		return PCMA, true
	}
	return 0, false
}

func isComfortNoise(r rtpMap) bool {
	return r.rate == ClockRate && strings.EqualFold(r.name, comfortNoise)
}

func isTelephoneEvent(r rtpMap) bool {
	return r.rate == ClockRate && strings.EqualFold(r.name, telephoneEvent)
}

// fmtpFor returns the a=fmtp parameters of payload type pt.
func fmtpFor(m *Media, pt string) (string, bool) {
	for _, v := range m.Attrs("fmtp") {
		p, params, _ := strings.Cut(v, " ")
		if p == pt {
			return strings.TrimSpace(params), true
		}
	}
	return "", false
}

// parseEvents reads an RFC 4733 §2.4.1 event list such as "0-15" or
// "0-11,12,16" and returns which of events 0…maxEvent it names. Events we
// do not know are dropped; malformed parts are skipped.
func parseEvents(s string) []bool {
	set := make([]bool, maxEvent+1)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 0 {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				continue
			}
		}
		for e := a; e <= b && e <= maxEvent; e++ {
			set[e] = true
		}
	}
	return set
}

// formatEvents writes an event set as ranges: "0-15", "0-11,16".
func formatEvents(set []bool) string {
	var parts []string
	for e := 0; e < len(set); e++ {
		if !set[e] {
			continue
		}
		start := e
		for e+1 < len(set) && set[e+1] {
			e++
		}
		if start == e {
			parts = append(parts, strconv.Itoa(e))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", start, e))
		}
	}
	return strings.Join(parts, ",")
}

// ourEvents is the event list we offer: the sixteen DTMF events and flash.
func ourEvents() string { return fmt.Sprintf("0-%d", maxEvent) }

// validPtime reports whether we can packetise at ms milliseconds.
func validPtime(ms int) bool { return slices.Contains([]int{10, 20, 30}, ms) }

// parseMillis reads a ptime or maxptime value; peers write "20" and
// sometimes "20.0".
func parseMillis(s string) (int, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f > 0 && f <= 10000) { // also refuses NaN
		return 0, false
	}
	return int(f + 0.5), true
}
