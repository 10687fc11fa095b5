package tone

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/dsptest"
)

// The measurements below know nothing of the generator: a Hann-windowed DFT
// at arbitrary frequencies finds each component, and runs of exact zeros
// find the cadence. Expected values come from the country table only.

const fs = dsp.SampleRate

// render reads n samples of t in one call.
func render(t Tone, n int) []int16 {
	buf := make([]int16, n)
	NewGenerator(t).Read(buf)
	return buf
}

func dB(a, ref float64) float64 { return 20 * math.Log10(a/ref) }

// checkSound measures every component (and modulation sideband) of s in x.
func checkSound(t *testing.T, what string, x []int16, s Sound, freqTol bool) {
	t.Helper()
	type line struct{ f, level float64 }
	var lines []line
	var power float64
	for _, c := range s.Components {
		lines = append(lines, line{c.FreqHz, c.Level})
		a := dsp.PeakFromDBm0(c.Level)
		power += a * a / 2
		if s.ModHz != 0 && s.ModDepth != 0 {
			side := c.Level + 20*math.Log10(s.ModDepth/2)
			lines = append(lines, line{c.FreqHz - s.ModHz, side}, line{c.FreqHz + s.ModHz, side})
			power += 2 * (a * s.ModDepth / 2) * (a * s.ModDepth / 2) / 2
		}
	}
	for _, l := range lines {
		f, a := dsptest.Peak(x, 0.99*l.f, 1.01*l.f)
		if freqTol && math.Abs(f-l.f) > 0.005*l.f {
			t.Errorf("%s: component %g Hz measured at %.2f Hz (beyond ±0.5 %%)", what, l.f, f)
		}
		if d := dB(a, dsp.PeakFromDBm0(l.level)); math.Abs(d) > 1 {
			t.Errorf("%s: component %g Hz at %.2f dBm0, table %.2f dBm0 (beyond ±1 dB)", what, l.f, l.level+d, l.level)
		}
	}
	want := dsp.DBm0FromRMS(math.Sqrt(power))
	if got := dsp.DBm0FromRMS(dsp.RMS(x)); math.Abs(got-want) > 1 {
		t.Errorf("%s: total level %.2f dBm0, table %.2f dBm0", what, got, want)
	}
}

// allTones calls f for every tone of every country.
func allTones(f func(c *Country, name string, tn Tone)) {
	for _, code := range Countries() {
		c, err := Lookup(code)
		if err != nil {
			panic(err)
		}
		for _, name := range ToneNames() {
			tn, err := c.Tone(name)
			if err != nil {
				panic(err)
			}
			f(c, name, tn)
		}
	}
}

// TestSoundsFrequencyAndLevel renders every distinct Sound of the table as
// a steady tone and checks each component within ±0.5 % and ±1 dB.
func TestSoundsFrequencyAndLevel(t *testing.T) {
	n := fs
	if testing.Short() {
		n = fs / 2
	}
	seen := map[string]bool{}
	allTones(func(c *Country, name string, tn Tone) {
		sounds := []Sound{tn.Sound}
		for _, seg := range tn.Cadence {
			sounds = append(sounds, seg.Sound)
		}
		for _, s := range sounds {
			k := fmt.Sprint(s)
			if s.IsZero() || seen[k] {
				continue
			}
			seen[k] = true
			x := render(continuous(s), n+80)[80:]
			checkSound(t, fmt.Sprintf("%s %s %v", c.Code, name, s), x, s, true)
		}
	})
}

func TestUSDialTone(t *testing.T) {
	c, err := Lookup("us")
	if err != nil {
		t.Fatal(err)
	}
	x := render(c.Dial, 2*fs)[fs:]
	for _, f := range []float64{350, 440} {
		gotF, a := dsptest.Peak(x, 0.99*f, 1.01*f)
		if math.Abs(gotF-f) > 0.005*f {
			t.Errorf("US dial: %g Hz component at %.2f Hz", f, gotF)
		}
		if lvl := dsp.DBm0FromRMS(a / math.Sqrt2); math.Abs(lvl+13) > 1 {
			t.Errorf("US dial: %g Hz at %.2f dBm0, want -13 ±1", f, lvl)
		}
	}
	// Nothing else: all power is in the two components.
	if lvl := dsp.DBm0FromRMS(dsp.RMS(x)); math.Abs(lvl-(-13+10*math.Log10(2))) > 0.2 {
		t.Errorf("US dial total %.2f dBm0, want %.2f", lvl, -13+10*math.Log10(2))
	}
}

