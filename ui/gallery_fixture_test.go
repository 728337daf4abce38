package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// writeColorPNG writes a w×h picture whose colours depend on i, so every
// picture of a gallery has its own sha256.
func writeColorPNG(t testing.TB, dir string, i, w, h int) (path, sha string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(i * 37), G: uint8(x * 255 / w), B: uint8(y*255/h) ^ uint8(i*11), A: 255})
		}
	}
	var data bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&data, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data.Bytes())
	sha = hex.EncodeToString(sum[:])
	// Named by its hash, as the image folder names every file.
	path = filepath.Join(dir, sha+".png")
	if err := os.WriteFile(path, data.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, sha
}

// seedBatchRequest stores one completed request with n pictures of w×h,
// their seeds s+1…s+n, as a callback with several images leaves it.
func seedBatchRequest(t testing.TB, db *store.DB, id, prompt string, seed int64, n, w, h int, first int) {
	t.Helper()
	ctx := context.Background()
	at := testNow.Add(-time.Minute)
	p := params(prompt, "flux-dev", seed)
	p.NumImages = n
	if err := db.CreateRequests(ctx, []app.Request{{ID: id, Params: p, RequestedBy: "alice", CreatedAt: at, UpdatedAt: at}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	move(t, db, id, app.Change{}, app.StatusSending, app.StatusProcessing)
	dir := t.TempDir()
	imgs := make([]app.Image, n)
	for i := range n {
		path, sha := writeColorPNG(t, dir, first+i, w, h)
		s := seed + int64(i) + 1
		imgs[i] = app.Image{Sequence: i + 1, SHA256: sha, Path: path, MimeType: "image/png", Width: w, Height: h, Bytes: 1000, Seed: &s, Source: "base64"}
	}
	did, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "cb-" + id, RequestID: id,
		Body: json.RawMessage(`{"status":"success"}`), Source: "127.0.0.1", ReceivedAt: testNow})
	if err != nil {
		t.Fatalf("record delivery: %v", err)
	}
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: id, To: app.StatusCompleted, Images: imgs}); err != nil {
		t.Fatalf("complete: %v", err)
	}
}

// galleryRig is the seeded rig plus a newest request with four pictures
// (a batch's worth), so the gallery holds five.
func galleryRig(t testing.TB) *rig {
	t.Helper()
	r := newRig(t, true)
	seedBatchRequest(t, r.db, testID(20), "Four foxes in a row, pastel studio light", 500, 4, 64, 64, 1)
	env := map[string]string{"TERM": "xterm-256color", "DISPLAY": ":0"}
	r.b.Getenv = func(k string) string { return env[k] }
	return r
}

func (f *fakeService) SetFavorite(ctx context.Context, imageID int64, on bool) (app.Image, error) {
	if err := f.record(fmt.Sprintf("favorite %d %v", imageID, on)); err != nil {
		return app.Image{}, err
	}
	return f.db.DecideImage(ctx, app.ImageDecision{ImageID: imageID, Favorite: &on, By: "alice", At: testNow})
}

func (f *fakeService) SetApproval(ctx context.Context, imageID int64, a app.Approval) (app.Image, error) {
	if err := f.record(fmt.Sprintf("approval %d %s", imageID, a)); err != nil {
		return app.Image{}, err
	}
	return f.db.DecideImage(ctx, app.ImageDecision{ImageID: imageID, Approval: &a, By: "alice", At: testNow})
}

func (f *fakeService) Vary(ctx context.Context, imageID int64) ([]app.Request, error) {
	return f.variations(ctx, "vary", imageID, func(seed int64, i int) int64 { return seed + int64(i) + 1 })
}

func (f *fakeService) Reroll(ctx context.Context, imageID int64) ([]app.Request, error) {
	return f.variations(ctx, "reroll", imageID, func(_ int64, i int) int64 { return int64(90000 + i) })
}

// variations makes a batch of four like the service: the source's
// parameters with the seeds seedOf gives.
func (f *fakeService) variations(ctx context.Context, what string, imageID int64, seedOf func(int64, int) int64) ([]app.Request, error) {
	if err := f.record(fmt.Sprintf("%s %d", what, imageID)); err != nil {
		return nil, err
	}
	im, err := f.db.GetImage(ctx, imageID)
	if err != nil {
		return nil, err
	}
	src, err := f.db.GetRequest(ctx, im.RequestID)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.next++
	batch := testID(8000 + f.next)
	out := make([]app.Request, app.VariationCount)
	for i := range out {
		f.next++
		p := src.Params
		p.NumImages, p.Seed = 1, seedOf(*im.Seed, i)
		out[i] = app.Request{ID: testID(9000 + f.next), Params: p, RequestedBy: "alice", BatchID: batch, VariationOf: imageID,
			CreatedAt: testNow, UpdatedAt: testNow}
	}
	f.mu.Unlock()
	if err := f.db.CreateRequests(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}
