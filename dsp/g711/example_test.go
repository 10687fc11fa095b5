package g711_test

import (
	"fmt"

	"github.com/tipring/tipring/dsp/g711"
)

func ExampleLaw_Encode() {
	law, _ := g711.LawFromPayloadType(0)
	pcm := []int16{0, 1000, -1000, 32767}
	payload := make([]byte, len(pcm))
	law.Encode(payload, pcm)
	back := make([]int16, len(payload))
	law.Decode(back, payload)
	fmt.Printf("%v % x %v\n", law, payload, back)
	// Output: PCMU ff ce 4e 80 [0 988 -988 32124]
}
