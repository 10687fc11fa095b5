package digitmap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits. They keep parsing and matching cheap whatever text a user or a
// provisioning server supplies.
const (
	MaxMapLen       = 4096             // bytes of map text
	MaxAlternatives = 128              // alternatives in one map
	MaxElements     = 63               // digit-matching elements in one alternative
	MaxReplacement  = 32               // characters on the right of one '<a:b>'
	MaxDigits       = 64               // digits collected in one call
	MaxTimer        = 10 * time.Minute // longest timer, in the map or as a default
)

// Default timer values, those of SPA-family adapters.
const (
	DefaultInitial = 10 * time.Second // off-hook to first digit (dial tone timeout)
	DefaultLong    = 10 * time.Second // between digits while no alternative is complete
	DefaultShort   = 3 * time.Second  // between digits once an alternative is complete
)

// Timers are the three timers a line arms while a number is dialled.
type Timers struct {
	// Initial runs from off-hook (dial tone) to the first digit.
	Initial time.Duration
	// Long runs between digits while no alternative matches the digits
	// dialled so far but some alternative still could.
	Long time.Duration
	// Short runs between digits while some alternative matches the digits
	// dialled so far and more digits could still change the outcome.
	Short time.Duration
}

// DefaultTimers returns DefaultInitial, DefaultLong and DefaultShort.
func DefaultTimers() Timers {
	return Timers{Initial: DefaultInitial, Long: DefaultLong, Short: DefaultShort}
}

func (t Timers) validate() error {
	for _, v := range [...]struct {
		name string
		d    time.Duration
	}{{"initial", t.Initial}, {"long", t.Long}, {"short", t.Short}} {
		if v.d < 0 || v.d > MaxTimer {
			return fmt.Errorf("%w: %s timer %v is outside 0…%v", ErrTimer, v.name, v.d, MaxTimer)
		}
	}
	return nil
}

// Map is a parsed digit map. It is immutable and safe for concurrent use;
// each call gets its own Matcher from Start.
type Map struct {
	timers    Timers
	longSecs  int // L: value from the text, or -1
	shortSecs int // S: value from the text, or -1
	alts      []alt
}

// alt is one alternative compiled for bit-parallel matching: position p
// (0…n) is "p elements consumed"; bit p of a state word is set when the
// digits so far can end at position p.
type alt struct {
	elems  []elem
	groups []group
	n      int        // number of elements
	match  [16]uint64 // per symbol: positions whose element accepts it
	star   uint64     // positions whose element may repeat ('.')
	drop   uint64     // positions inside the left side of a '<a:b>'
	init   uint64     // start state (position 0 and what '.' lets it skip)
	final  uint64     // bit n
	inner  uint64     // bits 0…n-1
	// Modifiers.
	timeout   bool // 'T': complete only when the timer expires
	barred    bool // '!': a match bars the call
	shortSecs int  // 'Sn': short timer override in seconds, or -1
}

type elem struct {
	set  uint16 // accepted symbols, bit i = symbol i
	star bool
}

// group is one '<a:b>': the elements start…end-1 are dropped from the
// number sent and repl is sent in their place.
type group struct {
	start, end int
	repl       string
}

// Symbols are indexed 0…15: '0'…'9', '*', '#', 'A'…'D'.
const symbols = "0123456789*#ABCD"

const digitSet uint16 = 1<<10 - 1 // what 'x' accepts

// symbol returns the index of a dial character, or -1.
func symbol(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c == '*':
		return 10
	case c == '#':
		return 11
	case c >= 'A' && c <= 'D':
		return int(c-'A') + 12
	case c >= 'a' && c <= 'd':
		return int(c-'a') + 12
	}
	return -1
}

// compile fills the bit masks of a from its elements and groups.
func (a *alt) compile() {
	a.n = len(a.elems)
	for p, e := range a.elems {
		bit := uint64(1) << p
		for s := range 16 {
			if e.set&(1<<s) != 0 {
				a.match[s] |= bit
			}
		}
		if e.star {
			a.star |= bit
		}
	}
	for _, g := range a.groups {
		for p := g.start; p < g.end; p++ {
			a.drop |= 1 << p
		}
	}
	a.final = 1 << a.n
	a.inner = a.final - 1
	a.init = a.closure(1)
}

