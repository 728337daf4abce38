package store

import (
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Commit times (issue 17): an acknowledgement waits for its own COMMIT and
// for the one in progress when it arrived, so the tail of the writer's
// COMMIT times (mostly the WAL's fsync) is the floor of the acks' tail.
// The load command prints them beside the acks' latencies; the histogram
// costs one atomic add per commit.
//
// Bucket i counts commits that took at most commitBounds[i] (125 µs·√2^i,
// up to about 2 s); the last one, everything longer, which reads as the
// last bound.
const commitBuckets = 30

var commitBounds = func() (b [commitBuckets - 1]time.Duration) {
	for i := range b {
		b[i] = time.Duration(float64(125*time.Microsecond) * math.Pow(math.Sqrt2, float64(i)))
	}
	return b
}()

type commitHistogram [commitBuckets]atomic.Int64

func (h *commitHistogram) record(d time.Duration) {
	i, _ := slices.BinarySearch(commitBounds[:], d) // the first bound ≥ d, or len: the last bucket
	h[i].Add(1)
}

// commitBound is bucket i's upper bound; the last bucket's reads as the
// last bound.
func commitBound(i int) time.Duration { return commitBounds[min(i, len(commitBounds)-1)] }

// CommitTimes is a snapshot of the writer's COMMIT times since the store
// was opened: Sub two snapshots for a phase's own.
type CommitTimes struct {
	Counts [commitBuckets]int64
}

// CommitTimes reads the writer's COMMIT times so far.
func (d *DB) CommitTimes() CommitTimes {
	var c CommitTimes
	for i := range c.Counts {
		c.Counts[i] = d.w.times[i].Load()
	}
	return c
}

// Sub is what happened between before and c.
func (c CommitTimes) Sub(before CommitTimes) CommitTimes {
	for i := range c.Counts {
		c.Counts[i] -= before.Counts[i]
	}
	return c
}

// Total is the number of commits.
func (c CommitTimes) Total() int64 {
	var n int64
	for _, v := range c.Counts {
		n += v
	}
	return n
}

// Max is the upper bound of the longest commit's bucket (0 with none).
func (c CommitTimes) Max() time.Duration {
	for i := commitBuckets - 1; i >= 0; i-- {
		if c.Counts[i] > 0 {
			return commitBound(i)
		}
	}
	return 0
}

// Quantile is the upper bound of the bucket holding the q-th commit time
// (0 < q ≤ 1): the time at most q of the commits took, to within a factor
// of √2. It is 0 with no commits.
func (c CommitTimes) Quantile(q float64) time.Duration {
	total := c.Total()
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i, v := range c.Counts {
		if seen += v; seen >= rank {
			return commitBound(i)
		}
	}
	return commitBound(commitBuckets - 1)
}

// Over is how many commits took longer than d, to bucket precision: d is
// taken up to the nearest bucket bound (8 ms and 16 ms are bounds). Past
// the last bound (about 2 s) it counts none.
func (c CommitTimes) Over(d time.Duration) int64 {
	i, _ := slices.BinarySearch(commitBounds[:], d)
	var n int64
	for _, v := range c.Counts[min(i+1, commitBuckets):] {
		n += v
	}
	return n
}
