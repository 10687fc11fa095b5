package alsa

import (
	"runtime"
	"testing"
	"unsafe"
)

// abiLayout is what include/uapi/sound/asound.h gives for one word size:
// sizes of the structures and the offsets of the fields after the first
// word-sized member, where 32- and 64-bit layouts part.
type abiLayout struct {
	hwParams, swParams, xferi uintptr

	hwRMask, hwFIFOSize, hwSync                         uintptr
	swAvailMin, swStartThreshold, swStopThreshold       uintptr
	swBoundary, swProto, swTstampType, swReservedOffset uintptr
}

// The kernel's numbers: snd_pcm_hw_params is a 4-byte flags word, 3 masks
// and 5 reserved masks of 32 bytes, 12 intervals and 9 reserved of 12 bytes
// (512 bytes so far), six 32-bit words (536), fifo_size (a long), 16 bytes
// of sync id and 48 reserved. snd_pcm_sw_params is three 32-bit words,
// seven longs, two 32-bit words and 56 reserved bytes.
var (
	layout64 = abiLayout{
		hwParams: 608, swParams: 136, xferi: 24,
		hwRMask: 512, hwFIFOSize: 536, hwSync: 544,
		swAvailMin: 16, swStartThreshold: 32, swStopThreshold: 40,
		swBoundary: 64, swProto: 72, swTstampType: 76, swReservedOffset: 80,
	}
	layout32 = abiLayout{
		hwParams: 604, swParams: 104, xferi: 12,
		hwRMask: 512, hwFIFOSize: 536, hwSync: 540,
		swAvailMin: 12, swStartThreshold: 20, swStopThreshold: 24,
		swBoundary: 36, swProto: 40, swTstampType: 44, swReservedOffset: 48,
	}
	layouts = map[string]abiLayout{
		"amd64": layout64, "arm64": layout64, "riscv64": layout64, "loong64": layout64,
		"arm": layout32, "386": layout32,
	}
)

func TestStructLayout(t *testing.T) {
	want, ok := layouts[runtime.GOARCH]
	if !ok {
		t.Skipf("no reference layout for GOARCH=%s", runtime.GOARCH)
	}
	var hw HWParams
	var sw SWParams
	// The reserved tail of SWParams has no name; its offset is where
	// TstampType ends.
	swReserved := unsafe.Offsetof(sw.TstampType) + unsafe.Sizeof(sw.TstampType)
	got := abiLayout{
		hwParams: unsafe.Sizeof(hw), swParams: unsafe.Sizeof(sw), xferi: xferiSize,
		hwRMask: unsafe.Offsetof(hw.RMask), hwFIFOSize: unsafe.Offsetof(hw.FIFOSize), hwSync: unsafe.Offsetof(hw.Sync),
		swAvailMin: unsafe.Offsetof(sw.AvailMin), swStartThreshold: unsafe.Offsetof(sw.StartThreshold),
		swStopThreshold: unsafe.Offsetof(sw.StopThreshold), swBoundary: unsafe.Offsetof(sw.Boundary),
		swProto: unsafe.Offsetof(sw.Proto), swTstampType: unsafe.Offsetof(sw.TstampType), swReservedOffset: swReserved,
	}
	if got != want {
		t.Errorf("GOARCH=%s layout\n got %+v\nwant %+v", runtime.GOARCH, got, want)
	}
	if off := unsafe.Offsetof(hw.Intervals); off != 4+8*32 {
		t.Errorf("intervals at %d, want %d", off, 4+8*32)
	}
	if s := unsafe.Sizeof(Interval{}); s != 12 {
		t.Errorf("snd_interval is %d bytes, want 12", s)
	}
	if s := unsafe.Sizeof(Mask{}); s != 32 {
		t.Errorf("snd_mask is %d bytes, want 32", s)
	}
}

func TestIntervalHelpers(t *testing.T) {
	var i Interval
	i.Fix(160)
	if v, ok := i.Single(); !ok || v != 160 || i.String() != "160" {
		t.Errorf("Fix(160): %v %v %q", v, ok, i)
	}
	i = Interval{Min: 2, Max: 5, Flags: IntervalOpenMin | IntervalOpenMax}
	if i.Low() != 3 || i.High() != 4 || i.String() != "3…4" {
		t.Errorf("open interval: %d…%d %q", i.Low(), i.High(), i)
	}
	i = Interval{Min: 4, Max: 4, Flags: IntervalOpenMax}
	if !i.Empty() {
		t.Errorf("[4,4) should be empty")
	}
	var m Mask
	m.Only(AccessRWInterleaved)
	if !m.Has(AccessRWInterleaved) || m.Has(0) || m.Has(300) || m.Empty() {
		t.Errorf("mask %v", m)
	}
	var p HWParams
	p.Any()
	if !p.Mask(ParamFormat).Has(FormatS16LE) || p.Interval(ParamRate).High() != ^uint32(0) || p.RMask != ^uint32(0) {
		t.Errorf("Any() did not open everything")
	}
}

func TestBoundary(t *testing.T) {
	b := boundary(640)
	if b%640 != 0 || b > ^uint(0)>>1-640 || b*2 <= ^uint(0)>>1-640 {
		t.Errorf("boundary(640) = %d", b)
	}
}
