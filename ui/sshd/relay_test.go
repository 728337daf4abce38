package sshd

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

func TestABurstOfEventsReachesEverySessionAsOneReload(t *testing.T) {
	host := app.NewBus()
	feed := newHostFeed(t.Context(), host, newSharedReads(openStore(t)), time.Second, 2, time.Hour) // a window far longer than 41 publishes take
	subs := []*app.Subscription{feed.bus.Subscribe(t.Context(), 64), feed.bus.Subscribe(t.Context(), 64)}
	for i := range 20 {
		host.Publish(app.Event{Kind: app.EventRequest, RequestID: fmt.Sprint("r", i)})
		host.Publish(app.Event{Kind: app.EventActivity, RequestID: fmt.Sprint("r", i)})
	}
	host.Publish(app.Event{Kind: app.EventSecrets})
	want := []app.Event{{Kind: app.EventRequest, RequestID: "r0"}, {Kind: app.EventSecrets}, {Kind: app.EventRequest}, {Kind: app.EventActivity}}
	for i, sub := range subs {
		var got []app.Event
		deadline := time.After(10 * time.Second)
		for len(got) == 0 || got[len(got)-1] != (app.Event{Kind: app.EventActivity}) {
			select {
			case ev := <-sub.C:
				got = append(got, ev)
			case <-deadline:
				t.Fatalf("session %d: no merged reload within 10s; got %v", i, got)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("session %d saw %v, want the first event, the secrets hint, then one list reload and one activity reload: %v", i, got, want)
		}
	}
}

// countingStore counts the page reads that reach SQLite.
type countingStore struct {
	app.Store
	lists atomic.Int64
}

func (c *countingStore) ListRequests(ctx context.Context, q app.ListQuery) (app.Page, error) {
	c.lists.Add(1)
	return c.Store.ListRequests(ctx, q)
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSessionsReadingTheSamePageShareOneQueryUntilTheNextEpoch(t *testing.T) {
	db := openStore(t)
	counted := &countingStore{Store: db}
	reads := newSharedReads(counted)
	create := func(prompt string) {
		now := time.Now().UTC()
		r := app.Request{ID: app.NewID(now), Status: app.StatusQueued, RequestedBy: "mia", CreatedAt: now, UpdatedAt: now,
			Params: app.GenerationParams{Prompt: prompt, Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", NumImages: 1}}
		if err := db.CreateRequests(context.Background(), []app.Request{r}); err != nil {
			t.Fatal(err)
		}
	}
	create("first")
	q := app.ListQuery{Limit: 200}
	pages := make([]app.Page, 16)
	var wg sync.WaitGroup
	for i := range pages {
		wg.Go(func() {
			p, err := reads.ListRequests(t.Context(), q)
			if err != nil {
				t.Error(err)
			}
			pages[i] = p
		})
	}
	wg.Wait()
	if n := counted.lists.Load(); n != 1 {
		t.Fatalf("16 sessions reading the same page made %d store reads, want 1", n)
	}
	for i, p := range pages {
		if len(p.Requests) != 1 || p.Requests[0].Params.Prompt != "first" {
			t.Fatalf("session %d got %+v", i, p.Requests)
		}
	}
	pages[0].Requests[0].Params.Prompt = "patched by one session"
	if p, _ := reads.ListRequests(t.Context(), q); p.Requests[0].Params.Prompt != "first" {
		t.Fatalf("one session's change to its rows reached another's: %q", p.Requests[0].Params.Prompt)
	}

	// A write moves the data version: the next sample starts a new epoch,
	// the dashboards' poll sees it, and their reads see the new row.
	before, _ := reads.DataVersion(t.Context())
	create("second")
	reads.sample(t.Context())
	after, _ := reads.DataVersion(t.Context())
	if after == before {
		t.Fatal("the sampled data version did not move after a write")
	}
	p, err := reads.ListRequests(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Requests) != 2 || counted.lists.Load() != 2 {
		t.Fatalf("after the write: %d rows from %d store reads, want 2 rows from 2 reads", len(p.Requests), counted.lists.Load())
	}
}

// countingAll counts the reads every dashboard makes on each reload besides
// the page: the entry count, the batch summaries and the header's curation
// counts. Each was once a query per session (issue 16's profile).
type countingAll struct {
	app.Store
	counts, batches, curation atomic.Int64
}

func (c *countingAll) CountRequests(ctx context.Context, q app.ListQuery) (int, error) {
	c.counts.Add(1)
	return c.Store.CountRequests(ctx, q)
}

func (c *countingAll) Batches(ctx context.Context, ids []string, now time.Time) (map[string]app.Batch, error) {
	c.batches.Add(1)
	return c.Store.Batches(ctx, ids, now)
}

func (c *countingAll) CountCuration(ctx context.Context, q app.ListQuery) (app.CurationCounts, error) {
	c.curation.Add(1)
	return c.Store.CountCuration(ctx, q)
}

func TestSessionsShareTheCountsBatchesAndCurationReads(t *testing.T) {
	db := openStore(t)
	counted := &countingAll{Store: db}
	reads := newSharedReads(counted)
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			// sessions at different windows of the same list share one count
			q := app.ListQuery{GroupBatches: true, Before: fmt.Sprintf("01J%d", i)}
			if _, err := reads.CountRequests(t.Context(), q); err != nil {
				t.Error(err)
			}
			if _, err := reads.Batches(t.Context(), []string{"B1", "B2"}, now); err != nil {
				t.Error(err)
			}
			if _, err := reads.CountCuration(t.Context(), app.ListQuery{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c, b, k := counted.counts.Load(), counted.batches.Load(), counted.curation.Load(); c != 1 || b != 1 || k != 1 {
		t.Fatalf("16 sessions made %d entry counts, %d batch reads, %d curation counts; want 1 each", c, b, k)
	}
	// a second later the ETA has moved: the summaries are read again
	if _, err := reads.Batches(t.Context(), []string{"B1", "B2"}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if b := counted.batches.Load(); b != 2 {
		t.Fatalf("batch summaries a second later: %d reads, want 2", b)
	}
}
