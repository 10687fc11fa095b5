package si321x

import "fmt"

// PartNumber says which member of the family answered.
type PartNumber uint8

// Parts of the family. The Si3210 has a DTMF decoder and a pulse-metering
// generator; the Si3215 and Si3216 lack both and use a compressed indirect
// register map; the Si3216 adds a wideband codec. The M variants take
// different DC-DC converter settings. The Si3211 and Si3212 (external
// battery, no DC-DC controller) are identified but not supported.
const (
	Si3210 PartNumber = iota + 1
	Si3211
	Si3212
	Si3210M
	Si3215
	Si3216
	Si3215M
	Si3216M
)

var partNames = [...]string{"", "Si3210", "Si3211", "Si3212", "Si3210M", "Si3215", "Si3216", "Si3215M", "Si3216M"}

// String returns the part number as printed on the chip, e.g. "Si3215".
func (p PartNumber) String() string {
	if int(p) < len(partNames) && p != 0 {
		return partNames[p]
	}
	return fmt.Sprintf("PartNumber(%d)", uint8(p))
}

// Part identifies the chip: its part number and silicon revision.
type Part struct {
	Number PartNumber
	// Revision is DR0 b3:0: 1 = revision A, 2 = B, … (the code-to-letter
	// mapping is unconfirmed; pinned by TestPartString).
	Revision uint8
}

// Compact reports whether the part uses the Si3215/Si3216 indirect register
// map (DR1 b7 = 1).
func (p Part) Compact() bool { return p.Number >= Si3215 }

// M reports whether the part is an M variant, with its own DC-DC settings.
func (p Part) M() bool { return p.Number == Si3210M || p.Number == Si3215M || p.Number == Si3216M }

// RevisionLetter returns the revision as the letter printed in the
// datasheets: "A" for 1, "B" for 2, and so on.
func (p Part) RevisionLetter() string {
	if p.Revision == 0 || p.Revision > 26 {
		return "?"
	}
	return string(rune('A' + p.Revision - 1))
}

// String returns the part and revision, e.g. "Si3210 rev E".
func (p Part) String() string {
	return fmt.Sprintf("%v rev %s", p.Number, p.RevisionLetter())
}

// decodePart interprets DR0, DR1 and, for the compact parts, DR6.
func decodePart(dr0, dr1, dr6 uint8) Part {
	p := Part{Revision: dr0 & 0x0F}
	if dr1&0x80 != 0 {
		switch dr6 >> 5 {
		case 0b100:
			p.Number = Si3216
		case 0b011:
			p.Number = Si3215M
		case 0b111:
			p.Number = Si3216M
		default:
			p.Number = Si3215
		}
		return p
	}
	p.Number = [...]PartNumber{Si3210, Si3211, Si3212, Si3210M}[dr0>>4&3]
	return p
}
