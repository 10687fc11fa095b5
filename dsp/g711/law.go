package g711

import (
	"fmt"
	"strings"
)

// Law names one of the two G.711 companding laws. The zero value is not a
// valid law, so that a forgotten setting shows up as an error.
type Law uint8

// The two laws of G.711.
const (
	// Ulaw is µ-law, RTP encoding name PCMU.
	Ulaw Law = iota + 1
	// Alaw is A-law, RTP encoding name PCMA.
	Alaw
)

// String returns the RTP/SDP encoding name of the law: "PCMU" or "PCMA".
func (l Law) String() string {
	switch l {
	case Ulaw:
		return "PCMU"
	case Alaw:
		return "PCMA"
	}
	return fmt.Sprintf("Law(%d)", uint8(l))
}

// Valid reports whether l is Ulaw or Alaw.
func (l Law) Valid() bool { return l == Ulaw || l == Alaw }

// PayloadType returns the static RTP payload type of the law (0 or 8), and
// -1 for an invalid law.
func (l Law) PayloadType() int {
	switch l {
	case Ulaw:
		return PayloadPCMU
	case Alaw:
		return PayloadPCMA
	}
	return -1
}

// Encode encodes len(src) linear samples into dst in this law.
// dst must hold at least len(src) bytes. It panics on an invalid law.
func (l Law) Encode(dst []byte, src []int16) {
	switch l {
	case Ulaw:
		EncodeUlaw(dst, src)
	case Alaw:
		EncodeAlaw(dst, src)
	default:
		panic("g711: Encode with invalid " + l.String())
	}
}

// Decode decodes len(src) codes of this law into dst.
// dst must hold at least len(src) samples. It panics on an invalid law.
func (l Law) Decode(dst []int16, src []byte) {
	switch l {
	case Ulaw:
		DecodeUlaw(dst, src)
	case Alaw:
		DecodeAlaw(dst, src)
	default:
		panic("g711: Decode with invalid " + l.String())
	}
}

// Silence returns the code of a zero sample in this law (0xFF for µ-law,
// 0xD5 for A-law), for filling comfort silence without encoding.
func (l Law) Silence() byte {
	if l == Alaw {
		return AlawFromLinear(0)
	}
	return UlawFromLinear(0)
}

// LawFromPayloadType returns the law of a static RTP payload type.
func LawFromPayloadType(pt int) (Law, error) {
	switch pt {
	case PayloadPCMU:
		return Ulaw, nil
	case PayloadPCMA:
		return Alaw, nil
	}
	return 0, fmt.Errorf("g711: payload type %d is neither PCMU (0) nor PCMA (8)", pt)
}

// ParseLaw parses a law name, case-insensitively: "PCMU", "ulaw", "mulaw",
// "u-law", "µ-law" for µ-law and "PCMA", "alaw", "a-law" for A-law.
func ParseLaw(name string) (Law, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "pcmu", "ulaw", "u-law", "mulaw", "mu-law", "µ-law", "µlaw", "g711u":
		return Ulaw, nil
	case "pcma", "alaw", "a-law", "g711a":
		return Alaw, nil
	}
	return 0, fmt.Errorf("g711: unknown law %q (want PCMU or PCMA)", name)
}