// closure adds to s every position reachable by skipping repeatable
// elements (zero repetitions).
func (a *alt) closure(s uint64) uint64 {
	for {
		t := s | (s&a.star)<<1
		if t == s {
			return s
		}
		s = t
	}
}

// step advances state s over the symbol sym.
func (a *alt) step(s uint64, sym int) uint64 {
	mm := s & a.match[sym]
	return a.closure(mm&a.star | (mm&^a.star)<<1)
}

// Timers returns the timers in effect: the defaults given to the parser,
// overridden by any 'L:' and 'S:' prefix in the map text.
func (m *Map) Timers() Timers { return m.timers }

// Len returns the number of alternatives.
func (m *Map) Len() int { return len(m.alts) }

// Alternative returns alternative i (0-based, in map order) in canonical
// form, as String writes it.
func (m *Map) Alternative(i int) string {
	var b strings.Builder
	m.alts[i].write(&b)
	return b.String()
}

// String returns the map in canonical form: 'L:' and 'S:' prefixes if the
// text had them, the alternatives in parentheses, no spaces, upper-case
// letters, sets and modifiers normalised. Parsing the result gives an
// equivalent Map.
func (m *Map) String() string {
	var b strings.Builder
	if m.longSecs >= 0 {
		b.WriteString("L:" + strconv.Itoa(m.longSecs) + ",")
	}
	if m.shortSecs >= 0 {
		b.WriteString("S:" + strconv.Itoa(m.shortSecs) + ",")
	}
	b.WriteByte('(')
	for i := range m.alts {
		if i > 0 {
			b.WriteByte('|')
		}
		m.alts[i].write(&b)
	}
	b.WriteByte(')')
	return b.String()
}

func (a *alt) write(b *strings.Builder) {
	gi := 0
	open := -1 // end of the group being written, or -1
	for p := 0; p <= a.n; p++ {
		if open == p {
			b.WriteString(":" + a.groups[gi-1].repl + ">")
			open = -1
		}
		for gi < len(a.groups) && a.groups[gi].start == p {
			g := a.groups[gi]
			gi++
			if g.end == g.start {
				b.WriteString("<:" + g.repl + ">")
				continue
			}
			b.WriteByte('<')
			open = g.end
			break
		}
		if p == a.n {
			break
		}
		writeSet(b, a.elems[p].set)
		if a.elems[p].star {
			b.WriteByte('.')
		}
	}
	if a.timeout {
		b.WriteByte('T')
	}
	if a.shortSecs >= 0 {
		b.WriteString("S" + strconv.Itoa(a.shortSecs))
	}
	if a.barred {
		b.WriteByte('!')
	}
}

func writeSet(b *strings.Builder, set uint16) {
	if set == digitSet {
		b.WriteByte('x')
		return
	}
	if set&(set-1) == 0 { // one symbol
		for s := range 16 {
			if set == 1<<s {
				b.WriteByte(symbols[s])
			}
		}
		return
	}
	b.WriteByte('[')
	writeRuns(b, set, 0, 10)
	writeRuns(b, set, 10, 12) // '*' and '#' do not form ranges
	writeRuns(b, set, 12, 16)
	b.WriteByte(']')
}

// writeRuns writes the symbols lo…hi-1 of set, runs of three or more as
// a range.
func writeRuns(b *strings.Builder, set uint16, lo, hi int) {
	for s := lo; s < hi; {
		if set&(1<<s) == 0 {
			s++
			continue
		}
		e := s
		for e+1 < hi && set&(1<<(e+1)) != 0 && lo != 10 {
			e++
		}
		switch {
		case e-s >= 2:
			b.WriteByte(symbols[s])
			b.WriteByte('-')
			b.WriteByte(symbols[e])
		default:
			for i := s; i <= e; i++ {
				b.WriteByte(symbols[i])
			}
		}
		s = e + 1
	}
}
