package main

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dtmf"
)

// maxDTMFMS bounds -on and -off: one minute per tone or pause.
const maxDTMFMS = 60 * 1000

// maxDTMFDigits bounds -digits, so that a typo cannot ask for gigabytes.
const maxDTMFDigits = 1000

// runDTMFDetect prints one line per digit found in a WAV file, with its
// start and end in milliseconds from the start of the file, rounded to the
// nearest millisecond:
//
//	dsptool dtmf-detect FILE.wav
//	5 120 170
func runDTMFDetect(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("dtmf-detect", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	if err := fl.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if fl.NArg() != 1 {
		return usageErr("want one WAV file, got %d arguments", fl.NArg())
	}
	samples, err := readWAV(fl.Arg(0))
	if err != nil {
		return err
	}
	d := dtmf.NewDetector(dtmf.Config{})
	ev := d.Process(nil, samples)
	ev = d.Flush(ev)
	for _, e := range ev {
		if e.Kind != dtmf.End {
			continue
		}
		if _, err := fmt.Fprintf(stdout, "%c %d %d\n", e.Digit, sampleMS(e.Start), sampleMS(e.Sample)); err != nil {
			return err
		}
	}
	return nil
}

// sampleMS converts a sample position to milliseconds, rounded.
func sampleMS(n int64) int64 {
	return int64(math.Round(float64(n) * 1000 / dsp.SampleRate))
}

// runDTMFGen writes DTMF digits to a WAV file:
//
//	dsptool dtmf-gen -digits 123 -on 50 -off 50 -level -10 -twist 0 -o F.wav
//
// -level is the low-group tone's level in dBm0 and -twist the high-group
// tone's level above it in dB; the defaults give -10 and -8 dBm0.
func runDTMFGen(args []string, stdout io.Writer) error {
	def := dtmf.DefaultGenConfig()
	fl := flag.NewFlagSet("dtmf-gen", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	digits := fl.String("digits", "", "digits to send: 0-9 * # A-D")
	on := fl.Int("on", 50, "tone length in milliseconds")
	off := fl.Int("off", 50, "pause after each tone in milliseconds")
	level := fl.Float64("level", def.LowDBm0, "low-group tone level in dBm0")
	twist := fl.Float64("twist", def.TwistDB, "high-group level minus low-group level in dB")
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
	if *digits == "" || len(*digits) > maxDTMFDigits {
		return usageErr("-digits needs 1…%d digits", maxDTMFDigits)
	}
	if *on <= 0 || *on > maxDTMFMS || *off < 0 || *off > maxDTMFMS {
		return usageErr("-on %d / -off %d outside 1…%d / 0…%d ms", *on, *off, maxDTMFMS, maxDTMFMS)
	}
	cfg := dtmf.GenConfig{LowDBm0: *level, TwistDB: *twist}
	samples, err := dtmf.Synthesize(*digits, *on*dsp.SampleRate/1000, *off*dsp.SampleRate/1000, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	if err := writeWAV(*out, samples, stdout); err != nil {
		return fmt.Errorf("writing digits %q: %w", *digits, err)
	}
	return nil
}
