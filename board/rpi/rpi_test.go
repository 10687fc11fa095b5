package rpi

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tipring/tipring/board/sim/slicmodel"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/alsa"
	"github.com/tipring/tipring/hal/alsa/alsatest"
	"github.com/tipring/tipring/hal/si321x"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// fakeHost wires SLIC models (or nothing) to the default pin names.
type fakeHost struct {
	models map[string]*slicmodel.Model // by SPI device
	pins   map[string]*gpiotest.Pin
	modes  []spi.Mode
	freqs  []physic.Frequency
}

func newFakeHost(ports int, part slicmodel.Part) *fakeHost {
	h := &fakeHost{models: map[string]*slicmodel.Model{}, pins: map[string]*gpiotest.Pin{}}
	for n := 1; n <= ports; n++ {
		m := slicmodel.New(slicmodel.Config{Part: part, Behaviour: slicmodel.FastBehaviour()})
		h.models[DefaultWiring(n).SPI] = m
	}
	return h
}

type fakePort struct {
	h    *fakeHost
	dev  string
	conn spi.Conn
}

func (p *fakePort) String() string                      { return p.dev }
func (p *fakePort) Close() error                        { return nil }
func (p *fakePort) LimitSpeed(f physic.Frequency) error { return nil }
func (p *fakePort) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	p.h.modes = append(p.h.modes, m)
	p.h.freqs = append(p.h.freqs, f)
	return p.conn, nil
}

func (h *fakeHost) SPI(dev string) (spi.PortCloser, error) {
	if m, ok := h.models[dev]; ok {
		return &fakePort{h: h, dev: dev, conn: m.Conn()}, nil
	}
	// A bus with nothing on it reads all zeros.
	return &fakePort{h: h, dev: dev, conn: silentConn{}}, nil
}

// The model's reset pin follows the port's SPI device; INT is polled in
// these tests (the model's INT pin is exercised by board/sim).
func (h *fakeHost) Out(name string) (gpio.PinOut, error) {
	for n := 1; n <= MaxPorts; n++ {
		if DefaultWiring(n).Reset == name {
			if m, ok := h.models[DefaultWiring(n).SPI]; ok {
				return m.ResetPin(), nil
			}
		}
	}
	return h.pin(name), nil
}

func (h *fakeHost) In(name string) (gpio.PinIn, error) { return h.pin(name), nil }

func (h *fakeHost) pin(name string) *gpiotest.Pin {
	if p, ok := h.pins[name]; ok {
		return p
	}
	p := &gpiotest.Pin{N: name, L: gpio.High, EdgesChan: make(chan gpio.Level, 1)}
	h.pins[name] = p
	return p
}

// silentConn is an SPI connection to nothing: every byte reads 0.
type silentConn struct{}

func (silentConn) String() string { return "silent" }
func (silentConn) Tx(w, r []byte) error {
	clear(r)
	return nil
}
func (silentConn) TxPackets(p []spi.Packet) error {
	for _, x := range p {
		clear(x.R)
	}
	return nil
}
func (silentConn) Duplex() conn.Duplex { return conn.Half }

func config(h *fakeHost, card *alsatest.Card, ports int) Config {
	w := make([]Wiring, ports)
	for n := range w {
		w[n] = DefaultWiring(n + 1)
		w[n].Int = "" // poll; see fakeHost.Out
	}
	return Config{
		Ports: ports, Wiring: w, Host: h, Kernel: card, Part: si321x.Si3215,
		Timing: slicmodel.DriverTiming(slicmodel.FastBehaviour()),
	}
}

func TestOpenPlacesPorts(t *testing.T) {
	for _, c := range []struct {
		ports  int
		dr1    uint8 // PCM mode: linear or µ-law, enabled
		starts []uint8
	}{
		{1, 0x38, []uint8{0}},
		{2, 0x38, []uint8{0, 16}},
		{4, 0x28, []uint8{0, 8, 16, 24}},
	} {
		t.Run(fmt.Sprint(c.ports, " ports"), func(t *testing.T) {
			h := newFakeHost(c.ports, slicmodel.Si3215)
			card := alsatest.NewCard("tipring", 0, alsatest.Telephony())
			b, err := Open(t.Context(), config(h, card, c.ports))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if len(b.Ports()) != c.ports {
				t.Fatalf("%d ports, want %d", len(b.Ports()), c.ports)
			}
			for i, p := range b.Ports() {
				chip := p.Line.(*si321x.Chip)
				dr1, _ := chip.ReadDirect(1)
				tx, _ := chip.ReadDirect(2)
				rx, _ := chip.ReadDirect(4)
				if dr1&0x3F != c.dr1 || tx != c.starts[i] || rx != c.starts[i] {
					t.Errorf("port %d: DR1 %#x DR2 %d DR4 %d; want %#x, slot %d", p.Number, dr1, tx, rx, c.dr1, c.starts[i])
				}
				if p.Line.Hook() != hal.OnHook || p.PCM == nil {
					t.Errorf("port %d not ready", p.Number)
				}
			}
			for i, m := range h.modes {
				if m != spi.Mode3 || h.freqs[i] != physic.MegaHertz {
					t.Errorf("SPI connected in mode %v at %v", m, h.freqs[i])
				}
			}
			if got := b.PCM().Params(); got.Channels != 2 || got.Rate != 8000 {
				t.Errorf("PCM %+v", got)
			}
		})
	}
}

