//go:build linux && (mips || mipsle || mips64 || mips64le || ppc64 || ppc64le)

package alsa

// The MIPS and PowerPC ioctl encoding: 3 direction bits at 29, 13 size bits
// at 16.
const (
	iocNone      = 1
	iocRead      = 2
	iocWrite     = 4
	iocDirShift  = 29
	iocSizeShift = 16
)
