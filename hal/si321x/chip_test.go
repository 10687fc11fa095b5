package si321x_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/si321x"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func TestRingCoefficients(t *testing.T) {
	for _, tc := range []struct {
		f         physic.Frequency
		v         physic.ElectricPotential
		rco, rngx uint16
	}{
		// Datasheet example: 20 Hz, 70 V peak.
		{20 * physic.Hertz, 70 * physic.Volt, 0x7EFD, 0x0177},
		// 25 Hz: truncated, one LSB below DAHDI's rounded 0x7E6D.
		{25 * physic.Hertz, 70 * physic.Volt, 0x7E6C, 0x01D6},
		{25 * physic.Hertz, 50 * physic.Volt, 0x7E6C, 0x014F},
		// DAHDI's 0x0108 at 20 Hz is about 50 V peak.
		{20 * physic.Hertz, 50 * physic.Volt, 0x7EFD, 0x010C},
	} {
		rco, rngx, err := si321x.RingCoefficients(tc.f, tc.v)
		if err != nil || rco != tc.rco || rngx != tc.rngx {
			t.Errorf("RingCoefficients(%v, %v) = 0x%04X, 0x%04X, %v; want 0x%04X, 0x%04X",
				tc.f, tc.v, rco, rngx, err, tc.rco, tc.rngx)
		}
	}
	for _, bad := range []struct {
		f physic.Frequency
		v physic.ElectricPotential
	}{{5 * physic.Hertz, 70 * physic.Volt}, {20 * physic.Hertz, 95 * physic.Volt}, {200 * physic.Hertz, 50 * physic.Volt}} {
		if _, _, err := si321x.RingCoefficients(bad.f, bad.v); !errors.Is(err, si321x.ErrOptions) {
			t.Errorf("RingCoefficients(%v, %v) = %v, want ErrOptions", bad.f, bad.v, err)
		}
	}
}

// TestPCMModeRegister pins DR1: PCME (b5) with the law in b4:3; linear is
// 11 with b2 clear (one source writes 0x3C; b2's meaning is unconfirmed).
func TestPCMModeRegister(t *testing.T) {
	for f, want := range map[si321x.Format]uint8{si321x.Linear16: 0x38, si321x.Ulaw: 0x28, si321x.Alaw: 0x20} {
		if got := f.DR1(); got != want {
			t.Errorf("%v: DR1 = 0x%02X, want 0x%02X", f, got, want)
		}
	}
}

// TestPartString pins the part decoding and the revision letters (1 = A;
// the datasheets' mapping is unconfirmed).
func TestPartString(t *testing.T) {
	for _, tc := range []struct {
		dr0, dr1, dr6 uint8
		want          string
	}{
		{0x05, 0x00, 0x00, "Si3210 rev E"},
		{0x12, 0x00, 0x00, "Si3211 rev B"},
		{0x23, 0x00, 0x00, "Si3212 rev C"},
		{0x33, 0x00, 0x00, "Si3210M rev C"},
		{0x05, 0x80, 0x00, "Si3215 rev E"},
		{0x05, 0x80, 0x80, "Si3216 rev E"},
		{0x05, 0x80, 0x60, "Si3215M rev E"},
		{0x05, 0x80, 0xE0, "Si3216M rev E"},
	} {
		if got := si321x.DecodePart(tc.dr0, tc.dr1, tc.dr6).String(); got != tc.want {
			t.Errorf("DR0 0x%02X DR1 0x%02X DR6 0x%02X: %q, want %q", tc.dr0, tc.dr1, tc.dr6, got, tc.want)
		}
	}
}

// TestCompactMap pins the Si3215/Si3216 indirect address translation,
// including the choice to skip IR23–25 (pulse metering).
func TestCompactMap(t *testing.T) {
	want := map[uint8]int{0: -1, 12: -1, 13: 0, 20: 7, 22: 9, 23: -1, 25: -1, 26: 13, 40: 27, 41: 64,
		42: -1, 43: 66, 44: -1, 88: 75, 97: 84, 98: 85, 99: 69, 104: 74, 105: -1, 207: -1, 208: 208, 211: 211}
	for reg, w := range want {
		a, ok := si321x.CompactAddr(reg)
		if (w < 0 && ok) || (w >= 0 && (!ok || int(a) != w)) {
			t.Errorf("IR%d → %d, %v; want %d", reg, a, ok, w)
		}
	}
}

func TestIndirectAccess(t *testing.T) {
	// Busy twice before a write; busy once between address and data of a
	// read. On an Si3215 IR20 is address 7.
	p := playback(t, `
R DR31 -> 0x01
R DR31 -> 0x01
R DR31 -> 0x00
W DR28 0xFD
W DR29 0x7E
W DR30 0x07
R DR31 -> 0x00
W DR30 0x07
R DR31 -> 0x01
R DR31 -> 0x00
R DR28 -> 0xFD
R DR29 -> 0x7E
`)
	c, err := si321x.NewUnstarted(connOf(t, p), si321x.Options{Timing: quickTiming})
	must(t, err)
	c.SetState(si321x.Part{Number: si321x.Si3215, Revision: 5}, hal.FeedActive)
	must(t, c.WriteIndirect(20, 0x7EFD))
	v, err := c.ReadIndirect(20)
	if err != nil || v != 0x7EFD {
		t.Errorf("ReadIndirect(20) = 0x%04X, %v", v, err)
	}
	if _, err := c.ReadIndirect(5); !errors.Is(err, si321x.ErrOptions) {
		t.Errorf("IR5 on an Si3215: %v, want ErrOptions", err)
	}
	done(t, p)
}

