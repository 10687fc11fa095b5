package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipring/tipring/dsp"
)

func TestDTMFGenThenDetect(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args    []string
		digits  string
		on, off int
	}{
		{[]string{"-digits", "0123456789*#ABCD"}, "0123456789*#ABCD", 50, 50},
		{[]string{"-digits", "5551234", "-on", "40", "-off", "40", "-level", "-20", "-twist", "0"}, "5551234", 40, 40},
		{[]string{"-digits", "9#", "-on", "120", "-off", "80", "-level", "-4", "-twist", "-6"}, "9#", 120, 80},
	} {
		path := filepath.Join(dir, "d.wav")
		args := append(append([]string{}, tc.args...), "-o", path)
		if err := runDTMFGen(args, nil); err != nil {
			t.Fatalf("dtmf-gen %v: %v", args, err)
		}
		x, err := readWAV(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(tc.digits) * (tc.on + tc.off) * dsp.SampleRate / 1000; len(x) != want {
			t.Errorf("%v: %d samples, want %d", args, len(x), want)
		}
		var out bytes.Buffer
		if err := runDTMFDetect([]string{path}, &out); err != nil {
			t.Fatal(err)
		}
		// The detector places tone edges to within about a millisecond.
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(tc.digits) {
			t.Fatalf("%v: detected\n%s", args, out.String())
		}
		for i, l := range lines {
			var d byte
			var start, end int
			if _, err := fmt.Sscanf(l, "%c %d %d", &d, &start, &end); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			wantStart := i * (tc.on + tc.off)
			if d != tc.digits[i] || abs(start-wantStart) > 2 || abs(end-wantStart-tc.on) > 2 {
				t.Errorf("%v: line %d %q, want %c %d %d (±2 ms)", args, i, l, tc.digits[i], wantStart, wantStart+tc.on)
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestDTMFGenStdout(t *testing.T) {
	var out bytes.Buffer
	if err := runDTMFGen([]string{"-digits", "1", "-on", "10", "-off", "0", "-o", "-"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 44+2*80 || !bytes.HasPrefix(out.Bytes(), []byte("RIFF")) {
		t.Errorf("stdout: %d bytes", out.Len())
	}
}

func TestDTMFUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-digits", "12"},                                             // no -o
		{"-digits", "", "-o", "x.wav"},                                // no digits
		{"-digits", "1E", "-o", "x.wav"},                              // bad digit
		{"-digits", "1", "-on", "0", "-o", "x.wav"},                   // bad on time
		{"-digits", "1", "-off", "-5", "-o", "x.wav"},                 // bad off time
		{"-digits", "1", "-level", "5", "-twist", "3", "-o", "x.wav"}, // clips
		{"-digits", "1", "-bogus", "-o", "x.wav"},
		{"-digits", "1", "-o", "x.wav", "extra"},
	} {
		if err := runDTMFGen(args, nil); !errors.Is(err, errUsage) {
			t.Errorf("dtmf-gen %v: %v, want a usage error", args, err)
		}
	}
	for _, args := range [][]string{{}, {"a.wav", "b.wav"}, {"-x", "a.wav"}} {
		if err := runDTMFDetect(args, nil); !errors.Is(err, errUsage) {
			t.Errorf("dtmf-detect %v: %v, want a usage error", args, err)
		}
	}
	if err := runDTMFDetect([]string{filepath.Join(dir, "missing.wav")}, nil); err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDTMFThroughRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"dtmf-gen", "-digits", "42", "-o", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"dtmf-detect", path}, &stdout, &stderr); code != 0 || stdout.String() != "4 0 50\n2 100 150\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	if code := run([]string{"dtmf-gen", "-digits", "X", "-o", path}, &stdout, &stderr); code != 2 {
		t.Errorf("bad digit: exit %d", code)
	}
}
