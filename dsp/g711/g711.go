// Package g711 converts between 16-bit linear PCM and the two companding
// laws of ITU-T Recommendation G.711: µ-law (PCMU, North America and Japan)
// and A-law (PCMA, everywhere else).
//
// The conversions are bit-exact with the reference implementation in
// ITU-T G.191 (the Software Tool Library's g711 module) for every one of the
// 65,536 linear inputs. µ-law quantizes the 14 most significant bits of the
// sample. A-law works on the 13-bit uniform scale of G.711, whose decision
// values are all even, so only the 12 most significant bits of the sample
// count. The decoders return the middle of each quantization interval,
// scaled to 16 bits.
//
// Every conversion is a lookup in a read-only table built once at program
// start, so a sample costs one load; the frame helpers allocate nothing.
package g711

import "math/bits"

// RTP static payload types of the two laws (RFC 3551, Table 4).
const (
	// PayloadPCMU is the RTP payload type of G.711 µ-law.
	PayloadPCMU = 0
	// PayloadPCMA is the RTP payload type of G.711 A-law.
	PayloadPCMA = 8
)

// Tables. Encoding indexes by the top bits of the 16-bit two's complement
// sample viewed as unsigned: 14 bits for µ-law, 12 bits for A-law, exactly
// the bits G.711 quantizes, so the index needs no bounds check.
var (
	ulawDecode = buildUlawDecode()
	alawDecode = buildAlawDecode()
	ulawEncode = buildUlawEncode()
	alawEncode = buildAlawEncode()
	ulawToAlaw = buildTranscode(&ulawDecode, AlawFromLinear)
	alawToUlaw = buildTranscode(&alawDecode, UlawFromLinear)
)

// ulawBias is the offset G.711 adds to the 14-bit magnitude so that the
// µ-law segments start at powers of two (33 on the 14-bit scale).
const ulawBias = 33

// ulawSegment returns the 3-bit segment and 4-bit step of a biased µ-law
// magnitude m (33 ≤ m ≤ 8191 on the 14-bit scale).
func ulawSegment(m int) (seg, step int) {
	// Segment s covers biased magnitudes [32<<s, 64<<s); the position of the
	// leading one bit selects it.
	seg = bits.Len(uint(m)) - 6
	step = (m >> (seg + 1)) & 0xF
	return seg, step
}

func buildUlawEncode() [1 << 14]uint8 {
	var t [1 << 14]uint8
	for i := range t {
		// i holds the 14 MSBs of a sample: sign-extend them.
		v := int(int16(uint16(i)<<2)) >> 2
		var sign uint8 = 0x80
		if v < 0 {
			// One's complement: -1 … -8192 map onto magnitudes 0 … 8191,
			// which keeps the quantizer symmetric about -0.5.
			v = ^v
			sign = 0
		}
		m := min(v+ulawBias, 0x1FFF)
		seg, step := ulawSegment(m)
		t[i] = ^(uint8(seg<<4)|uint8(step))&0x7F | sign
	}
	return t
}

func buildUlawDecode() [256]int16 {
	var t [256]int16
	for c := range t {
		inv := ^uint8(c)
		seg := int(inv>>4) & 7
		step := int(inv & 0xF)
		// Reconstruction at the middle of the interval, on the 14-bit scale,
		// with the bias removed; then scaled to 16 bits.
		mag := ((2*step+33)<<seg - ulawBias) << 2
		if c&0x80 == 0 {
			mag = -mag
		}
		t[c] = int16(mag)
	}
	return t
}

func buildAlawEncode() [1 << 12]uint8 {
	var t [1 << 12]uint8
	for i := range t {
		// i holds the 12 MSBs of a sample: sign-extend them. On the 13-bit
		// A-law scale the smallest step is 2, so v counts those steps.
		v := int(int16(uint16(i)<<4)) >> 4
		var sign uint8 = 0x80
		if v < 0 {
			v = ^v
			sign = 0
		}
		// v is an 11-bit magnitude. Segments 0 and 1 share the smallest
		// step; segment s ≥ 1 covers [16<<(s-1), 32<<(s-1)) in 16 steps.
		var code int
		if v < 32 {
			code = v
		} else {
			seg := bits.Len(uint(v)) - 4
			code = seg<<4 | (v>>(seg-1))&0xF
		}
		t[i] = (uint8(code) | sign) ^ 0x55
	}
	return t
}

func buildAlawDecode() [256]int16 {
	var t [256]int16
	for c := range t {
		x := uint8(c) ^ 0x55
		seg := int(x>>4) & 7
		step := int(x & 0xF)
		var mag int
		if seg == 0 {
			mag = 2*step + 1
		} else {
			mag = (2*step + 33) << (seg - 1)
		}
		mag <<= 3 // 13-bit half steps to 16 bits
		if x&0x80 == 0 {
			mag = -mag
		}
		t[c] = int16(mag)
	}
	return t
}

// buildTranscode maps every code of one law onto the other through its
// linear value: the code whose quantization interval holds the decoded
// value, as G.711 Tables 3 and 4 intend.
func buildTranscode(dec *[256]int16, enc func(int16) byte) [256]uint8 {
	var t [256]uint8
	for c := range t {
		t[c] = enc(dec[c])
	}
	return t
}

// UlawFromLinear returns the µ-law code of a 16-bit linear sample.
func UlawFromLinear(s int16) byte { return ulawEncode[uint16(s)>>2] }

// UlawToLinear returns the 16-bit linear value of a µ-law code.
func UlawToLinear(c byte) int16 { return ulawDecode[c] }

// AlawFromLinear returns the A-law code of a 16-bit linear sample.
func AlawFromLinear(s int16) byte { return alawEncode[uint16(s)>>4] }

// AlawToLinear returns the 16-bit linear value of an A-law code.
func AlawToLinear(c byte) int16 { return alawDecode[c] }

// UlawToAlaw converts a µ-law code to the A-law code nearest in value.
func UlawToAlaw(c byte) byte { return ulawToAlaw[c] }

// AlawToUlaw converts an A-law code to the µ-law code nearest in value.
func AlawToUlaw(c byte) byte { return alawToUlaw[c] }

// EncodeUlaw encodes len(src) linear samples into dst as µ-law.
// dst must hold at least len(src) bytes.
func EncodeUlaw(dst []byte, src []int16) {
	dst = dst[:len(src)]
	for i, s := range src {
		dst[i] = ulawEncode[uint16(s)>>2]
	}
}

// DecodeUlaw decodes len(src) µ-law codes into dst.
// dst must hold at least len(src) samples.
func DecodeUlaw(dst []int16, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = ulawDecode[c]
	}
}

// EncodeAlaw encodes len(src) linear samples into dst as A-law.
// dst must hold at least len(src) bytes.
func EncodeAlaw(dst []byte, src []int16) {
	dst = dst[:len(src)]
	for i, s := range src {
		dst[i] = alawEncode[uint16(s)>>4]
	}
}

// DecodeAlaw decodes len(src) A-law codes into dst.
// dst must hold at least len(src) samples.
func DecodeAlaw(dst []int16, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = alawDecode[c]
	}
}

// TranscodeUlawToAlaw converts len(src) µ-law codes into A-law codes in dst,
// which may be src itself.
func TranscodeUlawToAlaw(dst, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = ulawToAlaw[c]
	}
}

// TranscodeAlawToUlaw converts len(src) A-law codes into µ-law codes in dst,
// which may be src itself.
func TranscodeAlawToUlaw(dst, src []byte) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = alawToUlaw[c]
	}
}
