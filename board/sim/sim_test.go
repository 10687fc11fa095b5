package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/dtmf"
	"github.com/tipring/tipring/hal"
)

func newBoard(t *testing.T, ports int) *Board {
	t.Helper()
	b, err := New(context.Background(), Options{Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

// nextEvent waits for the next event of a kind in kinds, skipping others.
func nextEvent(t *testing.T, l hal.Line, within time.Duration, kinds ...hal.EventKind) hal.Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-l.Events():
			for _, k := range kinds {
				if e.Kind == k {
					return e
				}
			}
		case <-deadline:
			t.Fatalf("no %v within %v", kinds, within)
		}
	}
}

func TestChips(t *testing.T) {
	for _, chip := range []string{"si3210", "si3215", "si3216"} {
		b, err := New(context.Background(), Options{Ports: 1, Chip: chip})
		if err != nil {
			t.Fatalf("%s: %v", chip, err)
		}
		if got := b.slots[0].chip.Part().Number.String(); !strings.EqualFold(got, chip) {
			t.Errorf("asked for %s, driver found %s", chip, got)
		}
		b.Close()
	}
	if _, err := New(context.Background(), Options{Chip: "si3050"}); err == nil {
		t.Fatal("unknown chip accepted")
	}
	b := newBoard(t, 1)
	if got := b.slots[0].chip.Part().Number.String(); got != "Si3215" {
		t.Fatalf("default chip %s, want Si3215", got)
	}
}

func TestPortCounts(t *testing.T) {
	if _, err := New(context.Background(), Options{Ports: 65}); err == nil {
		t.Fatal("65 ports accepted")
	}
	b := newBoard(t, 0)
	if len(b.Ports()) != DefaultPorts || len(b.Phones()) != DefaultPorts || b.Ports()[1].Number != 2 {
		t.Fatalf("default board has %d ports", len(b.Ports()))
	}
	if testing.Short() {
		return
	}
	start := time.Now()
	big := newBoard(t, MaxPorts)
	t.Logf("64-port board up in %v", time.Since(start).Round(time.Millisecond))
	if len(big.Ports()) != MaxPorts {
		t.Fatalf("%d ports", len(big.Ports()))
	}
}

// TestHookThroughTheDriver lifts, flashes, pulse-dials and replaces the
// handset of the virtual phone, and expects the real driver to report each
// through the chip model.
func TestHookThroughTheDriver(t *testing.T) {
	b := newBoard(t, 1)
	p, l := b.Phones()[0], b.Ports()[0].Line
	if err := p.SetHook(true); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, l, time.Second, hal.EventOffHook)
	if l.Hook() != hal.OffHook || p.State().Hook != "off" {
		t.Fatalf("hook %v, phone %q", l.Hook(), p.State().Hook)
	}
	if err := p.Flash(context.Background()); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, l, time.Second, hal.EventFlash)
	if err := p.Dial(context.Background(), "305", true); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < 3 {
		got = append(got, nextEvent(t, l, 2*time.Second, hal.EventPulseDigit).Digit)
	}
	if string(got) != "305" {
		t.Fatalf("pulse digits %q, want 305", got)
	}
	if err := p.Dial(context.Background(), "1*", true); err == nil {
		t.Fatal("pulse-dialed a star")
	}
	p.SetHook(false)
	nextEvent(t, l, 2*time.Second, hal.EventOnHook)
	if err := p.Dial(context.Background(), "1", true); err != ErrOnHook {
		t.Fatalf("dialing on-hook: %v", err)
	}
}

