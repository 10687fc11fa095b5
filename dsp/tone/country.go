package tone

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Country is the tone plan and line conventions of one country.
type Country struct {
	// Code is the lower-case ISO 3166-1 alpha-2 code, except "uk" for the
	// United Kingdom (Lookup also takes "gb").
	Code string
	// Name is the English name of the country.
	Name string

	// Dial is the dial tone (proceed to select).
	Dial Tone
	// Ringback is the ringing tone the caller hears.
	Ringback Tone
	// Busy is the busy (engaged) tone.
	Busy Tone
	// Congestion is the congestion (reorder, network busy) tone.
	Congestion Tone
	// Stutter is the special dial tone that announces waiting messages or
	// an active feature.
	Stutter Tone
	// CallWaiting is the tone played into a call to announce another.
	CallWaiting Tone
	// Howler is the receiver off-hook warning tone.
	Howler Tone

	// Ring is the ringing signal applied to the line.
	Ring RingCadence
	// CallerID names the country's usual caller ID standard: "bellcore"
	// (Telcordia GR-30 FSK), "etsi-fsk" (ETSI EN 300 659 V.23 FSK),
	// "etsi-dtmf" (ETSI ES 200 778-1 / EN 300 659 DTMF), "bt" (BT SIN 227)
	// or "ntt" (NTT's Japanese system).
	CallerID string
	// Impedance is the usual line impedance: "600" for a resistance, or
	// "R1+R2||C" for the complex networks of European specifications
	// (R1 in series with R2 parallel to C).
	Impedance string
	// Source says where the numbers come from.
	Source string
}

// RingCadence is the ringing signal of a country.
type RingCadence struct {
	// FreqHz is the frequency of the ringing voltage.
	FreqHz float64
	// Pattern is on, off, on, off … durations, repeating.
	Pattern []time.Duration
}

// toneNames lists the names Country.Tone accepts, in table order.
var toneNames = [...]string{"dial", "ringback", "busy", "congestion", "stutter", "callwaiting", "howler"}

// ToneNames returns the names Country.Tone accepts.
func ToneNames() []string { return slices.Clone(toneNames[:]) }

// Tone returns one of the country's tones by name: "dial", "ringback",
// "busy", "congestion", "stutter", "callwaiting" or "howler" (also
// "reorder", "ring", "mwi" and "offhook" as aliases), case-insensitively.
func (c *Country) Tone(name string) (Tone, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "dial":
		return c.Dial, nil
	case "ringback", "ring", "ringing":
		return c.Ringback, nil
	case "busy":
		return c.Busy, nil
	case "congestion", "reorder":
		return c.Congestion, nil
	case "stutter", "mwi", "specialdial":
		return c.Stutter, nil
	case "callwaiting", "call-waiting", "cw":
		return c.CallWaiting, nil
	case "howler", "offhook", "roh":
		return c.Howler, nil
	}
	return Tone{}, fmt.Errorf("tone: country %s has no tone %q (known: %s)", c.Code, name, strings.Join(toneNames[:], ", "))
}

// aliases maps other accepted codes onto table codes.
var aliases = map[string]string{"gb": "uk"}

// Lookup returns the tone plan of a country by its ISO 3166 code,
// case-insensitively ("us", "UK", "gb"). The result is a copy the caller
// may change.
func Lookup(code string) (*Country, error) {
	k := strings.ToLower(strings.TrimSpace(code))
	if a, ok := aliases[k]; ok {
		k = a
	}
	for i := range countries {
		if countries[i].Code == k {
			c := countries[i].clone()
			return &c, nil
		}
	}
	return nil, fmt.Errorf("tone: unknown country %q (known: %s)", code, strings.Join(Countries(), ", "))
}

// Countries returns the codes of all countries in the table, sorted.
func Countries() []string {
	codes := make([]string, len(countries))
	for i, c := range countries {
		codes[i] = c.Code
	}
	slices.Sort(codes)
	return codes
}

func (c Country) clone() Country {
	for _, t := range []*Tone{&c.Dial, &c.Ringback, &c.Busy, &c.Congestion, &c.Stutter, &c.CallWaiting, &c.Howler} {
		*t = t.clone()
	}
	c.Ring.Pattern = slices.Clone(c.Ring.Pattern)
	return c
}

func (t Tone) clone() Tone {
	t.Sound = t.Sound.clone()
	t.Cadence = slices.Clone(t.Cadence)
	for i := range t.Cadence {
		t.Cadence[i].Sound = t.Cadence[i].Sound.clone()
	}
	return t
}

func (s Sound) clone() Sound {
	s.Components = slices.Clone(s.Components)
	return s
}
