package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestAFailedDeliveryIsNotDueUntilItsBackoffPasses(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	failing, _, err := db.RecordDelivery(ctx, delivery(r.ID, "failing"))
	if err != nil {
		t.Fatal(err)
	}
	// A request accepts one result: the other delivery is another request's.
	if _, _, err := db.RecordDelivery(ctx, delivery(createOne(t, db, "q").ID, "fine")); err != nil {
		t.Fatal(err)
	}
	due := func() []string {
		t.Helper()
		p, err := db.PendingDeliveries(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, d := range p {
			keys = append(keys, d.IdempotencyKey)
		}
		return keys
	}
	// Each failure doubles the wait: 2 s, 4 s, 8 s …
	for attempt, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if err := db.DeliveryFailed(ctx, failing, fmt.Sprint("attempt ", attempt+1)); err != nil {
			t.Fatal(err)
		}
		if got := due(); len(got) != 1 || got[0] != "fine" {
			t.Fatalf("after failure %d, due = %v; want only the other delivery", attempt+1, got)
		}
		clock.Advance(wait - time.Millisecond)
		if got := due(); len(got) != 1 {
			t.Fatalf("after failure %d, due %v before its %v backoff passed", attempt+1, got, wait)
		}
		clock.Advance(time.Millisecond)
		got, err := db.PendingDeliveries(ctx, 10)
		if err != nil || len(got) != 2 || got[0].IdempotencyKey != "failing" {
			t.Fatalf("after the %v backoff, due = %+v, %v; want both, oldest first", wait, got, err)
		}
		if got[0].Attempts != attempt+1 || got[0].LastError != fmt.Sprint("attempt ", attempt+1) {
			t.Errorf("attempts %d, last error %q", got[0].Attempts, got[0].LastError)
		}
	}
}

func TestDeliveryBackoffIsCappedAtFiveMinutes(t *testing.T) {
	cases := []struct {
		attempts int
		want     time.Duration
	}{
		{0, 2 * time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {8, 256 * time.Second},
		{9, 5 * time.Minute}, {60, 5 * time.Minute},
	}
	for _, c := range cases {
		if got := deliveryRetryDelay(c.attempts); got != c.want {
			t.Errorf("delay after %d attempts = %v, want %v", c.attempts, got, c.want)
		}
	}
}

func TestDeliveryFailedOnAProcessedDeliveryChangesNothing(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	id, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k"))
	if err != nil {
		t.Fatal(err)
	}
	// To "" keeps the request's state: only the delivery is processed.
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: id}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeliveryFailed(ctx, id, "late failure"); err != nil {
		t.Fatalf("DeliveryFailed on a processed delivery: %v", err)
	}
	var lastErr string
	var next *string
	if err := db.rdb.QueryRowContext(ctx, "SELECT last_error, next_attempt_at FROM deliveries WHERE id = ?", id).Scan(&lastErr, &next); err != nil {
		t.Fatal(err)
	}
	if lastErr != "" || next != nil {
		t.Errorf("processed delivery got last_error %q, next_attempt_at %v; want untouched", lastErr, next)
	}
}

// Issue 11 item 4: a delivery that could never be applied was retried
// every 5 min for ever. After app.MaxDeliveryAttempts it is parked, with
// an activity; a restart gives it exactly one more attempt.
func TestADeliveryIsParkedAfterItsLastAttempt(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	id, _, err := db.RecordDelivery(ctx, delivery(r.ID, "doomed"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range app.MaxDeliveryAttempts {
		if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 1 {
			t.Fatalf("attempt %d: the delivery is not due (%d pending)", i+1, len(p))
		}
		if err := db.DeliveryFailed(ctx, id, "disk full"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(deliveryRetryMax)
	}
	clock.Advance(24 * time.Hour)
	if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 0 {
		t.Fatalf("a parked delivery is still due: %+v", p)
	}
	parked, err := db.ParkedDeliveries(ctx, r.ID, 10)
	if err != nil || len(parked) != 1 || parked[0].Attempts != app.MaxDeliveryAttempts || parked[0].LastError != "disk full" {
		t.Fatalf("parked = %+v, %v", parked, err)
	}
	if n := countRows(t, db, "activity", "request_id = ? AND message LIKE '%parked after 10 failed attempts%'", r.ID); n != 1 {
		t.Fatalf("%d parking activities, want 1", n)
	}
	if n, err := db.RetryParkedDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("RetryParkedDeliveries = %d, %v", n, err)
	}
	if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 1 {
		t.Fatal("after a restart the parked delivery is not due once more")
	}
	if err := db.DeliveryFailed(ctx, id, "disk still full"); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 0 {
		t.Fatal("one more failure should park it again")
	}
}
