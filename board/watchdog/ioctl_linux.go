//go:build linux

package watchdog

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watchdog ioctls ('W', include/uapi/linux/watchdog.h), each with an int
// argument.
var (
	wdiocKeepalive  = uintptr(2<<30 | 4<<16 | 'W'<<8 | 5) // _IOR('W', 5, int)
	wdiocGetTimeout = uintptr(2<<30 | 4<<16 | 'W'<<8 | 7) // _IOR('W', 7, int)
)

func ioctlInt(f *os.File, req uintptr) (int32, error) {
	var v int32
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&v)))
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return v, nil
}

func keepalive(f *os.File) error {
	_, err := ioctlInt(f, wdiocKeepalive)
	return err
}

func timeout(f *os.File) (time.Duration, error) {
	s, err := ioctlInt(f, wdiocGetTimeout)
	return time.Duration(s) * time.Second, err
}
