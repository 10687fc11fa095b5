//go:build linux && !(mips || mipsle || mips64 || mips64le || ppc64 || ppc64le)

package alsa

// The asm-generic ioctl encoding (x86, arm, arm64, riscv, loong64, s390x):
// 2 direction bits at 30, 14 size bits at 16.
const (
	iocNone      = 0
	iocWrite     = 1
	iocRead      = 2
	iocDirShift  = 30
	iocSizeShift = 16
)
