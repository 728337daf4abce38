package n8n

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// A full page of deliveries that keep failing at the front of the inbox
// used to hide every newer delivery from the worker (it read the oldest
// page and skipped the ones backing off). The backoff now lives in the
// store, which leaves them out until they are due.
func TestIngestReachesNewDeliveriesBehindAFullPageOfFailingOnes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// One broken delivery per request: a request accepts one result.
	for i := range ingestBatch + 6 {
		r := h.request(app.StatusProcessing)
		// Valid JSON, but not a callback object: processing fails every time.
		if _, _, err := h.db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: fmt.Sprint("broken-", i),
			RequestID: r.ID, Body: json.RawMessage(`["not a callback"]`)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.process(); n != 0 {
		t.Fatalf("processed %d broken deliveries, want 0", n)
	}

	good := h.request(app.StatusProcessing)
	wantStatus(t, h.callback(successBody(good.ID, testPNG(t, 8, 8, 1))), http.StatusOK)
	if n := h.process(); n != 1 {
		t.Fatalf("processed %d deliveries, want the new one behind the failing page", n)
	}
	if got := h.get(good.ID).Status; got != app.StatusCompleted {
		t.Fatalf("new request is %s, want completed", got)
	}

	// The failing ones are due again only after their backoff, and their
	// attempts are counted once per pass.
	if n := h.countPending(ctx); n != 0 {
		t.Fatalf("%d deliveries due right after failing, want 0", n)
	}
	h.clock.Advance(3 * time.Second)
	if n := h.countPending(ctx); n != ingestBatch+6 {
		t.Fatalf("%d deliveries due after the first backoff, want %d", n, ingestBatch+6)
	}
	h.process()
	var attempts int
	if err := h.raw.QueryRow("SELECT min(attempts) FROM deliveries WHERE request_id <> ?", good.ID).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 2 {
		t.Fatalf("failing deliveries have %d attempts after two passes, want 2", attempts)
	}
}

// countPending counts the due deliveries, reading every page.
func (h *harness) countPending(ctx context.Context) int {
	h.t.Helper()
	p, err := h.db.PendingDeliveries(ctx, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(p)
}
