package callerid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func when(mo time.Month, d, h, m int) time.Time { return time.Date(0, mo, d, h, m, 0, 0, time.UTC) }

// Known answers. The SDMF number example and the MDMF example are the ones
// printed with the GR-30 message formats in application notes since the
// 1990s (September 30, 12:24, 609-555-1212; March 24, 09:02, JOHN DOE,
// 800-555-1212). The 19-octet pair comes from a Chinese CID chip note.
var knownAnswers = []struct {
	name string
	hex  string
	want Message
}{
	{"SDMF number", "04 12 30 39 33 30 31 32 32 34 36 30 39 35 35 35 31 32 31 32 51",
		Message{Type: TypeSDMFCallSetup, Info: Info{Time: when(9, 30, 12, 24), Number: "6095551212"}}},
	{"SDMF 11 digits", "04 13 31 30 31 30 31 37 32 31 31 33 37 30 32 33 38 38 30 31 30 2B",
		Message{Type: TypeSDMFCallSetup, Info: Info{Time: when(10, 10, 17, 21), Number: "13702388010"}}},
	{"MDMF date and number", "80 13 01 08 30 36 30 31 31 34 32 35 02 07 32 35 37 35 36 36 36 53",
		Message{Type: TypeCallSetup, Info: Info{Time: when(6, 1, 14, 25), Number: "2575666"}}},
	// The blocked-call SDMF example is printed with checksum 12, and the
	// MDMF JOHN DOE example with 7D; neither sums to zero. These are the
	// same octets with the checksums the standard's rule gives (0E, 84).
	{"SDMF private (checksum corrected)", "04 09 30 39 33 30 31 32 32 34 50 0E",
		Message{Type: TypeSDMFCallSetup, Info: Info{Time: when(9, 30, 12, 24), NumberAbsence: Private}}},
	{"MDMF name before number (checksum corrected)",
		"80 20 01 08 30 33 32 34 30 39 30 32 07 08 4A 4F 48 4E 20 44 4F 45 02 0A 38 30 30 35 35 35 31 32 31 32 84",
		Message{Type: TypeCallSetup, Info: Info{Time: when(3, 24, 9, 2), Number: "8005551212", Name: "JOHN DOE"}}},
	{"SDMF VMWI on", "06 03 42 42 42 31", Message{Type: TypeSDMFMessageWaiting, Waiting: Waiting{Active: true}}},
	{"SDMF VMWI off", "06 03 6F 6F 6F AA", Message{Type: TypeSDMFMessageWaiting}},
	{"MDMF VMWI on", "82 03 0B 01 FF 70", Message{Type: TypeMessageWaiting, Waiting: Waiting{Active: true}}},
	{"MDMF VMWI off", "82 03 0B 01 00 6F", Message{Type: TypeMessageWaiting}},
}

func TestKnownAnswers(t *testing.T) {
	for _, ka := range knownAnswers {
		t.Run(ka.name, func(t *testing.T) {
			b := unhex(t, ka.hex)
			var m Message
			if err := m.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, ka.want) {
				t.Fatalf("decoded %+v\nwant    %+v", m, ka.want)
			}
			// The raw layer reproduces every octet, whatever the order.
			typ, body, n, err := ParseFrame(b)
			if err != nil || n != len(b) {
				t.Fatalf("ParseFrame: %v, %d", err, n)
			}
			if typ.IsMDMF() {
				ps, err := ParseParams(body)
				if err != nil {
					t.Fatal(err)
				}
				if body, err = AppendParams(nil, ps...); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := AppendFrame(nil, typ, body)
			if err != nil || !bytes.Equal(raw, b) {
				t.Fatalf("raw re-encoding % X, %v", raw, err)
			}
			// Message encodes in canonical order: identical for all but the
			// name-first example, which must still decode the same.
			enc, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(ka.name, "name before number") && !bytes.Equal(enc, b) {
				t.Fatalf("encoded % X\nwant    % X", enc, b)
			}
			var back Message
			if err := back.UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(back, m) {
				t.Fatalf("re-decoded %+v, %v", back, err)
			}
		})
	}
}

// TestPublishedChecksumErrata pins that the two examples as printed fail
// the checksum, so the parser is not accepting them by accident.
func TestPublishedChecksumErrata(t *testing.T) {
	for _, h := range []string{
		"04 09 30 39 33 30 31 32 32 34 50 12",
		"80 20 01 08 30 33 32 34 30 39 30 32 07 08 4A 4F 48 4E 20 44 4F 45 02 0A 38 30 30 35 35 35 31 32 31 32 7D",
	} {
		var m Message
		if err := m.UnmarshalBinary(unhex(t, h)); !errors.Is(err, ErrChecksum) {
			t.Errorf("%s: %v, want ErrChecksum", h, err)
		}
	}
}

func TestChecksum(t *testing.T) {
	for _, ka := range knownAnswers {
		b := unhex(t, ka.hex)
		if c := Checksum(b[:len(b)-1]); c != b[len(b)-1] {
			t.Errorf("%s: Checksum = %02X, want %02X", ka.name, c, b[len(b)-1])
		}
	}
}

