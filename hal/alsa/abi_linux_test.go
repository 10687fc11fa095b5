//go:build linux && !(mips || mipsle || mips64 || mips64le || ppc64 || ppc64le)

package alsa

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

const xferiSize = unsafe.Sizeof(xferi{})

// TestIoctlNumbers pins the request numbers against the values of the
// kernel headers on 64- and 32-bit ABIs.
func TestIoctlNumbers(t *testing.T) {
	is64 := unsafe.Sizeof(uint(0)) == 8
	pick := func(v64, v32 uintptr) uintptr {
		if is64 {
			return v64
		}
		return v32
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"PVERSION", ioctlPVersion, 0x80044100},
		{"HW_REFINE", ioctlHWRefine, pick(0xc2604110, 0xc25c4110)},
		{"HW_PARAMS", ioctlHWParams, pick(0xc2604111, 0xc25c4111)},
		{"SW_PARAMS", ioctlSWParams, pick(0xc0884113, 0xc0684113)},
		{"PREPARE", ioctlPrepare, 0x4140},
		{"START", ioctlStart, 0x4142},
		{"DROP", ioctlDrop, 0x4143},
		{"WRITEI_FRAMES", ioctlWriteI, pick(0x40184150, 0x400c4150)},
		{"READI_FRAMES", ioctlReadI, pick(0x80184151, 0x800c4151)},
		{"LINK", ioctlLink, 0x40044160},
	} {
		if c.got != c.want {
			t.Errorf("%s on %s = %#x, want %#x", c.name, runtime.GOARCH, c.got, c.want)
		}
	}
}

func TestLinuxCardIndex(t *testing.T) {
	proc := t.TempDir()
	if err := os.Mkdir(filepath.Join(proc, "card2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("card2", filepath.Join(proc, "tipring")); err != nil {
		t.Fatal(err)
	}
	k := LinuxKernel{Proc: proc, Dev: t.TempDir()}
	for id, want := range map[string]int{"tipring": 2, "2": 2} {
		if n, err := k.CardIndex(id); err != nil || n != want {
			t.Errorf("CardIndex(%q) = %d, %v; want %d", id, n, err, want)
		}
	}
	for _, id := range []string{"other", "3"} {
		if _, err := k.CardIndex(id); !errorsIs(err, ErrNoCard) {
			t.Errorf("CardIndex(%q) error %v, want ErrNoCard", id, err)
		}
	}
	if _, err := k.OpenPCM(2, 0, false); err == nil || !os.IsNotExist(err) {
		t.Errorf("OpenPCM without a device node: %v, want not-exist", err)
	}
}
