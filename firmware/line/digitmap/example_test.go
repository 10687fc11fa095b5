package digitmap_test

import (
	"errors"
	"fmt"

	"github.com/tipring/tipring/firmware/line/digitmap"
)

func Example() {
	m, err := digitmap.Parse("(911S0|1[2-9]xxxxxxxxx|<:+1>[2-9]xxxxxxxxx|*xx|1900xxxxxxx!|xx.T)")
	if err != nil {
		panic(err)
	}
	for _, number := range []string{"911", "4155551212", "*69", "19005551212", "#"} {
		mt := m.Start()
		var r digitmap.Result
		for i := 0; i < len(number); i++ {
			r = mt.Digit(number[i])
		}
		fmt.Printf("%-12s %v\n", number, r)
	}
	// Output:
	// 911          Complete("911" alt 0)
	// 4155551212   Complete("+14155551212" alt 2)
	// *69          Complete("*69" alt 3)
	// 19005551212  Barred("19005551212" alt 4)
	// #            Invalid
}

// A line controller arms the timer each NeedMore result names and calls
// Timeout when it expires.
func ExampleMatcher() {
	m := digitmap.MustParse("(xxx|xxxx|0x.T)")
	mt := m.Start()
	fmt.Println("off hook:", mt.Result())
	for _, d := range []byte("123") {
		fmt.Printf("digit %c: %v\n", d, mt.Digit(d))
	}
	fmt.Println("timer expired:", mt.Timeout())
	// Output:
	// off hook: NeedMore(initial 10s)
	// digit 1: NeedMore(long 10s)
	// digit 2: NeedMore(long 10s)
	// digit 3: NeedMore(short 3s)
	// timer expired: Complete("123" alt 0)
}

func ExampleParse_error() {
	_, err := digitmap.Parse("(911|1[2-9]xx<9")
	fmt.Println(err)
	fmt.Println(errors.Is(err, digitmap.ErrSyntax))
	// Output:
	// digitmap: position 14: unclosed '<'
	// true
}

func ExampleMap_String() {
	m := digitmap.MustParse("s:2, ( 1 900 XXX XXXX ! | <9:> [2345 6789] xxxxxx | *xx t )")
	fmt.Println(m)
	// Output:
	// S:2,(1900xxxxxxx!|<9:>[2-9]xxxxxx|*xxT)
}
