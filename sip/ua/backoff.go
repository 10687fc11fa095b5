package ua

import "time"

// Retry and refresh timing.
//
// After a failed attempt the next one waits a random time between half and
// all of min(RetryMax, RetryBase·2^(n−1)) for the n-th consecutive failure,
// the schedule of RFC 5626 §4.5 (whose defaults, 30 s and 1800 s, are this
// package's). A Retry-After header in the answer replaces that wait, capped
// at maxRetryAfter.
//
// A granted binding of g is refreshed after max(g/2, g−5 min), but no later
// than g−5 s when g exceeds 10 s: half-way for short bindings, five minutes
// ahead for long ones, always leaving time for a retransmission or an
// authentication round.
const (
	defaultRetryBase = 30 * time.Second
	defaultRetryMax  = 30 * time.Minute
	maxRetryAfter    = time.Hour
	refreshLead      = 5 * time.Minute
	minRefreshLead   = 5 * time.Second
)

// backoff returns the wait after the n-th consecutive failure (n ≥ 1);
// rnd returns a uniform number in [0, 1).
func backoff(base, limit time.Duration, n int, rnd func() float64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// refreshDelay returns how long after a successful REGISTER granting g the
// binding is refreshed.
func refreshDelay(g time.Duration) time.Duration {
	d := max(g/2, g-refreshLead)
	if g > 2*minRefreshLead {
		d = min(d, g-minRefreshLead)
	}
	return d
}