func frame(t testing.TB, typ MessageType, body string) []byte {
	b, err := AppendFrame(nil, typ, unhex(t, body))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	good := unhex(t, knownAnswers[0].hex)
	badSum := append([]byte(nil), good...)
	badSum[len(badSum)-1]++
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"type only", []byte{0x80}, ErrTruncated},
		{"short body", good[:10], ErrTruncated},
		{"no checksum", good[:len(good)-1], ErrTruncated},
		{"bad checksum", badSum, ErrChecksum},
		{"trailing", append(append([]byte(nil), good...), 0), ErrTrailingData},
		{"unknown SDMF type", frame(t, 0x05, "30"), ErrUnknownType},
		{"param length overflow", frame(t, 0x80, "02 05 31 32"), ErrLengthOverflow},
		{"param without length", frame(t, 0x80, "02 01 31 07"), ErrLengthOverflow},
		{"month 13", frame(t, 0x80, "01 08 3133303131323030"), ErrBadDateTime},
		{"30 February", frame(t, 0x80, "01 08 3032333031323030"), ErrBadDateTime},
		{"hour 24", frame(t, 0x80, "01 08 3031303132343030"), ErrBadDateTime},
		{"date not digits", frame(t, 0x80, "01 08 30312D3031323030"), ErrBadDateTime},
		{"date short", frame(t, 0x80, "01 07 30313031323030"), ErrBadDateTime},
		{"SDMF short", frame(t, 0x04, "3031303131323030"), ErrTruncated},
		{"absence X", frame(t, 0x80, "04 01 58"), ErrBadAbsence},
		{"absence long", frame(t, 0x80, "08 02 4F 4F"), ErrBadAbsence},
		{"number and absence", frame(t, 0x80, "02 01 31 04 01 4F"), ErrConflict},
		{"duplicate number", frame(t, 0x80, "02 01 31 02 01 32"), ErrDuplicate},
		{"control character", frame(t, 0x80, "07 02 41 07"), ErrBadText},
		{"empty name", frame(t, 0x80, "07 00"), ErrBadValue},
		{"indicator 01", frame(t, 0x82, "0B 01 01"), ErrBadValue},
		{"MWI without indicator", frame(t, 0x82, "13 01 02"), ErrMissing},
		{"indicator in call setup", frame(t, 0x80, "0B 01 FF"), ErrBadValue},
		{"SDMF VMWI mixed", frame(t, 0x06, "42 6F 42"), ErrBadValue},
		{"SDMF VMWI long", frame(t, 0x06, "42 42 42 42"), ErrBadValue},
		{"call type 0", frame(t, 0x80, "11 01 00"), ErrBadValue},
	}
	for _, c := range cases {
		var m Message
		err := m.UnmarshalBinary(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s (% X): %v, want %v", c.name, c.b, err, c.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	now := when(11, 24, 13, 5)
	long := strings.Repeat("N", 256)
	cases := []struct {
		name string
		m    Message
		want error
	}{
		{"SDMF no time", Message{Type: TypeSDMFCallSetup, Info: Info{Number: "1"}}, ErrMissing},
		{"SDMF no number", Message{Type: TypeSDMFCallSetup, Info: Info{Time: now}}, ErrMissing},
		{"SDMF name", Message{Type: TypeSDMFCallSetup, Info: Info{Time: now, Number: "1", Name: "A"}}, ErrBadValue},
		{"SDMF number P", Message{Type: TypeSDMFCallSetup, Info: Info{Time: now, Number: "P"}}, ErrBadValue},
		{"conflict", NewCallSetup(Info{Number: "1", NumberAbsence: Private}), ErrConflict},
		{"bad absence", NewCallSetup(Info{NameAbsence: 'X'}), ErrBadAbsence},
		{"control character", NewCallSetup(Info{Name: "A\n"}), ErrBadText},
		{"long param", NewCallSetup(Info{Name: long}), ErrTooLong},
		{"long message", NewCallSetup(Info{Name: long[:200], Number: long[:60]}), ErrTooLong},
		{"mapped in Extra", Message{Type: TypeCallSetup, Extra: []Param{{ParamName, []byte("A")}}}, ErrBadValue},
		{"unknown type", Message{Type: 0x05}, ErrUnknownType},
		{"count 300", Message{Type: TypeMessageWaiting, Waiting: Waiting{HasCount: true, Count: 300}}, ErrBadValue},
	}
	for _, c := range cases {
		if _, err := c.m.MarshalBinary(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestETSIParameters round-trips a call set-up with every parameter this
// package maps and one it does not.
func TestETSIParameters(t *testing.T) {
	m := Message{
		Type: TypeCallSetup,
		Info: Info{
			Time: when(2, 29, 23, 59), Number: "0123456789", NameAbsence: Unavailable,
			CalledNumber: "555", FirstCalledNumber: "556", RedirectingNumber: "557", CallType: CallVoice,
		},
		Extra: []Param{{ParamForwardedCallType, []byte{0x01}}, {ParamCallingUserType, []byte{0x0A}}},
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "80 31 01 08 3032323932333539 02 0A 30313233343536373839 08 01 4F 03 03 353535 12 03 353536 1A 03 353537 11 01 01 15 01 01 16 01 0A"
	w := unhex(t, want)
	w = append(w, Checksum(w))
	if !bytes.Equal(b, w) {
		t.Fatalf("encoded % X\nwant    % X", b, w)
	}
	var back Message
	if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	mwi := Message{Type: TypeMessageWaiting, Waiting: Waiting{Active: true, Count: 3, HasCount: true}, Info: Info{Time: when(1, 1, 0, 0)}}
	b, _ = mwi.MarshalBinary()
	if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(back, mwi) {
		t.Fatalf("MWI decoded %+v, %v", back, err)
	}
}

func randomMessage(rng *rand.Rand) Message {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	text := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x5F))
		}
		return string(b)
	}
	tm := when(time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60))
	switch rng.IntN(4) {
	case 0:
		i := Info{Time: tm}
		if rng.IntN(3) == 0 {
			i.NumberAbsence = []Absence{Unavailable, Private}[rng.IntN(2)]
		} else {
			i.Number = digits(1 + rng.IntN(15))
		}
		return Message{Type: TypeSDMFCallSetup, Info: i}
	case 1:
		return Message{Type: TypeSDMFMessageWaiting, Waiting: Waiting{Active: rng.IntN(2) == 0}}
	case 2:
		return Message{Type: TypeMessageWaiting, Waiting: Waiting{Active: rng.IntN(2) == 0}}
	}
	i := Info{}
	if rng.IntN(4) > 0 {
		i.Time = tm
	}
	switch rng.IntN(3) {
	case 0:
		i.Number = digits(1 + rng.IntN(20))
	case 1:
		i.NumberAbsence = Private
	}
	switch rng.IntN(3) {
	case 0:
		i.Name = text(1 + rng.IntN(30))
	case 1:
		i.NameAbsence = Unavailable
	}
	return NewCallSetup(i)
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		m := randomMessage(rng)
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		var back Message
		if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("%+v\n→ % X\n→ %+v, %v", m, b, back, err)
		}
	}
}

