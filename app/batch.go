package app

import (
	"fmt"
	"strings"
	"time"
)

// Progress is a batch's one-line state for a list row:
// "12/16 · 1 failed · ~20 s left". Finished requests count as done
// whatever their outcome; failures and cancellations are named so a
// finished batch with holes does not look complete.
func (b Batch) Progress() string {
	done := b.Total - b.InFlight
	parts := []string{fmt.Sprintf("%d/%d", done, b.Total)}
	if b.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", b.Failed))
	}
	if b.Cancelled > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", b.Cancelled))
	}
	if b.InFlight > 0 && b.HasETA {
		parts = append(parts, "~"+roughDuration(b.ETA)+" left")
	}
	return strings.Join(parts, " · ")
}

// roughDuration rounds an estimate to what is worth reading: seconds
// under a minute (5 s steps above 10 s), whole minutes above.
func roughDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%d s", max(1, int(d.Round(time.Second)/time.Second)))
	case d < time.Minute:
		return fmt.Sprintf("%d s", int((d+2500*time.Millisecond)/(5*time.Second))*5)
	default:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	}
}

// BatchETA is the estimate Store.Batches puts in Batch.ETA: the last
// request in flight was sent at lastStart (now for one not sent yet) and
// a request of the model takes median; an overdue batch reports zero.
func BatchETA(median time.Duration, lastStart, now time.Time) time.Duration {
	return max(0, lastStart.Add(median).Sub(now))
}
