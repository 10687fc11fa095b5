package alsa

import "fmt"

// The structures below are the kernel's own (include/uapi/sound/asound.h),
// laid out field for field so that a pointer to them can be handed to
// ioctl. snd_pcm_uframes_t and snd_pcm_sframes_t are C longs, which have
// the width of Go's uint and int on every Linux port Go supports. Bit
// fields (Interval.Flags) assume a little-endian CPU, as S16_LE samples do.

// Param numbers a hardware parameter: masks first, then intervals
// (SNDRV_PCM_HW_PARAM_*).
type Param int

// Mask parameters.
const (
	ParamAccess    Param = 0 // how samples are laid out and moved: AccessRWInterleaved
	ParamFormat    Param = 1 // sample format: FormatS16LE
	ParamSubformat Param = 2 // SubformatStd
)

// Interval parameters.
const (
	ParamSampleBits  Param = 8  // bits per sample
	ParamFrameBits   Param = 9  // bits per frame (all channels)
	ParamChannels    Param = 10 // channels per frame
	ParamRate        Param = 11 // frames per second
	ParamPeriodTime  Param = 12 // µs per period
	ParamPeriodSize  Param = 13 // frames per period
	ParamPeriodBytes Param = 14
	ParamPeriods     Param = 15 // periods per buffer
	ParamBufferTime  Param = 16 // µs per buffer
	ParamBufferSize  Param = 17 // frames per buffer
	ParamBufferBytes Param = 18
	ParamTickTime    Param = 19
)

const (
	firstMask     = ParamAccess
	lastMask      = ParamSubformat
	firstInterval = ParamSampleBits
	lastInterval  = ParamTickTime
)

var paramNames = map[Param]string{
	ParamAccess: "access", ParamFormat: "format", ParamSubformat: "subformat",
	ParamSampleBits: "sample bits", ParamFrameBits: "frame bits", ParamChannels: "channels",
	ParamRate: "rate", ParamPeriodTime: "period time", ParamPeriodSize: "period size",
	ParamPeriodBytes: "period bytes", ParamPeriods: "periods", ParamBufferTime: "buffer time",
	ParamBufferSize: "buffer size", ParamBufferBytes: "buffer bytes", ParamTickTime: "tick time",
}

func (p Param) String() string {
	if n, ok := paramNames[p]; ok {
		return n
	}
	return fmt.Sprintf("Param(%d)", int(p))
}

// IsMask reports whether p is a mask parameter.
func (p Param) IsMask() bool { return p >= firstMask && p <= lastMask }

// IsInterval reports whether p is an interval parameter.
func (p Param) IsInterval() bool { return p >= firstInterval && p <= lastInterval }

// Values of the mask parameters used here.
const (
	AccessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED: read/write calls, channels interleaved
	FormatS16LE         = 2 // SNDRV_PCM_FORMAT_S16_LE
	SubformatStd        = 0 // SNDRV_PCM_SUBFORMAT_STD
)

// maskBits is SNDRV_MASK_MAX, the number of bits of a mask.
const maskBits = 256

// Mask is a set of allowed values of a mask parameter (struct snd_mask).
type Mask struct {
	Bits [maskBits / 32]uint32
}

// Set adds v to m.
func (m *Mask) Set(v uint) { m.Bits[v>>5] |= 1 << (v & 31) }

// Has reports whether v is in m.
func (m *Mask) Has(v uint) bool { return v < maskBits && m.Bits[v>>5]&(1<<(v&31)) != 0 }

// Only makes v the only value of m.
func (m *Mask) Only(v uint) {
	*m = Mask{}
	m.Set(v)
}

// All allows every value.
func (m *Mask) All() {
	for i := range m.Bits {
		m.Bits[i] = ^uint32(0)
	}
}

// Empty reports whether m allows nothing.
func (m *Mask) Empty() bool { return *m == Mask{} }

// Interval flag bits (the bit fields of struct snd_interval, in their
// little-endian order).
const (
	IntervalOpenMin uint32 = 1 << 0 // Min itself is excluded
	IntervalOpenMax uint32 = 1 << 1 // Max itself is excluded
	IntervalInteger uint32 = 1 << 2 // only integers
	IntervalEmpty   uint32 = 1 << 3 // no value left
)

// Interval is a range of allowed values of an interval parameter
// (struct snd_interval).
type Interval struct {
	Min, Max uint32
	Flags    uint32
}

// Any allows every value.
func (i *Interval) Any() { *i = Interval{Max: ^uint32(0)} }

