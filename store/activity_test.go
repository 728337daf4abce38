package store

import (
	"context"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// The dashboard header reads the newest n8n outcome on every refresh. It
// must come from the partial index of migration 0013, not a walk of the
// whole log: the query repeats the index's WHERE, and a drift between the
// migration and app.N8NOutcomeKinds shows here as a scan.
func TestTheNewestN8NOutcomeIsReadThroughItsPartialIndex(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, ok, err := db.NewestN8NOutcome(ctx); ok || err != nil {
		t.Fatalf("empty log: ok %v, err %v; want none", ok, err)
	}
	r := createOne(t, db, "p")
	if err := db.AppendActivity(ctx,
		app.Activity{RequestID: r.ID, Kind: app.ActivityAccepted, Message: "n8n accepted"},
		app.Activity{RequestID: r.ID, Kind: app.ActivityN8NError, Level: app.LevelError, Message: "n8n: 500"},
		app.Activity{RequestID: r.ID, Kind: app.ActivitySynced, Message: "synced to Odoo"},
		app.Activity{Kind: app.ActivityTokenRotated, Message: "rotated"},
	); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.NewestN8NOutcome(ctx)
	if err != nil || !ok || got.Kind != app.ActivityN8NError || got.RequestID != r.ID || got.Message != "n8n: 500" {
		t.Fatalf("newest outcome = %+v, %v, %v; want the n8n error, not the later sync or rotation", got, ok, err)
	}
	if err := db.AppendActivity(ctx, app.Activity{RequestID: r.ID, Kind: app.ActivityCompleted, Message: "completed"}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.NewestN8NOutcome(ctx); got.Kind != app.ActivityCompleted {
		t.Fatalf("after a completion the newest outcome is %q", got.Kind)
	}

	if p := queryPlan(t, db, n8nOutcomeSQL); !strings.Contains(p, "INDEX activity_n8n_outcome") {
		t.Fatalf("the newest n8n outcome is read by %q; want the partial index activity_n8n_outcome", p)
	}
}

// The collector finds the rows of a file by the hash in its name: a row
// whose file is named otherwise would leave that file unprotected.
func TestAnImageNotNamedByItsHashIsRefused(t *testing.T) {
	db, _ := openTest(t)
	r, did := processing(t, db, "k")
	im := img(r.ID, "ab12")
	im.Path = "/data/images/ab/fox.png"
	_, err := db.CompleteDelivery(context.Background(), app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
		Images: []app.Image{im}})
	wantCode(t, err, app.EINVALID)
	if err == nil || !strings.Contains(err.Error(), "not named by its sha256") {
		t.Fatalf("err = %v; want it to say the file is not named by its hash", err)
	}
	if n := countRows(t, db, "images", "1"); n != 0 {
		t.Fatalf("%d image rows stored; want none", n)
	}
}
