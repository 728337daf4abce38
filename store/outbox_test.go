package store

import (
	"context"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestOutboxLifecycleDrivesSyncState(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	a := createOne(t, db, "first")
	clock.Advance(time.Second)
	b := createOne(t, db, "second")

	due, err := db.DueOutbox(ctx, clock.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].RequestID != a.ID || due[1].RequestID != b.ID || due[0].Kind != app.OutboxUpsertRequest {
		t.Fatalf("due = %+v, want a's then b's upsert, oldest first", due)
	}

	// a: a temporary failure waits for its next attempt.
	next := clock.Now().Add(time.Minute)
	if err := db.OutboxRetryLater(ctx, []int64{due[0].ID}, "Odoo 503", next); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueOutbox(ctx, clock.Now(), 10); len(due) != 1 || due[0].RequestID != b.ID {
		t.Fatalf("after retry-later, due = %+v, want only b", due)
	}
	clock.Advance(time.Minute)
	due, _ = db.DueOutbox(ctx, clock.Now(), 10)
	if len(due) != 2 || due[0].Attempts != 1 || due[0].LastError != "Odoo 503" || !due[0].NextAttemptAt.Equal(next) {
		t.Fatalf("a minute later, due = %+v", due)
	}

	// b: done → synced; a: parked → parked.
	if err := db.OutboxDone(ctx, []int64{due[1].ID}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.OutboxPark(ctx, []int64{due[0].ID}, "ValidationError: bad seed", clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantSync(t, db, b.ID, app.SyncDone)
	wantSync(t, db, a.ID, app.SyncParked)
	if due, _ := db.DueOutbox(ctx, clock.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("parked and done rows are due: %+v", due)
	}
	st, err := db.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 || st.Parked != 1 || st.OldestPending != nil || st.LastError != "ValidationError: bad seed" {
		t.Fatalf("stats = %+v", st)
	}

	// A new change of the parked request keeps it parked until requeued.
	move(t, db, a.ID, app.StatusSending)
	wantSync(t, db, a.ID, app.SyncParked)
	st, _ = db.OutboxStats(ctx)
	if st.Pending != 1 || st.OldestPending == nil || !st.OldestPending.Equal(clock.Now()) {
		t.Fatalf("stats with one pending = %+v", st)
	}

	n, err := db.OutboxRequeue(ctx, a.ID)
	if err != nil || n != 1 {
		t.Fatalf("requeue = %d, %v; want 1", n, err)
	}
	wantSync(t, db, a.ID, app.SyncPending)
	due, _ = db.DueOutbox(ctx, clock.Now(), 10)
	if len(due) != 2 || due[0].ParkedAt != nil {
		t.Fatalf("after requeue, due = %+v", due)
	}
	if err := db.OutboxDone(ctx, []int64{due[0].ID, due[1].ID}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantSync(t, db, a.ID, app.SyncDone)
	if n, _ := db.OutboxRequeue(ctx, ""); n != 0 {
		t.Errorf("requeue with nothing parked = %d", n)
	}
}

func TestDueOutboxHonoursTheBatchLimit(t *testing.T) {
	db, clock := openTest(t)
	for range 5 {
		createOne(t, db, "p")
	}
	due, err := db.DueOutbox(context.Background(), clock.Now(), 3)
	if err != nil || len(due) != 3 {
		t.Fatalf("due = %d, %v; want 3", len(due), err)
	}
	if !(due[0].ID < due[1].ID && due[1].ID < due[2].ID) {
		t.Errorf("not oldest first: %d %d %d", due[0].ID, due[1].ID, due[2].ID)
	}
}

func wantSync(t *testing.T, db *DB, id string, want app.SyncState) {
	t.Helper()
	r, err := db.GetRequest(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.SyncState != want {
		t.Errorf("request %s sync_state = %s, want %s", id, r.SyncState, want)
	}
}
