package g711

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/tipring/tipring/dsp"
)

// The reference below is written from the quantization rules of G.711
// (Tables 1a/1b for A-law, 2a/2b for µ-law) in the step-by-step form that
// ITU-T G.191's alaw_compress, alaw_expand, ulaw_compress and ulaw_expand
// use: find the segment by shifting until the magnitude fits, then take four
// bits of mantissa. It shares no code or tables with the package.

// refAlawCompress quantizes a 16-bit sample with the A-law of G.711.
func refAlawCompress(lin int16) byte {
	// Magnitude in units of the smallest A-law step (2 on the 13-bit scale,
	// 16 on the 16-bit scale); negative values use the one's complement.
	var ix int
	if lin < 0 {
		ix = int(^lin) >> 4
	} else {
		ix = int(lin) >> 4
	}
	if ix > 15 {
		exp := 1
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if lin >= 0 {
		ix |= 0x80
	}
	// Even bits inverted on the line (G.711 §2, Table 1b note).
	return byte(ix) ^ 0x55
}

// refAlawExpand returns the 16-bit reconstruction value of an A-law code.
func refAlawExpand(code byte) int16 {
	ix := int(code^0x55) & 0x7F
	exp := ix >> 4
	mant := ix & 0xF
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if code > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// refUlawCompress quantizes a 16-bit sample with the µ-law of G.711.
func refUlawCompress(lin int16) byte {
	var absno int
	if lin < 0 {
		absno = int(^lin)>>2 + 33
	} else {
		absno = int(lin)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := 1
	for i != 0 {
		segno++
		i >>= 1
	}
	high := 8 - segno
	low := 0xF - (absno>>segno)&0xF
	out := high<<4 | low
	if lin >= 0 {
		out |= 0x80
	}
	return byte(out)
}

// refUlawExpand returns the 16-bit reconstruction value of a µ-law code.
func refUlawExpand(code byte) int16 {
	sign := 1
	if code < 0x80 {
		sign = -1
	}
	m := int(^code)
	exp := (m >> 4) & 7
	seg := exp + 1
	m &= 0xF
	step := 4 << seg
	return int16(sign * (0x80<<exp + step*m + step/2 - 4*33))
}

func TestEncodeBitExactAllInputs(t *testing.T) {
	var ubad, abad int
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		s := int16(i)
		if got, want := UlawFromLinear(s), refUlawCompress(s); got != want {
			if ubad++; ubad <= 5 {
				t.Errorf("UlawFromLinear(%d) = %#02x, reference %#02x", s, got, want)
			}
		}
		if got, want := AlawFromLinear(s), refAlawCompress(s); got != want {
			if abad++; abad <= 5 {
				t.Errorf("AlawFromLinear(%d) = %#02x, reference %#02x", s, got, want)
			}
		}
	}
	if ubad+abad > 0 {
		t.Fatalf("%d µ-law and %d A-law mismatches out of 65536", ubad, abad)
	}
}

func TestDecodeBitExactAllCodes(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got, want := UlawToLinear(byte(c)), refUlawExpand(byte(c)); got != want {
			t.Errorf("UlawToLinear(%#02x) = %d, reference %d", c, got, want)
		}
		if got, want := AlawToLinear(byte(c)), refAlawExpand(byte(c)); got != want {
			t.Errorf("AlawToLinear(%#02x) = %d, reference %d", c, got, want)
		}
	}
}

// TestDecodeTableValues pins the reconstruction values of G.711 Tables 1a
// and 2a (scaled to 16 bits) at the segment ends and a few well-known codes.
func TestDecodeTableValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		dec  func(byte) int16
		code byte
		want int16
	}{
		{"µ-law", UlawToLinear, 0xFF, 0},     // +0: interval 0…1, value 0
		{"µ-law", UlawToLinear, 0x7F, 0},     // -0
		{"µ-law", UlawToLinear, 0xFE, 8},     // 2 on the 14-bit scale
		{"µ-law", UlawToLinear, 0xF0, 120},   // 30, end of segment 1
		{"µ-law", UlawToLinear, 0xEF, 132},   // 33, start of segment 2
		{"µ-law", UlawToLinear, 0x80, 32124}, // 8031, top value
		{"µ-law", UlawToLinear, 0x00, -32124},
		{"A-law", AlawToLinear, 0xD5, 8},     // +1 on the 13-bit scale
		{"A-law", AlawToLinear, 0x55, -8},    // -1
		{"A-law", AlawToLinear, 0xAA, 32256}, // 4032, top value
		{"A-law", AlawToLinear, 0x2A, -32256},
	} {
		if got := tc.dec(tc.code); got != tc.want {
			t.Errorf("%s decode %#02x = %d, want %d", tc.name, tc.code, got, tc.want)
		}
	}
	if got := UlawFromLinear(0); got != 0xFF {
		t.Errorf("µ-law of 0 = %#02x, want 0xff", got)
	}
	if got := AlawFromLinear(0); got != 0xD5 {
		t.Errorf("A-law of 0 = %#02x, want 0xd5", got)
	}
	if Ulaw.Silence() != 0xFF || Alaw.Silence() != 0xD5 {
		t.Errorf("Silence() = %#02x, %#02x; want 0xff, 0xd5", Ulaw.Silence(), Alaw.Silence())
	}
}