// Fix allows exactly v.
func (i *Interval) Fix(v uint32) { *i = Interval{Min: v, Max: v, Flags: IntervalInteger} }

// Range allows lo…hi, integers only.
func (i *Interval) Range(lo, hi uint32) { *i = Interval{Min: lo, Max: hi, Flags: IntervalInteger} }

// Empty reports whether nothing is left in i.
func (i Interval) Empty() bool {
	return i.Flags&IntervalEmpty != 0 || i.Min > i.Max ||
		(i.Min == i.Max && i.Flags&(IntervalOpenMin|IntervalOpenMax) != 0)
}

// Single reports whether i holds exactly one value, and which.
func (i Interval) Single() (uint32, bool) {
	if i.Empty() {
		return 0, false
	}
	lo, hi := i.Min, i.Max
	if i.Flags&IntervalOpenMin != 0 {
		lo++
	}
	if i.Flags&IntervalOpenMax != 0 {
		hi--
	}
	return lo, lo == hi
}

// Low and High return the smallest and largest integer i allows.
func (i Interval) Low() uint32 {
	if i.Flags&IntervalOpenMin != 0 {
		return i.Min + 1
	}
	return i.Min
}

// High returns the largest integer i allows.
func (i Interval) High() uint32 {
	if i.Flags&IntervalOpenMax != 0 {
		return i.Max - 1
	}
	return i.Max
}

func (i Interval) String() string {
	if i.Empty() {
		return "empty"
	}
	if v, ok := i.Single(); ok {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%d…%d", i.Low(), i.High())
}

// HWParams is struct snd_pcm_hw_params: the hardware parameter space that
// HW_REFINE narrows and HW_PARAMS installs.
type HWParams struct {
	Flags     uint32
	Masks     [lastMask - firstMask + 1]Mask
	_         [5]Mask // reserved masks
	Intervals [lastInterval - firstInterval + 1]Interval
	_         [9]Interval // reserved intervals
	RMask     uint32      // in: parameters the kernel should refine (bit per Param)
	CMask     uint32      // out: parameters the kernel changed
	Info      uint32      // out: SNDRV_PCM_INFO_* of the configuration
	MSBits    uint32      // out: significant bits per sample
	RateNum   uint32      // out: exact rate numerator
	RateDen   uint32      // out: exact rate denominator
	FIFOSize  uint        // out: hardware FIFO in frames
	Sync      [16]byte    // out: synchronisation id
	_         [48]byte    // reserved
}

// Any opens every parameter, as the start of a negotiation: all masks full,
// all intervals unbounded, every parameter to be refined.
func (p *HWParams) Any() {
	*p = HWParams{}
	for i := range p.Masks {
		p.Masks[i].All()
	}
	for i := range p.Intervals {
		p.Intervals[i].Any()
	}
	p.RMask = ^uint32(0)
	p.Info = ^uint32(0)
}

// Mask returns the mask of parameter m, which must be a mask parameter.
func (p *HWParams) Mask(m Param) *Mask { return &p.Masks[m-firstMask] }

// Interval returns the interval of parameter i, which must be an interval
// parameter.
func (p *HWParams) Interval(i Param) *Interval { return &p.Intervals[i-firstInterval] }

// SWParams is struct snd_pcm_sw_params: when a stream starts and stops
// by itself and when a waiting reader or writer wakes up.
type SWParams struct {
	TstampMode       int32
	PeriodStep       uint32
	SleepMin         uint32
	AvailMin         uint // frames that must be available to wake a waiter
	XferAlign        uint // obsolete
	StartThreshold   uint // frames queued (playback) or requested (capture) that start the stream
	StopThreshold    uint // frames available at which the stream stops with an xrun
	SilenceThreshold uint
	SilenceSize      uint
	Boundary         uint // out: where the kernel's frame pointers wrap
	Proto            uint32
	TstampType       uint32
	_                [56]byte
}

// pcmVersion is SNDRV_PCM_VERSION's encoding: major<<16 | minor<<8 | patch.
type pcmVersion uint32

func (v pcmVersion) major() int { return int(v >> 16 & 0xff) }

func (v pcmVersion) String() string {
	return fmt.Sprintf("%d.%d.%d", v>>16&0xff, v>>8&0xff, v&0xff)
}

// boundary returns the kernel's wrap point of frame pointers for a buffer
// of size frames: the buffer size doubled while it stays below LONG_MAX
// less one buffer (snd_pcm_hw_params in pcm_native.c does the same).
func boundary(size uint) uint {
	const longMax = ^uint(0) >> 1
	b := size
	for b*2 <= longMax-size {
		b *= 2
	}
	return b
}
