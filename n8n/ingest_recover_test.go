package n8n

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// storedInline posts a success with an inline PNG, ingests it and returns
// the request, the picture and its image row.
func storedInline(t *testing.T, h *harness, salt byte) (app.Request, []byte, app.Image) {
	t.Helper()
	req := h.request(app.StatusProcessing)
	pic := testPNG(t, 16, 16, salt)
	wantStatus(t, h.callback(successBody(req.ID, pic)), http.StatusOK)
	if n := h.process(); n != 1 {
		t.Fatalf("processed %d deliveries, want 1", n)
	}
	images, err := h.db.Images(context.Background(), req.ID)
	if err != nil || len(images) != 1 {
		t.Fatalf("images = %v, %v", images, err)
	}
	return req, pic, images[0]
}

func (h *harness) synced(imageID int64) bool {
	h.t.Helper()
	var synced bool
	if err := h.raw.QueryRow("SELECT synced FROM images WHERE id = ?", imageID).Scan(&synced); err != nil {
		h.t.Fatal(err)
	}
	return synced
}

// Issue 17: an inline image's file is written without fsync, its delivery
// body being the durable copy. A crash may lose or tear the file; at the
// next start the worker finds it by its sha256 and re-creates it.
func TestAnImageFileACrashDamagedIsRecreatedFromItsCallbackAtStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(path string) error
	}{
		{"deleted", os.Remove},
		{"truncated", func(p string) error { return os.Truncate(p, 10) }},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
		{"corrupted", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0xff
			return os.WriteFile(p, b, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := newHarnessAt(t, dir)
			_, pic, im := storedInline(t, h, 9)
			if h.synced(im.ID) {
				t.Fatal("an inline image was recorded as fsynced: it should have been written without fsync")
			}
			if err := tc.damage(im.Path); err != nil {
				t.Fatal(err)
			}
			_ = h.lis.Close()
			if err := h.db.Close(); err != nil {
				t.Fatal(err)
			}

			again := newHarnessAt(t, dir) // the next start
			n, err := again.ingest.RecoverImages(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("RecoverImages = %d, %v; want 1 file re-created", n, err)
			}
			got, err := os.ReadFile(im.Path)
			if err != nil || !bytes.Equal(got, pic) {
				t.Fatalf("the file is not the picture again (%d bytes, %v)", len(got), err)
			}
			if !again.synced(im.ID) {
				t.Fatal("the row is not marked synced after the check and the sync")
			}
			if n, err := again.ingest.RecoverImages(context.Background()); err != nil || n != 0 {
				t.Fatalf("a second start re-created %d files (%v), want none to check", n, err)
			}
		})
	}
}

// Issue 17: retention drops a delivery body only after the image files
// written without fsync are synced: a body is never their last copy when
// it goes.
func TestRetentionSyncsImageFilesBeforeDroppingBodies(t *testing.T) {
	h := newHarness(t)
	_, _, im := storedInline(t, h, 21)
	h.clock.Advance(31 * 24 * time.Hour)
	opts := store.CollectOptions{DeliveryRetention: 30 * 24 * time.Hour}

	// The sync fails (the folder is gone): no body may be dropped.
	hidden := h.files.Dir() + ".away"
	if err := os.Rename(h.files.Dir(), hidden); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Collect(context.Background(), h.files, opts); err == nil {
		t.Fatal("Collect succeeded although the image files could not be synced")
	}
	var body string
	if err := h.raw.QueryRow("SELECT body FROM delivery_bodies").Scan(&body); err != nil || body == "" {
		t.Fatalf("the delivery body was dropped before its image file was synced (%v)", err)
	}
	if err := os.Rename(hidden, h.files.Dir()); err != nil {
		t.Fatal(err)
	}

	rep, err := h.db.Collect(context.Background(), h.files, opts)
	if err != nil || rep.BodiesDropped != 1 {
		t.Fatalf("Collect = %+v, %v; want the body dropped", rep, err)
	}
	if !h.synced(im.ID) {
		t.Fatal("the body was dropped but the image row is not marked synced")
	}
}
