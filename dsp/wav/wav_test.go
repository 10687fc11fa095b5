package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := Audio{Rate: 8000, Samples: []int16{0, 1, -1, 32767, -32768, 1234}}
	b := Bytes(in)
	if len(b) != 44+12 {
		t.Fatalf("encoded %d bytes, want 56", len(b))
	}
	out, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if out.Rate != 8000 || len(out.Samples) != len(in.Samples) {
		t.Fatalf("got rate %d, %d samples", out.Rate, len(out.Samples))
	}
	for i := range in.Samples {
		if in.Samples[i] != out.Samples[i] {
			t.Fatalf("sample %d: %d != %d", i, out.Samples[i], in.Samples[i])
		}
	}
}

func TestSkipsExtraChunks(t *testing.T) {
	b := Bytes(Audio{Rate: 8000, Samples: []int16{7, 8}})
	// Insert an odd-sized LIST chunk (with its pad byte) between fmt and data.
	list := []byte("LIST\x03\x00\x00\x00abc\x00")
	mixed := append(append(append([]byte{}, b[:36]...), list...), b[36:]...)
	binary.LittleEndian.PutUint32(mixed[4:], uint32(len(mixed)-8))
	out, err := Decode(bytes.NewReader(mixed))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Samples) != 2 || out.Samples[1] != 8 {
		t.Fatalf("got %v", out.Samples)
	}
}

func TestRejects(t *testing.T) {
	stereo := Bytes(Audio{Rate: 8000, Samples: []int16{1, 2}})
	binary.LittleEndian.PutUint16(stereo[22:], 2)
	for name, tc := range map[string]struct {
		b   []byte
		err error
	}{
		"empty":  {nil, ErrNotWAV},
		"text":   {[]byte("hello world, this is not audio"), ErrNotWAV},
		"stereo": {stereo, ErrUnsupported},
		"nodata": {Bytes(Audio{Rate: 8000})[:36], ErrNoData},
	} {
		if _, err := Decode(bytes.NewReader(tc.b)); !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Bytes(Audio{Rate: 8000, Samples: []int16{1, 2, 3}}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := Decode(bytes.NewReader(Bytes(a)))
		if err != nil || len(again.Samples) != len(a.Samples) {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
	})
}
