package digitmap

import (
	"fmt"
	"time"
)

// Parse parses a digit map with the default timers (DefaultTimers). The
// map text may override the long and short timers with 'L:' and 'S:'.
func Parse(s string) (*Map, error) {
	return ParseWithDefaults(s, DefaultTimers())
}

// ParseWithDefaults parses a digit map whose timers default to defaults
// (typically the line's configured interdigit timers) where the map text
// does not set them with 'L:' or 'S:'.
func ParseWithDefaults(s string, defaults Timers) (*Map, error) {
	if err := defaults.validate(); err != nil {
		return nil, err
	}
	if len(s) > MaxMapLen {
		return nil, &SyntaxError{Pos: MaxMapLen + 1, Msg: fmt.Sprintf("map is longer than %d bytes", MaxMapLen), Err: ErrTooLarge}
	}
	p := parser{s: s}
	m, err := p.parseMap(defaults)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MustParse is like Parse but panics on error. It is meant for maps that
// are constants of a program.
func MustParse(s string) *Map {
	m, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return m
}

type parser struct {
	s string
	i int // next byte
}

// fail returns a SyntaxError at byte index i (0-based).
func (p *parser) fail(i int, sentinel error, format string, args ...any) error {
	return &SyntaxError{Pos: i + 1, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// quote shows a byte in an error message.
func quote(c byte) string {
	if c >= 0x20 && c < 0x7f {
		if c == '\'' {
			return `"'"`
		}
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) parseMap(defaults Timers) (*Map, error) {
	m := &Map{timers: defaults, longSecs: -1, shortSecs: -1}
	// Timer prefixes: "L:n," and "S:n," in any order, each at most once.
	for {
		p.skipSpace()
		if p.i+1 >= len(p.s) || p.s[p.i+1] != ':' {
			break
		}
		c := p.s[p.i] | 0x20
		if c != 'l' && c != 's' {
			break
		}
		at := p.i
		name := "L:"
		dst := &m.longSecs
		if c == 's' {
			name = "S:"
			dst = &m.shortSecs
		}
		if *dst >= 0 {
			return nil, p.fail(at, ErrSyntax, "'%s' given twice", name)
		}
		p.i += 2
		secs, err := p.seconds(at, name)
		if err != nil {
			return nil, err
		}
		*dst = secs
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ',' {
			return nil, p.fail(p.i, ErrSyntax, "expected ',' after '%s%d'", name, secs)
		}
		p.i++
	}
	if m.longSecs >= 0 {
		m.timers.Long = time.Duration(m.longSecs) * time.Second
	}
	if m.shortSecs >= 0 {
		m.timers.Short = time.Duration(m.shortSecs) * time.Second
	}

	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, p.fail(p.i, ErrSyntax, "empty map")
	}
	paren := -1 // index of the opening '(', if any
	if p.s[p.i] == '(' {
		paren = p.i
		p.i++
	}
	for {
		a, err := p.alternative(paren >= 0)
		if err != nil {
			return nil, err
		}
		if len(m.alts) == MaxAlternatives {
			return nil, p.fail(p.i, ErrTooLarge, "more than %d alternatives", MaxAlternatives)
		}
		m.alts = append(m.alts, a)
		if p.i >= len(p.s) {
			if paren >= 0 {
				return nil, p.fail(paren, ErrSyntax, "unclosed '('")
			}
			return m, nil
		}
		switch p.s[p.i] {
		case '|':
			p.i++
		case ')':
			if paren < 0 {
				return nil, p.fail(p.i, ErrSyntax, "unexpected ')' without '('")
			}
			p.i++
			p.skipSpace()
			if p.i < len(p.s) {
				return nil, p.fail(p.i, ErrSyntax, "unexpected %s after ')'", quote(p.s[p.i]))
			}
			return m, nil
		}
	}
}

// seconds reads a whole number of seconds for the timer named what that
// starts at index at.
func (p *parser) seconds(at int, what string) (int, error) {
	start := p.i
	v := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		if time.Duration(v)*time.Second > MaxTimer {
			return 0, p.fail(start, ErrTooLarge, "'%s' timer longer than %v", what, MaxTimer)
		}
	}
	if p.i == start {
		return 0, p.fail(at, ErrSyntax, "'%s' needs a number of seconds", what)
	}
	return v, nil
}

// alternative parses one alternative, stopping at '|', ')' or the end.
func (p *parser) alternative(inParen bool) (alt, error) {
	var a alt
	a.shortSecs = -1
	p.skipSpace()
	start := p.i
	groupAt := -1      // index of an open '<', or -1
	afterElem := false // the last token was an element ('.' may follow)
	modAt := -1        // index of the first modifier, or -1
	elemAt := func() error {
		if modAt >= 0 {
			return p.fail(p.i, ErrSyntax, "%s after %s: 'T', 'S' and '!' must end an alternative", quote(p.s[p.i]), quote(p.s[modAt]))
		}
		if len(a.elems) == MaxElements {
			return p.fail(p.i, ErrTooLarge, "more than %d elements in one alternative", MaxElements)
		}
		return nil
	}
	mod := func() error {
		if groupAt >= 0 {
			return p.fail(p.i, ErrSyntax, "%s inside '<…>'", quote(p.s[p.i]))
		}
		if modAt < 0 {
			modAt = p.i
		}
		afterElem = false
		return nil
	}
loop:
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			break
		}
		c := p.s[p.i]
		switch {
		case c == '|' || c == ')':
			break loop
		case symbol(c) >= 0 || c == 'x' || c == 'X' || c == '[':
			if err := elemAt(); err != nil {
				return a, err
			}
			var set uint16
			switch {
			case c == '[':
				var err error
				if set, err = p.set(); err != nil {
					return a, err
				}
			case c == 'x' || c == 'X':
				set = digitSet
				p.i++
			default:
				set = 1 << symbol(c)
				p.i++
			}
			a.elems = append(a.elems, elem{set: set})
			afterElem = true
		case c == '.':
			if !afterElem {
				return a, p.fail(p.i, ErrSyntax, "'.' must follow a digit, 'x' or '[…]'")
			}
			a.elems[len(a.elems)-1].star = true
			afterElem = false
			p.i++
		case c == '<':
			switch {
			case groupAt >= 0:
				return a, p.fail(p.i, ErrSyntax, "'<' inside '<…>'")
			case modAt >= 0:
				return a, p.fail(p.i, ErrSyntax, "'<' after %s: 'T', 'S' and '!' must end an alternative", quote(p.s[modAt]))
			}
			groupAt = p.i
			a.groups = append(a.groups, group{start: len(a.elems)})
			afterElem = false
			p.i++
		case c == ':':
			if groupAt < 0 {
				return a, p.fail(p.i, ErrSyntax, "':' outside '<…>'")
			}
			p.i++
			repl, err := p.replacement(groupAt)
			if err != nil {
				return a, err
			}
			g := &a.groups[len(a.groups)-1]
			g.end = len(a.elems)
			g.repl = repl
			groupAt = -1
			afterElem = false
		case c == '>':
			if groupAt >= 0 {
				return a, p.fail(p.i, ErrSyntax, "'<…>' needs ':' between what is dialled and what is sent")
			}
			return a, p.fail(p.i, ErrSyntax, "'>' without '<'")
		case c == 'T' || c == 't':
			if a.timeout {
				return a, p.fail(p.i, ErrSyntax, "'T' given twice")
			}
			if err := mod(); err != nil {
				return a, err
			}
			a.timeout = true
			p.i++
		case c == '!':
			if a.barred {
				return a, p.fail(p.i, ErrSyntax, "'!' given twice")
			}
			if err := mod(); err != nil {
				return a, err
			}
			a.barred = true
			p.i++
		case c == 'S' || c == 's':
			if a.shortSecs >= 0 {
				return a, p.fail(p.i, ErrSyntax, "'S' given twice")
			}
			if err := mod(); err != nil {
				return a, err
			}
			at := p.i
			p.i++
			secs, err := p.seconds(at, "S")
			if err != nil {
				return a, err
			}
			a.shortSecs = secs
		case c == 'L' || c == 'l':
			return a, p.fail(p.i, ErrUnsupported, "'L' inside an alternative is not supported; put 'L:n,' before the map")
		case c == 'P' || c == 'p':
			return a, p.fail(p.i, ErrUnsupported, "'P' (hot and warm line pause) is not supported")
		case c == ',':
			return a, p.fail(p.i, ErrUnsupported, "',' (second dial tone) is not supported")
		case c == '\'' || c == '"':
			return a, p.fail(p.i, ErrUnsupported, "quoted literals are not supported")
		case c == '(':
			if inParen {
				return a, p.fail(p.i, ErrSyntax, "'(' inside '(…)': parentheses do not nest")
			}
			return a, p.fail(p.i, ErrSyntax, "'(' must open the map")
		default:
			return a, p.fail(p.i, ErrSyntax, "unexpected %s", quote(c))
		}
	}
	if groupAt >= 0 {
		return a, p.fail(groupAt, ErrSyntax, "unclosed '<'")
	}
	if len(a.elems) == 0 {
		if modAt < 0 && len(a.groups) == 0 {
			return a, p.fail(start, ErrSyntax, "empty alternative")
		}
		return a, p.fail(start, ErrUnsupported, "alternative matches no digits (hot lines are not supported)")
	}
	a.compile()
	return a, nil
}

