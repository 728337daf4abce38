package odoo_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
)

func TestTeamFeedReadsOnlyWhatChangedSinceTheLastPoll(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC).UnixNano())
	fake := odootest.New(t, odootest.Config{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	first := fake.Generate("a red cube", "Alice", nil)
	fake.Generate("a blue ball", "Bob", nil)
	h := newQueueHost(t, fake, "host-b", newFakeClock(), 1)
	poll(t, h) // host-b claims the oldest
	feed := odoo.NewTeamFeed(newERP(t, fake, nil), 50)
	if n, err := feed.Refresh(context.Background()); err != nil || n != 2 {
		t.Fatalf("first refresh got %d, %v; want both requests", n, err)
	}
	got := feed.Requests()
	byID := map[string]app.TeamRequest{}
	for _, r := range got {
		byID[r.ID] = r
	}
	if r := byID[first]; r.RequestedBy != "Alice" || r.Host != "host-b" || r.Origin != "odoo" || r.State != "queued" {
		t.Errorf("team view of %s: %+v", first, r)
	}
	// Nothing changed: the next poll reads nothing.
	now.Add(int64(2 * time.Minute))
	if n, err := feed.Refresh(context.Background()); err != nil || n != 0 {
		t.Fatalf("idle refresh got %d, %v; want 0", n, err)
	}
	// A colleague cancels: only that request comes back, and the feed shows it first.
	now.Add(int64(2 * time.Minute))
	fake.CancelInOdoo(first)
	if n, err := feed.Refresh(context.Background()); err != nil || n != 1 {
		t.Fatalf("refresh after a change got %d, %v; want 1", n, err)
	}
	if top := feed.Requests()[0]; top.ID != first || !top.CancelRequested || len(feed.Requests()) != 2 {
		t.Errorf("feed after the change: %+v", feed.Requests())
	}
	// The read itself asks Odoo only for rows with a newer write_date.
	since := time.Date(2026, 11, 29, 10, 1, 0, 0, time.UTC)
	rows, err := newERP(t, fake, nil).Team(context.Background(), since, 50)
	if err != nil || len(rows) != 1 || rows[0].ID != first {
		t.Errorf("Team(since %s) = %+v, %v; want only the cancelled request", since, rows, err)
	}
}
