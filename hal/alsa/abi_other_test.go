//go:build !linux || mips || mipsle || mips64 || mips64le || ppc64 || ppc64le

package alsa

import "unsafe"

// xferiSize is the size of struct snd_xferi: three words.
const xferiSize = 3 * unsafe.Sizeof(uintptr(0))
