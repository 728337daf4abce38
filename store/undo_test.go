package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// visible reports whether the list and the counts show the request.
func visible(t *testing.T, db *DB, id string) bool {
	t.Helper()
	ctx := context.Background()
	page, err := db.ListRequests(ctx, app.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, r := range page.Requests {
		listed = listed || r.ID == id
	}
	n, err := db.CountRequests(ctx, app.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := db.CountByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if n != len(page.Requests) || total != n {
		t.Fatalf("list shows %d rows, CountRequests %d, tab counts %d: they disagree", len(page.Requests), n, total)
	}
	return listed
}

func restored() app.Activity {
	return app.Activity{Kind: app.ActivityRestored, Level: app.LevelInfo, Message: "delete undone"}
}

func TestSoftDeleteHidesAtOnceAndRestoreBringsItBack(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	keep := createOne(t, db, "a fox")
	r := createOne(t, db, "a cat")
	if err := db.SoftDeleteRequest(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if visible(t, db, r.ID) || !visible(t, db, keep.ID) {
		t.Fatal("a deleted request is still listed, or the other one is not")
	}
	wantCode(t, db.SoftDeleteRequest(ctx, r.ID), app.ENOTFOUND) // deleting twice
	clock.Advance(app.UndoWindow - time.Second)
	got, err := db.RestoreRequest(ctx, r.ID, clock.Now().Add(-app.UndoWindow), restored())
	if err != nil {
		t.Fatal(err)
	}
	if got.DeletedAt != nil || !visible(t, db, r.ID) {
		t.Fatalf("restored request: deleted_at %v, listed %v", got.DeletedAt, visible(t, db, r.ID))
	}
	_, err = db.RestoreRequest(ctx, r.ID, clock.Now().Add(-app.UndoWindow), restored())
	wantCode(t, err, app.ECONFLICT) // not deleted: nothing to undo
	if n := countRows(t, db, "activity", "kind = ?", app.ActivityRestored); n != 1 {
		t.Fatalf("%d restored activities, want 1", n)
	}
}

func TestRestoreAfterTheWindowIsRefusedAndTheCollectorFinishesTheDelete(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	old := createOne(t, db, "deleted long ago")
	if err := db.SoftDeleteRequest(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(app.UndoWindow + time.Second)
	young := createOne(t, db, "deleted just now")
	if err := db.SoftDeleteRequest(ctx, young.ID); err != nil {
		t.Fatal(err)
	}
	_, err := db.RestoreRequest(ctx, old.ID, clock.Now().Add(-app.UndoWindow), restored())
	if app.ErrorReason(err) != "undo_expired" {
		t.Fatalf("restore after the window: %v, want undo_expired", err)
	}
	rep, err := db.Collect(ctx, NewImageFiles(t.TempDir()), CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RequestsPurged != 1 || countRows(t, db, "requests", "id = ?", old.ID) != 0 || countRows(t, db, "requests", "id = ?", young.ID) != 1 {
		t.Fatalf("collector finished %d deletes; old row left %d, young row left %d; want 1, 0, 1",
			rep.RequestsPurged, countRows(t, db, "requests", "id = ?", old.ID), countRows(t, db, "requests", "id = ?", young.ID))
	}
	_, err = db.RestoreRequest(ctx, old.ID, clock.Now().Add(-app.UndoWindow), restored())
	if app.ErrorCode(err) != app.ENOTFOUND || app.ErrorReason(err) != "undo_expired" {
		t.Fatalf("restore after the collector: %v", err)
	}
	// The young one is still within its window.
	if _, err := db.RestoreRequest(ctx, young.ID, clock.Now().Add(-app.UndoWindow), restored()); err != nil {
		t.Fatal(err)
	}
}

func TestSoftDeleteRefusesASendingRequestAndTheSenderSkipsDeletedOnes(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	sending := createOne(t, db, "in flight")
	move(t, db, sending.ID, app.StatusSending)
	err := db.SoftDeleteRequest(ctx, sending.ID)
	if app.ErrorReason(err) != "request_sending" {
		t.Fatalf("deleting a sending request: %v, want request_sending", err)
	}
	queued := createOne(t, db, "not sent yet")
	if err := db.SoftDeleteRequest(ctx, queued.ID); err != nil {
		t.Fatal(err)
	}
	due, err := db.RequestsInStatus(ctx, app.StatusQueued, time.Time{}, 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("queued requests due to send: %d (%v), want none: the only one is deleted", len(due), err)
	}
	// A sender that read it before the delete cannot claim it after.
	_, err = db.Transition(ctx, app.Change{ID: queued.ID, To: app.StatusSending, ClaimBy: "sender-1"})
	wantCode(t, err, app.ECONFLICT)
}

// A callback that arrives for a deleted request (inside its undo window)
// is recorded and processed like any other, so the undo brings the request
// back completed with its image: the result is not lost to the delete.
func TestACallbackForASoftDeletedRequestIsNotLost(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "a fox")
	move(t, db, r.ID, app.StatusSending)
	move(t, db, r.ID, app.StatusProcessing)
	if err := db.SoftDeleteRequest(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	did, dup, err := db.RecordDelivery(ctx, delivery(r.ID, "webhook-late"))
	if err != nil || dup {
		t.Fatalf("record a callback for a deleted request: dup %v, %v", dup, err)
	}
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
		Images: []app.Image{img(r.ID, "aa11")}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	got, err := db.RestoreRequest(ctx, r.ID, clock.Now().Add(-app.UndoWindow), restored())
	if err != nil {
		t.Fatal(err)
	}
	images, err := db.Images(ctx, r.ID)
	if err != nil || got.Status != app.StatusCompleted || len(images) != 1 {
		t.Fatalf("restored request is %s with %d image(s) (%v), want completed with 1", got.Status, len(images), err)
	}
}

func cancelUndone() app.Activity {
	return app.Activity{Kind: app.ActivityUncancelled, Level: app.LevelInfo, Message: "cancel undone"}
}

func TestUndoCancelReturnsToThePreviousStateWhenNoResultCame(t *testing.T) {
	for _, prev := range []app.Status{app.StatusQueued, app.StatusProcessing, app.StatusTimedOut, app.StatusInitiationFailed} {
		t.Run(string(prev), func(t *testing.T) {
			db, clock := openTest(t)
			ctx := context.Background()
			r := createOne(t, db, "a fox")
			path := map[app.Status][]app.Status{
				app.StatusProcessing:       {app.StatusSending, app.StatusProcessing},
				app.StatusTimedOut:         {app.StatusSending, app.StatusProcessing, app.StatusTimedOut},
				app.StatusInitiationFailed: {app.StatusSending, app.StatusInitiationFailed},
			}[prev]
			for _, st := range path {
				move(t, db, r.ID, st)
			}
			c := move(t, db, r.ID, app.StatusCancelled)
			if c.CancelledFrom != prev {
				t.Fatalf("cancelled_from = %q, want %q", c.CancelledFrom, prev)
			}
			outboxBefore := countRows(t, db, "outbox", "request_id = ?", r.ID)
			clock.Advance(3 * time.Second)
			got, err := db.UndoCancel(ctx, r.ID, clock.Now().Add(-app.UndoWindow), cancelUndone())
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != prev || got.CancelledFrom != "" || !got.UpdatedAt.After(c.UpdatedAt) {
				t.Fatalf("after undo: %s (from %q, updated %v after %v), want %s", got.Status, got.CancelledFrom, got.UpdatedAt, c.UpdatedAt, prev)
			}
			if countRows(t, db, "outbox", "request_id = ?", r.ID) <= outboxBefore {
				t.Fatal("the undo queued no Odoo update: Odoo would keep showing cancelled")
			}
		})
	}
}

func TestUndoCancelNeverHidesAResult(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "a fox")
	move(t, db, r.ID, app.StatusSending)
	move(t, db, r.ID, app.StatusProcessing)
	move(t, db, r.ID, app.StatusCancelled)
	// The result arrives after the cancel: kept as a late result.
	did, _, err := db.RecordDelivery(ctx, delivery(r.ID, "webhook-1"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	_, err = db.UndoCancel(ctx, r.ID, clock.Now().Add(-app.UndoWindow), cancelUndone())
	if app.ErrorReason(err) != "result_arrived" {
		t.Fatalf("undo with a result in: %v, want result_arrived", err)
	}
	// Recorded but not yet processed when the undo came: still applied after.
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
		Images: []app.Image{img(r.ID, "aa11")}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetRequest(ctx, r.ID)
	if err != nil || got.Status != app.StatusCancelled || got.ImageCount != 1 {
		t.Fatalf("request after the late result: %s with %d image(s) (%v), want cancelled with 1", got.Status, got.ImageCount, err)
	}
}

func TestUndoCancelIsRefusedWhenSendingOrTooLate(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	sending := createOne(t, db, "in flight")
	move(t, db, sending.ID, app.StatusSending)
	move(t, db, sending.ID, app.StatusCancelled)
	_, err := db.UndoCancel(ctx, sending.ID, clock.Now().Add(-app.UndoWindow), cancelUndone())
	if app.ErrorReason(err) != "cancelled_while_sending" {
		t.Fatalf("undo of a cancel while sending: %v", err)
	}
	late := createOne(t, db, "queued")
	move(t, db, late.ID, app.StatusCancelled)
	clock.Advance(app.UndoWindow + time.Second)
	_, err = db.UndoCancel(ctx, late.ID, clock.Now().Add(-app.UndoWindow), cancelUndone())
	if app.ErrorReason(err) != "undo_expired" {
		t.Fatalf("undo after the window: %v", err)
	}
	live := createOne(t, db, "queued, never cancelled")
	_, err = db.UndoCancel(ctx, live.ID, clock.Now().Add(-app.UndoWindow), cancelUndone())
	wantCode(t, err, app.ECONFLICT)
	if got, _ := db.GetRequest(ctx, late.ID); got.Status != app.StatusCancelled {
		t.Fatalf("a refused undo changed the state to %s", got.Status)
	}
}

// A deleted request leaves its batch's progress and the image lists at
// once (export and the gallery read those), and comes back with an undo.
func TestADeletedRequestLeavesItsBatchAndTheImageLists(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	const batch = "01BATCHCCCCCCCCCCCCCCCCCCC"
	var ids []string
	for i, sha := range []string{"aa11", "bb22"} {
		r := newRequest(db.now(), fmt.Sprintf("fox %d", i))
		r.BatchID = batch
		if err := db.CreateRequests(ctx, []app.Request{r}); err != nil {
			t.Fatal(err)
		}
		move(t, db, r.ID, app.StatusSending)
		move(t, db, r.ID, app.StatusProcessing)
		did, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k-"+sha))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
			Images: []app.Image{img(r.ID, sha)}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := db.SoftDeleteRequest(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	check := func(want int) {
		t.Helper()
		reqs, err := db.BatchRequests(ctx, batch)
		if err != nil || len(reqs) != want {
			t.Fatalf("batch requests: %d (%v), want %d", len(reqs), err, want)
		}
		sums, err := db.Batches(ctx, []string{batch}, db.now())
		if err != nil || sums[batch].Total != want {
			t.Fatalf("batch total: %d (%v), want %d", sums[batch].Total, err, want)
		}
		ims, err := db.ListImages(ctx, app.ImageQuery{BatchID: batch})
		if err != nil || len(ims) != want {
			t.Fatalf("images: %d (%v), want %d", len(ims), err, want)
		}
	}
	check(1)
	if _, err := db.RestoreRequest(ctx, ids[0], time.Time{}, restored()); err != nil {
		t.Fatal(err)
	}
	check(2)
}
