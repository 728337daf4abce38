package store

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestDeleteRequestRemovesEverythingAndReturnsOnlyOrphanedFiles(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	a, da := processing(t, db, "ka")
	b, db2 := processing(t, db, "kb")
	shared := img(a.ID, "5a5a") // the same picture in both requests: one file
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: da, To: app.StatusCompleted,
		Images: []app.Image{shared, img(a.ID, "0a0a")}}); err != nil {
		t.Fatal(err)
	}
	sharedB := shared
	sharedB.RequestID = b.ID
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: db2, To: app.StatusCompleted,
		Images: []app.Image{sharedB}}); err != nil {
		t.Fatal(err)
	}
	retry := newRequest(db.now(), "again")
	retry.RetryOf = a.ID
	if err := db.CreateRequests(ctx, []app.Request{retry}); err != nil {
		t.Fatal(err)
	}

	orphans, err := db.DeleteRequest(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(orphans, []string{img(a.ID, "0a0a").Path}) {
		t.Errorf("orphans = %v, want only the unshared file", orphans)
	}
	for table, where := range map[string]string{
		"requests": "id = ?", "images": "request_id = ?", "activity": "request_id = ?",
		"deliveries": "request_id = ?", "outbox": "request_id = ?",
	} {
		if n := countRows(t, db, table, where, a.ID); n != 0 {
			t.Errorf("%s still has %d rows of the deleted request", table, n)
		}
	}
	if n := countRows(t, db, "images", "request_id = ?", b.ID); n != 1 {
		t.Errorf("the other request lost its image")
	}
	got, _ := db.GetRequest(ctx, retry.ID)
	if got.RetryOf != "" {
		t.Errorf("retry_of still points at the deleted request")
	}
	if n := countRows(t, db, "activity", "request_id IS NULL AND kind = 'deleted'"); n != 1 {
		t.Errorf("deleted activity rows = %d, want 1", n)
	}
	_, err = db.DeleteRequest(ctx, a.ID)
	wantCode(t, err, app.ENOTFOUND)

	orphans, err = db.DeleteRequest(ctx, b.ID)
	if err != nil || !slices.Equal(orphans, []string{shared.Path}) {
		t.Errorf("deleting the last user of the shared file: %v, %v", orphans, err)
	}
}

func TestFindRequestResolvesWhatPeopleType(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	a := createOne(t, db, "a")
	clock.Advance(time.Hour)
	b := createOne(t, db, "b")
	if err := db.SetOdooID(ctx, b.ID, 42); err != nil {
		t.Fatal(err)
	}
	common := commonPrefix(a.ID, b.ID)
	tests := []struct {
		name, ref, wantID, wantCode string
	}{
		{"a full id", a.ID, a.ID, ""},
		{"a unique prefix in lower case", strings.ToLower(b.ID[:len(common)+1]), b.ID, ""},
		{"an Odoo record id", "42", b.ID, ""},
		{"an ambiguous prefix", common, "", app.EINVALID},
		{"an unknown id", "7ZZZZZZZZZ", "", app.ENOTFOUND},
		{"nothing at all", "  ", "", app.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.FindRequest(ctx, tt.ref)
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
				if tt.name == "an ambiguous prefix" && !strings.Contains(err.Error(), "matches 2 requests") {
					t.Errorf("message %q should say how many match", err)
				}
				return
			}
			if err != nil || got.ID != tt.wantID {
				t.Fatalf("got %s, %v; want %s", got.ID, err, tt.wantID)
			}
		})
	}
}

func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

func TestSetOdooIDRefusesARecordThatBelongsToAnotherRequest(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	a, b := createOne(t, db, "a"), createOne(t, db, "b")
	if err := db.SetOdooID(ctx, a.ID, 7); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.SetOdooID(ctx, b.ID, 7), app.ECONFLICT)
	wantCode(t, db.SetOdooID(ctx, "01JDX3V6Q6T7ZP3Y6N4B1K9S2E", 8), app.ENOTFOUND)
	wantCode(t, db.SetOdooID(ctx, a.ID, 0), app.EINVALID)
}

