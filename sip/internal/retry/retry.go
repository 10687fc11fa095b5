// Package retry is the retry and refresh schedule shared by the SIP
// agent's long-lived requests (REGISTER in package ua, SUBSCRIBE in
// package mwi).
//
// After a failed attempt the next one waits a random time between half and
// all of min(limit, base·2^(n−1)) for the n-th consecutive failure, the
// schedule of RFC 5626 §4.5 (whose defaults are 30 s and 1800 s). A
// binding or subscription granted for g is refreshed after
// max(g/2, g−5 min), but no later than g−5 s when g exceeds 10 s:
// half-way for short grants, five minutes ahead for long ones, always
// leaving time for a retransmission or an authentication round.
package retry

import "time"

// The schedule's constants.
const (
	DefaultBase    = 30 * time.Second // RFC 5626 §4.5 base-time
	DefaultMax     = 30 * time.Minute // RFC 5626 §4.5 max-time
	RefreshLead    = 5 * time.Minute
	MinRefreshLead = 5 * time.Second
)

// Backoff returns the wait after the n-th consecutive failure (n < 1 counts
// as 1); rnd returns a uniform number in [0, 1).
func Backoff(base, limit time.Duration, n int, rnd func() float64) time.Duration {
	n = max(n, 1)
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// Refresh returns how long after a grant of g to refresh it.
func Refresh(g time.Duration) time.Duration {
	d := max(g/2, g-RefreshLead)
	if g > 2*MinRefreshLead {
		d = min(d, g-MinRefreshLead)
	}
	return d
}
