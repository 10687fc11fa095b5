package ua

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffSchedule(t *testing.T) {
	lo := func() float64 { return 0 }
	hi := func() float64 { return 0.999999 }
	base, limit := 30*time.Second, 1800*time.Second
	want := []time.Duration{30, 60, 120, 240, 480, 960, 1800, 1800, 1800}
	for i, w := range want {
		n := i + 1
		w *= time.Second
		if got := backoff(base, limit, n, lo); got != w/2 {
			t.Errorf("failure %d: shortest wait %v, want %v", n, got, w/2)
		}
		if got := backoff(base, limit, n, hi); got < w-time.Millisecond || got > w {
			t.Errorf("failure %d: longest wait %v, want ≈%v", n, got, w)
		}
	}
	if got := backoff(base, limit, 0, lo); got != 15*time.Second {
		t.Errorf("failure 0 treated as %v", got)
	}
	if got := backoff(base, limit, 1000, hi); got > limit {
		t.Errorf("failure 1000: %v exceeds the cap", got)
	}
}

func TestRefreshDelay(t *testing.T) {
	for _, tc := range []struct{ g, want time.Duration }{
		{3600 * time.Second, 3300 * time.Second},
		{600 * time.Second, 300 * time.Second},
		{60 * time.Second, 30 * time.Second},
		{20 * time.Second, 10 * time.Second},
		{10 * time.Second, 5 * time.Second},
		{4 * time.Second, 2 * time.Second},
	} {
		if got := refreshDelay(tc.g); got != tc.want {
			t.Errorf("refreshDelay(%v) = %v, want %v", tc.g, got, tc.want)
		}
	}
}

// newTestRand returns a seeded uniform source for statistical tests.
func newTestRand() func() float64 {
	r := rand.New(rand.NewPCG(1, 2))
	return r.Float64
}
