package digitmap

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// brief renders a Result compactly for the tables below.
func brief(r Result) string {
	switch r.Kind {
	case NeedMore:
		return fmt.Sprintf("more %s %v", r.Timer, r.Wait)
	case Complete:
		return fmt.Sprintf("complete %s #%d", r.Number, r.Alternative)
	case Barred:
		return fmt.Sprintf("barred %s #%d", r.Number, r.Alternative)
	case Invalid:
		return "invalid"
	}
	return r.String()
}

// step is some input and the result after its last byte; every byte
// before the last must give NeedMore. In input, '~' is a timer expiry.
type step struct {
	in, want string
}

const issueMap = "(911|1[2-9]xxxxxxxxx|[2-9]xxxxxx|*xx|xx.T)"

var matchCases = []struct {
	name  string
	dmap  string
	steps []step
}{
	// The map of the issue. Its [2-9]xxxxxx could still extend 911, so
	// 911 waits for the short timer, as on SPA adapters; see 911S0 below.
	{"issue 911", issueMap, []step{{"911", "more short 3s"}, {"~", "complete 911 #0"}}},
	{"issue 911 S0", "(911S0|1[2-9]xxxxxxxxx|[2-9]xxxxxx|*xx|xx.T)", []step{{"911", "complete 911 #0"}}},
	{"issue long distance", issueMap, []step{{"14155551212", "complete 14155551212 #1"}}},
	{"issue local", issueMap, []step{{"5551212", "complete 5551212 #2"}}},
	{"issue star code", issueMap, []step{{"*69", "complete *69 #3"}}},
	{"issue short number on timeout", issueMap, []step{{"12", "more short 3s"}, {"~", "complete 12 #4"}}},
	{"issue 1 then 0", issueMap, []step{{"1", "more short 3s"}, {"0", "more short 3s"}, {"~", "complete 10 #4"}}},
	{"issue six digits", issueMap, []step{{"555121", "more short 3s"}, {"~", "complete 555121 #4"}}},
	{"issue star partial", issueMap, []step{{"*6", "more long 10s"}, {"~", "invalid"}}},
	{"issue star hash", issueMap, []step{{"*#", "invalid"}}},
	{"issue no digit", issueMap, []step{{"~", "invalid"}}},
	{"issue hash first", issueMap, []step{{"#", "invalid"}}},
	{"issue digits after complete", issueMap, []step{{"*69", "complete *69 #3"}, {"1", "complete *69 #3"}, {"~", "complete *69 #3"}}},

	// Timer selection.
	{"short then longer", "(xxx|xxxx)", []step{{"12", "more long 10s"}, {"3", "more short 3s"}, {"4", "complete 1234 #1"}}},
	{"short expires", "(xxx|xxxx)", []step{{"123", "more short 3s"}, {"~", "complete 123 #0"}}},
	{"long expires", "(xxx|xxxx)", []step{{"12", "more long 10s"}, {"~", "invalid"}}},
	{"prefix literal", "(0|00)", []step{{"0", "more short 3s"}, {"0", "complete 00 #1"}}},
	{"map timers", "L:5,S:2,(xxx|xxxx)", []step{{"1", "more long 5s"}, {"23", "more short 2s"}}},
	{"map timers spaced", " s:2 , l:5 , ( xxx | xxxx ) ", []step{{"1", "more long 5s"}, {"23", "more short 2s"}}},
	{"alternative short timer", "(xxxS1|xxxx)", []step{{"123", "more short 1s"}, {"~", "complete 123 #0"}}},
	{"S0 sends at once", "(xxxS0|xxxx)", []step{{"123", "complete 123 #0"}}},
	{"S0 zero map short", "S:0,(xxx|xxxx)", []step{{"123", "complete 123 #0"}}},
	{"T waits", "(xxxT)", []step{{"123", "more short 3s"}, {"~", "complete 123 #0"}}},
	{"T then more", "(xxxT|xxxx)", []step{{"123", "more short 3s"}, {"4", "complete 1234 #1"}}},
	{"T does not hold back", "(xxx|xxxxT)", []step{{"123", "complete 123 #0"}}},
	{"T with S0", "(xxxTS0)", []step{{"123", "complete 123 #0"}}},
	{"T with S5", "(x.TS5)", []step{{"1", "more short 5s"}, {"~", "complete 1 #0"}}},
	{"too many digits", "(xxxx)", []step{{"1234", "complete 1234 #0"}}},
	{"wrong digit", "(xxxx)", []step{{"12", "more long 10s"}, {"*", "invalid"}}},
	{"not a key", "(x.T)", []step{{"1", "more short 3s"}, {"?", "invalid"}}},

	// Substitution.
	{"prefix +1", "(<:+1>[2-9]xx[2-9]xxxxxx|<9:>[2-9]xxxxxx)", []step{{"4155551212", "complete +14155551212 #0"}}},
	{"strip 9 waits", "(<:+1>[2-9]xx[2-9]xxxxxx|<9:>[2-9]xxxxxx)", []step{{"95551212", "more short 3s"}, {"~", "complete 5551212 #1"}}},
	{"strip hash", "(xxxx<#:>)", []step{{"1234#", "complete 1234 #0"}}},
	{"keep hash", "(xxxx#)", []step{{"1234#", "complete 1234# #0"}}},
	{"international", "(<00:+>[1-9]x.T)", []step{{"0044207", "more short 3s"}, {"~", "complete +44207 #0"}}},
	{"middle", "(9<1:>xx<:00>x)", []step{{"91234", "complete 923004 #0"}}},
	{"replace range", "(<[2-9]:7>xx)", []step{{"512", "complete 712 #0"}}},
	{"trailing insert", "(xxx<:#>)", []step{{"123", "complete 123# #0"}}},
	{"two inserts", "(<:1><:2>x)", []step{{"3", "complete 123 #0"}}},
	{"greedy repeat", "(x.<5:>x.T)", []step{{"1525", "more short 3s"}, {"~", "complete 152 #0"}}},
	{"dropped repeat", "(<0.:>[1-9]xx)", []step{{"000123", "complete 123 #0"}}},

	// Barring.
	{"barred first", "(1900xxxxxxx!|1xxxxxxxxxx)", []step{{"19005551212", "barred 19005551212 #0"}}},
	{"allowed", "(1900xxxxxxx!|1xxxxxxxxxx)", []step{{"18005551212", "complete 18005551212 #1"}}},
	{"barred wins over order", "(1xxxxxxxxxx|1900xxxxxxx!)", []step{{"19005551212", "barred 19005551212 #1"}}},
	{"barred with substitution", "(<9:>1900xxxxxxx!|<9:>x.T)", []step{{"919005551212", "barred 19005551212 #0"}}},
	{"barred on timeout", "(1900!|1900xxxxxxx)", []step{{"1900", "more short 3s"}, {"~", "barred 1900 #0"}}},

	// Case and letters.
	{"lower case map", "(xa[b-d]s0|*XXt)", []step{{"1ab", "complete 1AB #0"}}},
	{"lower case digits", "(xa[b-d]s0|*XXt)", []step{{"1AD", "complete 1AD #0"}}},
	{"upper T", "(xa[b-d]s0|*XXt)", []step{{"*12", "more short 3s"}, {"~", "complete *12 #1"}}},
	{"sets of keys", "([*#]xx)", []step{{"#12", "complete #12 #0"}}},
	{"odd digits", "([13579]x)", []step{{"2", "invalid"}}},
	{"first listed wins", "(xxx|123)", []step{{"123", "complete 123 #0"}}},
	{"unparenthesised", "911|*xx", []step{{"*70", "complete *70 #1"}}},
}