// set parses "[…]" starting at '['.
func (p *parser) set() (uint16, error) {
	open := p.i
	p.i++
	var set uint16
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return 0, p.fail(open, ErrSyntax, "unclosed '['")
		}
		c := p.s[p.i]
		if c == ']' {
			if set == 0 {
				return 0, p.fail(open, ErrSyntax, "empty set '[]'")
			}
			p.i++
			return set, nil
		}
		if c == '|' || c == ')' {
			return 0, p.fail(open, ErrSyntax, "unclosed '['")
		}
		lo := symbol(c)
		if lo < 0 {
			return 0, p.fail(p.i, ErrSyntax, "unexpected %s in '[…]'", quote(c))
		}
		at := p.i
		p.i++
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '-' {
			set |= 1 << lo
			continue
		}
		p.i++
		p.skipSpace()
		if p.i >= len(p.s) {
			return 0, p.fail(open, ErrSyntax, "unclosed '['")
		}
		hi := symbol(p.s[p.i])
		switch {
		case hi < 0:
			return 0, p.fail(p.i, ErrSyntax, "unexpected %s in '[…]'", quote(p.s[p.i]))
		case !(lo <= 9 && hi <= 9) && !(lo >= 12 && hi >= 12):
			return 0, p.fail(at, ErrSyntax, "a range joins two digits or two of A-D")
		case hi < lo:
			return 0, p.fail(at, ErrSyntax, "range %c-%c runs backwards", symbols[lo], symbols[hi])
		}
		p.i++
		for s := lo; s <= hi; s++ {
			set |= 1 << s
		}
	}
}

// replacement reads the right side of '<a:b>' up to and including '>'.
func (p *parser) replacement(groupAt int) (string, error) {
	var buf [MaxReplacement]byte
	n := 0
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return "", p.fail(groupAt, ErrSyntax, "unclosed '<'")
		}
		c := p.s[p.i]
		switch {
		case c == '>':
			p.i++
			return string(buf[:n]), nil
		case c == '|' || c == ')':
			return "", p.fail(groupAt, ErrSyntax, "unclosed '<'")
		case c == '+' || symbol(c) >= 0:
			if n == MaxReplacement {
				return "", p.fail(p.i, ErrTooLarge, "replacement longer than %d characters", MaxReplacement)
			}
			if c >= 'a' && c <= 'd' {
				c -= 'a' - 'A'
			}
			buf[n] = c
			n++
			p.i++
		default:
			return "", p.fail(p.i, ErrSyntax, "unexpected %s in the replacement of '<…:…>'", quote(c))
		}
	}
}
