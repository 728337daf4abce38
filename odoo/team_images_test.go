package odoo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

func TestTeamImagesAreFetchedVerifiedAndKeptByContent(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	clock := newFakeClock()
	// Another host made and synced a completed request with its image.
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 1, true, 16)
	if _, err := newSyncer(t, st, fake, clock, "json2", nil).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	local, _ := st.Images(context.Background(), reqs[0].ID)
	odooID := odooRow(t, fake, reqs[0].ID)["id"].(int64)

	// This host has never seen it: its own image folder is empty.
	mine := store.NewImageFiles(filepath.Join(t.TempDir(), "images"))
	erp := newERP(t, fake, nil)
	got, err := erp.TeamImages(context.Background(), mine, odooID)
	if err != nil || len(got) != 1 {
		t.Fatalf("TeamImages = %+v, %v", got, err)
	}
	data, err := os.ReadFile(got[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != local[0].SHA256 || got[0].SHA256 != local[0].SHA256 {
		t.Fatalf("kept %s, want the synced image %s", hex.EncodeToString(sum[:]), local[0].SHA256)
	}
	// A second look reads the kept file: no attachment download.
	fake.ResetCounts()
	again, err := erp.TeamImages(context.Background(), mine, odooID)
	if err != nil || len(again) != 1 || again[0].Path != got[0].Path {
		t.Fatalf("second look %+v, %v", again, err)
	}
	for _, c := range fake.Calls() {
		if c.Model == "ir.attachment" {
			t.Errorf("second look downloaded the attachment again: %+v", c)
		}
	}

	// An image whose bytes no longer match its sha256 is refused and not kept.
	img := fake.Records("influence_gen.generated_image")[0]
	bad := "0000000000000000000000000000000000000000000000000000000000000000"
	fake.Insert("influence_gen.generated_image", map[string]any{"request_id": odooID, "sha256": bad,
		"attachment_id": img["attachment_id"], "sequence": 2})
	other := store.NewImageFiles(filepath.Join(t.TempDir(), "images"))
	_, err = erp.TeamImages(context.Background(), other, odooID)
	if app.ErrorReason(err) != odoo.ReasonOdooImageMismatch {
		t.Fatalf("err %v (reason %s), want %s", err, app.ErrorReason(err), odoo.ReasonOdooImageMismatch)
	}
	if m, _ := filepath.Glob(filepath.Join(other.Dir(), bad[:2], bad+".*")); len(m) != 0 {
		t.Errorf("a mismatching image was kept: %v", m)
	}
}
