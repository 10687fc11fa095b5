package jitter

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/g711"
)

// pkt is a packet in a simulation: its timestamp, samples, and local
// arrival time in samples.
type pkt struct {
	ts, arrival uint32
	pcm         []int16
}

// ramp returns n samples whose value encodes their timestamp, so that
// the output shows which samples were played.
func ramp(ts uint32, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((ts+uint32(i))%30000) + 1
	}
	return s
}

// sim plays packets into a buffer, reading a frame every 160 samples of
// local time from start, and returns the output.
func sim(b *Buffer, pkts []pkt, start uint32, frames int) []int16 {
	slices.SortStableFunc(pkts, func(x, y pkt) int { return int(int32(x.arrival - y.arrival)) })
	var out []int16
	i := 0
	for n := range frames {
		now := start + uint32(n*FrameSamples)
		for ; i < len(pkts) && int32(pkts[i].arrival-now) <= 0; i++ {
			b.Put(pkts[i].ts, pkts[i].arrival, pkts[i].pcm)
		}
		var f [FrameSamples]int16
		b.Read(&f)
		out = append(out, f[:]...)
	}
	return out
}

// stream makes count packets of size samples from ts0, arriving at
// ts + delay(i).
func stream(ts0 uint32, count, size int, delay func(i int) uint32) []pkt {
	var p []pkt
	for i := range count {
		ts := ts0 + uint32(i*size)
		p = append(p, pkt{ts: ts, arrival: ts + delay(i), pcm: ramp(ts, size)})
	}
	return p
}

// contiguous reports whether out, from its first non-zero sample, plays
// the ramp without gaps for at least n samples, and where it starts.
func contiguous(out []int16, n int) (start int, ok bool) {
	start = slices.IndexFunc(out, func(v int16) bool { return v != 0 })
	if start < 0 || len(out)-start < n {
		return start, false
	}
	for i := start + 1; i < start+n; i++ {
		if out[i] != out[i-1]+1 && !(out[i] == 1 && out[i-1] == 30000) {
			return start, false
		}
	}
	return start, true
}

