package callerid_test

import (
	"fmt"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
)

func ExampleMessage_MarshalBinary() {
	msg := callerid.NewCallSetup(callerid.Info{
		Time:   time.Date(0, time.November, 24, 13, 5, 0, 0, time.UTC),
		Number: "5551234",
		Name:   "ALICE",
	})
	b, err := msg.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% X\n", b)
	// Output: 80 1A 01 08 31 31 32 34 31 33 30 35 02 07 35 35 35 31 32 33 34 07 05 41 4C 49 43 45 F0
}

func ExampleOnHook() {
	msg := callerid.NewCallSetup(callerid.Info{Number: "0123456789", NameAbsence: callerid.Private})
	seq, err := callerid.OnHook(callerid.ETSI, msg, callerid.Options{Alert: callerid.AlertDTAS, PolarityReversal: true})
	if err != nil {
		panic(err)
	}
	for _, st := range seq.Steps {
		fmt.Println(st.Kind, st.D)
		if st.Audio != nil {
			for _, s := range st.Audio.Segments() {
				fmt.Printf("  %s %v %v\n", s.Kind, s.Duration, s.Freqs)
			}
		}
	}
	fmt.Println("then at least", seq.Guard, "before ringing")
	// Output:
	// reverse-polarity 0s
	// wait 100ms
	// audio 376.75ms
	//   tones 100ms [2130 2750]
	//   silence 60ms [0 0]
	//   fsk 216.75ms [0 0]
	// then at least 200ms before ringing
}

func ExampleDecoder() {
	seq, _ := callerid.OnHook(callerid.Bellcore, callerid.NewCallSetup(callerid.Info{
		Time: time.Date(0, time.March, 24, 9, 2, 0, 0, time.UTC), Number: "8005551212", Name: "JOHN DOE",
	}), callerid.Options{})
	audio := seq.Steps[len(seq.Steps)-1].Audio
	dec, _ := callerid.NewDecoder(callerid.DecoderConfig{})
	frame := make([]int16, 160)
	for !audio.Done() {
		n := audio.Read(frame)
		clear(frame[n:])
		dec.Process(frame)
	}
	dec.Process(make([]int16, 800)) // the line goes quiet
	for r, ok := dec.Next(); ok; r, ok = dec.Next() {
		i := r.Message.Info
		fmt.Println(r.Standard, i.Time.Format("01-02 15:04"), i.Number, i.Name)
	}
	// Output: bellcore 03-24 09:02 8005551212 JOHN DOE
}
