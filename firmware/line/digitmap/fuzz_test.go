package digitmap

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	issueMap,
	benchMap,
	"(xxx|xxxx)",
	"L:5,S:2,(<:+1>[2-9]xxxxxxxxx|<9:>xxxxxxx|<#:>)",
	"(1900xxxxxxx!|1xxxxxxxxxx|911S0|*xxT)",
	"(x.<5:>x.T|[*#a-D]s4!)",
	"(<0.:>[1-9]xx|<:1><:2>x<:3>)",
	"(9,xxx)",
	"(1<9:12|5)",
	"([9-2])",
	"s:1,l:2,x",
}

// FuzzParse checks that the parser never panics, that every error is a
// positioned SyntaxError (or ErrTimer), and that every accepted map
// re-parses from its String form to the same compiled map.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): %T %v, not a SyntaxError", s, err, err)
			}
			if se.Pos < 1 || se.Pos > len(s)+1 && se.Pos != MaxMapLen+1 {
				t.Fatalf("Parse(%q): position %d out of range", s, se.Pos)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse(%q): %v wraps no sentinel", s, err)
			}
			if !strings.HasPrefix(err.Error(), "digitmap: position ") {
				t.Fatalf("Parse(%q): message %q", s, err)
			}
			return
		}
		c := m.String()
		m2, err := Parse(c)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, c, err)
		}
		if c2 := m2.String(); c2 != c {
			t.Fatalf("String not stable: %q → %q → %q", s, c, c2)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("%q and its String %q compile differently", s, c)
		}
	})
}

// FuzzMatch drives a matcher with random digits and timer expiries. It
// checks that nothing panics, that a Timeout after any NeedMore ends the
// call, that final results stick, and that every Complete or Barred number
// is what a regular expression built from the winning alternative gives.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, []byte("14155551212\xff"))
		f.Add(s, []byte("*69#\x10\xff"))
	}
	f.Fuzz(func(t *testing.T, s string, ops []byte) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		if len(ops) > 4*MaxDigits {
			ops = ops[:4*MaxDigits]
		}
		mt := m.Start()
		r := mt.Result()
		for _, op := range ops {
			if r.Final() {
				break
			}
			if r.Kind != NeedMore || r.Timer == TimerNone || r.Wait < 0 || r.Alternative != -1 {
				t.Fatalf("%q: bad NeedMore %+v", s, r)
			}
			probe := *mt // what a timeout would do now
			if pr := probe.Timeout(); !pr.Final() {
				t.Fatalf("%q after %q: Timeout gave %v", s, mt.Dialed(), pr)
			}
			switch k := int(op) % 18; k {
			case 16:
				r = mt.Timeout()
			case 17:
				r = mt.Digit('z')
			default:
				r = mt.Digit(symbols[k])
			}
		}
		if !r.Final() {
			r = mt.Timeout()
		}
		if !r.Final() {
			t.Fatalf("%q: Timeout did not end the call: %v", s, r)
		}
		if again := mt.Digit('1'); again != r {
			t.Fatalf("%q: Digit after %v gave %v", s, r, again)
		}
		if again := mt.Timeout(); again != r {
			t.Fatalf("%q: Timeout after %v gave %v", s, r, again)
		}
		if r.Kind == Invalid {
			if r.Alternative != -1 || r.Number != "" {
				t.Fatalf("%q: bad Invalid %+v", s, r)
			}
			return
		}
		a := &m.alts[r.Alternative]
		if a.barred != (r.Kind == Barred) {
			t.Fatalf("%q: %v from alternative barred=%v", s, r, a.barred)
		}
		if want, ok := refNumber(a, mt.Dialed()); !ok || want != r.Number {
			t.Fatalf("%q dialled %q: got %v, reference %q (match %v)", s, mt.Dialed(), r, want, ok)
		}
	})
}

// refNumber matches digits against alternative a with package regexp and
// builds the number to send from the submatches. Go's leftmost-first
// submatch rules give earlier repeats as many digits as they can, the
// same choice the matcher makes.
func refNumber(a *alt, digits string) (string, bool) {
	var re strings.Builder
	re.WriteString("^")
	for _, e := range a.elems {
		re.WriteString("((?:[")
		for s := range 16 {
			if e.set&(1<<s) != 0 {
				re.WriteString(regexp.QuoteMeta(string(symbols[s])))
			}
		}
		re.WriteString("])")
		if e.star {
			re.WriteString("*")
		}
		re.WriteString(")")
	}
	re.WriteString("$")
	sub := regexp.MustCompile(re.String()).FindStringSubmatch(digits)
	if sub == nil {
		return "", false
	}
	var out strings.Builder
	gi := 0
	for p := 0; p <= len(a.elems); p++ {
		for gi < len(a.groups) && a.groups[gi].start == p {
			out.WriteString(a.groups[gi].repl)
			gi++
		}
		if p < len(a.elems) && a.drop&(1<<p) == 0 {
			out.WriteString(sub[p+1])
		}
	}
	return out.String(), true
}