// constConn is a bus on which every read returns v.
type constConn struct {
	spi.Conn
	v byte
}

func (c constConn) Tx(w, r []byte) error {
	for i := range r {
		r[i] = c.v
	}
	return nil
}

func (c constConn) String() string { return "const" }

func TestIndirectBusyTimeout(t *testing.T) {
	tm := quickTiming
	tm.IndirectLimit = 5 * time.Millisecond
	c, err := si321x.NewUnstarted(constConn{v: 0x01}, si321x.Options{Timing: tm})
	must(t, err)
	c.SetState(si321x.Part{Number: si321x.Si3210, Revision: 5}, hal.FeedActive)
	err = c.WriteIndirect(21, 0x177)
	if !errors.Is(err, si321x.ErrIndirectBusy) || !strings.Contains(err.Error(), "IR21") {
		t.Errorf("WriteIndirect with DR31 stuck: %v", err)
	}
}

func TestDirectAccess(t *testing.T) {
	p := playback(t, `
R DR68 -> 0x04
W DR9 0x0A
`)
	c, err := si321x.NewUnstarted(connOf(t, p), si321x.Options{Timing: quickTiming})
	must(t, err)
	if v, err := c.ReadDirect(68); err != nil || v != 0x04 {
		t.Errorf("ReadDirect(68) = 0x%02X, %v", v, err)
	}
	must(t, c.WriteDirect(9, 0x0A))
	if _, err := c.ReadDirect(200); !errors.Is(err, si321x.ErrOptions) {
		t.Errorf("ReadDirect(200): %v", err)
	}
	done(t, p)
}

// identifyFails runs Open's first steps against script and returns the error.
func identifyFails(t *testing.T, script string) error {
	t.Helper()
	p := playback(t, script)
	c, err := si321x.NewUnstarted(connOf(t, p), si321x.Options{Timing: quickTiming})
	must(t, err)
	err = c.Init(context.Background())
	if err == nil {
		t.Fatal("Init succeeded")
	}
	done(t, p)
	return err
}

func TestNoChip(t *testing.T) {
	for _, v := range []string{"0xFF", "0x00", "0x30"} {
		err := identifyFails(t, "R DR0 -> "+v)
		if !errors.Is(err, si321x.ErrNoChip) || !strings.Contains(err.Error(), "DR0 reads "+v) {
			t.Errorf("DR0 = %s: %v", v, err)
		}
	}
}

func TestSanity(t *testing.T) {
	err := identifyFails(t, `
R DR0 -> 0x05
R DR1 -> 0x00
R DR8 -> 0x00
`)
	if !errors.Is(err, si321x.ErrSanity) || !strings.Contains(err.Error(), "DR8 reads 0x00 after reset, want 0x02") {
		t.Errorf("DR8 = 0: %v", err)
	}
	err = identifyFails(t, `
R DR0 -> 0x05
R DR1 -> 0x00
R DR8 -> 0x02
R DR11 -> 0x33
R DR64 -> 0x00
W DR4 0x5A
R DR4 -> 0x00
`)
	if !errors.Is(err, si321x.ErrSanity) || !strings.Contains(err.Error(), "DR4 reads 0x00 after writing 0x5A") {
		t.Errorf("DR4 probe: %v", err)
	}
	err = identifyFails(t, `
R DR0 -> 0x15
R DR1 -> 0x00
R DR8 -> 0x02
R DR11 -> 0x33
R DR64 -> 0x00
W DR4 0x5A
R DR4 -> 0x5A
`)
	if !errors.Is(err, si321x.ErrUnsupported) || !strings.Contains(err.Error(), "Si3211") {
		t.Errorf("Si3211: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for name, o := range map[string]si321x.Options{
		"slot":    {PCM: si321x.PCMConfig{TXSlot: 1024}},
		"format":  {PCM: si321x.PCMConfig{Format: 7}},
		"ring":    {RingVoltage: 120 * physic.Volt},
		"current": {LoopCurrent: 50 * physic.MilliAmpere},
		"voc":     {OpenCircuitVoltage: 100 * physic.Volt},
		"timing":  {Timing: si321x.Timing{Poll: time.Millisecond}},
	} {
		if _, err := si321x.NewUnstarted(nil, o); !errors.Is(err, si321x.ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", name, err)
		}
	}
	if err := si321x.DefaultTiming.Validate(); err != nil {
		t.Error(err)
	}
}
