package si321x_test

import (
	"context"
	"fmt"

	"github.com/tipring/tipring/board/sim/slicmodel"
	"github.com/tipring/tipring/hal/si321x"
)

// Open a line on the simulated board's chip model, as board/sim does, and
// take the phone off-hook.
func Example() {
	beh := slicmodel.FastBehaviour()
	chip := slicmodel.New(slicmodel.Config{Part: slicmodel.Si3215, Behaviour: beh})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	line, err := si321x.Open(ctx, chip.Conn(), si321x.Options{
		Reset:  chip.ResetPin(),
		Int:    chip.IntPin(),
		Timing: slicmodel.DriverTiming(beh),
		PCM:    si321x.PCMConfig{Format: si321x.Ulaw, TXSlot: 0, RXSlot: 8},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer line.Close()
	fmt.Println(line.Part(), line.Feed())
	chip.SetLoop(true)
	fmt.Println(<-line.Events())
	// Output:
	// Si3215 rev E active
	// off-hook
}
