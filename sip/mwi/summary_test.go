package mwi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func voice(n, o, un, uo int) Summary {
	var s Summary
	s.Counts[ClassVoice] = Counts{New: n, Old: o, UrgentNew: un, UrgentOld: uo, Reported: true}
	return s
}

func with(s Summary, waiting bool, account string) Summary {
	s.Waiting, s.Account = waiting, account
	return s
}

// RFC 3842 §3.5 and §5.2: the simple-message-summary body, with the
// RFC's own examples and the leniency real notifiers need.
func TestRFC3842Section5_2ParseSummary(t *testing.T) {
	fax := Summary{Waiting: true}
	fax.Counts[ClassVoice] = Counts{New: 0, Old: 1, Reported: true}
	fax.Counts[ClassFax] = Counts{New: 2, Old: 0, Reported: true}
	fax.Counts[ClassPager] = Counts{Reported: true}
	fax.Counts[ClassMultimedia] = Counts{New: 1, Old: 2, UrgentNew: 1, Reported: true}
	fax.Counts[ClassText] = Counts{New: 5, Old: 6, UrgentNew: 3, UrgentOld: 4, Reported: true}
	fax.Counts[ClassNone] = Counts{New: 7, Old: 8, Reported: true}

	tests := []struct {
		name string
		body string
		want Summary
	}{
		{"§3.5 example", "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n",
			with(voice(4, 8, 1, 2), true, "sip:alice@vmail.example.com")},
		{"§4.1 example flow", "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n",
			with(voice(2, 8, 0, 2), true, "sip:alice@vmail.example.com")},
		{"§3.5 optional message headers after an empty line",
			"Messages-Waiting: yes\r\nVoice-Message: 4/8 (1/2)\r\n\r\nTo: <alice@atlanta.example.com>\r\nFrom: <voicemail@vmail.example.com>\r\nSubject: Voice-Message: x/y\r\n",
			with(voice(4, 8, 1, 2), true, "")},
		{"§5.2 status only, no", "Messages-Waiting: no\r\n", Summary{}},
		{"§5.2 status only, without a final CRLF", "Messages-Waiting: yes", Summary{Waiting: true}},
		{"§5.2 urgent counts optional", "Messages-Waiting: no\r\nVoice-Message: 0/3\r\n", with(voice(0, 3, 0, 0), false, "")},
		{"§5.2 every message-context-class (RFC 3458)",
			"Messages-Waiting: yes\nVoice-Message: 0/1\nFax-Message: 2/0\nPager-Message: 0/0\nMultimedia-Message: 1/2 (1/0)\nText-Message: 5/6 (3/4)\nNone: 7/8\n",
			fax},
		{"header names in any case, LF only", "MESSAGES-WAITING: YES\nmessage-account: sip:vm@example.net\nvoice-MESSAGE: 1/0\n",
			with(voice(1, 0, 0, 0), true, "sip:vm@example.net")},
		{"extra white space everywhere", "  \r\n Messages-Waiting :\tyes  \r\nVoice-Message :  3 / 4  ( 1 / 2 ) \r\n",
			with(voice(3, 4, 1, 2), true, "")},
		{"unknown lines and lines without a colon", "Messages-Waiting: yes\r\nX-Vendor: 17\r\ngarbage\r\nVoice-Message: 1/1\r\n",
			with(voice(1, 1, 0, 0), true, "")},
		{"status after the summary lines", "Voice-Message: 1/1\r\nMessages-Waiting: yes\r\n", with(voice(1, 1, 0, 0), true, "")},
		{"a later line for a class wins", "Messages-Waiting: yes\r\nVoice-Message: 1/1\r\nVoice-Message: 2/2\r\n", with(voice(2, 2, 0, 0), true, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSummary([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseSummary: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// RFC 3842 §5.2: bodies that do not follow the syntax are refused with an
// error naming the fault.
func TestRFC3842Section5_2ParseSummaryErrors(t *testing.T) {
	tests := []struct {
		name, body, inErr string
	}{
		{"empty", "", "no Messages-Waiting"},
		{"status missing", "Voice-Message: 1/2\r\n", "no Messages-Waiting"},
		{"status only after the message headers", "Voice-Message: 1/2\r\n\r\nMessages-Waiting: yes\r\n", "no Messages-Waiting"},
		{"bad status", "Messages-Waiting: maybe\r\n", `"maybe"`},
		{"empty status", "Messages-Waiting:\r\n", "want yes or no"},
		{"repeated status", "Messages-Waiting: yes\r\nMessages-Waiting: no\r\n", "repeated"},
		{"empty account", "Messages-Waiting: yes\r\nMessage-Account:\r\n", "empty Message-Account"},
		{"counts without slash", "Messages-Waiting: yes\r\nVoice-Message: 12\r\n", "line 2: voice-message"},
		{"negative count", "Messages-Waiting: yes\r\nVoice-Message: -1/2\r\n", "not a number"},
		{"missing count", "Messages-Waiting: yes\r\nFax-Message: /2\r\n", "missing count"},
		{"huge count", "Messages-Waiting: yes\r\nVoice-Message: 99999999999/0\r\n", "out of range"},
		{"unclosed urgent", "Messages-Waiting: yes\r\nVoice-Message: 1/2 (0/1\r\n", "not closed"},
		{"junk after urgent", "Messages-Waiting: yes\r\nVoice-Message: 1/2 (0/1) x\r\n", "not closed"},
		{"bad urgent", "Messages-Waiting: yes\r\nVoice-Message: 1/2 (a/1)\r\n", "urgent counts"},
		{"too large", "Messages-Waiting: yes\r\n" + strings.Repeat("X: y\r\n", maxSummaryBody/6+1), "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSummary([]byte(tt.body))
			if !errors.Is(err, ErrMalformedSummary) {
				t.Fatalf("err %v, want ErrMalformedSummary", err)
			}
			if !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("err %q does not mention %q", err, tt.inErr)
			}
		})
	}
}

// Bytes renders what ParseSummary reads back.
func TestSummaryBytesRoundTrip(t *testing.T) {
	s := with(voice(2, 8, 0, 2), true, "sip:*97@example.net")
	s.Counts[ClassFax] = Counts{New: 1, Reported: true}
	got, err := ParseSummary(s.Bytes())
	if err != nil || got != s {
		t.Fatalf("round trip of %q: %+v, %v", s.Bytes(), got, err)
	}
	if want := "Messages-Waiting: yes\r\nMessage-Account: sip:*97@example.net\r\nVoice-Message: 2/8 (0/2)\r\nFax-Message: 1/0\r\n"; string(s.Bytes()) != want {
		t.Errorf("Bytes %q, want %q", s.Bytes(), want)
	}
	if ClassMultimedia.String() != "multimedia-message" || Class(42).String() != "Class(42)" || s.Class(Class(-1)) != (Counts{}) {
		t.Error("Class names")
	}
}

// RFC 6665 §4.1.3 and §8.2.3: Subscription-State values.
func TestRFC6665Section4_1_3SubscriptionState(t *testing.T) {
	tests := []struct {
		in   string
		want subState
		err  bool
	}{
		{"active;expires=3600", subState{state: "active", expires: 3600e9}, false},
		{"Pending ; expires = 60", subState{state: "pending", expires: 60e9}, false},
		{"terminated;reason=deactivated", subState{state: "terminated", reason: "deactivated", expires: -1}, false},
		{"terminated;reason=Probation;retry-after=30", subState{state: "terminated", reason: "probation", retryAfter: 30e9, expires: -1}, false},
		{"x-extension", subState{state: "active", expires: -1}, false},
		{"", subState{}, true},
		{"active;expires=soon", subState{}, true},
	}
	for _, tt := range tests {
		got, err := parseSubscriptionState(tt.in)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("parseSubscriptionState(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	for reason, final := range map[string]bool{"rejected": true, "noresource": true, "invariant": true, "deactivated": false, "timeout": false, "giveup": false, "probation": false, "": false} {
		e := &TerminatedError{Reason: reason}
		if errors.Is(e, ErrRejected) != final || !errors.Is(e, ErrTerminated) {
			t.Errorf("reason %q: final %v, want %v", reason, errors.Is(e, ErrRejected), final)
		}
	}
}

func TestConfigNormalize(t *testing.T) {
	cfg := Config{User: "1001", Domain: "example.net"}
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	if cfg.Proxy != "example.net:5061" || cfg.Transport != "tls" || cfg.Expires != secs(3600) || cfg.AuthUser != "1001" {
		t.Errorf("normalized %+v", cfg)
	}
	for _, bad := range []Config{
		{Domain: "example.net"},
		{User: "a b", Domain: "example.net"},
		{User: "1001", Domain: "example.net", Transport: "sctp"},
		{User: "1001", Domain: "example.net", Proxy: "host:0"},
	} {
		if err := bad.normalize(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
