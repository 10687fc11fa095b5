package digitmap

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{" ( 911 | 1 [2-9] XXX ) ", "(911|1[2-9]xxx)"},
		{"911", "(911)"},
		{"[0123456789]", "(x)"},
		{"[0-9*]", "([0-9*])"},
		{"[1234]", "([1-4])"},
		{"[12]", "([12])"},
		{"[5]", "(5)"},
		{"[#*a-d]", "([*#A-D])"},
		{"[abd]", "([ABD])"},
		{"[1-35-7]", "([1-35-7])"},
		{"<:+1>xxx", "(<:+1>xxx)"},
		{"<9:>x.", "(<9:>x.)"},
		{"<1:2><3:4>", "(<1:2><3:4>)"},
		{"x<:9>", "(x<:9>)"},
		{"<:1><:2>x<:3>", "(<:1><:2>x<:3>)"},
		{"<x.:a>", "(<x.:A>)"},
		{"xS0T!", "(xTS0!)"},
		{"x!s12t", "(xTS12!)"},
		{"l:5,s:2,x", "L:5,S:2,(x)"},
		{"S:0,(x)", "S:0,(x)"},
		{"1 900 xxx xxxx !|1 xxx xxxxxxx", "(1900xxxxxxx!|1xxxxxxxxxx)"},
	} {
		m, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := m.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	m := MustParse("L:7,(911 S0 | <:+1> [2-9]xx xxx xxxx)")
	if m.Len() != 2 {
		t.Errorf("Len = %d", m.Len())
	}
	if got := m.Alternative(1); got != "<:+1>[2-9]xxxxxxxxx" {
		t.Errorf("Alternative(1) = %q", got)
	}
	if got := m.Timers(); got.Long != 7*time.Second || got.Short != DefaultShort || got.Initial != DefaultInitial {
		t.Errorf("Timers = %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		err  error
		want string // the whole message
	}{
		{"(911|1[2-9]xx<9", ErrSyntax, "digitmap: position 14: unclosed '<'"},
		{"", ErrSyntax, "digitmap: position 1: empty map"},
		{"   ", ErrSyntax, "digitmap: position 4: empty map"},
		{"(911", ErrSyntax, "digitmap: position 1: unclosed '('"},
		{"(1<9:12|5)", ErrSyntax, "digitmap: position 3: unclosed '<'"},
		{"(1<9:x>)", ErrSyntax, "digitmap: position 6: unexpected 'x' in the replacement of '<…:…>'"},
		{"(x[2-9)", ErrSyntax, "digitmap: position 3: unclosed '['"},
		{"(x[2-9", ErrSyntax, "digitmap: position 3: unclosed '['"},
		{"(x[2-", ErrSyntax, "digitmap: position 3: unclosed '['"},
		{"([9-2])", ErrSyntax, "digitmap: position 3: range 9-2 runs backwards"},
		{"([1-#])", ErrSyntax, "digitmap: position 3: a range joins two digits or two of A-D"},
		{"([1-x])", ErrSyntax, "digitmap: position 5: unexpected 'x' in '[…]'"},
		{"([x])", ErrSyntax, "digitmap: position 3: unexpected 'x' in '[…]'"},
		{"([])", ErrSyntax, "digitmap: position 2: empty set '[]'"},
		{"(.1)", ErrSyntax, "digitmap: position 2: '.' must follow a digit, 'x' or '[…]'"},
		{"(1..)", ErrSyntax, "digitmap: position 4: '.' must follow a digit, 'x' or '[…]'"},
		{"(<1:2>.)", ErrSyntax, "digitmap: position 7: '.' must follow a digit, 'x' or '[…]'"},
		{"(1T2)", ErrSyntax, "digitmap: position 4: '2' after 'T': 'T', 'S' and '!' must end an alternative"},
		{"(1!<:2>)", ErrSyntax, "digitmap: position 4: '<' after '!': 'T', 'S' and '!' must end an alternative"},
		{"(1TT)", ErrSyntax, "digitmap: position 4: 'T' given twice"},
		{"(1!!)", ErrSyntax, "digitmap: position 4: '!' given twice"},
		{"(1S1S2)", ErrSyntax, "digitmap: position 5: 'S' given twice"},
		{"(<1T:2>)", ErrSyntax, "digitmap: position 4: 'T' inside '<…>'"},
		{"(1S)", ErrSyntax, "digitmap: position 3: 'S' needs a number of seconds"},
		{"(1S9999)", ErrTooLarge, "digitmap: position 4: 'S' timer longer than 10m0s"},
		{"(1|(2))", ErrSyntax, "digitmap: position 4: '(' inside '(…)': parentheses do not nest"},
		{"1(2)", ErrSyntax, "digitmap: position 2: '(' must open the map"},
		{"(1))", ErrSyntax, "digitmap: position 4: unexpected ')' after ')'"},
		{"(1) x", ErrSyntax, "digitmap: position 5: unexpected 'x' after ')'"},
		{"1)", ErrSyntax, "digitmap: position 2: unexpected ')' without '('"},
		{"(1||2)", ErrSyntax, "digitmap: position 4: empty alternative"},
		{"()", ErrSyntax, "digitmap: position 2: empty alternative"},
		{"(<1<2:3>:4>)", ErrSyntax, "digitmap: position 4: '<' inside '<…>'"},
		{"(1>)", ErrSyntax, "digitmap: position 3: '>' without '<'"},
		{"(<1>)", ErrSyntax, "digitmap: position 4: '<…>' needs ':' between what is dialled and what is sent"},
		{"(1:2)", ErrSyntax, "digitmap: position 3: ':' outside '<…>'"},
		{"(1e)", ErrSyntax, "digitmap: position 3: unexpected 'e'"},
		{"(1\x00)", ErrSyntax, "digitmap: position 3: unexpected byte 0x00"},
		{"L:5(1)", ErrSyntax, "digitmap: position 4: expected ',' after 'L:5'"},
		{"L:5,L:6,(1)", ErrSyntax, "digitmap: position 5: 'L:' given twice"},
		{"L:,(1)", ErrSyntax, "digitmap: position 1: 'L:' needs a number of seconds"},
		{"S:601,(1)", ErrTooLarge, "digitmap: position 3: 'S:' timer longer than 10m0s"},
		{"(9,xxx)", ErrUnsupported, "digitmap: position 3: ',' (second dial tone) is not supported"},
		{"(P5<:1000>|xxxx)", ErrUnsupported, "digitmap: position 2: 'P' (hot and warm line pause) is not supported"},
		{"(<:1000>)", ErrUnsupported, "digitmap: position 2: alternative matches no digits (hot lines are not supported)"},
		{"(1L5)", ErrUnsupported, "digitmap: position 3: 'L' inside an alternative is not supported; put 'L:n,' before the map"},
		{"(1'2')", ErrUnsupported, "digitmap: position 3: quoted literals are not supported"},
		{"(" + strings.Repeat("x", MaxElements+1) + ")", ErrTooLarge, "digitmap: position 65: more than 63 elements in one alternative"},
		{strings.Repeat("1|", MaxAlternatives) + "1", ErrTooLarge, "digitmap: position 258: more than 128 alternatives"},
		{"(<:" + strings.Repeat("1", MaxReplacement+1) + ">1)", ErrTooLarge, "digitmap: position 36: replacement longer than 32 characters"},
		{strings.Repeat(" ", MaxMapLen) + "1", ErrTooLarge, "digitmap: position 4097: map is longer than 4096 bytes"},
	} {
		_, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", c.in)
			continue
		}
		if !errors.Is(err, c.err) {
			t.Errorf("Parse(%q) = %v, not %v", c.in, err, c.err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %T, not *SyntaxError", c.in, err)
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

func TestBadDefaults(t *testing.T) {
	for _, tm := range []Timers{
		{Initial: -1, Long: time.Second, Short: time.Second},
		{Initial: time.Second, Long: MaxTimer + 1, Short: time.Second},
		{Initial: time.Second, Long: time.Second, Short: -time.Second},
	} {
		if _, err := ParseWithDefaults("(x)", tm); !errors.Is(err, ErrTimer) {
			t.Errorf("ParseWithDefaults with %+v: %v", tm, err)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad map did not panic")
		}
	}()
	MustParse("(")
}