// FuzzParse: any input either fails with a sentinel error or decodes to a
// message that encodes and decodes to itself.
func FuzzParse(f *testing.F) {
	for _, ka := range knownAnswers {
		f.Add(unhex(f, ka.hex))
	}
	f.Add([]byte{0x80, 0x02, 0x02, 0xFF, 0x7D})
	sentinels := []error{ErrTruncated, ErrChecksum, ErrLengthOverflow, ErrUnknownType, ErrBadDateTime,
		ErrBadAbsence, ErrBadText, ErrBadValue, ErrDuplicate, ErrConflict, ErrMissing}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := Parse(b)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without sentinel: %v", err)
		}
		if n < 3 || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		var back Message
		if err := back.UnmarshalBinary(enc); err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("%+v → % X → %+v, %v", m, enc, back, err)
		}
	})
}

func TestDTMFStrings(t *testing.T) {
	for _, c := range []struct {
		info Info
		s    string
	}{
		{Info{Number: "4512345678"}, "A4512345678C"},
		{Info{NumberAbsence: Unavailable}, "D00C"},
		{Info{NumberAbsence: Private}, "D10C"},
	} {
		s, err := FormatDTMF(c.info)
		if err != nil || s != c.s {
			t.Errorf("FormatDTMF(%+v) = %q, %v; want %q", c.info, s, err, c.s)
		}
		if i, err := ParseDTMF(c.s); err != nil || i != c.info {
			t.Errorf("ParseDTMF(%q) = %+v, %v", c.s, i, err)
		}
	}
	if i, err := ParseDTMF("A123#"); err != nil || i.Number != "123" {
		t.Errorf("# end: %+v, %v", i, err)
	}
	for _, bad := range []string{"", "AC", "B123C", "A12*3C", "A123", "D99C"} {
		if _, err := ParseDTMF(bad); err == nil {
			t.Errorf("ParseDTMF(%q) accepted", bad)
		}
	}
	for _, bad := range []Info{{}, {Number: "12a"}, {Number: "1", NumberAbsence: Private}} {
		if _, err := FormatDTMF(bad); err == nil {
			t.Errorf("FormatDTMF(%+v) accepted", bad)
		}
	}
}

func FuzzParseDTMF(f *testing.F) {
	f.Add("A123C")
	f.Add("D10C")
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseDTMF(s)
		if err != nil {
			return
		}
		back, err := FormatDTMF(info)
		if err != nil {
			t.Fatalf("%q → %+v does not format: %v", s, info, err)
		}
		if again, err := ParseDTMF(back); err != nil || again != info {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, info, back, again, err)
		}
	})
}