// TestDigitalMilliwatt decodes the digital milliwatt of G.711 Tables 5 and 6
// and checks it is a 1 kHz sine at 0 dBm0.
func TestDigitalMilliwatt(t *testing.T) {
	// The A-law reference puts 0 dBm0 at 3.14 dB below a full-scale sine,
	// µ-law (Tipring's common reference, dsp.ZeroDBm0Peak) at 3.17 dB below
	// its top decision value; the A-law milliwatt is exact on its own scale.
	alawOffset := 20 * math.Log10(32768/math.Pow(10, 3.14/20)/dsp.ZeroDBm0Peak)
	for _, tc := range []struct {
		law    Law
		seq    []byte
		offset float64
	}{
		{Ulaw, []byte{0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E}, 0},
		{Alaw, []byte{0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4}, alawOffset},
	} {
		frame := make([]byte, dsp.FrameSamples)
		for i := range frame {
			frame[i] = tc.seq[i%len(tc.seq)]
		}
		pcm := make([]int16, len(frame))
		tc.law.Decode(pcm, frame)
		level := dsp.DBm0FromRMS(dsp.RMS(pcm))
		if d := level - tc.offset; math.Abs(d) > 0.05 {
			t.Errorf("%v milliwatt: %.3f dBm0 (%.3f on its own scale), want 0 ±0.05", tc.law, level, d)
		}
		// All the energy sits at 1 kHz: an 8-point DFT of one period.
		var total, at1k float64
		var bin complex128
		for n := 0; n < 8; n++ {
			v := float64(pcm[n])
			total += v * v
			bin += complex(v, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(n)/8))
		}
		at1k = 2 * cmplx.Abs(bin) * cmplx.Abs(bin) / 8
		if at1k/total < 0.99 {
			t.Errorf("%v milliwatt: only %.4f of the energy at 1 kHz", tc.law, at1k/total)
		}
	}
}

// ulawStep and alawStep return the width, on the 16-bit scale, of the
// quantization interval of a code, from the segment number it carries.
func ulawStep(c byte) int { return 8 << ((^c >> 4) & 7) }

func alawStep(c byte) int {
	seg := int((c^0x55)>>4) & 7
	if seg == 0 {
		return 16
	}
	return 16 << (seg - 1)
}

