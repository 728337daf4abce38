package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// pageIDs reads one grouped page and returns its ids and HasMore.
func pageIDs(t *testing.T, db *DB, q app.ListQuery) ([]string, bool) {
	t.Helper()
	q.GroupBatches = true
	page, err := db.ListRequests(context.Background(), q)
	if err != nil {
		t.Fatalf("ListRequests %+v: %v", q, err)
	}
	ids := make([]string, len(page.Requests))
	for i, r := range page.Requests {
		ids[i] = r.ID
	}
	return ids, page.HasMore
}

func TestGroupedListPagesOverEntriesAndABatchIsOneEntry(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	older := createOne(t, db, "older single")
	clock.Advance(time.Second)
	batch := app.NewID(clock.Now())
	var reqs []app.Request
	for i := 0; i < 16; i++ {
		clock.Advance(time.Millisecond)
		r := newRequest(clock.Now(), "sixteen cats")
		r.BatchID = batch
		reqs = append(reqs, r)
	}
	if err := db.CreateRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	newer := createOne(t, db, "newer single")
	newest := reqs[15].ID

	// one entry per page: the batch sits where its newest request does
	want := []string{newer.ID, newest, older.ID}
	var cursor string
	for i, id := range want {
		got, more := pageIDs(t, db, app.ListQuery{Limit: 1, Before: cursor})
		if len(got) != 1 || got[0] != id || more != (i < len(want)-1) {
			t.Fatalf("page %d = %v (more %v), want [%s] (more %v)", i, got, more, id, i < len(want)-1)
		}
		cursor = got[0]
	}
	// two per page across the batch's boundary, and back up from the bottom
	if got, more := pageIDs(t, db, app.ListQuery{Limit: 2}); len(got) != 2 || got[1] != newest || !more {
		t.Fatalf("first page of 2 = %v (more %v)", got, more)
	}
	if got, more := pageIDs(t, db, app.ListQuery{Limit: 2, Before: newest}); len(got) != 1 || got[0] != older.ID || more {
		t.Fatalf("page below the batch = %v (more %v)", got, more)
	}
	if got, more := pageIDs(t, db, app.ListQuery{Limit: 1, After: older.ID}); len(got) != 1 || got[0] != newest || !more {
		t.Fatalf("page up from the oldest = %v (more %v)", got, more)
	}
	if n, err := db.CountRequests(ctx, app.ListQuery{GroupBatches: true}); err != nil || n != 3 {
		t.Fatalf("entries = %d, %v; want 3", n, err)
	}
	if n, err := db.CountRequests(ctx, app.ListQuery{}); err != nil || n != 18 {
		t.Fatalf("requests = %d, %v; want 18", n, err)
	}

	// a filter that matches one request of the batch: the batch is one
	// entry, keyed by that request, and its summary counts all sixteen
	move(t, db, reqs[3].ID, app.StatusSending)
	move(t, db, reqs[3].ID, app.StatusInitiationFailed)
	failed := app.ListQuery{Statuses: []app.Status{app.StatusInitiationFailed}}
	if got, more := pageIDs(t, db, failed); len(got) != 1 || got[0] != reqs[3].ID || more {
		t.Fatalf("failed tab = %v (more %v), want only [%s]", got, more, reqs[3].ID)
	}
	failed.GroupBatches = true
	if n, err := db.CountRequests(ctx, failed); err != nil || n != 1 {
		t.Fatalf("failed entries = %d, %v; want 1", n, err)
	}
	sum, err := db.Batches(ctx, []string{batch}, clock.Now())
	if err != nil || sum[batch].Total != 16 || sum[batch].Failed != 1 || sum[batch].InFlight != 15 {
		t.Fatalf("summary = %+v, %v; want 16 in all, 1 failed, 15 in flight", sum[batch], err)
	}
	// the search matches the batch's prompt: still one entry for sixteen
	if got, _ := pageIDs(t, db, app.ListQuery{Search: "cats"}); len(got) != 1 || got[0] != newest {
		t.Fatalf("search = %v, want [%s]", got, newest)
	}
}

func TestTheGroupedListReadsIndexesNeverSortsTheTable(t *testing.T) {
	db, _ := openTest(t)
	for _, q := range []app.ListQuery{
		{GroupBatches: true, Before: "01J"},
		{GroupBatches: true, Statuses: []app.Status{app.StatusFailed}, Search: "cat", Before: "01J"},
	} {
		where, args, err := listFilter(q, true)
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(t, db, "SELECT "+requestCols+" FROM requests"+where+" ORDER BY id DESC LIMIT 51", args...)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "requests_batch") {
			t.Errorf("grouped list %+v: the plan should walk the id order and probe a batch by its index: %s", q, plan)
		}
	}
}
