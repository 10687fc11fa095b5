package slicmodel

import "github.com/tipring/tipring/dsp/g711"

// PCM formats of DR1 b4:3.
const (
	fmtAlaw   = 0
	fmtUlaw   = 1
	fmtLinear = 3 // 0b10 is reserved; the model treats it as linear too
)

// PCM runs the chip's codec for one block of n = len(mouth) = len(line)
// 8 kHz frames.
//
// rx holds n TDM frames of frameBytes bytes as the host drove them onto
// DRX; tx holds n frames of DTX, where the model writes its transmit slot
// and leaves every other bit untouched. Slot positions are DR2/3 (TX) and
// DR4/5 (RX), in bits from the start of a frame, MSB first; a slot that
// runs past frameBytes is cut off. Samples are 16-bit linear (two bytes) or
// one byte of µ-law or A-law per DR1 b4:3.
//
// Downstream, the received sample is decoded, scaled by the RX digital gain
// (IR26, 0x4000 = 0 dB) and written to line — the tip-ring audio the phone
// hears — when PCM is enabled (DR1 b5) and the linefeed passes audio
// (active or on-hook transmission in either polarity, or the silent phase
// of a timed ring cadence); otherwise line gets silence. Upstream, mouth
// (the phone's microphone, zero when on-hook) is scaled by the TX gain
// (IR27), encoded and written to the transmit slot when PCM is enabled; in
// a state that passes no audio the slot carries encoded silence. With
// digital loopback (DR8 b1) the transmit slot repeats the received slot's
// bits instead. With PCM disabled DTX is tri-stated: tx is not touched.
//
// PCM allocates nothing.
func (m *Model) PCM(rx, tx []byte, frameBytes int, mouth, line []int16) {
	now := m.lock()
	defer m.unlock(now)
	n := min(len(mouth), len(line))
	if frameBytes > 0 {
		n = min(n, len(rx)/frameBytes, len(tx)/frameBytes)
	} else {
		n = 0
	}
	clear(line)
	pcm := m.dr[rPCM]
	if pcm&0x20 == 0 || n == 0 || m.absent || m.inReset {
		return
	}
	format := pcm >> 3 & 3
	width := 8
	if format&2 != 0 {
		width = 16
	}
	rxBit := int(m.dr[rRXLo]) | int(m.dr[rRXHi]&3)<<8
	txBit := int(m.dr[rTXLo]) | int(m.dr[rTXHi]&3)<<8
	audio := m.audioPasses()
	loopback := m.dr[rLoopback]&0x02 != 0
	rxGain, txGain := m.ram[m.ir26], m.ram[m.ir27]
	for i := range n {
		fr := rx[i*frameBytes : (i+1)*frameBytes]
		ft := tx[i*frameBytes : (i+1)*frameBytes]
		code := getBits(fr, rxBit, width)
		if loopback {
			putBits(ft, txBit, width, code)
			continue
		}
		if audio {
			line[i] = applyGain(decode(format, code), rxGain)
			putBits(ft, txBit, width, encode(format, applyGain(mouth[i], txGain)))
		} else {
			putBits(ft, txBit, width, encode(format, 0))
		}
	}
}

// applyGain scales s by a digital gain where 0x4000 is unity, saturating.
func applyGain(s int16, g uint16) int16 {
	if g == 0x4000 {
		return s
	}
	v := int32(s) * int32(g) >> 14
	return int16(min(max(v, -32768), 32767))
}

func decode(format uint8, code uint16) int16 {
	switch format {
	case fmtAlaw:
		return g711.AlawToLinear(uint8(code))
	case fmtUlaw:
		return g711.UlawToLinear(uint8(code))
	}
	return int16(code)
}

func encode(format uint8, s int16) uint16 {
	switch format {
	case fmtAlaw:
		return uint16(g711.AlawFromLinear(s))
	case fmtUlaw:
		return uint16(g711.UlawFromLinear(s))
	}
	return uint16(s)
}

// getBits reads width bits starting at bit offset off of frame, MSB first;
// bits past the end read as 0.
func getBits(frame []byte, off, width int) uint16 {
	var v uint16
	for b := off; b < off+width; b++ {
		v <<= 1
		if i := b >> 3; i < len(frame) && frame[i]&(0x80>>(b&7)) != 0 {
			v |= 1
		}
	}
	return v
}

// putBits writes the width low bits of v at bit offset off of frame, MSB
// first; bits past the end are dropped.
func putBits(frame []byte, off, width int, v uint16) {
	for k := 0; k < width; k++ {
		b := off + k
		i := b >> 3
		if i >= len(frame) {
			return
		}
		mask := byte(0x80 >> (b & 7))
		if v&(1<<(width-1-k)) != 0 {
			frame[i] |= mask
		} else {
			frame[i] &^= mask
		}
	}
}
