package retry

import (
	"testing"
	"time"
)

// RFC 5626 §4.5: base-time 30 s doubling per failure up to max-time
// 1800 s, the wait drawn from the upper half.
func TestRFC5626Section4_5Backoff(t *testing.T) {
	lo := func() float64 { return 0 }
	hi := func() float64 { return 0.999999 }
	want := []time.Duration{30, 60, 120, 240, 480, 960, 1800, 1800, 1800}
	for i, w := range want {
		n := i + 1
		w *= time.Second
		if got := Backoff(DefaultBase, DefaultMax, n, lo); got != w/2 {
			t.Errorf("failure %d: shortest wait %v, want %v", n, got, w/2)
		}
		if got := Backoff(DefaultBase, DefaultMax, n, hi); got < w-time.Millisecond || got > w {
			t.Errorf("failure %d: longest wait %v, want ≈%v", n, got, w)
		}
	}
	if got := Backoff(DefaultBase, DefaultMax, 0, lo); got != 15*time.Second {
		t.Errorf("failure 0 treated as %v", got)
	}
	if got := Backoff(DefaultBase, DefaultMax, 1000, hi); got > DefaultMax {
		t.Errorf("failure 1000: %v exceeds the cap", got)
	}
}

func TestRefresh(t *testing.T) {
	for _, tc := range []struct{ g, want time.Duration }{
		{3600 * time.Second, 3300 * time.Second},
		{600 * time.Second, 300 * time.Second},
		{60 * time.Second, 30 * time.Second},
		{20 * time.Second, 10 * time.Second},
		{10 * time.Second, 5 * time.Second},
		{4 * time.Second, 2 * time.Second},
	} {
		if got := Refresh(tc.g); got != tc.want {
			t.Errorf("Refresh(%v) = %v, want %v", tc.g, got, tc.want)
		}
	}
}
