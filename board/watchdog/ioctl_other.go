//go:build !linux

package watchdog

import (
	"errors"
	"os"
	"time"
)

var errNoIoctl = errors.New("watchdog: no ioctls on this system")

// keepalive and timeout have no ioctl here; the device is fed by writes.
func keepalive(*os.File) error { return errNoIoctl }

func timeout(*os.File) (time.Duration, error) { return 0, errNoIoctl }
