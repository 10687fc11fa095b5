package rfc4733_test

import (
	"fmt"

	"github.com/tipring/tipring/dsp/dtmf/rfc4733"
)

// A key press of digit 5 lasting 120 ms, sent with 20 ms packets and
// received again.
func Example() {
	s, err := rfc4733.NewSender(rfc4733.SenderConfig{Interval: 160})
	if err != nil {
		panic(err)
	}
	r := rfc4733.NewReceiver(rfc4733.ReceiverConfig{})
	var (
		packets []rfc4733.Packet
		notices []rfc4733.Notice
		seq     uint16
	)
	const start = 16000 // RTP timestamp when the key went down
	s.Press('5', start)
	for now := uint32(start); s.Active(); now += 160 { // one 20 ms frame
		if now == start+960 {
			s.Release(now)
		}
		packets = s.Poll(now, packets[:0])
		for _, p := range packets {
			seq++ // the RTP layer numbers every packet
			fmt.Printf("seq %d ts %d M=%v E=%v duration %d\n", seq, p.Timestamp, p.Marker, p.Event.End, p.Event.Duration)
			notices, _ = r.Packet(0x1234, seq, p.Timestamp, p.Marker, p.Payload[:], notices)
		}
	}
	for _, n := range notices {
		fmt.Printf("%v %c at %d for %d\n", n.Kind, n.Digit, n.Timestamp, n.Duration)
	}
	// Output:
	// seq 1 ts 16000 M=true E=false duration 160
	// seq 2 ts 16000 M=false E=false duration 320
	// seq 3 ts 16000 M=false E=false duration 480
	// seq 4 ts 16000 M=false E=false duration 640
	// seq 5 ts 16000 M=false E=false duration 800
	// seq 6 ts 16000 M=false E=true duration 960
	// seq 7 ts 16000 M=false E=true duration 960
	// seq 8 ts 16000 M=false E=true duration 960
	// begin 5 at 16000 for 160
	// end 5 at 16000 for 960
}
