package digitmap

import (
	"fmt"
	"time"
)

// Kind is the outcome of the digits dialled so far.
type Kind uint8

// Kinds of Result. The zero Kind is not one of them.
const (
	// NeedMore: keep collecting digits; arm Result.Timer for Result.Wait.
	NeedMore Kind = iota + 1
	// Complete: send Result.Number; stop collecting.
	Complete
	// Barred: the number matched a barred ('!') alternative; play reorder.
	Barred
	// Invalid: no alternative can match; play reorder.
	Invalid
)

// String returns the name of k.
func (k Kind) String() string {
	switch k {
	case NeedMore:
		return "NeedMore"
	case Complete:
		return "Complete"
	case Barred:
		return "Barred"
	case Invalid:
		return "Invalid"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Timer names the timer the caller arms after a NeedMore result.
type Timer uint8

// Timers. TimerNone goes with every result but NeedMore.
const (
	TimerNone    Timer = iota
	TimerInitial       // waiting for the first digit (dial tone)
	TimerLong          // no alternative complete yet
	TimerShort         // an alternative is complete, a longer one possible
)

// String returns the name of t.
func (t Timer) String() string {
	switch t {
	case TimerNone:
		return "none"
	case TimerInitial:
		return "initial"
	case TimerLong:
		return "long"
	case TimerShort:
		return "short"
	}
	return fmt.Sprintf("Timer(%d)", t)
}

// Result is what the matcher decided after a digit or a timeout.
type Result struct {
	Kind Kind
	// Timer and Wait say which timer to arm and for how long (NeedMore
	// only). When it expires, call Matcher.Timeout.
	Timer Timer
	Wait  time.Duration
	// Number is the number to send after substitutions (Complete), or the
	// number that was refused (Barred).
	Number string
	// Alternative is the 0-based index of the matching alternative
	// (Complete, Barred), or -1.
	Alternative int
}

// Final reports whether r ends digit collection.
func (r Result) Final() bool { return r.Kind != NeedMore }

// String formats r for logs and test failures.
func (r Result) String() string {
	switch r.Kind {
	case NeedMore:
		return fmt.Sprintf("NeedMore(%s %v)", r.Timer, r.Wait)
	case Complete, Barred:
		return fmt.Sprintf("%s(%q alt %d)", r.Kind, r.Number, r.Alternative)
	}
	return r.Kind.String()
}

// Matcher follows the digits of one call through a Map. The line's
// control goroutine owns it; it is not safe for concurrent use. Digit and
// Timeout do not allocate, except to build the number of a final result.
type Matcher struct {
	m      *Map
	n      int // digits dialled
	done   bool
	last   Result
	digits [MaxDigits]byte
	states [MaxAlternatives]uint64
}

// Start returns a Matcher for a new call, waiting for the first digit.
func (m *Map) Start() *Matcher {
	mt := &Matcher{m: m}
	mt.Reset()
	return mt
}

// Reset makes mt ready for a new call on the same map.
func (mt *Matcher) Reset() {
	mt.n = 0
	mt.done = false
	for i := range mt.m.alts {
		mt.states[i] = mt.m.alts[i].init
	}
	mt.last = Result{Kind: NeedMore, Timer: TimerInitial, Wait: mt.m.timers.Initial, Alternative: -1}
}

// Result returns the latest result: before the first digit, NeedMore with
// the initial timer.
func (mt *Matcher) Result() Result { return mt.last }

// Dialed returns the digits dialled so far, as received.
func (mt *Matcher) Dialed() string { return string(mt.digits[:mt.n]) }

// Digit feeds one dialled digit: '0'…'9', '*', '#' or 'A'…'D' (either
// case). Any other byte matches no alternative. After a final result,
// Digit changes nothing and returns that result again.
func (mt *Matcher) Digit(d byte) Result {
	if mt.done {
		return mt.last
	}
	if mt.n == MaxDigits {
		return mt.finish(Result{Kind: Invalid, Alternative: -1})
	}
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	mt.digits[mt.n] = d
	mt.n++
	alts := mt.m.alts
	states := mt.states[:len(alts)]
	if sym := symbol(d); sym < 0 {
		clear(states)
	} else {
		for i := range alts {
			if s := states[i]; s != 0 {
				states[i] = alts[i].step(s, sym)
			}
		}
	}
	return mt.decide(false)
}

// Timeout reports that the timer of the latest NeedMore result expired.
// A complete match is then sent (or barred); otherwise the result is
// Invalid. After a final result, Timeout returns that result again.
func (mt *Matcher) Timeout() Result {
	if mt.done {
		return mt.last
	}
	if mt.n == 0 {
		return mt.finish(Result{Kind: Invalid, Alternative: -1})
	}
	return mt.decide(true)
}

func (mt *Matcher) finish(r Result) Result {
	mt.done = true
	mt.last = r
	return r
}

// decide turns the states into a result. The winner among the complete
// alternatives is the first barred one, else the first one. The call waits
// while an alternative without 'T' could still take more digits, or while
// the winner has 'T' ('T' alternatives are fall-backs: they never delay a
// complete match of another alternative).
func (mt *Matcher) decide(expired bool) Result {
	alts := mt.m.alts
	winner := -1
	canExtend := mt.n < MaxDigits
	extendAny, extendHold := false, false
	for i := range alts {
		s := mt.states[i]
		if s == 0 {
			continue
		}
		a := &alts[i]
		if s&a.final != 0 && (winner < 0 || a.barred && !alts[winner].barred) {
			winner = i
		}
		if canExtend && s&a.inner != 0 {
			extendAny = true
			extendHold = extendHold || !a.timeout
		}
	}
	if winner < 0 {
		if extendAny && !expired {
			mt.last = Result{Kind: NeedMore, Timer: TimerLong, Wait: mt.m.timers.Long, Alternative: -1}
			return mt.last
		}
		return mt.finish(Result{Kind: Invalid, Alternative: -1})
	}
	w := &alts[winner]
	wait := mt.m.timers.Short
	if w.shortSecs >= 0 {
		wait = time.Duration(w.shortSecs) * time.Second
	}
	if !expired && wait > 0 && (w.timeout || extendHold) {
		mt.last = Result{Kind: NeedMore, Timer: TimerShort, Wait: wait, Alternative: -1}
		return mt.last
	}
	kind := Complete
	if w.barred {
		kind = Barred
	}
	return mt.finish(Result{Kind: kind, Number: w.number(mt.digits[:mt.n]), Alternative: winner})
}

// number rebuilds the number to send from the digits that a matched. Where
// '.' makes the match ambiguous, earlier repeats take as many digits as
// they can.
func (a *alt) number(digits []byte) string {
	// reach[i]: positions from which digits[i:] can be matched to the end.
	var reach [MaxDigits + 1]uint64
	k := len(digits)
	for i := k; i >= 0; i-- {
		var r uint64
		for p := a.n; p >= 0; p-- {
			bit := uint64(1) << p
			ok := false
			switch {
			case p == a.n:
				ok = i == k
			case i == k:
				ok = a.star&bit != 0 && r&(bit<<1) != 0
			default:
				hit := a.match[symbol(digits[i])]&bit != 0
				if a.star&bit != 0 {
					ok = hit && reach[i+1]&bit != 0 || r&(bit<<1) != 0
				} else {
					ok = hit && reach[i+1]&(bit<<1) != 0
				}
			}
			if ok {
				r |= bit
			}
		}
		reach[i] = r
	}

	out := make([]byte, 0, k+8)
	gi := 0
	arrive := func(p int) {
		for gi < len(a.groups) && a.groups[gi].start == p {
			out = append(out, a.groups[gi].repl...)
			gi++
		}
	}
	p := 0
	arrive(0)
	for i := 0; i < k; i++ {
		for {
			bit := uint64(1) << p
			if a.star&bit != 0 {
				if a.match[symbol(digits[i])]&bit != 0 && reach[i+1]&bit != 0 {
					break // repeat element p
				}
				p++ // skip it
				arrive(p)
				continue
			}
			break
		}
		if a.drop&(1<<p) == 0 {
			out = append(out, digits[i])
		}
		if a.star&(1<<p) == 0 {
			p++
			arrive(p)
		}
	}
	for p < a.n {
		p++
		arrive(p)
	}
	return string(out)
}
