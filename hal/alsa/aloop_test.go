package alsa_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/alsa"
)

// loopbackCard returns the kernel's loopback card (snd-aloop), loading the
// module when the test runs as root and the module is there, or skips.
func loopbackCard(t *testing.T) int {
	t.Helper()
	k := alsa.LinuxKernel{}
	if n, err := k.CardIndex("Loopback"); err == nil {
		return n
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("modprobe", "snd-aloop").CombinedOutput(); err != nil {
			t.Skipf("no ALSA loopback card and modprobe snd-aloop failed (%v: %s); this needs a kernel with snd-aloop, not a container", err, out)
		}
		for range 50 {
			if n, err := k.CardIndex("Loopback"); err == nil {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Skip("no ALSA loopback card (load snd-aloop as root: modprobe snd-aloop)")
	return 0
}

// TestLoopbackKernel runs two Devices on the kernel's loopback card: what
// device 0 plays, device 1 captures. It checks the ioctl path end to end on
// a real kernel, with the default playout (a whole period queued ahead)
// and a short one (a period and 5 ms: a write of part of a period).
func TestLoopbackKernel(t *testing.T) {
	card := loopbackCard(t)
	for _, playout := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(fmt.Sprint("playout=", playout), func(t *testing.T) { loopback(t, card, playout) })
	}
}

func loopback(t *testing.T, card int, playout time.Duration) {
	cfg := alsa.Config{Card: strconv.Itoa(card), Channels: 2, Playout: playout}
	a, err := alsa.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open hw:%d,0: %v", card, err)
	}
	defer a.Close()
	cfg.Device = 1
	b, err := alsa.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open hw:%d,1: %v", card, err)
	}
	defer b.Close()
	out, err := a.Slot(alsa.Slot{Channel: 1})
	if err != nil {
		t.Fatal(err)
	}
	in, err := b.Slot(alsa.Slot{Channel: 1})
	if err != nil {
		t.Fatal(err)
	}
	marker := frameOf(1234)
	found := false
	for i := 0; i < 100 && !found; i++ { // two seconds of audio
		out.Write(&marker)
		var f hal.Frame
		if err := in.Read(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		for j := 0; j+1 < len(f); j++ {
			// The marker is a ramp 1234, 1235, …; the loopback may shift
			// it within the period.
			if v := f[j]; v >= 1234 && v < 1234+hal.FrameSamples-1 && f[j+1] == v+1 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Errorf("the marker written to hw:%d,0 never arrived at hw:%d,1", card, card)
	}
	if err := a.Err(); err != nil && !errors.Is(err, alsa.ErrClosed) {
		t.Errorf("device a: %v", err)
	}
	t.Logf("a %+v %+v, b %+v", a.Params(), a.Stats(), b.Stats())
}
