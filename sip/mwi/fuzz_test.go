package mwi

import (
	"errors"
	"testing"
)

// FuzzParseSummary checks that any body is either refused with
// ErrMalformedSummary or parsed into a summary that renders and parses
// back to itself.
func FuzzParseSummary(f *testing.F) {
	for _, seed := range []string{
		"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n",
		"Messages-Waiting: no\n",
		"Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n\r\nSubject: hi\r\n",
		"messages-waiting:YES\nfax-message: 1/2\nnone: 0/0 (0/0)\n",
		"Voice-Message: 1/\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseSummary(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedSummary) {
				t.Fatalf("error %v does not match ErrMalformedSummary", err)
			}
			return
		}
		for _, c := range s.Counts {
			if c.New < 0 || c.Old < 0 || c.UrgentNew < 0 || c.UrgentOld < 0 {
				t.Fatalf("negative count in %+v", s)
			}
		}
		if s.Account != "" && (containsLineEnd(s.Account)) {
			t.Fatalf("account %q holds a line end", s.Account)
		}
		back, err := ParseSummary(s.Bytes())
		if err != nil || back != s {
			t.Fatalf("round trip of %+v: %+v, %v", s, back, err)
		}
	})
}

func containsLineEnd(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}
