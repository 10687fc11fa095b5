package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// TestCIDGenDecode generates caller ID into WAV files and reads it back
// through cid-decode, for every standard.
func TestCIDGenDecode(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want cidJSON
	}{
		{[]string{"-std", "bellcore", "-number", "5551234", "-name", "ALICE", "-time", "11241305"},
			cidJSON{Standard: "bellcore", Number: "5551234", Name: "ALICE", Time: "11-24 13:05"}},
		{[]string{"-std", "etsi", "-number", "0123456789", "-name", "Bob B", "-time", "02291200", "-level", "-30"},
			cidJSON{Standard: "etsi", Number: "0123456789", Name: "Bob B", Time: "02-29 12:00"}},
		{[]string{"-std", "bellcore", "-private", "-time", "01010000"},
			cidJSON{Standard: "bellcore", Time: "01-01 00:00", NumberAbsence: "private", NameAbsence: "private"}},
		{[]string{"-std", "dtmf", "-number", "4512345678"},
			cidJSON{Standard: "dtmf", Number: "4512345678"}},
		{[]string{"-std", "dtmf", "-private"},
			cidJSON{Standard: "dtmf", NumberAbsence: "private"}},
	}
	for i, c := range cases {
		path := filepath.Join(dir, "cid"+string(rune('a'+i))+".wav")
		if err := runCIDGen(append(c.args, "-o", path), nil); err != nil {
			t.Fatalf("cid-gen %v: %v", c.args, err)
		}
		x, err := readWAV(path)
		if err != nil {
			t.Fatal(err)
		}
		// A second of silence on each side.
		if dsp.RMS(x[:dsp.SampleRate]) != 0 || dsp.RMS(x[len(x)-dsp.SampleRate:]) != 0 {
			t.Errorf("%v: no second of silence around the signal", c.args)
		}
		var out bytes.Buffer
		if err := runCIDDecode([]string{path}, &out); err != nil {
			t.Fatalf("cid-decode after %v: %v", c.args, err)
		}
		var got cidJSON
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%q: %v", out.String(), err)
		}
		if got != c.want {
			t.Errorf("%v: decoded %s, want %+v", c.args, out.String(), c.want)
		}
		if strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%v: %q, want one line", c.args, out.String())
		}
	}
}

// TestCIDDecodeKeys pins the JSON keys other tools rely on.
func TestCIDDecodeKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.wav")
	if err := runCIDGen([]string{"-number", "5551234", "-name", "ALICE", "-time", "11241305", "-o", path}, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runCIDDecode([]string{path}, &out); err != nil {
		t.Fatal(err)
	}
	want := `{"standard":"bellcore","number":"5551234","name":"ALICE","time":"11-24 13:05","numberAbsence":"","nameAbsence":""}` + "\n"
	if out.String() != want {
		t.Errorf("got  %s want %s", out.String(), want)
	}
}

func TestCIDUsage(t *testing.T) {
	dir := t.TempDir()
	silent := filepath.Join(dir, "silent.wav")
	if err := writeWAV(silent, make([]int16, 8000), nil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-number", "1"},
		{"-std", "x", "-number", "1", "-o", "f.wav"},
		{"-std", "bt", "-number", "1", "-o", "f.wav"},
		{"-o", "f.wav"},
		{"-private", "-number", "1", "-o", "f.wav"},
		{"-std", "dtmf", "-number", "1", "-name", "A", "-o", "f.wav"},
		{"-number", "1", "-time", "13011200", "-o", "f.wav"},
		{"-number", "1", "-level", "3", "-o", "f.wav"},
		{"-number", "1", "-o", "f.wav", "extra"},
	} {
		if err := runCIDGen(args, nil); !errors.Is(err, errUsage) {
			t.Errorf("cid-gen %v: %v, want a usage error", args, err)
		}
	}
	if err := runCIDGen([]string{"-std", "dtmf", "-number", "12AB", "-o", filepath.Join(dir, "x.wav")}, nil); err == nil || errors.Is(err, errUsage) {
		t.Errorf("letters in a DTMF number: %v", err)
	}
	if err := runCIDDecode(nil, nil); !errors.Is(err, errUsage) {
		t.Errorf("cid-decode without file: %v", err)
	}
	if err := runCIDDecode([]string{silent}, &bytes.Buffer{}); !errors.Is(err, errNoCallerID) {
		t.Errorf("cid-decode of silence: %v", err)
	}
	if err := runCIDDecode([]string{filepath.Join(dir, "missing.wav")}, nil); err == nil {
		t.Error("cid-decode of a missing file succeeded")
	}
}