// checkRoundTrip checks that decoding the encoding of x lands within one
// quantization step, or on the top value when x is beyond it.
func checkRoundTrip(t *testing.T, x int16) {
	t.Helper()
	for _, l := range []struct {
		law  Law
		enc  func(int16) byte
		dec  func(byte) int16
		step func(byte) int
		top  int16
	}{
		{Ulaw, UlawFromLinear, UlawToLinear, ulawStep, 32124},
		{Alaw, AlawFromLinear, AlawToLinear, alawStep, 32256},
	} {
		c := l.enc(x)
		y := l.dec(c)
		if (x > 0 && y < 0) || (x < -1 && y > 0) {
			t.Fatalf("%v: %d decodes with the wrong sign as %d", l.law, x, y)
		}
		if x > l.top || x < -l.top {
			if y != l.top && y != -l.top {
				t.Fatalf("%v: overload %d decodes as %d, want ±%d", l.law, x, y, l.top)
			}
			continue
		}
		if d := int(x) - int(y); d > l.step(c) || -d > l.step(c) {
			t.Fatalf("%v: %d → %#02x → %d, error %d beyond step %d", l.law, x, c, y, d, l.step(c))
		}
	}
}

func TestRoundTripAllInputs(t *testing.T) {
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		checkRoundTrip(t, int16(i))
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []int16{0, -1, 1, 7, 8, -8, 32767, -32768, 32124, 32256, 8159 * 4} {
		f.Add(s)
	}
	f.Fuzz(checkRoundTrip)
}

// TestTranscode checks the code conversions of G.711 Tables 3 and 4: each
// code maps to the code of the other law whose interval holds its value,
// keeping the sign, and a round trip moves a value by at most one step of
// the coarser law there.
func TestTranscode(t *testing.T) {
	for c := 0; c < 256; c++ {
		u := byte(c)
		a := UlawToAlaw(u)
		if want := refAlawCompress(refUlawExpand(u)); a != want {
			t.Errorf("UlawToAlaw(%#02x) = %#02x, want %#02x", u, a, want)
		}
		uv, av := int(UlawToLinear(u)), int(AlawToLinear(a))
		if uv != 0 && (uv > 0) != (av > 0) {
			t.Errorf("µ %#02x (%d) → A %#02x (%d) changes sign", u, uv, a, av)
		}
		if d := uv - av; d > alawStep(a) || -d > alawStep(a) {
			t.Errorf("µ %#02x (%d) → A %#02x (%d): off by more than a step", u, uv, a, av)
		}

		a = byte(c)
		u = AlawToUlaw(a)
		if want := refUlawCompress(refAlawExpand(a)); u != want {
			t.Errorf("AlawToUlaw(%#02x) = %#02x, want %#02x", a, u, want)
		}
		av, uv = int(AlawToLinear(a)), int(UlawToLinear(u))
		if (uv > 0) != (av > 0) && uv != 0 {
			t.Errorf("A %#02x (%d) → µ %#02x (%d) changes sign", a, av, u, uv)
		}
		if d := uv - av; d > ulawStep(u) || -d > ulawStep(u) {
			t.Errorf("A %#02x (%d) → µ %#02x (%d): off by more than a step", a, av, u, uv)
		}
		// Going through the coarser µ-law intervals may move an A-law
		// value by up to one µ-law step; it never moves further.
		back := AlawToLinear(UlawToAlaw(u))
		if d := int(back) - av; d > max(alawStep(a), ulawStep(u)) || -d > max(alawStep(a), ulawStep(u)) {
			t.Errorf("A %#02x → µ → A moves %d to %d", a, av, back)
		}
	}
	// The frame helpers agree with the single-code ones, in place too.
	buf := make([]byte, 256)
	for i := range buf {
		buf[i] = byte(i)
	}
	TranscodeUlawToAlaw(buf, buf)
	for i, b := range buf {
		if b != UlawToAlaw(byte(i)) {
			t.Fatalf("TranscodeUlawToAlaw[%d] = %#02x, want %#02x", i, b, UlawToAlaw(byte(i)))
		}
	}
	TranscodeAlawToUlaw(buf, buf)
	for i, b := range buf {
		if b != AlawToUlaw(UlawToAlaw(byte(i))) {
			t.Fatalf("TranscodeAlawToUlaw[%d] mismatch", i)
		}
	}
}

