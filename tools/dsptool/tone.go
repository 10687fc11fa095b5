package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/tone"
)

// maxToneMS bounds -ms so that a typo cannot ask for gigabytes: ten minutes.
const maxToneMS = 10 * 60 * 1000

// runTone renders a call progress tone of a country into a WAV file:
//
//	dsptool tone -country us -tone dial -ms 3000 -o F.wav
func runTone(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("tone", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	country := fl.String("country", "us", "ISO country code: "+fmt.Sprint(tone.Countries()))
	name := fl.String("tone", "dial", "tone: "+fmt.Sprint(tone.ToneNames()))
	ms := fl.Int("ms", 3000, "length in milliseconds")
	out := fl.String("o", "", "output WAV file (- for stdout)")
	if err := fl.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if fl.NArg() != 0 {
		return usageErr("unexpected argument %q", fl.Arg(0))
	}
	if *out == "" {
		return usageErr("-o FILE.wav is required")
	}
	if *ms <= 0 || *ms > maxToneMS {
		return usageErr("-ms %d outside 1…%d", *ms, maxToneMS)
	}
	c, err := tone.Lookup(*country)
	if err != nil {
		return usageErr("%v", err)
	}
	t, err := c.Tone(*name)
	if err != nil {
		return usageErr("%v", err)
	}
	samples := make([]int16, *ms*dsp.SampleRate/1000)
	tone.NewGenerator(t).Read(samples)
	if err := writeWAV(*out, samples, stdout); err != nil {
		return fmt.Errorf("writing %s tone of %s: %w", *name, c.Code, err)
	}
	return nil
}
