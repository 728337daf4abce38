package odoo_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
)

// countingStore counts the store reads the Odoo sync makes per row and
// per batch.
type countingStore struct {
	app.Store
	oneRequest, oneImage, manyRequests, manyImages atomic.Int64
}

func (c *countingStore) GetRequest(ctx context.Context, id string) (app.Request, error) {
	c.oneRequest.Add(1)
	return c.Store.GetRequest(ctx, id)
}

func (c *countingStore) GetImage(ctx context.Context, id int64) (app.Image, error) {
	c.oneImage.Add(1)
	return c.Store.GetImage(ctx, id)
}

func (c *countingStore) GetRequestsByID(ctx context.Context, ids []string) (map[string]app.Request, error) {
	c.manyRequests.Add(1)
	return c.Store.GetRequestsByID(ctx, ids)
}

func (c *countingStore) GetImagesByID(ctx context.Context, ids []int64) (map[int64]app.Image, error) {
	c.manyImages.Add(1)
	return c.Store.GetImagesByID(ctx, ids)
}

// A batch reads its requests and its images with one query each, not one
// per outbox item (it read each image by id before).
func TestASyncBatchReadsItsRequestsAndImagesOnceEach(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 40, true, 8)
	fake := odootest.New(t, odootest.Config{})
	counted := &countingStore{Store: st}
	s := newSyncer(t, counted, fake, clock, odoo.ProtocolAuto, nil)
	rep, err := s.RunOnce(context.Background())
	if err != nil || rep.Done != rep.Items || rep.Items < 80 {
		t.Fatalf("one batch: %+v, %v; want its 40 upserts and 40 images done", rep, err)
	}
	checkSynced(t, st, fake, reqs)
	if n, m := counted.oneRequest.Load(), counted.oneImage.Load(); n != 0 || m != 0 {
		t.Fatalf("the batch read %d requests and %d images one at a time; want none", n, m)
	}
	if n, m := counted.manyRequests.Load(), counted.manyImages.Load(); n != 1 || m != 1 {
		t.Fatalf("the batch read its requests in %d queries and its images in %d; want one each", n, m)
	}
}
