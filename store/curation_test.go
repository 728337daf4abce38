package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// completedWithImages makes a completed request holding images with the
// given sha256s.
func completedWithImages(t *testing.T, db *DB, key string, shas ...string) (app.Request, []app.Image) {
	t.Helper()
	r, did := processing(t, db, key)
	var ims []app.Image
	for _, s := range shas {
		ims = append(ims, img(r.ID, s))
	}
	if _, err := db.CompleteDelivery(context.Background(), app.IngestResult{DeliveryID: did, RequestID: r.ID,
		To: app.StatusCompleted, Images: ims}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Images(context.Background(), r.ID)
	if err != nil || len(got) != len(shas) {
		t.Fatalf("images = %+v, %v", got, err)
	}
	return r, got
}

func TestDecideImageRecordsWhoAndWhenAndQueuesTheOdooSync(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r, ims := completedWithImages(t, db, "k", "aa11", "bb22")
	approved, on := app.ApprovalApproved, true
	at := clock.Now().Add(time.Minute)
	got, err := db.DecideImage(ctx, app.ImageDecision{ImageID: ims[0].ID, Approval: &approved, By: "alice", At: at})
	if err != nil {
		t.Fatal(err)
	}
	if got.Approval != app.ApprovalApproved || got.ApprovedBy != "alice" || got.ApprovedAt == nil || !got.ApprovedAt.Equal(at) || got.Favorite {
		t.Fatalf("approved image = %+v", got)
	}
	if _, err := db.DecideImage(ctx, app.ImageDecision{ImageID: ims[1].ID, Favorite: &on, By: "bob", At: at}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "outbox", "kind = 'image_decision' AND request_id = ? AND done_at IS NULL", r.ID); n != 2 {
		t.Errorf("image_decision outbox rows = %d, want 2", n)
	}
	if n := countRows(t, db, "activity", "kind = ? AND message LIKE '%approved by alice%'", app.ActivityImageDecided); n != 1 {
		t.Errorf("approval activity rows = %d, want 1", n)
	}
	req, _ := db.GetRequest(ctx, r.ID)
	if req.SyncState != app.SyncPending {
		t.Errorf("sync state after a decision = %s, want pending", req.SyncState)
	}

	fav, err := db.ListImages(ctx, app.ImageQuery{Favorites: true})
	if err != nil || len(fav) != 1 || fav[0].ID != ims[1].ID || fav[0].FavoriteBy != "bob" {
		t.Errorf("favourites = %+v, %v", fav, err)
	}
	appr, err := db.ListImages(ctx, app.ImageQuery{Approval: app.ApprovalApproved})
	if err != nil || len(appr) != 1 || appr[0].ID != ims[0].ID {
		t.Errorf("approved = %+v, %v", appr, err)
	}
	counts, err := db.CountCuration(ctx, app.ListQuery{})
	if err != nil || counts != (app.CurationCounts{Favorites: 1, Approved: 1}) {
		t.Errorf("counts = %+v, %v", counts, err)
	}
	for _, q := range []app.ListQuery{{Favorites: true}, {Approval: app.ApprovalApproved}} {
		if n, err := db.CountRequests(ctx, q); err != nil || n != 1 {
			t.Errorf("CountRequests(%+v) = %d, %v, want the one request", q, n, err)
		}
	}
	if n, err := db.CountRequests(ctx, app.ListQuery{Approval: app.ApprovalRejected}); err != nil || n != 0 {
		t.Errorf("is:rejected requests = %d, %v, want 0", n, err)
	}
}

func TestAnOlderDecisionNeverOverwritesANewerOne(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	_, ims := completedWithImages(t, db, "k", "aa11")
	rejected, approved := app.ApprovalRejected, app.ApprovalApproved
	later := clock.Now().Add(time.Hour)
	if _, err := db.DecideImage(ctx, app.ImageDecision{ImageID: ims[0].ID, Approval: &rejected, By: "bob", At: later}); err != nil {
		t.Fatal(err)
	}
	// Made earlier (say offline on another machine), recorded afterwards.
	got, err := db.DecideImage(ctx, app.ImageDecision{ImageID: ims[0].ID, Approval: &approved, By: "alice", At: later.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Approval != app.ApprovalRejected || got.ApprovedBy != "bob" {
		t.Errorf("after an older decision: %s by %s, want rejected by bob", got.Approval, got.ApprovedBy)
	}
	undecided := app.ApprovalUndecided
	got, err = db.DecideImage(ctx, app.ImageDecision{ImageID: ims[0].ID, Approval: &undecided, By: "alice", At: later.Add(time.Minute)})
	if err != nil || got.Approval != app.ApprovalUndecided || got.ApprovedBy != "" || got.ApprovedAt != nil {
		t.Errorf("reset = %+v, %v: want undecided without approver", got, err)
	}
	_, err = db.DecideImage(ctx, app.ImageDecision{ImageID: 9999, Approval: &approved})
	wantCode(t, err, app.ENOTFOUND)
}

func TestFindImageTakesAnIdOrAUniqueHashPrefix(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	_, a := completedWithImages(t, db, "k1", "abcd1111", "abcd2222")
	_, b := completedWithImages(t, db, "k2", "ffee0000")
	cases := []struct {
		ref    string
		wantID int64
		code   string
		msg    string
	}{
		{ref: "ffee", wantID: b[0].ID},
		{ref: "ABCD1", wantID: a[0].ID},
		{ref: strings.TrimSpace(" " + itoa(int(a[1].ID)) + " "), wantID: a[1].ID},
		{ref: "abcd", code: app.ECONFLICT, msg: "matches several images"},
		{ref: "0123abc", code: app.ENOTFOUND, msg: "no image has id or sha256 prefix"},
		{ref: "xyz!", code: app.EINVALID},
		{ref: "", code: app.EINVALID},
	}
	for _, c := range cases {
		im, err := db.FindImage(ctx, c.ref)
		if c.code != "" {
			if app.ErrorCode(err) != c.code || !strings.Contains(app.ErrorMessage(err), c.msg) {
				t.Errorf("FindImage(%q) = %v, want %s with %q", c.ref, err, c.code, c.msg)
			}
			continue
		}
		if err != nil || im.ID != c.wantID {
			t.Errorf("FindImage(%q) = %d, %v, want %d", c.ref, im.ID, err, c.wantID)
		}
	}
}

func TestBatchesSummariseAPageInOneQueryWithAnETA(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	// History: three completed sdxl requests that took 10, 20 and 60 s.
	for _, d := range []time.Duration{10 * time.Second, 20 * time.Second, time.Minute} {
		r := createOne(t, db, "history")
		move(t, db, r.ID, app.StatusSending)
		sent := clock.Now()
		if _, err := db.Transition(ctx, app.Change{ID: r.ID, To: app.StatusProcessing, SentAt: &sent}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(d)
		move(t, db, r.ID, app.StatusCompleted)
	}
	batch := app.NewID(clock.Now())
	var reqs []app.Request
	for i := 0; i < 4; i++ {
		r := newRequest(clock.Now(), "a cat")
		r.ID = app.NewID(clock.Now())
		r.BatchID = batch
		reqs = append(reqs, r)
	}
	other := newRequest(clock.Now(), "a dog")
	other.ID, other.BatchID = app.NewID(clock.Now()), app.NewID(clock.Now())
	if err := db.CreateRequests(ctx, append(reqs, other)); err != nil {
		t.Fatal(err)
	}
	move(t, db, reqs[0].ID, app.StatusSending)
	move(t, db, reqs[0].ID, app.StatusProcessing)
	move(t, db, reqs[0].ID, app.StatusCompleted)
	move(t, db, reqs[1].ID, app.StatusSending)
	move(t, db, reqs[1].ID, app.StatusInitiationFailed)
	for _, r := range reqs[2:] {
		move(t, db, r.ID, app.StatusSending)
		sent := clock.Now()
		if _, err := db.Transition(ctx, app.Change{ID: r.ID, To: app.StatusProcessing, SentAt: &sent}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(5 * time.Second)
	got, err := db.Batches(ctx, []string{batch, other.BatchID, "nosuchbatch"}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("batches = %+v, want the two known ones", got)
	}
	b := got[batch]
	if b.Total != 4 || b.Completed != 1 || b.Failed != 1 || b.InFlight != 2 || b.Prompt != "a cat" || b.Model != "sdxl" {
		t.Errorf("batch = %+v", b)
	}
	// Median 20 s, the last send 5 s ago: 15 s left.
	if !b.HasETA || b.ETA != 15*time.Second {
		t.Errorf("ETA = %v (has %v), want 15s", b.ETA, b.HasETA)
	}
	if p := b.Progress(); p != "2/4 · 1 failed · ~15 s left" {
		t.Errorf("progress = %q", p)
	}
	// Not sent yet: the whole median from now.
	if o := got[other.BatchID]; o.Total != 1 || o.InFlight != 1 || o.ETA != 20*time.Second {
		t.Errorf("unsent batch = %+v", o)
	}
	members, err := db.BatchRequests(ctx, batch)
	if err != nil || len(members) != 4 || members[0].ID != reqs[0].ID || members[3].BatchID != batch {
		t.Errorf("BatchRequests = %d rows, %v", len(members), err)
	}
	if n, err := db.CountRequests(ctx, app.ListQuery{BatchID: batch}); err != nil || n != 4 {
		t.Errorf("CountRequests(batch) = %d, %v", n, err)
	}
}
