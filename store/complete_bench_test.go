package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// BenchmarkCompleteDelivery is ingest's commit alone (issue 17): one
// processing request with its delivery, completed with one picture and
// the activities the ingest worker writes, one call at a time.
func BenchmarkCompleteDelivery(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	type item struct {
		req app.Request
		did int64
	}
	items := make([]item, b.N)
	for i := range items {
		r, did := processing(b, db, fmt.Sprint("k", i))
		items[i] = item{r, did}
	}
	b.ResetTimer()
	for i, it := range items {
		acts := []app.Activity{
			{Kind: app.ActivityCallback, Message: "callback received: success, 1 image"},
			{Kind: app.ActivityImageStored, Message: "image 1 stored: 56×56 image/png, 9500 bytes, sha256 0123456789ab"},
			{Kind: app.ActivityCompleted, Message: "completed with 1 image"},
		}
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: it.did, RequestID: it.req.ID, To: app.StatusCompleted,
			Images: []app.Image{img(it.req.ID, fmt.Sprintf("%064x", i))}, Activities: acts}); err != nil {
			b.Fatal(err)
		}
	}
}