// TestKeypadThroughTheCodec presses keys on the virtual phone and decodes
// what reaches the host through the chip's PCM path with the DTMF receiver.
func TestKeypadThroughTheCodec(t *testing.T) {
	b := newBoard(t, 1)
	p, port := b.Phones()[0], b.Ports()[0]
	p.SetHook(true)
	nextEvent(t, port.Line, time.Second, hal.EventOffHook)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	digits := make(chan string, 1)
	go func() {
		det := dtmf.NewDetector(dtmf.Config{})
		var f hal.Frame
		var evs []dtmf.Event
		var got strings.Builder
		for got.Len() < 6 {
			if port.PCM.Read(ctx, &f) != nil {
				break
			}
			var silence hal.Frame
			port.PCM.Write(&silence)
			evs = det.Process(evs[:0], f[:])
			for _, e := range evs {
				if e.Kind == dtmf.Begin {
					got.WriteByte(e.Digit)
				}
			}
		}
		digits <- got.String()
	}()
	if err := p.Dial(ctx, "159*0#", false); err != nil {
		t.Fatal(err)
	}
	if got := <-digits; got != "159*0#" {
		t.Fatalf("host received %q, want 159*0#", got)
	}
}

// TestRingAndCallerID rings the phone once, sends a Bellcore caller-ID
// message in on-hook transmission, and expects the phone's display to show
// it; then rings again and answers, which must stop the ringing.
func TestRingAndCallerID(t *testing.T) {
	b := newBoard(t, 1)
	p, port := b.Phones()[0], b.Ports()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Keep the host side of the PCM stream running: silence unless a
	// caller-ID burst is queued.
	burst := make(chan []int16, 1)
	go func() {
		var in, out hal.Frame
		var pending []int16
		for port.PCM.Read(ctx, &in) == nil {
			select {
			case pending = <-burst:
			default:
			}
			n := copy(out[:], pending)
			clear(out[n:])
			pending = pending[n:]
			port.PCM.Write(&out)
		}
	}()

	if err := port.Line.Ring(hal.Cadence{300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, port.Line, time.Second, hal.EventRingOn)
	if !p.State().Ringing {
		t.Fatal("the phone does not see ring voltage")
	}
	nextEvent(t, port.Line, 2*time.Second, hal.EventRingOff)
	if p.State().Ringing {
		t.Fatal("still ringing after the burst")
	}
	msg := callerid.NewCallSetup(callerid.Info{Time: time.Date(0, 11, 24, 13, 5, 0, 0, time.UTC), Number: "5551234", Name: "ALICE"})
	seq, err := callerid.OnHook(callerid.Bellcore, msg, callerid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var audio []int16
	for _, st := range seq.Steps {
		if st.Kind == callerid.StepAudio {
			buf := make([]int16, st.Audio.Len())
			st.Audio.Read(buf)
			audio = append(audio, buf...)
		}
	}
	burst <- audio
	deadline := time.Now().Add(time.Duration(len(audio))*time.Second/dsp.SampleRate + time.Second)
	for p.State().CallerID == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no caller ID on the display; line feed %d", b.slots[0].model.LineFeed())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := p.State().CallerID; c.Number != "5551234" || c.Name != "ALICE" {
		t.Fatalf("display shows %+v", c)
	}

	// Ring trip: answering during a burst stops the ringing.
	if err := port.Line.Ring(hal.Cadence{2 * time.Second, 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, port.Line, time.Second, hal.EventRingOn)
	time.Sleep(100 * time.Millisecond)
	p.SetHook(true)
	nextEvent(t, port.Line, time.Second, hal.EventOffHook)
	if port.Line.Ringing() || p.State().Ringing {
		t.Fatal("ringing continues after the phone was answered")
	}
	if c := p.State().CallerID; c != nil {
		t.Fatalf("display not cleared on answer: %+v", c)
	}
}

// TestSpeechBothWays checks the audio path: what the host writes reaches the
// earpiece at its level, and what the mouthpiece says reaches the host.
func TestSpeechBothWays(t *testing.T) {
	b := newBoard(t, 1)
	p, port := b.Phones()[0], b.Ports()[0]
	p.SetHook(true)
	nextEvent(t, port.Line, time.Second, hal.EventOffHook)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A 1 kHz tone at −10 dBm0 from the host; collect what the host captures.
	var tone hal.Frame
	for i := range tone {
		tone[i] = int16(dsp.PeakFromDBm0(-10) * sinTable(i))
	}
	say := make([]int16, 4000) // 0.5 s of a 1 kHz tone at −20 dBm0
	for i := range say {
		say[i] = int16(dsp.PeakFromDBm0(-20) * sinTable(i))
	}
	if err := p.Say(say); err != nil {
		t.Fatal(err)
	}
	var loudest float64 = -200
	for i := 0; i < 50; i++ {
		var in hal.Frame
		if err := port.PCM.Read(ctx, &in); err != nil {
			t.Fatal(err)
		}
		port.PCM.Write(&tone)
		loudest = max(loudest, dsp.DBm0FromRMS(dsp.RMS(in[:])))
	}
	if loudest < -20.5 || loudest > -19.5 {
		t.Errorf("mouthpiece at −20 dBm0 reached the host at %.2f dBm0", loudest)
	}
	if lvl := dsp.DBm0FromRMS(dsp.RMS(p.Heard(400))); lvl < -10.5 || lvl > -9.5 {
		t.Errorf("host tone at −10 dBm0 reached the earpiece at %.2f dBm0", lvl)
	}
}

// sinTable is sin(2π·1000·i/8000) for the 8-sample period of a 1 kHz tone.
func sinTable(i int) float64 {
	return [8]float64{0, 0.7071067811865476, 1, 0.7071067811865476, 0, -0.7071067811865476, -1, -0.7071067811865476}[i%8]
}

func ExampleBoard() {
	b, err := New(context.Background(), Options{Ports: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	fmt.Println(len(b.Ports()), "ports;", "phone 1 hook:", b.Phones()[0].State().Hook)
	// Output: 2 ports; phone 1 hook: on
}

func TestHookActionAndDialLimits(t *testing.T) {
	b := newBoard(t, 1)
	p := b.Phones()[0]
	ctx := context.Background()
	if err := p.HookAction(ctx, "sideways"); !errors.Is(err, ErrAction) {
		t.Fatalf("unknown action: %v", err)
	}
	if err := p.HookAction(ctx, "off"); err != nil || p.State().Hook != "off" {
		t.Fatalf("off: %v, hook %s", err, p.State().Hook)
	}
	for _, d := range []string{"", strings.Repeat("1", MaxDial+1)} {
		if err := p.Dial(ctx, d, false); !errors.Is(err, ErrBadDigit) {
			t.Fatalf("dialing %d digits: %v", len(d), err)
		}
	}
	if err := p.HookAction(ctx, "on"); err != nil || p.State().Hook != "on" {
		t.Fatalf("on: %v", err)
	}
}

// The playout is each port's deadline: a frame written within it after
// the tick whose capture it answers plays at the next tick, one written
// later misses its period (an underrun) and the stream is back in step
// with the frame after it. With the default playout of a whole frame the
// same late writes are in time (but for a rare scheduling delay).
func TestPlayoutDeadline(t *testing.T) {
	for _, tc := range []struct {
		playout   time.Duration
		underruns bool
	}{{5 * time.Millisecond, true}, {0, false}} {
		b, err := New(context.Background(), Options{Ports: 1, Playout: tc.playout})
		if err != nil {
			t.Fatal(err)
		}
		pcm := b.Ports()[0].PCM
		var f hal.Frame
		loop := func(n int, delay time.Duration) {
			for range n {
				if err := pcm.Read(t.Context(), &f); err != nil {
					t.Fatal(err)
				}
				time.Sleep(delay)
				if err := pcm.Write(&f); err != nil {
					t.Fatal(err)
				}
			}
		}
		loop(5, 0)
		before := pcm.Underruns()
		loop(3, 8*time.Millisecond)
		loop(5, 0)
		late := pcm.Underruns() - before
		b.Close()
		if tc.underruns && late == 0 {
			t.Errorf("playout %v: frames written 8 ms after their tick did not underrun", tc.playout)
		}
		if !tc.underruns && late >= 3 {
			t.Errorf("playout %v: %d underruns from 3 frames written 8 ms after their tick", tc.playout, late)
		}
	}
	if _, err := New(context.Background(), Options{Ports: 1, Playout: time.Millisecond}); err == nil {
		t.Error("a playout of 1 ms was accepted")
	}
}
