//go:build linux

package alsa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// xferi is struct snd_xferi, the argument of READI_FRAMES and
// WRITEI_FRAMES.
type xferi struct {
	result int            // out: frames moved
	buf    unsafe.Pointer // interleaved samples
	frames uint           // frames to move
}

// ioctl request numbers of the PCM interface ('A'), computed from the sizes
// of the structures as the kernel's _IOR/_IOW/_IOWR macros do, so that they
// are right for the running GOARCH.
var (
	ioctlPVersion = ioc(iocRead, 0x00, 4)
	ioctlHWRefine = ioc(iocRead|iocWrite, 0x10, unsafe.Sizeof(HWParams{}))
	ioctlHWParams = ioc(iocRead|iocWrite, 0x11, unsafe.Sizeof(HWParams{}))
	ioctlSWParams = ioc(iocRead|iocWrite, 0x13, unsafe.Sizeof(SWParams{}))
	ioctlPrepare  = ioc(iocNone, 0x40, 0)
	ioctlStart    = ioc(iocNone, 0x42, 0)
	ioctlDrop     = ioc(iocNone, 0x43, 0)
	ioctlWriteI   = ioc(iocWrite, 0x50, unsafe.Sizeof(xferi{}))
	ioctlReadI    = ioc(iocRead, 0x51, unsafe.Sizeof(xferi{}))
	ioctlLink     = ioc(iocWrite, 0x60, 4)
)

// ioc encodes an ioctl request number for the sound type 'A'.
func ioc(dir, nr, size uintptr) uintptr {
	return dir<<iocDirShift | size<<iocSizeShift | 'A'<<8 | nr
}

// LinuxKernel reaches sound cards through /dev/snd and /proc/asound. The
// zero value uses the standard paths.
type LinuxKernel struct {
	// Dev and Proc replace /dev/snd and /proc/asound, for tests.
	Dev, Proc string
}

func (k LinuxKernel) dev() string {
	if k.Dev == "" {
		return "/dev/snd"
	}
	return k.Dev
}

func (k LinuxKernel) proc() string {
	if k.Proc == "" {
		return "/proc/asound"
	}
	return k.Proc
}

// CardIndex implements Kernel. A card's ALSA id is a symbolic link
// /proc/asound/ID → cardN.
func (k LinuxKernel) CardIndex(id string) (int, error) {
	if n, err := strconv.Atoi(id); err == nil && n >= 0 {
		if _, err := os.Stat(filepath.Join(k.proc(), "card"+id)); err != nil {
			return 0, fmt.Errorf("%w: card %d (%v)", ErrNoCard, n, err)
		}
		return n, nil
	}
	target, err := os.Readlink(filepath.Join(k.proc(), id))
	if err != nil {
		return 0, fmt.Errorf("%w: %q (is the device-tree overlay loaded? %v)", ErrNoCard, id, err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(target), "card"))
	if err != nil {
		return 0, fmt.Errorf("%w: %q links to %q", ErrNoCard, id, target)
	}
	return n, nil
}

// OpenPCM implements Kernel. The device is opened non-blocking, so that a
// device held by another program fails with EBUSY instead of waiting, and
// then switched to blocking I/O.
func (k LinuxKernel) OpenPCM(card, dev int, capture bool) (Substream, error) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return nil, fmt.Errorf("%w: big-endian CPU", ErrUnsupportedPlatform)
	}
	dir := 'p'
	if capture {
		dir = 'c'
	}
	path := filepath.Join(k.dev(), fmt.Sprintf("pcmC%dD%d%c", card, dev, dir))
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return &linuxSubstream{fd: fd, path: path}, nil
}

// linuxSubstream is an open /dev/snd/pcmC*D*[pc].
type linuxSubstream struct {
	fd   int
	path string
	x    xferi // READI/WRITEI argument, kept here so transfers do not allocate

	closeOnce sync.Once
}

func (s *linuxSubstream) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func (s *linuxSubstream) wrap(op string, err error) error {
	return fmt.Errorf("alsa: %s %s: %w", op, s.path, err)
}

func (s *linuxSubstream) Version() (uint32, error) {
	var v uint32
	if err := s.ioctl(ioctlPVersion, unsafe.Pointer(&v)); err != nil {
		return 0, s.wrap("PVERSION", err)
	}
	return v, nil
}

func (s *linuxSubstream) Refine(p *HWParams) error {
	if err := s.ioctl(ioctlHWRefine, unsafe.Pointer(p)); err != nil {
		return s.wrap("HW_REFINE", err)
	}
	return nil
}

func (s *linuxSubstream) Install(p *HWParams) error {
	if err := s.ioctl(ioctlHWParams, unsafe.Pointer(p)); err != nil {
		return s.wrap("HW_PARAMS", err)
	}
	return nil
}

func (s *linuxSubstream) SetSoftware(p *SWParams) error {
	if err := s.ioctl(ioctlSWParams, unsafe.Pointer(p)); err != nil {
		return s.wrap("SW_PARAMS", err)
	}
	return nil
}

func (s *linuxSubstream) Prepare() error {
	if err := s.ioctl(ioctlPrepare, nil); err != nil {
		return s.wrap("PREPARE", err)
	}
	return nil
}

func (s *linuxSubstream) Start() error {
	if err := s.ioctl(ioctlStart, nil); err != nil {
		return s.wrap("START", err)
	}
	return nil
}

func (s *linuxSubstream) Drop() error {
	if err := s.ioctl(ioctlDrop, nil); err != nil {
		return s.wrap("DROP", err)
	}
	return nil
}

func (s *linuxSubstream) Link(other Substream) error {
	o, ok := other.(*linuxSubstream)
	if !ok {
		return s.wrap("LINK", fmt.Errorf("%T is not a kernel substream", other))
	}
	// The argument is the other stream's descriptor by value, not a pointer.
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), ioctlLink, uintptr(o.fd))
	if e != 0 {
		return s.wrap("LINK", e)
	}
	return nil
}

func (s *linuxSubstream) ReadFrames(buf []int16, frames int) (int, error) {
	return s.transfer(ioctlReadI, buf, frames)
}

func (s *linuxSubstream) WriteFrames(buf []int16, frames int) (int, error) {
	return s.transfer(ioctlWriteI, buf, frames)
}

// transfer moves frames frames in one READI/WRITEI. EINTR is retried; the
// kernel reports a partial transfer as a short result.
func (s *linuxSubstream) transfer(req uintptr, buf []int16, frames int) (int, error) {
	if frames <= 0 || len(buf) == 0 {
		return 0, nil
	}
	s.x = xferi{buf: unsafe.Pointer(&buf[0]), frames: uint(frames)}
	for {
		err := s.ioctl(req, unsafe.Pointer(&s.x))
		switch {
		case err == nil:
			return s.x.result, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EPIPE):
			return 0, ErrXrun
		case errors.Is(err, unix.ESTRPIPE):
			return 0, ErrSuspended
		}
		op := "READI_FRAMES"
		if req == ioctlWriteI {
			op = "WRITEI_FRAMES"
		}
		return 0, s.wrap(op, err)
	}
}

func (s *linuxSubstream) Close() error {
	err := ErrClosed
	s.closeOnce.Do(func() {
		err = nil
		if e := unix.Close(s.fd); e != nil {
			err = s.wrap("close", e)
		}
	})
	return err
}
