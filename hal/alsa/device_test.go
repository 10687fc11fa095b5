package alsa_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/alsa"
	"github.com/tipring/tipring/hal/alsa/alsatest"
)

const tick = 2 * time.Second // upper bound of one fake period under qemu

func openFake(t *testing.T, hw alsatest.Hardware, cfg alsa.Config) (*alsatest.Card, *alsa.Device) {
	t.Helper()
	card := alsatest.NewCard("tipring", 1, hw)
	cfg.Kernel = card
	if cfg.Card == "" {
		cfg.Card = "tipring"
	}
	d, err := alsa.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return card, d
}

func TestOpenNegotiates(t *testing.T) {
	card, d := openFake(t, alsatest.Telephony(), alsa.Config{Channels: 2})
	want := alsa.Params{Card: 1, Device: 0, Rate: 8000, Channels: 2, PeriodFrames: 160, Periods: 4, Linked: true, Protocol: "2.0.15"}
	if got := d.Params(); got != want {
		t.Errorf("Params = %+v, want %+v", got, want)
	}
	calls := strings.Join(card.Calls(), "\n")
	for _, c := range []string{
		"playback HW_PARAMS channels=2 period=160 periods=4",
		"capture HW_PARAMS channels=2 period=160 periods=4",
		"playback LINK",
	} {
		if !strings.Contains(calls, c) {
			t.Errorf("calls lack %q:\n%s", c, calls)
		}
	}
}

// TestPeriodsFollowHardware checks that the Device pins the number of
// periods itself: left to choose, the kernel would install the fewest.
func TestPeriodsFollowHardware(t *testing.T) {
	for _, c := range []struct {
		hwPeriods [2]uint32
		cfg       int
		want      int
	}{
		{[2]uint32{2, 3}, 0, 3},
		{[2]uint32{2, 2}, 0, 2},
		{[2]uint32{1, 64}, 0, 4},
		{[2]uint32{2, 16}, 2, 2},
	} {
		hw := alsatest.Telephony()
		hw.Periods = c.hwPeriods
		_, d := openFake(t, hw, alsa.Config{Periods: c.cfg})
		if got := d.Params().Periods; got != c.want {
			t.Errorf("hardware %v periods, config %d: got %d, want %d", c.hwPeriods, c.cfg, got, c.want)
		}
		d.Close()
	}
}

func TestNegotiationErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*alsatest.Hardware)
		cfg  alsa.Config
		want error
		msg  string
	}{
		{"rate", func(h *alsatest.Hardware) { h.Rates = []uint32{44100, 48000} }, alsa.Config{}, alsa.ErrParams, "rate 8000 not in 44100…48000"},
		{"channels", func(h *alsatest.Hardware) { h.Channels = [2]uint32{2, 2} }, alsa.Config{Channels: 4}, alsa.ErrParams, "channels 4 not in 2"},
		{"period", func(h *alsatest.Hardware) { h.PeriodSize = [2]uint32{256, 1024} }, alsa.Config{}, alsa.ErrParams, "period size 160 not in 256…1024"},
		{"periods", func(h *alsatest.Hardware) { h.Periods = [2]uint32{8, 16} }, alsa.Config{}, alsa.ErrParams, "periods 2…4 not in 8…16"},
		{"format", func(h *alsatest.Hardware) { h.NoS16LE = true }, alsa.Config{}, alsa.ErrParams, "no S16_LE"},
		{"bad rate", nil, alsa.Config{Rate: 44100}, alsa.ErrConfig, "rate 44100"},
		{"bad periods", nil, alsa.Config{Periods: 5}, alsa.ErrConfig, "5 periods"},
		{"bad channels", nil, alsa.Config{Channels: 33}, alsa.ErrConfig, "33 channels"},
		{"no card", nil, alsa.Config{Card: "nothere"}, alsa.ErrNoCard, "nothere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hw := alsatest.Telephony()
			if c.edit != nil {
				c.edit(&hw)
			}
			card := alsatest.NewCard("tipring", 0, hw)
			c.cfg.Kernel = card
			_, err := alsa.Open(t.Context(), c.cfg)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Open: %v; want %v mentioning %q", err, c.want, c.msg)
			}
			if card.Open() {
				t.Errorf("a failed Open left a substream open")
			}
		})
	}
}

func TestNoLinkStartsBoth(t *testing.T) {
	hw := alsatest.Telephony()
	hw.NoLink = true
	card, d := openFake(t, hw, alsa.Config{})
	if d.Params().Linked {
		t.Errorf("Linked with a card that refuses LINK")
	}
	calls := strings.Join(card.Calls(), "\n")
	if !strings.Contains(calls, "playback START") || !strings.Contains(calls, "capture START") {
		t.Errorf("both streams should be started:\n%s", calls)
	}
}

