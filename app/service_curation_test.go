package app_test

import (
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestSubmitOfSeveralImagesIsOneBatchAndASingleOneIsNone(t *testing.T) {
	r := newRig(t, "k")
	four := r.submit(t, 4)
	if four[0].BatchID == "" {
		t.Fatal("a count-4 submit has no batch id")
	}
	for _, q := range four {
		if got := r.get(t, q.ID); got.BatchID != four[0].BatchID {
			t.Errorf("request %s stored batch %q, want %q", q.ID, got.BatchID, four[0].BatchID)
		}
	}
	if one := r.submit(t, 1); one[0].BatchID != "" {
		t.Errorf("a single submit got batch %q", one[0].BatchID)
	}
	b, err := r.db.Batches(t.Context(), []string{four[0].BatchID}, r.clock.Now())
	if err != nil || b[four[0].BatchID].Total != 4 || b[four[0].BatchID].InFlight != 4 {
		t.Errorf("batch summary = %+v, %v", b, err)
	}
}

func TestDecisionsRecordTheActingPersonAndStaffDecideOnlyTheirOwn(t *testing.T) {
	r := newRig(t, "k")
	id := r.submit(t, 1)[0].ID
	r.complete(t, id, "/tmp/a.png", "/tmp/bb.png")
	ims, err := r.db.Images(t.Context(), id)
	if err != nil || len(ims) != 2 {
		t.Fatalf("images = %v, %v", ims, err)
	}
	got, err := r.svc.SetApproval(t.Context(), ims[0].ID, app.ApprovalApproved)
	if err != nil || got.Approval != app.ApprovalApproved || got.ApprovedBy != "alice" || got.ApprovedAt == nil {
		t.Fatalf("approve = %+v, %v", got, err)
	}
	mia := app.WithActor(t.Context(), app.Actor{Name: "mia", Role: app.RoleStaff})
	_, err = r.svc.SetFavorite(mia, ims[1].ID, true)
	if app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Errorf("staff starring another's image: %v, want EUNAUTHORIZED", err)
	}
	boss := app.WithActor(t.Context(), app.Actor{Name: "bea", Role: app.RoleAdmin})
	got, err = r.svc.SetFavorite(boss, ims[1].ID, true)
	if err != nil || !got.Favorite || got.FavoriteBy != "bea" {
		t.Errorf("admin star = %+v, %v", got, err)
	}
	if _, err := r.svc.SetApproval(t.Context(), ims[0].ID, "maybe"); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("approval maybe: %v, want EINVALID", err)
	}
}

func TestVaryMakesABatchOfFourWithTheNextSeedsAndRerollDrawsNewOnes(t *testing.T) {
	r := newRig(t, "k")
	src := r.submit(t, 1)[0]
	r.complete(t, src.ID, "/tmp/v.png")
	ims, _ := r.db.Images(t.Context(), src.ID)
	vary, err := r.svc.Vary(t.Context(), ims[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vary) != app.VariationCount {
		t.Fatalf("vary made %d requests, want %d", len(vary), app.VariationCount)
	}
	for i, q := range vary {
		got := r.get(t, q.ID)
		if got.Params.Seed != src.Params.Seed+int64(i)+1 || got.Params.Prompt != src.Params.Prompt ||
			got.Params.Model != src.Params.Model || got.Params.Resolution() != src.Params.Resolution() {
			t.Errorf("variation %d = %+v, want seed %d and the source's parameters", i, got.Params, src.Params.Seed+int64(i)+1)
		}
		if got.VariationOf != ims[0].ID || got.BatchID == "" || got.BatchID != vary[0].BatchID {
			t.Errorf("variation %d: variation_of %d batch %q", i, got.VariationOf, got.BatchID)
		}
	}
	reroll, err := r.svc.Reroll(t.Context(), ims[0].ID)
	if err != nil || len(reroll) != app.VariationCount || reroll[0].BatchID == vary[0].BatchID {
		t.Fatalf("reroll = %d requests, %v", len(reroll), err)
	}
	seen := map[int64]bool{}
	for _, q := range reroll {
		seen[q.Params.Seed] = true
	}
	if len(seen) != app.VariationCount {
		t.Errorf("re-roll seeds %v are not %d different ones", seen, app.VariationCount)
	}
}
