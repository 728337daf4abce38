package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// TestSearchQualifiersSelectTheSameRowsInListCountsAndTabs stores a few
// distinct requests and checks that each qualifier selects exactly the
// rows Search.Matches predicts, in the page, the total and the per-state
// counts alike, and that keyset paging stays inside the search.
func TestSearchQualifiersSelectTheSameRowsInListCountsAndTabs(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	type spec struct {
		prompt, model, by string
		seed              int64
		day               int
		to                app.Status
	}
	specs := []spec{
		{"red car at dusk", "sdxl", "alice", 123, 0, ""},
		{"red car, rain", "flux-dev", "mia", 7, 2, app.StatusCancelled},
		{"blue boat", "sdxl", "mia", 123, 4, app.StatusSending},
		{"Red Car'; DROP TABLE requests;--", "sdxl", "alice", 9, 6, app.StatusSending},
	}
	var all []app.Request
	for _, sp := range specs {
		r := newRequest(base.AddDate(0, 0, sp.day), sp.prompt)
		r.Params.Model, r.RequestedBy, r.Params.Seed = sp.model, sp.by, sp.seed
		if err := db.CreateRequests(ctx, []app.Request{r}); err != nil {
			t.Fatal(err)
		}
		if sp.to != "" {
			move(t, db, r.ID, sp.to)
		}
		got, err := db.GetRequest(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got)
	}
	for _, search := range []string{
		"red car", "model:sdxl", "seed:123", "is:cancelled", "is:queued is:sending", "by:mia",
		"after:2026-11-03", "before:2026-11-03", "after:2026-11-02 before:2026-11-06", "red model:sdxl by:alice",
		"drop table", "",
	} {
		t.Run(search, func(t *testing.T) {
			parsed, err := app.ParseSearchQuery(search)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			wantByState := map[app.Status]int{}
			for i := len(all) - 1; i >= 0; i-- {
				if parsed.Matches(all[i]) {
					want = append(want, all[i].ID)
					wantByState[all[i].Status]++
				}
			}
			// One row per page walks the keyset through the whole search.
			var got []string
			q := app.ListQuery{Search: search, Limit: 1}
			for {
				page, err := db.ListRequests(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Requests {
					got = append(got, r.ID)
				}
				if !page.HasMore {
					break
				}
				q.Before = page.Requests[len(page.Requests)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("rows = %v, want %v", got, want)
			}
			n, err := db.CountRequests(ctx, app.ListQuery{Search: search})
			if err != nil || n != len(want) {
				t.Errorf("CountRequests = %d, %v; want %d", n, err, len(want))
			}
			byState, err := db.CountByStatusMatching(ctx, app.ListQuery{Search: search})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range app.Statuses {
				if byState[st] != wantByState[st] {
					t.Errorf("tab %s = %d, want %d", st, byState[st], wantByState[st])
				}
			}
		})
	}
	if n := countRows(t, db, "requests", ""); n != len(specs) {
		t.Fatalf("requests table has %d rows after searching for SQL, want %d", n, len(specs))
	}
}

func TestSearchWithABadQualifierIsInvalidEverywhere(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	_, err := db.ListRequests(ctx, app.ListQuery{Search: "mdl:sdxl"})
	wantCode(t, err, app.EINVALID)
	_, err = db.CountRequests(ctx, app.ListQuery{Search: "after:someday"})
	wantCode(t, err, app.EINVALID)
	_, err = db.CountByStatusMatching(ctx, app.ListQuery{Search: "seed:x"})
	wantCode(t, err, app.EINVALID)
}

// is:fav, is:approved/rejected and batch: read the curation columns: a
// request matches when one of its images is starred / has that verdict,
// or when it belongs to the batch (by id or its start).
func TestSearchCurationQualifiers(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	mk := func(prompt, batch string, sha string) app.Request {
		r := newRequest(db.now(), prompt)
		r.BatchID = batch
		if err := db.CreateRequests(ctx, []app.Request{r}); err != nil {
			t.Fatal(err)
		}
		move(t, db, r.ID, app.StatusSending)
		move(t, db, r.ID, app.StatusProcessing)
		did, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k-"+r.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
			Images: []app.Image{img(r.ID, sha)}}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	starred := mk("a starred fox", "01BATCHAAAAAAAAAAAAAAAAAAA", "aa11")
	approved := mk("an approved fox", "01BATCHAAAAAAAAAAAAAAAAAAA", "bb22")
	plain := mk("a plain fox", "01BATCHBBBBBBBBBBBBBBBBBBB", "cc33")
	decide := func(r app.Request, dec app.ImageDecision) {
		ims, err := db.Images(ctx, r.ID)
		if err != nil || len(ims) != 1 {
			t.Fatalf("images of %s: %v", r.ID, err)
		}
		dec.ImageID, dec.By, dec.At = ims[0].ID, "alice", db.now()
		if _, err := db.DecideImage(ctx, dec); err != nil {
			t.Fatal(err)
		}
	}
	yes, ok := true, app.ApprovalApproved
	decide(starred, app.ImageDecision{Favorite: &yes})
	decide(approved, app.ImageDecision{Approval: &ok})
	tests := []struct {
		search string
		want   []app.Request
	}{
		{"is:fav", []app.Request{starred}},
		{"is:approved", []app.Request{approved}},
		{"is:rejected", nil},
		{"is:undecided", []app.Request{plain, starred}},
		{"batch:01batchaaaa", []app.Request{approved, starred}},
		{"batch:01BATCHBBBBBBBBBBBBBBBBBBB fox", []app.Request{plain}},
		{"is:fav batch:01BATCHB", nil},
	}
	for _, tt := range tests {
		page, err := db.ListRequests(ctx, app.ListQuery{Search: tt.search})
		if err != nil {
			t.Fatalf("%q: %v", tt.search, err)
		}
		var got, want []string
		for _, r := range page.Requests {
			got = append(got, r.ID)
		}
		for _, r := range tt.want {
			want = append(want, r.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: rows %v, want %v", tt.search, got, want)
		}
		n, err := db.CountRequests(ctx, app.ListQuery{Search: tt.search})
		if err != nil || n != len(tt.want) {
			t.Errorf("%q: count %d (%v), want %d", tt.search, n, err, len(tt.want))
		}
	}
}