// frameOf returns a frame whose samples are base+i.
func frameOf(base int) hal.Frame {
	var f hal.Frame
	for i := range f {
		f[i] = int16(base + i)
	}
	return f
}

func TestLinearSlots(t *testing.T) {
	card, d := openFake(t, alsatest.Telephony(), alsa.Config{Channels: 2})
	var ports [2]alsa.SlotPCM
	for i := range ports {
		p, err := d.Slot(alsa.Slot{Channel: i})
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	if _, err := d.Slot(alsa.Slot{Channel: 1}); !errors.Is(err, alsa.ErrSlotInUse) {
		t.Errorf("second claim of channel 1: %v, want ErrSlotInUse", err)
	}
	if _, err := d.Slot(alsa.Slot{Channel: 2}); !errors.Is(err, alsa.ErrConfig) {
		t.Errorf("channel 2 of 2: %v, want ErrConfig", err)
	}
	for i, p := range ports {
		f := frameOf(1000 * (i + 1))
		p.Write(&f)
	}
	in := make([]int16, 2*160)
	for i := range 160 {
		in[2*i], in[2*i+1] = int16(-i), int16(5000+i)
	}
	var played [][]int16
	for range 3 {
		out, err := card.Tick(in, tick)
		if err != nil {
			t.Fatal(err)
		}
		played = append(played, out)
	}
	// Two periods of prefilled silence, then the frames written before the
	// first tick.
	for i := range 160 {
		if played[0][2*i] != 0 || played[1][2*i+1] != 0 {
			t.Fatalf("prefill is not silence")
		}
		if played[2][2*i] != int16(1000+i) || played[2][2*i+1] != int16(2000+i) {
			t.Fatalf("played sample %d = %d,%d", i, played[2][2*i], played[2][2*i+1])
		}
	}
	// Nothing was written for the second and third cycles, and the reader
	// lets three frames arrive at a queue of two.
	waitFor(t, "three cycles", func() bool {
		return ports[0].Underruns() == 2 && ports[0].Overruns() == 1
	})
	for i, p := range ports {
		var f hal.Frame
		if err := p.Read(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		for j, v := range f {
			want := int16(-j)
			if i == 1 {
				want = int16(5000 + j)
			}
			if v != want {
				t.Fatalf("port %d sample %d = %d, want %d", i, j, v, want)
			}
		}
	}
}

// TestUlawPairs puts four ports in the two 16-bit channels of a frame, two
// 8-bit µ-law slots per channel, as the Raspberry Pi board does.
func TestUlawPairs(t *testing.T) {
	card, d := openFake(t, alsatest.Telephony(), alsa.Config{Channels: 2})
	slots := []alsa.Slot{{0, alsa.UlawHigh}, {0, alsa.UlawLow}, {1, alsa.UlawHigh}, {1, alsa.UlawLow}}
	ports := make([]hal.PCM, len(slots))
	for i, s := range slots {
		p, err := d.Slot(s)
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	levels := []int16{1000, -2000, 3000, -4000}
	for i, p := range ports[:3] { // port 4 writes nothing: it must hear silence
		var f hal.Frame
		for j := range f {
			f[j] = levels[i]
		}
		p.Write(&f)
	}
	in := make([]int16, 2*160)
	for i := range 160 {
		in[2*i] = int16(uint16(g711.UlawFromLinear(levels[0]))<<8 | uint16(g711.UlawFromLinear(levels[1])))
		in[2*i+1] = int16(uint16(g711.UlawFromLinear(levels[2]))<<8 | uint16(g711.UlawFromLinear(levels[3])))
	}
	var out []int16
	for range 3 {
		var err error
		if out, err = card.Tick(in, tick); err != nil {
			t.Fatal(err)
		}
	}
	hi := func(v int16) byte { return byte(uint16(v) >> 8) }
	lo := func(v int16) byte { return byte(v) }
	got := []byte{hi(out[0]), lo(out[0]), hi(out[1]), lo(out[1])}
	want := []byte{g711.UlawFromLinear(levels[0]), g711.UlawFromLinear(levels[1]), g711.UlawFromLinear(levels[2]), g711.Ulaw.Silence()}
	if string(got) != string(want) {
		t.Errorf("played bytes % x, want % x", got, want)
	}
	for i, p := range ports {
		var f hal.Frame
		if err := p.Read(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		if w := g711.UlawToLinear(g711.UlawFromLinear(levels[i])); f[0] != w || f[159] != w {
			t.Errorf("port %d read %d, want %d", i+1, f[0], w)
		}
	}
	if _, err := d.Slot(alsa.Slot{Channel: 0, Coding: alsa.Linear16}); !errors.Is(err, alsa.ErrSlotInUse) {
		t.Errorf("linear claim over two µ-law slots: %v", err)
	}
}

func TestXrunRecovery(t *testing.T) {
	for _, c := range []struct {
		name    string
		noLink  bool
		capture bool
	}{
		{"linked capture overrun", false, true},
		{"unlinked playback underrun", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			hw := alsatest.Telephony()
			hw.NoLink = c.noLink
			card, d := openFake(t, hw, alsa.Config{})
			p, err := d.Slot(alsa.Slot{})
			if err != nil {
				t.Fatal(err)
			}
			in := make([]int16, 160)
			for range 2 {
				if _, err := card.Tick(in, tick); err != nil {
					t.Fatal(err)
				}
			}
			card.Xrun(c.capture)
			// Ticks go on once the device has recovered.
			for range 3 {
				if _, err := card.Tick(in, tick); err != nil {
					t.Fatalf("after xrun: %v\n%s", err, strings.Join(card.Calls(), "\n"))
				}
			}
			waitFor(t, "a restart", func() bool { return d.Stats().Restarts == 1 })
			st := d.Stats()
			if c.capture && st.CaptureXruns != 1 || !c.capture && st.PlaybackXruns != 1 || st.Restarts != 1 {
				t.Errorf("Stats = %+v", st)
			}
			if !c.capture && p.Underruns() < 1 {
				t.Errorf("a playback xrun should count as an underrun of every slot")
			}
			var f hal.Frame
			if err := p.Read(t.Context(), &f); err != nil {
				t.Errorf("Read after recovery: %v", err)
			}
		})
	}
}

func TestCloseAndContext(t *testing.T) {
	card := alsatest.NewCard("tipring", 0, alsatest.Telephony())
	ctx, cancel := context.WithCancel(t.Context())
	d, err := alsa.Open(ctx, alsa.Config{Kernel: card})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Slot(alsa.Slot{})
	if err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		var f hal.Frame
		readErr <- p.Read(t.Context(), &f)
	}()
	cancel()
	select {
	case err := <-readErr:
		if !errors.Is(err, alsa.ErrClosed) {
			t.Errorf("Read after the context ended: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return when the device's context ended")
	}
	deadline := time.Now().Add(5 * time.Second)
	for card.Open() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if card.Open() {
		t.Error("substreams still open after the context ended")
	}
	f := frameOf(0)
	if err := p.Write(&f); !errors.Is(err, alsa.ErrClosed) {
		t.Errorf("Write after close: %v", err)
	}
	if _, err := d.Slot(alsa.Slot{}); !errors.Is(err, alsa.ErrClosed) {
		t.Errorf("Slot after close: %v", err)
	}
}

func TestSlotCloseFreesIt(t *testing.T) {
	_, d := openFake(t, alsatest.Telephony(), alsa.Config{})
	p, err := d.Slot(alsa.Slot{})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	var f hal.Frame
	if err := p.Read(t.Context(), &f); !errors.Is(err, alsa.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if _, err := d.Slot(alsa.Slot{}); err != nil {
		t.Errorf("slot not freed: %v", err)
	}
}

// waitFor polls cond until it holds or a few seconds pass: the device's
// loop finishes its cycle after the tick that started it returned.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The loop waits for the slots' answers to a period's capture and writes
// them at once, with one period plus Playout of silence queued ahead, so
// that the answer to a period starts to play Playout into the next one
// (not a whole period later). A port that echoes what it reads shows it:
// of ten marked periods, the echo of each is found where it should be at
// least half the time (a port descheduled on a loaded machine misses the
// odd deadline; without the wait none is). It runs on real time, so not
// under -short (qemu).
func TestPlayoutLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time deadlines: native run only")
	}
	for _, playout := range []time.Duration{hal.FrameDuration, 10 * time.Millisecond} {
		card, d := openFake(t, alsatest.Telephony(), alsa.Config{Channels: 1, Playout: playout})
		p, err := d.Slot(alsa.Slot{Channel: 0})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			var f hal.Frame
			for p.Read(t.Context(), &f) == nil {
				if p.Write(&f) != nil {
					return
				}
			}
		}()
		lead := int(playout / (time.Second / 8000))
		var played []int16
		in := make([]int16, 160)
		for k := range 14 {
			for i := range in {
				in[i] = int16(1000 + k)
			}
			out, err := card.Tick(in, tick)
			if err != nil {
				t.Fatal(err)
			}
			played = append(played, out...)
		}
		p.Close()
		// The capture of tick k (from 0) is answered from sample
		// 160·(k+1) + lead of what was played from tick 0 on.
		good := 0
		for k := 1; k <= 10; k++ {
			at := 160*(k+1) + lead
			if at < len(played) && played[at] == int16(1000+k) && played[at-1] != int16(1000+k) {
				good++
			}
		}
		if good < 5 {
			t.Errorf("playout %v: %d of 10 answers started %d samples into the next period", playout, good, lead)
		}
	}
}
