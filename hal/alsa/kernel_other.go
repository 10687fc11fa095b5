//go:build !linux

package alsa

import "fmt"

// LinuxKernel reaches sound cards through /dev/snd and /proc/asound. On
// this operating system there are none: every method fails with
// ErrUnsupportedPlatform.
type LinuxKernel struct {
	Dev, Proc string
}

// CardIndex implements Kernel.
func (LinuxKernel) CardIndex(id string) (int, error) {
	return 0, fmt.Errorf("%w: ALSA needs Linux", ErrUnsupportedPlatform)
}

// OpenPCM implements Kernel.
func (LinuxKernel) OpenPCM(card, dev int, capture bool) (Substream, error) {
	return nil, fmt.Errorf("%w: ALSA needs Linux", ErrUnsupportedPlatform)
}