func newBuffer(t *testing.T, cfg Config) *Buffer {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInOrderPlaysEverySampleOnce(t *testing.T) {
	for _, size := range []int{80, 160, 240} {
		b := newBuffer(t, Config{})
		out := sim(b, stream(1000, 100, size, func(int) uint32 { return 0 }), 1000, 100*size/FrameSamples)
		start, ok := contiguous(out, len(out)-400)
		st := b.Stats()
		if !ok || st.Concealed != 0 || st.Underruns != 0 {
			t.Fatalf("packets of %d: contiguous %v from %d, stats %+v", size, ok, start, st)
		}
		// The delay is the smallest that lets every read find a frame.
		want := time.Duration(FrameSamples+size-int(gcd(int32(size), FrameSamples))) * time.Second / SampleRate
		if st.Target != max(want, MinDelay) {
			t.Errorf("packets of %d: target %v, want %v", size, st.Target, want)
		}
	}
}

func TestRFC3550Section6_4_1ReorderingAndDuplicates(t *testing.T) {
	b := newBuffer(t, Config{Min: 60 * time.Millisecond})
	p := stream(0, 100, 160, func(i int) uint32 {
		if i%4 == 1 {
			return 200 // arrives after its successor
		}
		return 0
	})
	p = append(p, p[10], p[30], p[31]) // duplicates, late
	out := sim(b, p, 0, 98)
	if _, ok := contiguous(out, len(out)-600); !ok {
		t.Fatalf("reordered stream not restored; stats %+v", b.Stats())
	}
	if st := b.Stats(); st.Concealed != 0 {
		t.Fatalf("concealment with everything on time: %+v", st)
	}
}

func TestLossIsConcealed(t *testing.T) {
	for _, plc := range []PLC{PLCRepeat, PLCSilence} {
		b := newBuffer(t, Config{PLC: plc})
		p := stream(0, 50, 160, func(int) uint32 { return 0 })
		p = slices.Delete(p, 20, 21)
		out := sim(b, p, 0, 50)
		st := b.Stats()
		if st.Concealed != 1 {
			t.Fatalf("PLC %d: %d concealed frames", plc, st.Concealed)
		}
		// Find the hole: the frame after ts 19*160+159.
		i := slices.Index(out, int16(19*160+159+1))
		hole := out[i+1 : i+1+FrameSamples]
		prev := out[i+1-FrameSamples : i+1]
		for k := range hole {
			want := int16(0)
			if plc == PLCRepeat {
				want = int16(int32(prev[k]) * fade[0] >> 8)
			}
			if hole[k] != want {
				t.Fatalf("PLC %d: sample %d of the hole is %d, want %d", plc, k, hole[k], want)
			}
		}
		if out[i+1+FrameSamples] != int16(21*160+1) {
			t.Fatalf("PLC %d: the stream did not resume after the hole", plc)
		}
	}
}

func TestRepeatFadesToSilence(t *testing.T) {
	b := newBuffer(t, Config{})
	p := stream(0, 20, 160, func(int) uint32 { return 0 })
	out := sim(b, p, 0, 30)
	tail := out[len(out)-5*FrameSamples:]
	for _, v := range tail {
		if v != 0 {
			t.Fatalf("concealment did not fade out: %v", tail[:8])
		}
	}
	if st := b.Stats(); st.Underruns != 1 {
		t.Fatalf("underruns %d, want 1", st.Underruns)
	}
}

func TestFastAttackAfterDelaySpike(t *testing.T) {
	b := newBuffer(t, Config{})
	// From packet 30 on the network adds 60 ms for good.
	p := stream(0, 150, 160, func(i int) uint32 {
		if i >= 30 {
			return 480
		}
		return 0
	})
	out := sim(b, p, 0, 150)
	st := b.Stats()
	if st.Underruns != 1 {
		t.Fatalf("underruns %d, want one: the spike, then the delay stretched; %+v", st.Underruns, st)
	}
	// After the spike the ramp plays on without losing a sample: the
	// buffer stretched instead of skipping.
	i := slices.Index(out, int16(30*160+1))
	if i < 0 {
		t.Fatal("the first late packet was never played")
	}
	if _, ok := contiguous(out[i:], len(out)-i-200); !ok {
		t.Fatal("audio after the spike is not contiguous")
	}
}

func TestSlowDecayShrinksDelay(t *testing.T) {
	b := newBuffer(t, Config{})
	rng := rand.New(rand.NewPCG(3, 4))
	// Ten seconds of 0-100 ms jitter, then twenty of none.
	p := stream(0, 1500, 160, func(i int) uint32 {
		if i < 500 {
			return uint32(rng.IntN(800))
		}
		return 0
	})
	sim(b, p[:500], 0, 500)
	high := b.Stats()
	sim(b, p[500:], 500*160, 1000)
	low := b.Stats()
	t.Logf("after jitter: target %v depth %v; after calm: target %v depth %v shrunk %d samples", high.Target, high.Depth, low.Target, low.Depth, low.Shrunk)
	if high.Target < 80*time.Millisecond {
		t.Errorf("target %v under 100 ms of jitter", high.Target)
	}
	if low.Target > 30*time.Millisecond || low.Depth > 50*time.Millisecond || low.Shrunk == 0 {
		t.Errorf("delay did not decay: %+v", low)
	}
}

func TestRFC3550Section6_4_1AdaptiveTarget(t *testing.T) {
	for _, maxJitter := range []int{0, 160, 480, 1200} {
		b := newBuffer(t, Config{})
		rng := rand.New(rand.NewPCG(5, 6))
		p := stream(0, 1000, 160, func(int) uint32 {
			if maxJitter == 0 {
				return 0
			}
			return uint32(rng.IntN(maxJitter))
		})
		sim(b, p, 0, 1000)
		st := b.Stats()
		conceal := float64(st.Concealed) / 1000
		t.Logf("jitter 0-%d ms: estimate %v, target %v, concealed %.1f %%, underruns %d", maxJitter/8, st.Jitter, st.Target, 100*conceal, st.Underruns)
		if conceal > 0.03 {
			t.Errorf("jitter 0-%d ms: %.1f %% of frames concealed", maxJitter/8, 100*conceal)
		}
		if st.Target > 200*time.Millisecond || st.Target < 20*time.Millisecond {
			t.Errorf("target %v out of bounds", st.Target)
		}
	}
}

func TestTimestampJumpResyncs(t *testing.T) {
	b := newBuffer(t, Config{})
	p := stream(0, 20, 160, func(int) uint32 { return 0 })
	// The sender restarts its timeline without a gap in time.
	q := stream(900000, 30, 160, func(int) uint32 { return 0 })
	for i := range q {
		q[i].arrival = 20*160 + uint32(i*160)
	}
	out := sim(b, append(p, q...), 0, 50)
	if st := b.Stats(); st.Resyncs != 1 {
		t.Fatalf("resyncs %d", st.Resyncs)
	}
	i := slices.Index(out, int16(900000%30000+1))
	if i < 0 || i > 23*FrameSamples {
		t.Fatalf("new timeline started playing at sample %d", i)
	}
}

func TestSilenceGapIsSkipped(t *testing.T) {
	b := newBuffer(t, Config{})
	// A talkspurt, two seconds without packets (timestamps move on with
	// time), and another.
	p := stream(0, 25, 160, func(int) uint32 { return 0 })
	q := stream(25*160+16000, 25, 160, func(int) uint32 { return 0 })
	out := sim(b, append(p, q...), 0, 150)
	i := slices.Index(out, int16((25*160+16000)%30000+1))
	arrive := 25*160 + 16000
	if i < 0 || i-arrive > 40*8 {
		t.Fatalf("second talkspurt played at %d, arrived at %d", i, arrive)
	}
}

func TestReset(t *testing.T) {
	b := newBuffer(t, Config{})
	sim(b, stream(0, 10, 160, func(int) uint32 { return 0 }), 0, 5)
	b.Reset()
	var f [FrameSamples]int16
	b.Read(&f)
	if f != [FrameSamples]int16{} || b.Stats().Depth != 0 {
		t.Fatal("reset buffer still plays")
	}
	out := sim(b, stream(50000, 20, 160, func(int) uint32 { return 0 }), 50000, 20)
	if slices.Index(out, int16(50000%30000+1)) < 0 {
		t.Fatal("no audio after reset")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Min: 10 * time.Millisecond},
		{Max: time.Second},
		{Min: 100 * time.Millisecond, Max: 50 * time.Millisecond},
		{PLC: 7},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestPutReadZeroAllocs(t *testing.T) {
	b := newBuffer(t, Config{})
	payload := make([]byte, 160)
	var f [FrameSamples]int16
	ts := uint32(0)
	if n := testing.AllocsPerRun(500, func() {
		b.PutG711(ts, ts, g711.Ulaw, payload)
		ts += 160
		b.Read(&f)
	}); n != 0 {
		t.Fatalf("%.1f allocations per frame", n)
	}
}

func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b, _ := New(Config{})
		pcm := make([]int16, maxPacket+1)
		var fr [FrameSamples]int16
		now := uint32(0)
		for len(ops) >= 5 {
			ts := uint32(ops[0])<<16 | uint32(ops[1])<<8 | uint32(ops[2])
			n := int(ops[3]) * 4
			switch ops[4] % 3 {
			case 0:
				b.Put(ts, now, pcm[:min(n, len(pcm))])
			case 1:
				b.Read(&fr)
				now += FrameSamples
			default:
				b.Put(ts, now+uint32(ops[4]), pcm[:min(n, len(pcm))])
				b.Read(&fr)
			}
			ops = ops[5:]
		}
		st := b.Stats()
		if st.Depth > ringSize*time.Second/SampleRate || st.Target > 200*time.Millisecond || st.Target < MinDelay {
			t.Fatalf("state out of bounds: %+v", st)
		}
	})
}

