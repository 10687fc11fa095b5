package si321x_test

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"
)

// The register transcript format of the golden files and the expected
// sequences in these tests: one line per register access, as the driver
// does it, two chip-select frames each.
//
//	W DR64 0x01          write 0x01 to direct register 64
//	R DR68 -> 0x01       read direct register 64; the chip answers 0x01
//	# text               a comment; so is anything after '#' on a line
//
// The recorder annotates the indirect transfers it sees with comments.

// access is one register access.
type access struct {
	read bool
	reg  uint8
	val  uint8
}

func (a access) String() string {
	if a.read {
		return fmt.Sprintf("R DR%d -> 0x%02X", a.reg, a.val)
	}
	return fmt.Sprintf("W DR%d 0x%02X", a.reg, a.val)
}

// parseTranscript reads the transcript format.
func parseTranscript(t testing.TB, text string) []access {
	t.Helper()
	var out []access
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func() { t.Fatalf("transcript line %d: cannot parse %q", n, sc.Text()) }
		if len(f) < 3 || !strings.HasPrefix(f[1], "DR") {
			bad()
		}
		reg, err := strconv.ParseUint(f[1][2:], 10, 7)
		if err != nil {
			bad()
		}
		a := access{reg: uint8(reg)}
		vs := f[2]
		switch {
		case f[0] == "R" && len(f) == 4 && f[2] == "->":
			a.read, vs = true, f[3]
		case f[0] == "W" && len(f) == 3:
		default:
			bad()
		}
		v, err := strconv.ParseUint(vs, 0, 8)
		if err != nil {
			bad()
		}
		a.val = uint8(v)
		out = append(out, a)
	}
	return out
}

// playback returns an spi.Conn that expects exactly the accesses of text,
// byte per chip-select frame, and fails the test at the end if any is left.
func playback(t *testing.T, text string) *spitest.Playback {
	t.Helper()
	p := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, DontPanic: true}}
	for _, a := range parseTranscript(t, text) {
		if a.read {
			p.Ops = append(p.Ops, conntest.IO{W: []byte{a.reg | 0x80}}, conntest.IO{W: []byte{0}, R: []byte{a.val}})
		} else {
			p.Ops = append(p.Ops, conntest.IO{W: []byte{a.reg}}, conntest.IO{W: []byte{a.val}})
		}
	}
	return p
}

// connOf connects to a playback port.
func connOf(t *testing.T, p *spitest.Playback) spi.Conn {
	t.Helper()
	c, err := p.Connect(0, spi.Mode3, 8)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// done checks that the driver used up the whole playback.
func done(t *testing.T, p *spitest.Playback) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Fatalf("%v (played %d of %d chip-select frames; next expected access: %s)",
			err, p.Count, len(p.Ops), describeOp(p.Ops, p.Count))
	}
}

func describeOp(ops []conntest.IO, i int) string {
	if i >= len(ops) || len(ops[i].W) == 0 {
		return "none"
	}
	w := ops[i].W[0]
	if w&0x80 != 0 && i+1 < len(ops) && len(ops[i+1].R) == 1 {
		return access{read: true, reg: w & 0x7F, val: ops[i+1].R[0]}.String()
	}
	if i+1 < len(ops) && len(ops[i+1].W) == 1 {
		return access{reg: w, val: ops[i+1].W[0]}.String()
	}
	return fmt.Sprintf("frame %#v", ops[i].W)
}

// recorder wraps an spi.Conn and writes the transcript of what goes over
// it, pairing control and data frames into accesses and annotating the
// indirect transfers.
type recorder struct {
	spi.Conn
	mu      sync.Mutex
	ctrl    int // pending control byte, or -1
	lines   []string
	ida     [2]uint8
	written bool
	lastIAA uint8
}

func newRecorder(c spi.Conn) *recorder { return &recorder{Conn: c, ctrl: -1} }

func (r *recorder) Tx(w, rd []byte) error {
	if err := r.Conn.Tx(w, rd); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(w) != 1 {
		r.lines = append(r.lines, fmt.Sprintf("# frame of %d bytes: %#v", len(w), w))
		return nil
	}
	if r.ctrl < 0 {
		r.ctrl = int(w[0])
		return nil
	}
	c := uint8(r.ctrl)
	r.ctrl = -1
	a := access{read: c&0x80 != 0, reg: c & 0x7F, val: w[0]}
	if a.read {
		a.val = rd[0]
	}
	line := a.String()
	switch {
	case !a.read && (a.reg == 28 || a.reg == 29):
		r.ida[a.reg-28], r.written = a.val, true
	case !a.read && a.reg == 30:
		if r.written {
			line += fmt.Sprintf("  # indirect [%d] = 0x%04X", a.val, uint16(r.ida[1])<<8|uint16(r.ida[0]))
		} else {
			line += fmt.Sprintf("  # indirect [%d] read", a.val)
		}
		r.written, r.lastIAA = false, a.val
	case a.read && a.reg == 29:
		line += fmt.Sprintf("  # indirect [%d] is 0x%02X%02X", r.lastIAA, a.val, r.ida[0])
	case a.read && a.reg == 28:
		r.ida[0] = a.val
	}
	r.lines = append(r.lines, line)
	return nil
}

func (r *recorder) transcript() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n") + "\n"
}