// span is a stretch of the expected cadence, in samples.
type span struct {
	start, end int
	on         bool
	sound      Sound
}

// expected expands a tone's cadence from the table over horizon samples.
func expected(tn Tone, horizon int) []span {
	if len(tn.Cadence) == 0 {
		return []span{{0, horizon, true, tn.Sound}}
	}
	var out []span
	pos, i, plays := 0, 0, 0
	for pos < horizon {
		if i == len(tn.Cadence) {
			if tn.Loop == len(tn.Cadence) {
				break
			}
			plays++
			if tn.Repeat > 0 && plays == tn.Repeat {
				break
			}
			i = tn.Loop
		}
		seg := tn.Cadence[i]
		n := int(seg.Duration / (time.Second / fs))
		s := seg.Sound
		if s.IsZero() {
			s = tn.Sound
		}
		out = append(out, span{pos, pos + n, seg.On, s})
		pos += n
		i++
	}
	if pos < horizon {
		out = append(out, span{pos, horizon, false, Sound{}})
	}
	return out
}

type edge struct {
	pos    int
	rising bool
}

// expectedEdges returns the on/off transitions of spans.
func expectedEdges(spans []span) []edge {
	var out []edge
	for i := 1; i < len(spans); i++ {
		if spans[i].on != spans[i-1].on {
			out = append(out, edge{spans[i].start, spans[i].on})
		}
	}
	return out
}

// measuredEdges finds silences (runs of at least 16 zero samples, 2 ms)
// and returns their borders, each moved by half the ramp so that they
// estimate the 50 % points.
func measuredEdges(x []int16) []edge {
	var out []edge
	for i := 0; i < len(x); {
		if x[i] != 0 {
			i++
			continue
		}
		j := i
		for j < len(x) && x[j] == 0 {
			j++
		}
		if j-i >= 16 {
			if i > 0 {
				out = append(out, edge{i - RampSamples/2, false})
			}
			if j < len(x) {
				out = append(out, edge{j + RampSamples/2, true})
			}
		}
		i = j
	}
	return out
}

// horizonOf is how much of a tone the cadence test renders: the part
// played once, the looping part twice (once in short mode), and a second of
// silence after a finite tone.
func horizonOf(tn Tone) int {
	if len(tn.Cadence) == 0 {
		return fs
	}
	var once, loop int
	for i, seg := range tn.Cadence {
		n := int(seg.Duration / (time.Second / fs))
		if i < tn.Loop {
			once += n
		} else {
			loop += n
		}
	}
	plays := 2
	if testing.Short() {
		plays = 1
	}
	if tn.Repeat > 0 {
		plays = tn.Repeat
	}
	h := once + plays*loop
	if d, finite := tn.Duration(); finite {
		h = int(d/(time.Second/fs)) + fs
	}
	return h
}

