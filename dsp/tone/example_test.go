package tone_test

import (
	"fmt"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/tone"
)

func ExampleGenerator() {
	us, err := tone.Lookup("us")
	if err != nil {
		panic(err)
	}
	busy, _ := us.Tone("busy")
	g := tone.NewGenerator(busy)
	frame := make([]int16, dsp.FrameSamples)
	var on int
	for range 50 { // one second of 20 ms frames
		g.Read(frame)
		if dsp.DBm0FromRMS(dsp.RMS(frame)) > -40 { // ignore 1 ms ramp tails
			on++
		}
	}
	fmt.Println(on, "of 50 frames sound; caller ID:", us.CallerID)
	// Output: 25 of 50 frames sound; caller ID: bellcore
}