func TestFrameHelpers(t *testing.T) {
	src := make([]int16, dsp.FrameSamples)
	for i := range src {
		src[i] = int16(i*409 - 32768)
	}
	for _, l := range []Law{Ulaw, Alaw} {
		enc := make([]byte, len(src)+3)
		l.Encode(enc, src)
		dec := make([]int16, len(src))
		l.Decode(dec, enc[:len(src)])
		for i, s := range src {
			var wantC byte
			var wantS int16
			if l == Ulaw {
				wantC, wantS = refUlawCompress(s), refUlawExpand(refUlawCompress(s))
			} else {
				wantC, wantS = refAlawCompress(s), refAlawExpand(refAlawCompress(s))
			}
			if enc[i] != wantC || dec[i] != wantS {
				t.Fatalf("%v sample %d: %d → %#02x → %d, want %#02x → %d", l, i, s, enc[i], dec[i], wantC, wantS)
			}
		}
		if enc[len(src)] != 0 {
			t.Errorf("%v Encode wrote past len(src)", l)
		}
		allocs := testing.AllocsPerRun(100, func() {
			l.Encode(enc, src)
			l.Decode(dec, enc[:len(src)])
		})
		if allocs != 0 {
			t.Errorf("%v Encode+Decode: %v allocations per frame, want 0", l, allocs)
		}
	}
}

func TestShortDestinationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("EncodeUlaw into a short dst did not panic")
		}
	}()
	EncodeUlaw(make([]byte, 3), make([]int16, 4))
}

func TestLaw(t *testing.T) {
	if Ulaw.String() != "PCMU" || Alaw.String() != "PCMA" || Law(0).String() != "Law(0)" {
		t.Errorf("String: %q %q %q", Ulaw, Alaw, Law(0))
	}
	if Ulaw.PayloadType() != 0 || Alaw.PayloadType() != 8 || Law(9).PayloadType() != -1 {
		t.Errorf("PayloadType: %d %d %d", Ulaw.PayloadType(), Alaw.PayloadType(), Law(9).PayloadType())
	}
	for pt, want := range map[int]Law{0: Ulaw, 8: Alaw} {
		if got, err := LawFromPayloadType(pt); err != nil || got != want {
			t.Errorf("LawFromPayloadType(%d) = %v, %v", pt, got, err)
		}
	}
	if _, err := LawFromPayloadType(18); err == nil {
		t.Error("LawFromPayloadType(18) succeeded")
	}
	for name, want := range map[string]Law{"PCMU": Ulaw, "ulaw": Ulaw, "µ-law": Ulaw, "pcma": Alaw, " A-law ": Alaw} {
		if got, err := ParseLaw(name); err != nil || got != want {
			t.Errorf("ParseLaw(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseLaw("g722"); err == nil {
		t.Error("ParseLaw(g722) succeeded")
	}
	if Law(0).Valid() || !Ulaw.Valid() || !Alaw.Valid() {
		t.Error("Valid is wrong")
	}
	defer func() {
		if recover() == nil {
			t.Error("Encode with the zero Law did not panic")
		}
	}()
	Law(0).Encode(nil, nil)
}

func benchFrame() []int16 {
	src := make([]int16, dsp.FrameSamples)
	x := uint32(1)
	for i := range src {
		x = x*1664525 + 1013904223
		src[i] = int16(x >> 16)
	}
	return src
}

func benchEncode(b *testing.B, enc func([]byte, []int16)) {
	src := benchFrame()
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src) * 2))
	b.ReportAllocs()
	for b.Loop() {
		enc(dst, src)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/sample")
}

func benchDecode(b *testing.B, enc func([]byte, []int16), dec func([]int16, []byte)) {
	src := benchFrame()
	codes := make([]byte, len(src))
	enc(codes, src)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dec(src, codes)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/sample")
}

func BenchmarkEncodeUlaw(b *testing.B) { benchEncode(b, EncodeUlaw) }
func BenchmarkEncodeAlaw(b *testing.B) { benchEncode(b, EncodeAlaw) }
func BenchmarkDecodeUlaw(b *testing.B) { benchDecode(b, EncodeUlaw, DecodeUlaw) }
func BenchmarkDecodeAlaw(b *testing.B) { benchDecode(b, EncodeAlaw, DecodeAlaw) }
