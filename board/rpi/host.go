package rpi

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
)

// ErrNoPin means a GPIO name is unknown to the host.
var ErrNoPin = errors.New("rpi: no such GPIO")

// PeriphHost is the real Host: SPI through the kernel's spidev and GPIOs
// through the kernel's GPIO character device or the SoC's registers, as
// periph's host drivers find them.
type PeriphHost struct{}

// NewPeriphHost loads periph's host drivers.
func NewPeriphHost() (PeriphHost, error) {
	if _, err := host.Init(); err != nil {
		return PeriphHost{}, fmt.Errorf("rpi: periph host drivers: %w", err)
	}
	return PeriphHost{}, nil
}

// SPI implements Host. Without the SPI device, say so in words a person
// wiring a board can act on.
func (PeriphHost) SPI(dev string) (spi.PortCloser, error) {
	p, err := spireg.Open(dev)
	if err != nil {
		return nil, fmt.Errorf("%s (enable SPI: the tipring overlay or dtparam=spi=on): %w", dev, err)
	}
	return p, nil
}

// In implements Host.
func (PeriphHost) In(name string) (gpio.PinIn, error) {
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNoPin, name)
}

// Out implements Host.
func (PeriphHost) Out(name string) (gpio.PinOut, error) {
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNoPin, name)
}
