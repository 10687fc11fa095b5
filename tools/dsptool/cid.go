package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/callerid"
)

// cidSilence is the silence cid-gen puts before and after the signal.
const cidSilence = time.Second

// errNoCallerID reports a file in which cid-decode found nothing.
var errNoCallerID = errors.New("no caller ID found")

// runCIDGen writes the caller-ID signal of one call into a WAV file:
//
//	dsptool cid-gen -std bellcore|etsi|dtmf -number N [-name NAME]
//	    [-time MMDDHHMM] [-private] [-level DBM0] -o F.wav
//
// bellcore is Bell 202 FSK with channel seizure, 180 mark bits and an MDMF
// call set-up message (GR-30); etsi is the DT-AS alert followed by V.23 FSK
// with 80 mark bits and the same message (EN 300 659-1); dtmf is DTMF caller
// ID, "A<number>C" or "D10C" when private. The signal has a second of
// silence before and after it. -private withholds the number and name
// (reason 'P'); -time defaults to the current local time.
func runCIDGen(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("cid-gen", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	stdName := fl.String("std", "bellcore", "standard: bellcore, etsi or dtmf")
	number := fl.String("number", "", "calling number")
	name := fl.String("name", "", "calling name (FSK standards only)")
	when := fl.String("time", "", "date and time MMDDHHMM (default now)")
	private := fl.Bool("private", false, "withhold number and name (reason P)")
	level := fl.Float64("level", callerid.DefaultLevel, "FSK level in dBm0 (DTMF: per tone)")
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
	std, err := callerid.ParseStandard(*stdName)
	if err != nil || std == callerid.BT {
		return usageErr("-std %q: want bellcore, etsi or dtmf", *stdName)
	}
	info := callerid.Info{Number: *number, Name: *name}
	switch {
	case *private && (*number != "" || *name != ""):
		return usageErr("-private withholds the number and name: give neither")
	case *private:
		info.NumberAbsence, info.NameAbsence = callerid.Private, callerid.Private
	case *number == "":
		return usageErr("-number is required (or -private)")
	}
	if std == callerid.DTMF && *name != "" {
		return usageErr("DTMF caller ID carries no name")
	}
	info.Time, err = parseCIDTime(*when)
	if err != nil {
		return usageErr("-time %q: %v", *when, err)
	}
	if *level >= 0 || *level < -60 {
		return usageErr("-level %g: want -60…0 dBm0", *level)
	}
	opt := callerid.Options{Level: *level, DTMFLevel: *level}
	if std == callerid.ETSI {
		opt.Alert = callerid.AlertDTAS
	}
	seq, err := callerid.OnHook(std, callerid.NewCallSetup(info), opt)
	if err != nil {
		return fmt.Errorf("%v caller ID for %q: %w", std, *number, err)
	}
	var audio *callerid.Audio
	for _, st := range seq.Steps {
		if st.Kind == callerid.StepAudio {
			audio = st.Audio
		}
	}
	pad := int(cidSilence * dsp.SampleRate / time.Second)
	samples := make([]int16, pad+audio.Len()+pad)
	audio.Read(samples[pad : pad+audio.Len()])
	if err := writeWAV(*out, samples, stdout); err != nil {
		return fmt.Errorf("writing %v caller ID: %w", std, err)
	}
	return nil
}

// parseCIDTime reads MMDDHHMM; empty means now.
func parseCIDTime(s string) (time.Time, error) {
	if s == "" {
		n := time.Now()
		return time.Date(0, n.Month(), n.Day(), n.Hour(), n.Minute(), 0, 0, time.UTC), nil
	}
	t, err := time.Parse("01021504", s)
	if err != nil || len(s) != 8 {
		return time.Time{}, fmt.Errorf("want MMDDHHMM")
	}
	return time.Date(0, t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC), nil
}

// cidJSON is one line of cid-decode output. The keys are a contract for
// outside tests; add new ones, never rename these:
//
//	standard        "bellcore" (Bell 202 FSK), "etsi" (V.23 FSK) or "dtmf"
//	number          calling number, "" when absent
//	name            calling name, "" when absent
//	time            "MM-DD HH:MM", "" when not sent
//	numberAbsence   "", "unavailable" ('O') or "private" ('P')
//	nameAbsence     "", "unavailable" or "private"
//	messageWaiting  only for message-waiting messages: true (on) or false (off)
type cidJSON struct {
	Standard       string `json:"standard"`
	Number         string `json:"number"`
	Name           string `json:"name"`
	Time           string `json:"time"`
	NumberAbsence  string `json:"numberAbsence"`
	NameAbsence    string `json:"nameAbsence"`
	MessageWaiting *bool  `json:"messageWaiting,omitempty"`
}

// runCIDDecode prints every caller-ID message in a WAV file, one JSON
// object (see cidJSON) per line:
//
//	dsptool cid-decode F.wav
//
// It fails when the file holds none.
func runCIDDecode(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("cid-decode", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	if err := fl.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if fl.NArg() != 1 {
		return usageErr("want one WAV file")
	}
	samples, err := readWAV(fl.Arg(0))
	if err != nil {
		return err
	}
	dec, err := callerid.NewDecoder(callerid.DecoderConfig{})
	if err != nil {
		return err
	}
	// A second of silence lets a burst that ends the file finish.
	dec.Process(samples)
	dec.Process(make([]int16, dsp.SampleRate))
	enc := json.NewEncoder(stdout)
	found := 0
	for r, ok := dec.Next(); ok; r, ok = dec.Next() {
		if err := enc.Encode(toCIDJSON(r)); err != nil {
			return err
		}
		found++
	}
	if found == 0 {
		return fmt.Errorf("%s: %w", fl.Arg(0), errNoCallerID)
	}
	return nil
}

func toCIDJSON(r callerid.Result) cidJSON {
	i := r.Message.Info
	j := cidJSON{
		Standard:      r.Standard.String(),
		Number:        i.Number,
		Name:          i.Name,
		NumberAbsence: i.NumberAbsence.String(),
		NameAbsence:   i.NameAbsence.String(),
	}
	if !i.Time.IsZero() {
		j.Time = fmt.Sprintf("%02d-%02d %02d:%02d", int(i.Time.Month()), i.Time.Day(), i.Time.Hour(), i.Time.Minute())
	}
	if t := r.Message.Type; t == callerid.TypeMessageWaiting || t == callerid.TypeSDMFMessageWaiting {
		on := r.Message.Waiting.Active
		j.MessageWaiting = &on
	}
	return j
}