func run(t *testing.T, mt *Matcher, in string) Result {
	t.Helper()
	var r Result
	for i := 0; i < len(in); i++ {
		if i > 0 && r.Final() {
			t.Fatalf("input %q: final %v before its end", in, r)
		}
		if in[i] == '~' {
			r = mt.Timeout()
		} else {
			r = mt.Digit(in[i])
		}
	}
	return r
}

func TestMatch(t *testing.T) {
	for _, c := range matchCases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.dmap)
			if err != nil {
				t.Fatal(err)
			}
			mt := m.Start()
			if got := brief(mt.Result()); got != "more initial 10s" {
				t.Errorf("before dialling: %s", got)
			}
			dialled := ""
			for _, s := range c.steps {
				got := brief(run(t, mt, s.in))
				want := s.want
				if got != want {
					t.Fatalf("after %q%q: got %s, want %s", dialled, s.in, got, want)
				}
				dialled += s.in
				if r := mt.Result(); brief(r) != got {
					t.Errorf("Result() = %s, last returned %s", brief(r), got)
				}
			}
		})
	}
}

func TestResetAndDialed(t *testing.T) {
	m := MustParse(issueMap)
	mt := m.Start()
	run(t, mt, "*6")
	if got := mt.Dialed(); got != "*6" {
		t.Errorf("Dialed = %q", got)
	}
	mt.Reset()
	if got := mt.Dialed(); got != "" {
		t.Errorf("Dialed after Reset = %q", got)
	}
	if got := brief(run(t, mt, "*69")); got != "complete *69 #3" {
		t.Errorf("after Reset: %s", got)
	}
}