// TestCadences checks, for every tone of every country, that each on/off
// edge falls within 1 ms of the table's, that each segment of at least
// 200 ms holds its own Sound within ±1 dB, and that finite tones end.
func TestCadences(t *testing.T) {
	allTones(func(c *Country, name string, tn Tone) {
		what := c.Code + " " + name
		h := horizonOf(tn)
		g := NewGenerator(tn)
		x := make([]int16, h)
		g.Read(x)
		spans := expected(tn, h)
		inside := func(e edge) bool { return e.pos >= h-16 }
		want := slices.DeleteFunc(expectedEdges(spans), inside)
		got := slices.DeleteFunc(measuredEdges(x), inside)
		if len(got) != len(want) {
			t.Errorf("%s: %d edges, table has %d (got %v, want %v)", what, len(got), len(want), got, want)
			return
		}
		for i := range want {
			if got[i].rising != want[i].rising || abs(got[i].pos-want[i].pos) > fs/1000 {
				t.Errorf("%s: edge %d at sample %d (rising %v), table %d (rising %v)",
					what, i, got[i].pos, got[i].rising, want[i].pos, want[i].rising)
			}
		}
		for _, sp := range spans {
			if !sp.on || sp.end-sp.start < fs/5 || sp.end > h {
				continue
			}
			checkSound(t, fmt.Sprintf("%s at %d ms", what, sp.start/8), x[sp.start+RampSamples:sp.end-RampSamples], sp.sound, false)
		}
		if _, finite := tn.Duration(); finite != g.Done() {
			t.Errorf("%s: Done() = %v after %d samples, finite %v", what, g.Done(), h, finite)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestStutterThenSteady spells out the US stutter dial tone: ten 100 ms
// bursts, then steady dial tone.
func TestStutterThenSteady(t *testing.T) {
	c, _ := Lookup("US")
	x := render(c.Stutter, 4*fs)
	edges := measuredEdges(x)
	if len(edges) != 20 {
		t.Fatalf("%d edges, want 20 (ten bursts and gaps)", len(edges))
	}
	for i, e := range edges {
		if want := (i + 1) * fs / 10; abs(e.pos-want) > 1 {
			t.Errorf("edge %d at %d, want %d", i, e.pos, want)
		}
	}
	for i, v := range x[2*fs+RampSamples:] {
		if v == 0 && (i == 0 || x[2*fs+RampSamples+i-1] == 0) {
			t.Fatalf("steady part has a gap at sample %d", 2*fs+RampSamples+i)
		}
	}
}

// TestRampCentredOnEdge checks that the envelope passes 50 % exactly at the
// sample the cadence names, so on and off times are exact to the sample.
func TestRampCentredOnEdge(t *testing.T) {
	const f, level = 697.0, -10.0
	tn := cadence(freqs(level, f), 100, 100)
	x := render(tn, fs)
	a := dsp.PeakFromDBm0(level)
	for e := 800; e < fs; e += 800 {
		for _, n := range []int{e - 4, e, e + 4} {
			s := math.Sin(2 * math.Pi * f * float64(n) / fs)
			if math.Abs(s) < 0.3 {
				continue
			}
			env := float64(x[n]) / (a * s)
			var want float64
			rising := (e/800)%2 == 0
			switch {
			case n == e:
				want = 0.5
			case (n > e) == rising:
				want = 1
			}
			if math.Abs(env-want) > 0.01 {
				t.Errorf("edge %d: envelope at %d is %.3f, want %.1f", e, n, env, want)
			}
		}
	}
}

// TestPhaseContinuity reads every tone in chunks of 1, 7, 160 and 1000
// samples and in one piece: the results must be identical, and no step
// between samples may exceed what the components' slopes and the ramps
// allow. The on parts of a cadenced tone must match the same sound played
// without interruption, so phase runs on through the gaps.
func TestPhaseContinuity(t *testing.T) {
	sizes := []int{1, 7, 160, 1000}
	allTones(func(c *Country, name string, tn Tone) {
		what := c.Code + " " + name
		n := 3 * fs
		if testing.Short() {
			n = fs
		}
		whole := render(tn, n)
		g := NewGenerator(tn)
		parts := make([]int16, n)
		for pos, k := 0, 0; pos < n; k++ {
			m := min(sizes[k%len(sizes)], n-pos)
			g.Read(parts[pos : pos+m])
			pos += m
		}
		if i := slices.Compare(whole, parts); i != 0 {
			for j := range whole {
				if whole[j] != parts[j] {
					t.Errorf("%s: chunked read differs at sample %d", what, j)
					break
				}
			}
		}
		var bound float64
		var bank oscBank
		bank.add(tn.Sound)
		for i := range tn.Cadence {
			if tn.Cadence[i].On {
				bank.add(tn.soundOf(i))
			}
		}
		for _, k := range bank.keys[:bank.n] {
			bound += dsp.PeakFromDBm0(k.level) * (1 + k.depth) *
				(2*math.Pi*(k.freq+k.depth*k.modHz)/fs + math.Pi/RampSamples)
		}
		for i := 1; i < n; i++ {
			if d := math.Abs(float64(whole[i]) - float64(whole[i-1])); d > bound+2 {
				t.Errorf("%s: step of %.0f at sample %d exceeds %.0f", what, d, i, bound)
				break
			}
		}
	})
	// Cadenced US busy against steady 480+620 Hz: equal where fully on.
	c, _ := Lookup("us")
	busy := render(c.Busy, 3*fs)
	steady := render(continuous(c.Busy.Sound), 3*fs)
	for _, sp := range expected(c.Busy, 3*fs) {
		if !sp.on {
			continue
		}
		for i := sp.start + RampSamples; i < sp.end-RampSamples; i++ {
			if busy[i] != steady[i] {
				t.Fatalf("busy burst at %d ms differs from the steady tone at sample %d", sp.start/8, i)
			}
		}
	}
}

func TestFiniteTone(t *testing.T) {
	c, _ := Lookup("us")
	g := NewGenerator(c.CallWaiting)
	d, finite := c.CallWaiting.Duration()
	if !finite || d != 20*time.Second {
		t.Fatalf("US call waiting lasts %v (finite %v), want 20s", d, finite)
	}
	buf := make([]int16, dsp.FrameSamples)
	frames := 0
	for !g.Done() {
		g.Read(buf)
		if frames++; frames > 2000 {
			t.Fatal("US call waiting never ends")
		}
	}
	if frames != 20*fs/dsp.FrameSamples {
		t.Errorf("Done after %d frames, want %d", frames, 20*fs/dsp.FrameSamples)
	}
	for range 10 {
		g.Read(buf)
		for i, v := range buf {
			if v != 0 {
				t.Fatalf("sample %d after the end is %d", i, v)
			}
		}
	}
	if NewGenerator(c.Dial).Done() {
		t.Error("a continuous tone reports Done")
	}
	var zero Generator
	zero.Read(buf)
	if slices.ContainsFunc(buf, func(v int16) bool { return v != 0 }) {
		t.Error("the zero Generator is not silent")
	}
}

func TestCountryTable(t *testing.T) {
	codes := Countries()
	for _, must := range []string{"us", "uk", "de", "fr", "au", "jp", "nl", "it"} {
		if !slices.Contains(codes, must) {
			t.Errorf("country %s missing", must)
		}
	}
	if !slices.IsSorted(codes) {
		t.Errorf("Countries() not sorted: %v", codes)
	}
	cid := []string{"bellcore", "etsi-fsk", "etsi-dtmf", "bt", "ntt"}
	for _, code := range codes {
		c, err := Lookup(code)
		if err != nil {
			t.Fatal(err)
		}
		if c.Code != code || c.Name == "" || c.Source == "" {
			t.Errorf("%s: code %q name %q source %q", code, c.Code, c.Name, c.Source)
		}
		for _, name := range ToneNames() {
			tn, err := c.Tone(name)
			if err != nil {
				t.Errorf("%s: %v", code, err)
				continue
			}
			if tn.Sound.IsZero() && len(tn.Cadence) == 0 {
				t.Errorf("%s %s: empty tone", code, name)
			}
			if err := tn.Validate(); err != nil {
				t.Errorf("%s %s: %v", code, name, err)
			}
		}
		if d, finite := c.CallWaiting.Duration(); !finite || d > time.Minute {
			t.Errorf("%s: call waiting lasts %v (finite %v)", code, d, finite)
		}
		if !slices.Contains([]float64{16, 20, 25, 50}, c.Ring.FreqHz) {
			t.Errorf("%s: ring frequency %g Hz", code, c.Ring.FreqHz)
		}
		if len(c.Ring.Pattern) == 0 || len(c.Ring.Pattern)%2 != 0 {
			t.Errorf("%s: ring pattern %v is not on/off pairs", code, c.Ring.Pattern)
		}
		for _, d := range c.Ring.Pattern {
			if d < 100*time.Millisecond || d > 10*time.Second {
				t.Errorf("%s: ring pattern step %v", code, d)
			}
		}
		if !slices.Contains(cid, c.CallerID) {
			t.Errorf("%s: caller ID %q not one of %v", code, c.CallerID, cid)
		}
		if c.Impedance == "" {
			t.Errorf("%s: no impedance", code)
		}
	}
	us, _ := Lookup("us")
	if want := []time.Duration{2 * time.Second, 4 * time.Second}; !slices.Equal(us.Ring.Pattern, want) || us.Ring.FreqHz != 20 {
		t.Errorf("US ring %v at %g Hz", us.Ring.Pattern, us.Ring.FreqHz)
	}
	uk, _ := Lookup("gb")
	if want := []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}; !slices.Equal(uk.Ring.Pattern, want) {
		t.Errorf("UK ring %v", uk.Ring.Pattern)
	}
	de, _ := Lookup("DE")
	if want := []time.Duration{time.Second, 4 * time.Second}; !slices.Equal(de.Ring.Pattern, want) {
		t.Errorf("DE ring %v", de.Ring.Pattern)
	}
}

func TestLookup(t *testing.T) {
	for _, code := range []string{"us", "US", " uk ", "UK", "gb", "GB"} {
		if _, err := Lookup(code); err != nil {
			t.Errorf("Lookup(%q): %v", code, err)
		}
	}
	_, err := Lookup("xx")
	if err == nil || !strings.Contains(err.Error(), "us") || !strings.Contains(err.Error(), "uk") {
		t.Errorf("Lookup(xx) error %v does not list the known codes", err)
	}
	// The result is a copy: changing it leaves the table alone.
	a, _ := Lookup("us")
	a.Dial.Sound.Components[0].FreqHz = 1
	a.Busy.Cadence[0].Duration = 0
	b, _ := Lookup("us")
	if b.Dial.Sound.Components[0].FreqHz != 350 || b.Busy.Cadence[0].Duration != 500*time.Millisecond {
		t.Error("changing a Lookup result changed the table")
	}
	if _, err := b.Tone("jingle"); err == nil {
		t.Error(`Tone("jingle") succeeded`)
	}
	for alias, want := range map[string]string{"reorder": "congestion", "ROH": "howler", "Ring": "ringback"} {
		x, _ := b.Tone(alias)
		y, _ := b.Tone(want)
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("Tone(%q) differs from Tone(%q)", alias, want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := freqs(-10, 400)
	for _, tc := range []struct {
		name string
		tone Tone
	}{
		{"no components", Tone{}},
		{"five components", continuous(freqs(-20, 300, 400, 500, 600, 700))},
		{"above Nyquist", continuous(freqs(-10, 4100))},
		{"too loud", continuous(freqs(6, 400))},
		{"depth", continuous(modulated(400, -10, 25, 1.5))},
		{"loop", Tone{Sound: good, Cadence: []Segment{on(100)}, Loop: 2}},
		{"repeat", Tone{Sound: good, Cadence: []Segment{on(100)}, Repeat: -1}},
		{"short segment", Tone{Sound: good, Cadence: []Segment{{Duration: time.Microsecond, On: true}}}},
		{"nine oscillators", steps(Sound{},
			onWith(100, freqs(-20, 300, 400, 500, 600)), onWith(100, freqs(-20, 700, 800, 900, 1000)),
			onWith(100, freqs(-20, 1100)))},
	} {
		err := tc.tone.Validate()
		if !errors.Is(err, ErrInvalidTone) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidTone", tc.name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Reset with an invalid tone did not panic")
		}
	}()
	NewGenerator(Tone{})
}

func TestNoAllocations(t *testing.T) {
	c, _ := Lookup("uk")
	g := NewGenerator(c.Stutter)
	buf := make([]int16, dsp.FrameSamples)
	if n := testing.AllocsPerRun(100, func() { g.Read(buf) }); n != 0 {
		t.Errorf("Read: %v allocations per frame", n)
	}
	if n := testing.AllocsPerRun(100, func() { g.Reset(c.Congestion) }); n != 0 {
		t.Errorf("Reset: %v allocations", n)
	}
}

func benchTone(b *testing.B, country, name string) {
	c, err := Lookup(country)
	if err != nil {
		b.Fatal(err)
	}
	tn, _ := c.Tone(name)
	g := NewGenerator(tn)
	buf := make([]int16, dsp.FrameSamples)
	b.SetBytes(int64(2 * len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		g.Read(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(buf)), "ns/sample")
}

func BenchmarkDialUS(b *testing.B)     { benchTone(b, "us", "dial") }
func BenchmarkBusyDE(b *testing.B)     { benchTone(b, "de", "busy") }
func BenchmarkRingbackIN(b *testing.B) { benchTone(b, "in", "ringback") }
func BenchmarkHowlerUS(b *testing.B)   { benchTone(b, "us", "howler") }
func BenchmarkStutterUK(b *testing.B)  { benchTone(b, "uk", "stutter") }