func BenchmarkPutRead(b *testing.B) {
	buf, _ := New(Config{})
	payload := make([]byte, 160)
	var f [FrameSamples]int16
	ts := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		buf.PutG711(ts, ts, g711.Ulaw, payload)
		ts += 160
		buf.Read(&f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// ITU-T V.152 §7 voiceband data: with the delay fixed, a buffer that grew
// for jittery packets neither shrinks when the jitter stops (which would
// drop audio from under a modem) nor drops a single sample: the stream
// plays on contiguous.
func TestV152FixedDelayForVoicebandData(t *testing.T) {
	b := newBuffer(t, Config{})
	rng := rand.New(rand.NewPCG(5, 6))
	p := stream(0, 1500, 160, func(i int) uint32 {
		if i < 500 {
			return uint32(rng.IntN(800))
		}
		return 0
	})
	sim(b, p[:500], 0, 500)
	b.SetFixed(true)
	fixed := b.Stats()
	out := sim(b, p[500:], 500*160, 1000)
	after := b.Stats()
	if after.Target != fixed.Target || after.Shrunk != fixed.Shrunk {
		t.Fatalf("target %v → %v, shrunk %d → %d: the delay moved while fixed", fixed.Target, after.Target, fixed.Shrunk, after.Shrunk)
	}
	if fixed.Target < 60*time.Millisecond {
		t.Fatalf("fixed at %v, want at least 60 ms", fixed.Target)
	}
	if _, ok := contiguous(out[2000:], len(out)-4000); !ok {
		t.Fatal("audio not contiguous while fixed")
	}
}