func TestCreateRequestsFillsDefaultsAndRecordsHistory(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	reqs := []app.Request{
		{Params: app.GenerationParams{Prompt: "a lighthouse", Model: "sdxl", Seed: app.MaxSeed}},
		{Params: app.GenerationParams{Prompt: "a lighthouse", Model: "sdxl"}},
	}
	if err := db.CreateRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	if reqs[0].ID == "" || reqs[0].Status != app.StatusQueued || !reqs[0].CreatedAt.Equal(clock.Now()) {
		t.Fatalf("defaults not filled: %+v", reqs[0])
	}
	got, _ := db.GetRequest(ctx, reqs[0].ID)
	if got.Params.Seed != app.MaxSeed || got.SyncState != app.SyncPending {
		t.Errorf("stored %+v", got)
	}
	clock.Advance(time.Minute)
	createOne(t, db, "a harbour")
	hist, err := db.PromptHistory(ctx, 10)
	if err != nil || !slices.Equal(hist, []string{"a harbour", "a lighthouse"}) {
		t.Errorf("history = %v, %v", hist, err)
	}
	// Bad input is refused before anything is written.
	bad := []app.Request{{Params: app.GenerationParams{Prompt: "x", Seed: app.MaxSeed + 1}}}
	wantCode(t, db.CreateRequests(ctx, bad), app.EINVALID)
	wantCode(t, db.CreateRequests(ctx, []app.Request{{Params: app.GenerationParams{Prompt: " "}}}), app.EINVALID)
	wantCode(t, db.CreateRequests(ctx, []app.Request{{ID: "nope", Params: app.GenerationParams{Prompt: "x"}}}), app.EINVALID)
}

func TestDataVersionChangesWhenAnotherHandleWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	ui, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	serve, err := Open(ctx, path, Options{}) // another process, as far as SQLite can tell
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()

	v1, err := ui.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ui.DataVersion(ctx); v != v1 {
		t.Fatalf("data version moved without a write: %d → %d", v1, v)
	}
	if err := serve.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	v2, err := ui.DataVersion(ctx)
	if err != nil || v2 == v1 {
		t.Fatalf("after another handle's write: %d → %d, %v", v1, v2, err)
	}
	// Our own writes are visible too.
	if err := ui.SetSetting(ctx, "k", "w"); err != nil {
		t.Fatal(err)
	}
	if v3, _ := ui.DataVersion(ctx); v3 == v2 {
		t.Fatalf("data version did not move after our own write")
	}
	if got, ok, _ := ui.GetSetting(ctx, "k"); !ok || got != "w" {
		t.Errorf("setting = %q", got)
	}
}

func TestActivityPagesNewestFirstAndFilters(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	if err := db.AppendActivity(ctx,
		app.Activity{Kind: app.ActivityTokenRotated, Message: "rotated"},
		app.Activity{RequestID: r.ID, Kind: app.ActivitySyncError, Level: app.LevelError, Message: "Odoo 422"},
	); err != nil {
		t.Fatal(err)
	}
	all, err := db.ListActivity(ctx, app.ActivityQuery{Limit: 2})
	if err != nil || len(all) != 2 || all[0].Kind != app.ActivitySyncError || all[1].Kind != app.ActivityTokenRotated {
		t.Fatalf("newest two = %+v, %v", all, err)
	}
	older, _ := db.ListActivity(ctx, app.ActivityQuery{BeforeID: all[1].ID})
	if len(older) != 1 || older[0].Kind != app.ActivityCreated {
		t.Fatalf("older page = %+v", older)
	}
	byKind, _ := db.ListActivity(ctx, app.ActivityQuery{Kinds: []string{app.ActivityTokenRotated, app.ActivityCreated}})
	if len(byKind) != 2 {
		t.Fatalf("by kind = %+v", byKind)
	}
	wantCode(t, db.AppendActivity(ctx, app.Activity{Kind: "x", Level: "loud"}), app.EINVALID)
	wantCode(t, db.AppendActivity(ctx, app.Activity{RequestID: "01JDX3V6Q6T7ZP3Y6N4B1K9S2E", Kind: "x"}), app.ENOTFOUND)
}

func TestQuickCheckPassesOnAHealthyFile(t *testing.T) {
	db, _ := openTest(t)
	if err := db.QuickCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestADryRunRequestStaysADryRunWhenReadBack(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	dry := newRequest(db.now(), "setup dry run")
	dry.Params.DryRun = true
	plain := newRequest(db.now(), "a fox")
	if err := db.CreateRequests(ctx, []app.Request{dry, plain}); err != nil {
		t.Fatal(err)
	}
	gotDry, err := db.GetRequest(ctx, dry.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotPlain, err := db.GetRequest(ctx, plain.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDry.Params.DryRun || gotPlain.Params.DryRun {
		t.Errorf("dry_run read back as %v and %v, want true and false", gotDry.Params.DryRun, gotPlain.Params.DryRun)
	}
}
