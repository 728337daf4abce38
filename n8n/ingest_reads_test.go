package n8n

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// requestReads counts the ingest worker's reads of single requests.
type requestReads struct {
	app.Store
	gets atomic.Int64
}

func (s *requestReads) GetRequest(ctx context.Context, id string) (app.Request, error) {
	s.gets.Add(1)
	return s.Store.GetRequest(ctx, id)
}

// The worker decides on the request's state as it was read with the
// delivery, one query per page, not one query per delivery (issue 17:
// a read of the whole request was 67 µs of each delivery's work); the
// commit re-checks the state itself.
func TestIngestReadsNoRequestPerDelivery(t *testing.T) {
	h := newHarness(t)
	const n = 12
	ids := make([]string, n)
	for i := range n {
		req := h.request(app.StatusProcessing)
		ids[i] = req.ID
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 16, 8, byte(i+1)))), http.StatusOK)
	}
	reads := &requestReads{Store: h.db}
	in := NewIngester(IngestOptions{Store: reads, Files: h.files, Fetcher: h.fetcher, Bus: h.bus, Clock: h.clock})
	got, err := in.ProcessPending(context.Background())
	if err != nil || got != n {
		t.Fatalf("ProcessPending = %d, %v; want %d", got, err, n)
	}
	if k := reads.gets.Load(); k != 0 {
		t.Errorf("ingest read a request %d times for %d deliveries, want none", k, n)
	}
	for _, id := range ids {
		if r := h.get(id); r.Status != app.StatusCompleted || r.ImageCount != 1 {
			t.Errorf("request %s is %s with %d images, want completed with 1", id, r.Status, r.ImageCount)
		}
	}
}

// cancelAfterLoad cancels every request whose delivery it has just loaded:
// the user's cancel landing between the worker's read and its commit.
type cancelAfterLoad struct {
	app.Store
	t testing.TB
}

func (s cancelAfterLoad) LoadDeliveries(ctx context.Context, ids []int64) ([]app.Delivery, error) {
	ds, err := s.Store.LoadDeliveries(ctx, ids)
	for _, d := range ds {
		if _, terr := s.Transition(ctx, app.Change{ID: d.RequestID, To: app.StatusCancelled, From: []app.Status{d.RequestStatus}}); terr != nil {
			s.t.Errorf("cancel %s: %v", d.RequestID, terr)
		}
	}
	return ds, err
}

// The state read with the delivery may be stale by the commit; the commit
// decides on the state it finds: a cancel that came in between stands, and
// the picture is kept as a late result (DESIGN §3).
func TestIngestCommitKeepsACancelThatCameAfterTheRead(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 16, 8, 5))), http.StatusOK)
	in := NewIngester(IngestOptions{Store: cancelAfterLoad{h.db, t}, Files: h.files, Fetcher: h.fetcher, Bus: h.bus, Clock: h.clock})
	if got, err := in.ProcessPending(context.Background()); err != nil || got != 1 {
		t.Fatalf("ProcessPending = %d, %v; want 1", got, err)
	}
	if r := h.get(req.ID); r.Status != app.StatusCancelled || r.ImageCount != 1 {
		t.Fatalf("request is %s with %d images, want cancelled with the late picture kept", r.Status, r.ImageCount)
	}
	if n := h.count("deliveries WHERE processed_at IS NULL"); n != 0 {
		t.Fatalf("%d deliveries still pending", n)
	}
	// The worker decided "completed" on the state it read; the commit
	// refused the move and said why.
	if n := h.count("activity WHERE kind = 'late_result' AND message LIKE 'a completed result arrived for a cancelled request%'"); n != 1 {
		t.Fatalf("%d late_result activities from the commit's check, want 1", n)
	}
	if n := h.count("activity WHERE kind = 'completed'"); n != 0 {
		t.Fatalf("an activity claims the request completed")
	}
}
