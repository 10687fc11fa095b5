package slicmodel

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/spi"
)

// spiState is where the model is in the SPI byte stream.
type spiState uint8

const (
	spiCtrl      spiState = iota // next byte is a control byte
	spiWriteData                 // next byte is data for spiReg
	spiReadData                  // next byte clocks out spiReg
	spiSelect                    // daisy chain: next byte is a chip-select byte
)

var _ spi.Conn = (*Model)(nil)

// Conn returns the model's SPI side: an spi.Conn that decodes the chip's
// byte-per-chip-select protocol. It is the model itself.
func (m *Model) Conn() spi.Conn { return m }

// Duplex implements conn.Conn: SPI is full duplex.
func (m *Model) Duplex() conn.Duplex { return conn.Full }

// Tx implements conn.Conn. Each call is one chip-select frame; the model
// decodes the bytes as one stream, so a control byte and its data may share
// a frame or sit in consecutive frames. A read's data byte is clocked out
// in r at the position of the byte that follows the control byte; r may be
// nil or as long as w. While the chip is absent or held in reset, reads
// return the bus's floating level and writes are lost.
func (m *Model) Tx(w, r []byte) error {
	if len(r) != 0 && len(r) != len(w) {
		return fmt.Errorf("slicmodel: Tx with %d bytes out and %d in; SPI is full duplex", len(w), len(r))
	}
	if len(w) == 0 {
		return errors.New("slicmodel: empty Tx")
	}
	now := m.lock()
	defer m.unlock(now)
	if m.absent || m.inReset {
		for i := range r {
			r[i] = m.floatByte
		}
		return nil
	}
	for i, b := range w {
		out := m.clockByte(b, now)
		if r != nil {
			r[i] = out
		}
	}
	return nil
}

// TxPackets implements spi.Conn: every packet is a frame of its own.
func (m *Model) TxPackets(p []spi.Packet) error {
	for i := range p {
		if err := m.Tx(p[i].W, p[i].R); err != nil {
			return err
		}
	}
	return nil
}

// clockByte shifts one byte in and returns the byte shifted out.
func (m *Model) clockByte(b uint8, now time.Time) uint8 {
	switch m.spi {
	case spiSelect:
		m.daisySel = b&0x01 != 0
		m.spi = spiCtrl
		return 0
	case spiWriteData:
		if m.daisySel {
			m.write(m.spiReg, b, now)
		}
		m.endAccess()
		return 0
	case spiReadData:
		var v uint8
		if m.daisySel {
			v = m.read(m.spiReg, now)
		}
		m.endAccess()
		return v
	}
	m.spiReg = b & 0x7F
	if b&0x80 != 0 {
		m.spi = spiReadData
	} else {
		m.spi = spiWriteData
	}
	if m.dr[rID]&0x80 == 0 {
		m.daisySel = true
	}
	return 0
}

// endAccess returns to the start of the next access: a control byte, or in
// daisy-chain mode (DR0 b7) a chip-select byte.
func (m *Model) endAccess() {
	if m.dr[rID]&0x80 != 0 {
		m.spi = spiSelect
		return
	}
	m.spi = spiCtrl
}
