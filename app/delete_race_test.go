package app_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ingestImage records a delivery for id and commits its result with one
// stored file, as the ingest does after its Save.
func (r *rig) ingestImage(t *testing.T, id string, f app.StoredFile) {
	t.Helper()
	ctx := context.Background()
	did, _, err := r.db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k-" + id, RequestID: id, Body: []byte(`{}`), ReceivedAt: r.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	im := app.Image{RequestID: id, Sequence: 1, SHA256: f.SHA256, Path: f.Path, MimeType: f.MimeType,
		Width: f.Width, Height: f.Height, Bytes: f.Bytes, Source: "base64", CreatedAt: r.clock.Now()}
	if _, err := r.db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: id, To: app.StatusCompleted, Images: []app.Image{im}}); err != nil {
		t.Fatal(err)
	}
}

// Issue 11, item 3: two requests get byte-identical images (same prompt
// and seed). B's ingest has saved its file (found "already stored") and not
// yet committed when A is deleted. B's row must end up pointing at a file
// that exists, through deletes and collections.
func TestDeletingARequestNeverRemovesTheFileAnotherIngestIsStoring(t *testing.T) {
	r := newRig(t, "test-api-key")
	files := store.NewImageFiles(filepath.Join(t.TempDir(), "images"))
	reqs := r.submit(t, 2)
	a, b := reqs[0].ID, reqs[1].ID
	pic := tinyPNG(t)

	r.moveTo(t, a, app.StatusSending, app.StatusProcessing)
	r.moveTo(t, b, app.StatusSending, app.StatusProcessing)
	stored, err := files.Save(t.Context(), bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	r.ingestImage(t, a, stored)
	// A's file is old by now: only Save's refresh keeps it from the collector.
	old := r.clock.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stored.Path, old, old); err != nil {
		t.Fatal(err)
	}

	// B's ingest: Save finds the identical file already stored ...
	again, err := files.Save(t.Context(), bytes.NewReader(pic))
	if err != nil || again.Path != stored.Path {
		t.Fatalf("second Save = %+v (%v), want the same file %s", again, err, stored.Path)
	}
	// ... and before B commits, A is deleted and the collector runs.
	if err := r.svc.Delete(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(app.UndoWindow + time.Second) // past the undo: the collector finishes the delete
	if _, err := os.Stat(stored.Path); err != nil {
		t.Fatalf("Delete(A) removed the file B's ingest is about to reference: %v", err)
	}
	rep, err := r.db.Collect(t.Context(), files, store.CollectOptions{})
	if err != nil || rep.FilesRemoved != 0 || rep.Orphans != 1 {
		t.Fatalf("collection while B is uncommitted: %+v (%v); want the file kept as a young orphan", rep, err)
	}
	r.ingestImage(t, b, again)

	// Hours later the file is old, and referenced: it stays.
	r.clock.Advance(3 * time.Hour)
	if err := os.Chtimes(stored.Path, old, old); err != nil {
		t.Fatal(err)
	}
	if rep, err := r.db.Collect(t.Context(), files, store.CollectOptions{}); err != nil || rep.FilesRemoved != 0 || rep.Missing != 0 {
		t.Fatalf("collection with B committed: %+v (%v)", rep, err)
	}
	imgs, err := r.db.Images(t.Context(), b)
	if err != nil || len(imgs) != 1 {
		t.Fatalf("B's images: %+v (%v)", imgs, err)
	}
	if got, err := os.ReadFile(imgs[0].Path); err != nil || !bytes.Equal(got, pic) {
		t.Fatalf("B's image file: %v", err)
	}

	// Once B is deleted too, the old unreferenced file is collected.
	if err := r.svc.Delete(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(app.UndoWindow + time.Second)
	if rep, err := r.db.Collect(t.Context(), files, store.CollectOptions{}); err != nil || rep.FilesRemoved != 1 || rep.BytesFreed != int64(len(pic)) {
		t.Fatalf("collection after both deletes: %+v (%v), want the file removed", rep, err)
	}
	if _, err := os.Stat(stored.Path); !os.IsNotExist(err) {
		t.Errorf("the unreferenced file is still there: %v", err)
	}
}
