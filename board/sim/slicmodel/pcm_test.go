package slicmodel

import (
	"bytes"
	"testing"

	"github.com/tipring/tipring/dsp/g711"
)

// pcmBench is a model with PCM set up in format dr1, TX slot at txBit and
// RX slot at rxBit, unity gains and the line active.
func pcmBench(t *testing.T, p Part, dr1 uint8, txBit, rxBit int) *bench {
	t.Helper()
	b := newBench(t, p, InstantBehaviour())
	b.wr(rLoopback, 0)
	b.wr(rPCM, dr1)
	b.wr(rTXLo, uint8(txBit))
	b.wr(rTXHi, uint8(txBit>>8))
	b.wr(rRXLo, uint8(rxBit))
	b.wr(rRXHi, uint8(rxBit>>8))
	g26, g27 := uint8(26), uint8(27)
	if p.compact() {
		g26, g27 = 13, 14
	}
	b.wrInd(g26, 0x4000)
	b.wrInd(g27, 0x4000)
	b.wr(rLF, lfActive)
	return b
}

func fill(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

func TestPCMLinearSlots(t *testing.T) {
	// 4-byte frames: RX in bytes 0–1, TX in bytes 2–3, MSB first.
	b := pcmBench(t, Si3210, 0x38, 16, 0)
	rx := []byte{0x12, 0x34, 0xEE, 0xEE, 0xFF, 0xFE, 0xEE, 0xEE}
	tx := fill(8, 0xEE)
	mouth := []int16{-2, 0x0102}
	line := make([]int16, 2)
	b.m.PCM(rx, tx, 4, mouth, line)
	if line[0] != 0x1234 || line[1] != -2 {
		t.Errorf("line %v, want [4660 -2]", line)
	}
	if want := []byte{0xEE, 0xEE, 0xFF, 0xFE, 0xEE, 0xEE, 0x01, 0x02}; !bytes.Equal(tx, want) {
		t.Errorf("tx % X, want % X", tx, want)
	}
}

func TestPCMCompanded(t *testing.T) {
	for _, tc := range []struct {
		name string
		dr1  uint8
		enc  func(int16) byte
		dec  func(byte) int16
	}{
		{"ulaw", 0x28, g711.UlawFromLinear, g711.UlawToLinear},
		{"alaw", 0x20, g711.AlawFromLinear, g711.AlawToLinear},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 32 slots of 8 bits (a 2.048 MHz frame); ours are 5 (RX) and 9 (TX).
			b := pcmBench(t, Si3215, tc.dr1, 72, 40)
			const fb = 32
			rx, tx := fill(2*fb, 0x55), fill(2*fb, 0xAA)
			rx[5], rx[fb+5] = tc.enc(1000), tc.enc(-20000)
			mouth, line := []int16{3000, -5}, make([]int16, 2)
			b.m.PCM(rx, tx, fb, mouth, line)
			if line[0] != tc.dec(tc.enc(1000)) || line[1] != tc.dec(tc.enc(-20000)) {
				t.Errorf("line %v", line)
			}
			if tx[9] != tc.enc(3000) || tx[fb+9] != tc.enc(-5) {
				t.Errorf("tx slot 0x%02X 0x%02X", tx[9], tx[fb+9])
			}
			tx[9], tx[fb+9] = 0xAA, 0xAA
			if !bytes.Equal(tx, fill(2*fb, 0xAA)) {
				t.Error("bytes outside the TX slot changed")
			}
		})
	}
}

func TestPCMGainAndUnalignedSlot(t *testing.T) {
	b := pcmBench(t, Si3210, 0x38, 4, 4)
	b.wrInd(26, 0x2000)            // RX −6 dB
	b.wrInd(27, 0x8000)            // TX +6 dB
	rx := []byte{0x01, 0x00, 0x00} // 0x1000 at bit 4
	tx := make([]byte, 3)
	line := make([]int16, 1)
	b.m.PCM(rx, tx, 3, []int16{0x4000}, line)
	if line[0] != 0x0800 {
		t.Errorf("line %#x, want 0x800", line[0])
	}
	// +6 dB of 0x4000 saturates at 0x7FFF, written at bit 4.
	if want := []byte{0x07, 0xFF, 0xF0}; !bytes.Equal(tx, want) {
		t.Errorf("tx % X, want % X", tx, want)
	}
}

func TestPCMGating(t *testing.T) {
	b := pcmBench(t, Si3210, 0x28, 8, 0)
	rx := []byte{g711.UlawFromLinear(8000), 0x00}
	run := func() ([]int16, []byte) {
		tx := []byte{0x11, 0x22}
		line := []int16{99}
		b.m.PCM(rx, tx, 2, []int16{8000}, line)
		return line, tx
	}
	for lf, passes := range map[uint8]bool{lfOpen: false, lfActive: true, lfOHT: true, lfReverse: true, lfRevOHT: true, 3: false} {
		b.wr(rLF, lf)
		line, tx := run()
		if passes != (line[0] != 0) {
			t.Errorf("linefeed %d: line %v", lf, line)
		}
		if want := g711.UlawFromLinear(8000); passes != (tx[1] == want) || (!passes && tx[1] != 0xFF) {
			t.Errorf("linefeed %d: tx slot 0x%02X", lf, tx[1])
		}
	}
	// Ringing carries no audio; the silent phase of a timed cadence is
	// on-hook transmission and does.
	b.wr(48, 0x40) // RAT 8 ms
	b.wr(49, 0x00)
	b.wr(50, 0x40) // RIT 8 ms
	b.wr(51, 0x00)
	b.wr(rRingOsc, 0x18)
	b.wr(rLF, lfRinging)
	if line, _ := run(); line[0] != 0 {
		t.Error("audio while ringing")
	}
	b.advance(8_000_000) // 8 ms
	if line, _ := run(); line[0] == 0 {
		t.Error("no audio in the silent phase")
	}
	// PCM disabled: DTX tri-stated, tx untouched.
	b.wr(rLF, lfActive)
	b.wr(rPCM, 0x08)
	if line, tx := run(); line[0] != 0 || tx[1] != 0x22 {
		t.Errorf("PCM disabled: line %v tx % X", line, tx)
	}
}

func TestPCMLoopback(t *testing.T) {
	b := pcmBench(t, Si3210, 0x38, 16, 0)
	b.wr(rLoopback, 0x02)
	rx := []byte{0xAB, 0xCD, 0, 0}
	tx := make([]byte, 4)
	b.m.PCM(rx, tx, 4, []int16{0x1111}, make([]int16, 1))
	if want := []byte{0, 0, 0xAB, 0xCD}; !bytes.Equal(tx, want) {
		t.Errorf("loopback tx % X, want % X", tx, want)
	}
}

func TestPCMAllocs(t *testing.T) {
	b := pcmBench(t, Si3210, 0x28, 8, 0)
	rx, tx := make([]byte, 2*160), make([]byte, 2*160)
	mouth, line := make([]int16, 160), make([]int16, 160)
	if n := testing.AllocsPerRun(10, func() { b.m.PCM(rx, tx, 2, mouth, line) }); n != 0 {
		t.Errorf("PCM allocates %v times per block", n)
	}
}
