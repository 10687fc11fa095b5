package sdp_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/tipring/tipring/sip/sdp"
)

// An incoming INVITE's offer is answered; the Result tells the RTP layer
// what to do.
func ExampleNegotiator_Answer() {
	n, err := sdp.NewNegotiator(sdp.Config{}, netip.MustParseAddrPort("192.0.2.1:4000"), nil)
	if err != nil {
		panic(err)
	}
	offer := []byte("v=0\r\n" +
		"o=- 20518 0 IN IP4 203.0.113.5\r\n" +
		"s=-\r\n" +
		"c=IN IP4 203.0.113.5\r\n" +
		"t=0 0\r\n" +
		"m=audio 49170 RTP/AVP 18 8 96\r\n" +
		"a=rtpmap:18 G729/8000\r\n" +
		"a=rtpmap:96 telephone-event/8000\r\n" +
		"a=fmtp:96 0-15\r\n")
	_, res, err := n.Answer(offer)
	if errors.Is(err, sdp.ErrNotAcceptable) {
		fmt.Println("488:", err)
		return
	}
	if err != nil {
		fmt.Println("400:", err)
		return
	}
	fmt.Println(res.Codec.Name(), res.PayloadType, res.DTMFPayloadType, res.Ptime, res.Remote, res.Direction)
	// Output: PCMA 8 96 20 203.0.113.5:49170 sendrecv
}
