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
