package media

import (
	"testing"
	"time"
)

func TestIntervalHistogram(t *testing.T) {
	var h IntervalHistogram
	if h.Quantile(0.99) != 0 || h.Jitter(0.99, 20*time.Millisecond) != 0 {
		t.Fatal("empty histogram reports intervals")
	}
	for i := range 1000 {
		d := 20 * time.Millisecond
		switch {
		case i%100 == 0:
			d = 23 * time.Millisecond // 1 % late by 3 ms ...
		case i%100 == 1:
			d = 17 * time.Millisecond // ... and early by as much after
		}
		h.add(d)
	}
	h.add(time.Second)
	if h.Count() != 1001 || h.Max() != time.Second {
		t.Fatalf("count %d max %v", h.Count(), h.Max())
	}
	if q := h.Quantile(0.5); q != 20050*time.Microsecond {
		t.Errorf("p50 %v, want 20.05 ms", q)
	}
	if q := h.Quantile(1); q != time.Second {
		t.Errorf("p100 %v, want the overflow's max", q)
	}
	if j := h.Jitter(0.5, 20*time.Millisecond); j != 0 {
		t.Errorf("jitter p50 %v, want 0", j)
	}
	if j := h.Jitter(0.99, 20*time.Millisecond); j != 3*time.Millisecond {
		t.Errorf("jitter p99 %v, want 3 ms", j)
	}
	var m IntervalHistogram
	m.Merge(&h)
	m.Merge(&h)
	if m.Count() != 2002 || m.Quantile(0.5) != h.Quantile(0.5) {
		t.Errorf("merge: count %d p50 %v", m.Count(), m.Quantile(0.5))
	}
}

// A session sending one frame per period counts one interval per frame.
func TestSendIntervalStats(t *testing.T) {
	f := tone(0)
	a := sendingSession(t, leg{ptime: 10})
	for range 6 {
		a.WriteFrame(&f)
		time.Sleep(2 * time.Millisecond)
	}
	st := a.Stats()
	if n := st.SendInterval.Count(); n != 5 {
		t.Errorf("%d intervals counted for 6 frames at ptime 10, want 5", n)
	}
	if q := st.SendInterval.Quantile(0.5); q < 2*time.Millisecond {
		t.Errorf("p50 interval %v, want ≥ 2 ms", q)
	}
}

func BenchmarkIntervalAdd(b *testing.B) {
	var h IntervalHistogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.add(time.Duration(19500+i%1000) * time.Microsecond)
	}
}
