package media

import "time"

// Send-interval histogram: how regularly the session's packets leave. The
// media path hands WriteFrame one frame per PCM period, so at ptime 20 the
// intervals between sends should all be 20 ms; a late frame (a PCM period
// the line served late, a scheduler delay) shows as a longer interval,
// usually followed by a shorter one. DESIGN.md asks for a send jitter p99
// of at most 2 ms with 64 lines in calls.
const (
	// IntervalBucket is the width of one histogram bucket.
	IntervalBucket = 100 * time.Microsecond
	// IntervalBuckets is how many buckets there are; intervals of
	// IntervalBuckets × IntervalBucket (100 ms) and more share the last.
	IntervalBuckets = 1000
)

// IntervalHistogram counts the intervals between successive packet sends
// in fixed buckets of IntervalBucket from 0 to 100 ms, the last bucket
// holding everything longer. Intervals that span a pause in sending (hold,
// a silence suppressed by VAD, a DTMF event) are not counted, and the
// packets of one frame (ptime 10) count as one send. Adding does not
// allocate; the zero value is empty.
type IntervalHistogram struct {
	counts [IntervalBuckets]uint32
	n      uint64
	max    time.Duration
}

// add counts one interval.
func (h *IntervalHistogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := int(d / IntervalBucket)
	if i >= IntervalBuckets {
		i = IntervalBuckets - 1
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
}

// Count is the number of intervals counted.
func (h *IntervalHistogram) Count() uint64 { return h.n }

// Max is the longest interval counted.
func (h *IntervalHistogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0…1) of the intervals, as the middle of
// its bucket (within ±50 µs), or 0 when none were counted. Intervals of
// 100 ms or more report Max.
func (h *IntervalHistogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(q*float64(h.n-1)) + 1 // 1-based rank of the sample
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			if i == IntervalBuckets-1 {
				return h.max
			}
			return time.Duration(i)*IntervalBucket + IntervalBucket/2
		}
	}
	return h.max
}

// Jitter returns the q-quantile of how far the intervals lie from nominal
// (|interval − nominal|, the send jitter), to the bucket's resolution.
// Nominal is the packetisation time; at ptime 30 the frames of 20 ms make
// the intervals alternate between 20 and 40 ms, so this is meaningful for
// ptime 10 and 20 only.
func (h *IntervalHistogram) Jitter(q float64, nominal time.Duration) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(q*float64(h.n-1)) + 1
	// Deviations in bucket steps: walk outwards from the nominal bucket,
	// taking both sides at each distance.
	c := int(nominal / IntervalBucket)
	var seen uint64
	for d := 0; d < IntervalBuckets; d++ {
		if lo := c - d; lo >= 0 && lo < IntervalBuckets {
			seen += uint64(h.counts[lo])
		}
		if hi := c + d; d > 0 && hi >= 0 && hi < IntervalBuckets {
			seen += uint64(h.counts[hi])
		}
		if seen >= rank {
			return time.Duration(d) * IntervalBucket
		}
	}
	return h.max - nominal
}

// Merge adds o's counts to h: the histogram of several streams.
func (h *IntervalHistogram) Merge(o *IntervalHistogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}
