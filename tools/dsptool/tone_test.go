package main

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/tipring/tipring/dsp"
)

func TestRunTone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.wav")
	if err := runTone([]string{"-country", "US", "-tone", "busy", "-ms", "2000", "-o", path}, nil); err != nil {
		t.Fatal(err)
	}
	x, err := readWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 2*dsp.SampleRate {
		t.Fatalf("%d samples, want %d", len(x), 2*dsp.SampleRate)
	}
	// 480+620 Hz at -24 dBm0 each, 0.5 s on / 0.5 s off: the first burst
	// is at -21 dBm0 in total, the first gap silent.
	on := dsp.DBm0FromRMS(dsp.RMS(x[100:3900]))
	if want := -24 + 10*math.Log10(2); math.Abs(on-want) > 1 {
		t.Errorf("burst at %.2f dBm0, want %.2f", on, want)
	}
	if r := dsp.RMS(x[4100:7900]); r != 0 {
		t.Errorf("gap has RMS %g, want silence", r)
	}

	var out bytes.Buffer
	if err := runTone([]string{"-country", "gb", "-tone", "ringback", "-ms", "100", "-o", "-"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 44+2*800 || !bytes.HasPrefix(out.Bytes(), []byte("RIFF")) {
		t.Errorf("stdout: %d bytes, prefix %q", out.Len(), out.Bytes()[:min(4, out.Len())])
	}
}

func TestRunToneUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-country", "xx", "-o", "x.wav"},
		{"-tone", "jingle", "-o", "x.wav"},
		{"-ms", "0", "-o", "x.wav"},
		{"-country", "us"},
		{"-bogus"},
		{"-o", "x.wav", "extra"},
	} {
		if err := runTone(args, nil); !errors.Is(err, errUsage) {
			t.Errorf("runTone(%q) = %v, want a usage error", args, err)
		}
	}
}
