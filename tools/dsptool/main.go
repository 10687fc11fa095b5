// Command dsptool runs Tipring's telephony DSP on WAV files (8 kHz, mono,
// 16-bit), so that every part of dsp/ can be exercised and checked from the
// shell or by an outside conformance suite.
//
//	dsptool dtmf-detect FILE.wav
//	dsptool dtmf-gen -digits 123 -on 50 -off 50 -level -10 -twist 0 -o F.wav
//	dsptool tone -country us -tone dial -ms 3000 -o F.wav
//	dsptool cid-gen -std bellcore|etsi|dtmf -number N -name NAME -o F.wav
//	dsptool cid-decode F.wav
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/wav"
)

// command is one dsptool subcommand: it parses its own arguments and writes
// its results to stdout.
type command struct {
	usage string
	run   func(args []string, stdout io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"dtmf-detect": {"FILE.wav", runDTMFDetect},
		"dtmf-gen":    {"-digits D [-on MS] [-off MS] [-level DBM0] [-twist DB] -o FILE.wav", runDTMFGen},
		"tone":        {"-country CC -tone NAME [-ms N] -o FILE.wav", runTone},
		"cid-gen":     {"-std bellcore|etsi|dtmf -number N [-name NAME] -o FILE.wav", runCIDGen},
		"cid-decode":  {"FILE.wav", runCIDDecode},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" || args[0] == "--help" {
		usage(stderr, cmds)
		return 2
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dsptool: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := c.run(args[1:], stdout); err != nil {
		fmt.Fprintf(stderr, "dsptool %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "usage: dsptool %s %s\n", args[0], c.usage)
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: dsptool COMMAND [ARGS]")
	for _, n := range names {
		fmt.Fprintf(w, "  dsptool %s %s\n", n, cmds[n].usage)
	}
}

// errUsage marks an error in the command line rather than in the work.
var errUsage = errors.New("bad usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// readWAV reads an 8 kHz mono 16-bit WAV file.
func readWAV(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := wav.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Rate != dsp.SampleRate {
		return nil, fmt.Errorf("%s: sample rate %d Hz, want %d", path, a.Rate, dsp.SampleRate)
	}
	return a.Samples, nil
}

// writeWAV writes samples as an 8 kHz WAV file; "-" means stdout.
func writeWAV(path string, samples []int16, stdout io.Writer) error {
	b := wav.Bytes(wav.Audio{Rate: dsp.SampleRate, Samples: samples})
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