func TestMaxDigits(t *testing.T) {
	long := strings.Repeat("1", MaxDigits)
	mt := MustParse("(x.)").Start()
	if got, want := brief(run(t, mt, long)), "complete "+long+" #0"; got != want {
		t.Errorf("x. at the limit: got %s, want %s", got, want)
	}
	mt = MustParse("(x.T)").Start()
	if got := brief(run(t, mt, long)); got != "more short 3s" {
		t.Errorf("x.T at the limit: %s", got)
	}
	if got := brief(mt.Digit('1')); got != "invalid" {
		t.Errorf("digit over the limit: %s", got)
	}
}

func TestDefaults(t *testing.T) {
	def := Timers{Initial: 4 * time.Second, Long: 16 * time.Second, Short: 4 * time.Second}
	m, err := ParseWithDefaults("S:2,(xxx|xxxx)", def)
	if err != nil {
		t.Fatal(err)
	}
	want := Timers{Initial: 4 * time.Second, Long: 16 * time.Second, Short: 2 * time.Second}
	if m.Timers() != want {
		t.Errorf("Timers = %+v, want %+v", m.Timers(), want)
	}
	mt := m.Start()
	if got := brief(mt.Result()); got != "more initial 4s" {
		t.Errorf("initial: %s", got)
	}
	if got := brief(mt.Digit('1')); got != "more long 16s" {
		t.Errorf("first digit: %s", got)
	}
	if DefaultTimers() != (Timers{10 * time.Second, 10 * time.Second, 3 * time.Second}) {
		t.Errorf("DefaultTimers = %+v", DefaultTimers())
	}
}

func TestDigitDoesNotAllocate(t *testing.T) {
	m := MustParse(benchMap)
	mt := m.Start()
	allocs := testing.AllocsPerRun(100, func() {
		mt.Reset()
		for _, d := range []byte("1415555121") { // one short of complete
			mt.Digit(d)
		}
		mt.Timeout()
	})
	// The only allocation is the number of the final result.
	if allocs > 1 {
		t.Errorf("%v allocations per call, want ≤ 1", allocs)
	}
}

const benchMap = "(911S0|[2-9]11|1900xxxxxxx!|<:+>1[2-9]xx[2-9]xxxxxx|<:+1>[2-9]xx[2-9]xxxxxx|<011:+>[2-9]x.T|*xx|#xx|[1-8]xxx|xx.T)"

func BenchmarkDigit(b *testing.B) {
	m := MustParse(benchMap)
	mt := m.Start()
	number := []byte("14155551212")
	b.ReportAllocs()
	for b.Loop() {
		mt.Reset()
		for _, d := range number {
			mt.Digit(d)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(number)), "ns/digit")
}
