package mwi

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// ContentType is the media type of message-summary bodies (RFC 3842 §5.2).
const ContentType = "application/simple-message-summary"

// EventPackage is the event package name (RFC 3842 §4).
const EventPackage = "message-summary"

// maxSummaryBody bounds the body ParseSummary reads; real summaries are a
// few hundred bytes.
const maxSummaryBody = 64 << 10

// maxCount bounds a message count: more is a broken notifier.
const maxCount = 1<<31 - 1

// Class is a message-context-class of RFC 3458 §3, as a summary line of
// RFC 3842 §5.2 names it.
type Class int

// Message context classes.
const (
	ClassVoice Class = iota
	ClassFax
	ClassPager
	ClassMultimedia
	ClassText
	ClassNone
	numClasses
)

// classNames are the summary-line header names, in lower case.
var classNames = [numClasses]string{
	ClassVoice:      "voice-message",
	ClassFax:        "fax-message",
	ClassPager:      "pager-message",
	ClassMultimedia: "multimedia-message",
	ClassText:       "text-message",
	ClassNone:       "none",
}

func (c Class) String() string {
	if c >= 0 && c < numClasses {
		return classNames[c]
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Counts are the message counts of one class: new and old messages, and
// among them the urgent ones. Reported tells that the body had a line for
// the class.
type Counts struct {
	New, Old             int
	UrgentNew, UrgentOld int
	Reported             bool
}

// Summary is one message-summary body: whether messages wait, for which
// account, and the counts per class. Summaries compare with ==.
type Summary struct {
	// Waiting is the Messages-Waiting status: true for "yes".
	Waiting bool
	// Account is the Message-Account URI, or empty.
	Account string
	// Counts holds the counts by Class.
	Counts [numClasses]Counts
}

// Voice returns the voice-message counts, what a phone's lamp is about.
func (s Summary) Voice() Counts { return s.Counts[ClassVoice] }

// Class returns the counts of class c (zero for an unknown class).
func (s Summary) Class(c Class) Counts {
	if c < 0 || c >= numClasses {
		return Counts{}
	}
	return s.Counts[c]
}

// ParseSummary parses an application/simple-message-summary body (RFC
// 3842 §5.2). Messages-Waiting is required; Message-Account and one line
// per message-context-class are optional. Header names are matched in any
// case, white space around names, values and separators is ignored, lines
// may end in CRLF, LF or CR, and lines it does not know (and the optional
// message headers after an empty line) are skipped. Errors match
// ErrMalformedSummary.
func ParseSummary(body []byte) (Summary, error) {
	var s Summary
	if len(body) > maxSummaryBody {
		return s, fmt.Errorf("%w: body of %d bytes", ErrMalformedSummary, len(body))
	}
	haveStatus := false
	seenLine := false
	rest := body
	for n := 1; len(rest) > 0; n++ {
		var line []byte
		line, rest = nextLine(rest)
		text := strings.TrimSpace(string(line))
		if text == "" {
			if seenLine {
				// RFC 3842 §5.2: an empty line separates the optional
				// message headers (RFC 2822), which are not ours.
				break
			}
			continue
		}
		seenLine = true
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			continue // not a header line: tolerated
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		switch name {
		case "messages-waiting":
			if haveStatus {
				return s, fmt.Errorf("%w: line %d: repeated Messages-Waiting", ErrMalformedSummary, n)
			}
			switch strings.ToLower(value) {
			case "yes":
				s.Waiting = true
			case "no":
				s.Waiting = false
			default:
				return s, fmt.Errorf("%w: line %d: Messages-Waiting %q (want yes or no)", ErrMalformedSummary, n, clip(value))
			}
			haveStatus = true
		case "message-account":
			if value == "" {
				return s, fmt.Errorf("%w: line %d: empty Message-Account", ErrMalformedSummary, n)
			}
			s.Account = value
		default:
			c := classOf(name)
			if c < 0 {
				continue // an extension: tolerated
			}
			counts, err := parseCounts(value)
			if err != nil {
				return s, fmt.Errorf("%w: line %d: %s: %w", ErrMalformedSummary, n, classNames[c], err)
			}
			s.Counts[c] = counts
		}
	}
	if !haveStatus {
		return Summary{}, fmt.Errorf("%w: no Messages-Waiting line", ErrMalformedSummary)
	}
	return s, nil
}

// nextLine splits off the first line of b, ended by CRLF, LF or a lone CR.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexAny(b, "\r\n")
	if i < 0 {
		return b, nil
	}
	if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
		return b[:i], b[i+2:]
	}
	return b[:i], b[i+1:]
}

func classOf(name string) Class {
	for c, n := range classNames {
		if n == name {
			return Class(c)
		}
	}
	return -1
}

// parseCounts parses "new/old" with an optional "(urgent-new/urgent-old)".
func parseCounts(v string) (Counts, error) {
	main, urgent, hasUrgent := strings.Cut(v, "(")
	var c Counts
	var err error
	if c.New, c.Old, err = parsePair(main); err != nil {
		return Counts{}, err
	}
	if hasUrgent {
		inner, tail, ok := strings.Cut(urgent, ")")
		if !ok || strings.TrimSpace(tail) != "" {
			return Counts{}, fmt.Errorf("urgent counts %q not closed by )", clip(v))
		}
		if c.UrgentNew, c.UrgentOld, err = parsePair(inner); err != nil {
			return Counts{}, fmt.Errorf("urgent counts: %w", err)
		}
	}
	c.Reported = true
	return c, nil
}

func parsePair(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not new/old", clip(v))
	}
	x, err := parseCount(a)
	if err != nil {
		return 0, 0, err
	}
	y, err := parseCount(b)
	if err != nil {
		return 0, 0, err
	}
	return x, y, nil
}

func parseCount(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, fmt.Errorf("missing count")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("count %q is not a number", clip(v))
		}
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil || n > maxCount {
		return 0, fmt.Errorf("count %q out of range", clip(v))
	}
	return int(n), nil
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Bytes renders s as an application/simple-message-summary body, with
// CRLF line ends and the classes reported, for tests and for notifiers.
func (s Summary) Bytes() []byte {
	var b strings.Builder
	if s.Waiting {
		b.WriteString("Messages-Waiting: yes\r\n")
	} else {
		b.WriteString("Messages-Waiting: no\r\n")
	}
	if s.Account != "" {
		b.WriteString("Message-Account: " + s.Account + "\r\n")
	}
	for c, n := range s.Counts {
		if !n.Reported {
			continue
		}
		name := Class(c).headerName()
		fmt.Fprintf(&b, "%s: %d/%d", name, n.New, n.Old)
		if n.UrgentNew != 0 || n.UrgentOld != 0 {
			fmt.Fprintf(&b, " (%d/%d)", n.UrgentNew, n.UrgentOld)
		}
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// headerName is the class's summary-line name in the usual capitals.
func (c Class) headerName() string {
	parts := strings.Split(c.String(), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}
