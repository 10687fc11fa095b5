package alsa

import (
	"context"
	"math"
	"testing"

	"github.com/tipring/tipring/hal"
)

// instantSub is a substream whose transfers complete at once without
// allocating, to measure the loop's own allocations.
type instantSub struct{ v int16 }

func (s *instantSub) Version() (uint32, error)    { return 2<<16 | 15, nil }
func (s *instantSub) Refine(*HWParams) error      { return nil }
func (s *instantSub) Install(*HWParams) error     { return nil }
func (s *instantSub) SetSoftware(*SWParams) error { return nil }
func (s *instantSub) Prepare() error              { return nil }
func (s *instantSub) Start() error                { return nil }
func (s *instantSub) Drop() error                 { return nil }
func (s *instantSub) Link(Substream) error        { return nil }
func (s *instantSub) Close() error                { return nil }
func (s *instantSub) ReadFrames(buf []int16, frames int) (int, error) {
	for i := range buf {
		buf[i] = s.v
	}
	s.v++
	return frames, nil
}
func (s *instantSub) WriteFrames(buf []int16, frames int) (int, error) { return frames, nil }

// bareDevice is a Device around instant substreams, without its goroutine.
func bareDevice(rate, channels int) *Device {
	period := rate / 50
	d := &Device{
		play: &instantSub{}, capt: &instantSub{}, period: period, channels: channels,
		cbuf: make([]int16, period*channels), pbuf: make([]int16, period*channels),
		done: make(chan struct{}),
	}
	d.params = Params{Rate: rate, Channels: channels, PeriodFrames: period, Periods: 4}
	d.slots.Store(&slotTable{idle: make([]int16, channels)})
	return d
}

func TestCycleAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		rate  int
		slots []Slot
	}{
		{"linear 8k", Rate8k, []Slot{{0, Linear16}, {1, Linear16}}},
		{"ulaw pairs", Rate8k, []Slot{{0, UlawHigh}, {0, UlawLow}, {1, AlawHigh}, {1, AlawLow}}},
		{"linear 16k", Rate16k, []Slot{{0, Linear16}, {1, Linear16}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := bareDevice(c.rate, 2)
			var ports []hal.PCM
			for _, s := range c.slots {
				p, err := d.Slot(s)
				if err != nil {
					t.Fatal(err)
				}
				ports = append(ports, p)
			}
			ctx := context.Background()
			var f hal.Frame
			allocs := testing.AllocsPerRun(50, func() {
				for _, p := range ports {
					p.Write(&f)
				}
				if err := d.cycle(); err != nil {
					t.Fatal(err)
				}
				for _, p := range ports {
					if err := p.Read(ctx, &f); err != nil {
						t.Fatal(err)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per cycle, want 0", allocs)
			}
		})
	}
}

// tone returns n samples of a sine of freq Hz at rate, amplitude amp.
func tone(n int, freq, rate, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/rate)))
	}
	return s
}

func rms(s []int16) float64 {
	sum := 0.0
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestHalfbandResampling(t *testing.T) {
	const amp = 10000
	for _, c := range []struct {
		freq     float64
		minDB    float64 // gain limits through the decimator
		maxDB    float64
		upstream bool // also check the interpolator
	}{
		{300, -0.5, 0.5, true},
		{1000, -0.5, 0.5, true},
		{3000, -0.5, 0.5, true},
		{6000, math.Inf(-1), -50, false}, // would alias to 2 kHz
		{7000, math.Inf(-1), -50, false},
	} {
		in := tone(20*2*hal.FrameSamples, c.freq, 16000, amp)
		var dec decimator
		var out []int16
		for i := 0; i < len(in); i += 2 * hal.FrameSamples {
			var f hal.Frame
			dec.process(&f, in[i:i+2*hal.FrameSamples])
			out = append(out, f[:]...)
		}
		steady := out[len(out)/2:]
		gain := 20 * math.Log10(rms(steady)/(amp/math.Sqrt2))
		if gain < c.minDB || gain > c.maxDB {
			t.Errorf("decimating %v Hz: gain %.2f dB, want %v…%v", c.freq, gain, c.minDB, c.maxDB)
		}
		if !c.upstream {
			continue
		}
		narrow := tone(20*hal.FrameSamples, c.freq, 8000, amp)
		var up interpolator
		var wide []int16
		buf := make([]int16, 2*hal.FrameSamples)
		for i := 0; i < len(narrow); i += hal.FrameSamples {
			var f hal.Frame
			copy(f[:], narrow[i:])
			up.process(buf, &f)
			wide = append(wide, buf...)
		}
		steady = wide[len(wide)/2:]
		if g := 20 * math.Log10(rms(steady)/(amp/math.Sqrt2)); g < -0.5 || g > 0.5 {
			t.Errorf("interpolating %v Hz: gain %.2f dB", c.freq, g)
		}
	}
}
