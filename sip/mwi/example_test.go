package mwi_test

import (
	"fmt"

	"github.com/tipring/tipring/sip/mwi"
)

// A NOTIFY body as a voicemail system sends it (RFC 3842 §3.5).
func ExampleParseSummary() {
	body := []byte("Messages-Waiting: yes\r\n" +
		"Message-Account: sip:alice@vmail.example.com\r\n" +
		"Voice-Message: 4/8 (1/2)\r\n")
	s, err := mwi.ParseSummary(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := s.Voice()
	fmt.Println(s.Waiting, s.Account, v.New, v.Old, v.UrgentNew, v.UrgentOld)

	_, err = mwi.ParseSummary([]byte("Voice-Message: 1/0\r\n"))
	fmt.Println(err)
	// Output:
	// true sip:alice@vmail.example.com 4 8 1 2
	// mwi: malformed message summary: no Messages-Waiting line
}
