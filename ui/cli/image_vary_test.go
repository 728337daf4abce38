package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// seedImage stores a completed request with one image (seed 500) in the
// rig's database and returns the image.
func seedImage(t *testing.T, home string) app.Image {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	req := app.Request{ID: app.NewID(now), Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: now, UpdatedAt: now,
		Params: app.GenerationParams{Prompt: "a red fox", Model: "flux-schnell", Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: 500, NumImages: 1}}
	if err := db.CreateRequests(ctx, []app.Request{req}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := db.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	did, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k", RequestID: req.ID, Body: []byte(`{}`), ReceivedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(500)
	sum := "5eed" + fmt.Sprint(now.UnixNano())
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: req.ID, To: app.StatusCompleted,
		Images: []app.Image{{RequestID: req.ID, Sequence: 1, SHA256: sum, Path: "/tmp/" + sum + ".png", MimeType: "image/png", Seed: &seed, Source: "base64"}}}); err != nil {
		t.Fatal(err)
	}
	ims, err := db.Images(ctx, req.ID)
	if err != nil || len(ims) != 1 {
		t.Fatalf("images = %v, %v", ims, err)
	}
	return ims[0]
}

func TestImageVarySendsFourRequestsWithTheNextSeedsAndVariationOf(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	im := seedImage(t, r.home)
	out, errOut, code := r.run(t, "image", "vary", fmt.Sprint(im.ID), "--json")
	if code != 0 {
		t.Fatalf("image vary: exit %d\n%s%s", code, out, errOut)
	}
	if rs := decodeResults(t, out); len(rs) != 4 {
		t.Fatalf("%d results, want 4: %s", len(rs), out)
	}
	seeds := map[float64]bool{}
	for _, rec := range fake.Requests() {
		body := rec.JSON()
		if body["variation_of"] != float64(im.ID) {
			t.Errorf("variation_of = %v, want %d", body["variation_of"], im.ID)
		}
		seeds[body["generation_params"].(map[string]any)["seed"].(float64)] = true
	}
	if len(seeds) != 4 || !seeds[501] || !seeds[504] {
		t.Errorf("seeds sent = %v, want 501…504", seeds)
	}
	out, errOut, code = r.run(t, "image", "reroll", fmt.Sprint(im.ID))
	if code != 0 || fake.Count() != 8 {
		t.Fatalf("image reroll: exit %d, %d posts\n%s%s", code, fake.Count(), out, errOut)
	}
}
