// Package digitmap decides when a number dialled on an analog phone is
// complete, what to send for it, and which timer to run meanwhile. A digit
// map is a small pattern language in the style of the dial plans of
// Sipura/Linksys/Cisco SPA adapters; one map per line comes from the
// configuration.
//
// # Syntax
//
// A map is a list of alternatives separated by '|', usually in parentheses:
//
//	(911|1[2-9]xxxxxxxxx|[2-9]xxxxxx|*xx|xx.T)
//
// The digits are matched against all alternatives at once. Within an
// alternative:
//
//	0-9 * # A-D   that key (letters in either case)
//	x             any digit 0-9
//	[2-9] [13579] [*#]
//	              one key from a set; ranges join two digits or two of A-D
//	.             after a key, 'x' or set: that element zero or more times,
//	              so xx. is one or more digits
//	<a:b>         a is matched as usual but b is sent in its place;
//	              a or b may be empty: <:+1> inserts, <9:> strips
//
// and at its end, in any order:
//
//	T             the alternative completes only when the interdigit
//	              timer expires, never on the digit itself
//	Sn            short timer of n seconds for this alternative; S0 sends
//	              as soon as it matches even if a longer match is possible
//	!             a match bars the call (Barred: the caller plays reorder)
//
// Before the map, "L:n," and "S:n," set the long and short interdigit
// timers in seconds, e.g. L:15,S:4,(…). Spaces are ignored.
//
// Examples:
//
//	(<:+1>[2-9]xx[2-9]xxxxxx|<9:>[2-9]xxxxxx)
//	    ten digits are sent with +1 in front; 9 and seven digits are sent
//	    without the 9
//	(1900xxxxxxx!|1[2-9]xxxxxxxxx|911S0)
//	    bars 1-900 numbers; 911 goes out without waiting
//	L:20,(xxxx|0x.T)
//	    four-digit extensions, or anything starting with 0 once the user
//	    stops dialling; up to 20 s between the digits of an unfinished
//	    number
//
// Not supported, and reported as ErrUnsupported: ',' (second dial tone),
// 'P' (hot and warm lines), 'L' overrides inside an alternative, quoted
// literals. Other characters, such as '?' or '@', are syntax errors.
// Errors give the 1-based byte position in the map text.
//
// Limits (MaxMapLen and the others) bound the work any map text can cause.
// A call collects at most MaxDigits digits: there an alternative that
// could take more digits counts as complete or dead, and one more digit is
// Invalid.
//
// # Timers and results
//
// After each digit the Matcher returns a Result:
//
//   - Invalid when no alternative can match any more.
//   - NeedMore with the long timer (Timers.Long, default 10 s) while no
//     alternative matches but some could with more digits.
//   - NeedMore with the short timer (Timers.Short, default 3 s, or the
//     alternative's Sn) when an alternative matches and either another
//     alternative without 'T' could still match a longer number or the
//     matching alternative has 'T'.
//   - Otherwise Complete, or Barred if the matching alternative has '!'.
//
// An alternative with 'T' is a fall-back: that it could still match a
// longer number never delays the complete match of another alternative.
//
// When the timer expires, Timeout sends the matching alternative, or gives
// Invalid if none matches yet. When several alternatives match the same
// digits, the first barred one wins, else the first in map order. Before
// the first digit the line runs Timers.Initial (default 10 s); its expiry
// is Invalid.
//
// With the map at the top, *69 and 14155551212 complete on their last
// digit; 12 waits for the short timer and is then sent through xx.T; *6
// waits for the long timer and is then Invalid.
//
// In (xxx|xxxx) the third digit starts the short timer and the fourth
// completes the call; in (911|[2-9]xxxxxx) 911 waits for the short timer
// (write 911S0 to send it at once), as on SPA adapters.
package digitmap