func TestOpenNoChip(t *testing.T) {
	h := newFakeHost(0, slicmodel.Si3215)
	card := alsatest.NewCard("tipring", 0, alsatest.Telephony())
	cfg := config(h, card, 1)
	cfg.Wiring = nil // the default wiring, INT included
	_, err := Open(t.Context(), cfg)
	if !errors.Is(err, si321x.ErrNoChip) {
		t.Fatalf("Open: %v, want ErrNoChip", err)
	}
	for _, s := range []string{"/dev/spidev0.0", "GPIO25", "GPIO24", "no SLIC answers", "mode 3"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if card.Open() {
		t.Error("the PCM device stayed open after a failed Open")
	}
	// The reset pin was driven: the driver did try.
	if h.pins["GPIO25"].L != gpio.High {
		t.Errorf("RESET left low")
	}
}

func TestOpenNoCard(t *testing.T) {
	h := newFakeHost(1, slicmodel.Si3215)
	card := alsatest.NewCard("other", 0, alsatest.Telephony())
	_, err := Open(t.Context(), config(h, card, 1))
	if !errors.Is(err, alsa.ErrNoCard) || !strings.Contains(err.Error(), "overlay") {
		t.Fatalf("Open: %v, want ErrNoCard with a hint at the overlay", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Ports: 5}, {Ports: 2, Wiring: []Wiring{DefaultWiring(1)}}, {SlotOffset: -1}} {
		cfg.Host = newFakeHost(0, slicmodel.Si3215)
		if _, err := Open(t.Context(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("Open(%+v): %v, want ErrConfig", cfg, err)
		}
	}
}

// TestOverlayCompiles runs the device-tree compiler on the overlay when it
// is installed (Debian package device-tree-compiler).
func TestOverlayCompiles(t *testing.T) {
	dtc, err := exec.LookPath("dtc")
	if err != nil {
		t.Skip("dtc not installed (apt-get install device-tree-compiler)")
	}
	out := filepath.Join(t.TempDir(), "tipring.dtbo")
	cmd := exec.Command(dtc, "-@", "-I", "dts", "-O", "dtb", "-o", out, "overlay/tipring-si3215-overlay.dts")
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Fatalf("dtc: %v\n%s", err, msg)
	}
	// The compiled overlay must be readable back and keep what the board
	// relies on.
	dts, err := exec.Command(dtc, "-I", "dtb", "-O", "dts", out).CombinedOutput()
	if err != nil {
		t.Fatalf("dtc decompile: %v\n%s", err, dts)
	}
	for _, s := range []string{`simple-audio-card,name = "tipring"`, `"dsp_a"`, "dai-tdm-slot-num = <0x02>", "dai-tdm-slot-width = <0x10>", `"asahi-kasei,ak4554"`, `"silabs,si3210"`} {
		if !strings.Contains(string(dts), s) {
			t.Errorf("compiled overlay lacks %s", s)
		}
	}
}

func TestOpenAg1171(t *testing.T) {
	h := newFakeHost(0, slicmodel.Si3215)
	hw := alsatest.Telephony()
	hw.Rates = []uint32{16000, 48000} // a codec without 8 kHz
	card := alsatest.NewCard("codec", 0, hw)
	b, err := OpenAg1171(t.Context(), Ag1171Config{Host: h, Kernel: card, Rate: alsa.Rate16k})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Ports()) != 1 || b.Name() != NameAg1171 {
		t.Fatalf("ports %v name %s", b.Ports(), b.Name())
	}
	if h.pins["GPIO23"].L != gpio.High || h.pins["GPIO25"].L != gpio.Low {
		t.Errorf("F/R %v, RM %v after open; want forward, not ringing", h.pins["GPIO23"].L, h.pins["GPIO25"].L)
	}
	if _, err := OpenAg1171(t.Context(), Ag1171Config{Host: h, Kernel: alsatest.NewCard("codec", 0, hw)}); !errors.Is(err, alsa.ErrParams) {
		t.Errorf("8 kHz on a codec without it: %v, want ErrParams", err)
	}
}
