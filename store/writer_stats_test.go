package store

import (
	"testing"
	"time"
)

// The histogram places each time in the bucket whose bound is the first at
// or above it, and a quantile reads the bound of the bucket holding it.
func TestCommitTimesReadQuantilesToWithinTheirBucket(t *testing.T) {
	var h commitHistogram
	for range 98 {
		h.record(time.Millisecond)
	}
	h.record(20 * time.Millisecond)
	h.record(time.Hour) // beyond the last bound
	var c CommitTimes
	for i := range c.Counts {
		c.Counts[i] = h[i].Load()
	}
	if c.Total() != 100 {
		t.Fatalf("total %d, want 100", c.Total())
	}
	for _, tc := range []struct {
		q        float64
		min, max time.Duration
	}{
		{0.5, time.Millisecond, 1415 * time.Microsecond},
		{0.98, time.Millisecond, 1415 * time.Microsecond},
		{0.99, 20 * time.Millisecond, 29 * time.Millisecond},
		{1, commitBound(commitBuckets - 1), commitBound(commitBuckets - 1)},
	} {
		if got := c.Quantile(tc.q); got < tc.min || got > tc.max {
			t.Errorf("q%.2f = %v, want within [%v, %v]", tc.q, got, tc.min, tc.max)
		}
	}
	if got := c.Max(); got != commitBound(commitBuckets-1) {
		t.Errorf("max %v, want the last bound %v", got, commitBound(commitBuckets-1))
	}
	// Over rounds its limit up to a bound: 20 ms is over 8 and 16 ms, but
	// shares the bucket of 22.6 ms.
	for limit, want := range map[time.Duration]int64{time.Millisecond: 2, 8 * time.Millisecond: 2,
		16 * time.Millisecond: 2, 21 * time.Millisecond: 1, time.Minute: 0} {
		if got := c.Over(limit); got != want {
			t.Errorf("over %v: %d, want %d", limit, got, want)
		}
	}
	if (CommitTimes{}).Quantile(0.99) != 0 || (CommitTimes{}).Max() != 0 {
		t.Error("no commits should read 0")
	}
}

// Every commit of the writer is counted, and Sub leaves a phase's own.
func TestTheWriterCountsEachCommitsTime(t *testing.T) {
	db, _ := openTest(t)
	before := db.CommitTimes()
	createOne(t, db, "one")
	createOne(t, db, "two")
	phase := db.CommitTimes().Sub(before)
	if phase.Total() != 2 {
		t.Fatalf("%d commits counted for two writes, want 2", phase.Total())
	}
	if phase.Max() <= 0 || phase.Quantile(0.5) > phase.Max() {
		t.Fatalf("p50 %v, max %v", phase.Quantile(0.5), phase.Max())
	}
}
