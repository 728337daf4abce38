package app

import (
	"testing"
	"time"
)

func TestBatchProgressReadsLikeARow(t *testing.T) {
	cases := []struct {
		name string
		b    Batch
		want string
	}{
		{"in flight with an estimate", Batch{Total: 16, Completed: 11, Failed: 1, InFlight: 4, ETA: 19 * time.Second, HasETA: true}, "12/16 · 1 failed · ~20 s left"},
		{"in flight without history", Batch{Total: 4, InFlight: 4}, "0/4"},
		{"finished with a cancellation", Batch{Total: 4, Completed: 3, Cancelled: 1}, "4/4 · 1 cancelled"},
		{"minutes", Batch{Total: 2, InFlight: 2, ETA: 150 * time.Second, HasETA: true}, "0/2 · ~3 min left"},
		{"a few seconds", Batch{Total: 2, Completed: 1, InFlight: 1, ETA: 300 * time.Millisecond, HasETA: true}, "1/2 · ~1 s left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.b.Progress(); got != c.want {
				t.Errorf("Progress() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestBatchETACountsFromTheLastSendAndNeverGoesNegative(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	if got := BatchETA(30*time.Second, now.Add(-10*time.Second), now); got != 20*time.Second {
		t.Errorf("sent 10 s ago, median 30 s: ETA %v, want 20s", got)
	}
	if got := BatchETA(30*time.Second, now.Add(-time.Minute), now); got != 0 {
		t.Errorf("overdue: ETA %v, want 0", got)
	}
}

func TestParseApprovalNamesTheChoices(t *testing.T) {
	if a, err := ParseApproval(""); err != nil || a != ApprovalUndecided {
		t.Errorf(`ParseApproval("") = %q, %v`, a, err)
	}
	if _, err := ParseApproval("maybe"); err == nil || ErrorCode(err) != EINVALID {
		t.Errorf(`ParseApproval("maybe") = %v, want EINVALID`, err)
	}
}
