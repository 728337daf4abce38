package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestFPlusMinusAndZeroDecideThroughTheServiceAndShowInGridViewerAndHeader(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 160, 48), "v")
	first := m.cur.gallery.items[0].img.ID
	if m.cur.keys.Undecide.Enabled() {
		t.Fatal("0 is offered on an undecided picture")
	}
	next, cmd := m.Update(keyMsg("f"))
	if got := r.svc.Calls(); len(got) != 0 {
		t.Fatalf("f called the service inside Update: %v", got)
	}
	msgs := runCmd(t, cmd)
	if got := msgTypes(msgs); len(got) != 1 || got[0] != "ui.imageDecidedMsg" {
		t.Fatalf("f's Cmd produced %v", got)
	}
	m = settle(t, next.(Model), cmd)
	m = press(t, m, "+")
	img, err := r.db.GetImage(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Favorite || img.Approval != app.ApprovalApproved || img.ApprovedBy != "alice" {
		t.Fatalf("stored image: favourite %v approval %s by %q, want a starred approved one by alice", img.Favorite, img.Approval, img.ApprovedBy)
	}
	if !strings.Contains(screenText(m), "★✓ seed 501") {
		t.Fatalf("the grid does not show the star and the verdict:\n%s", screenText(m))
	}
	if m.cur.keys.Approve.Enabled() || !m.cur.keys.Undecide.Enabled() {
		t.Fatal("on an approved picture + is still offered or 0 is not")
	}
	m = press(t, m, "enter")
	if !strings.Contains(screenText(m), "★ favourite · ✓ approved by alice") {
		t.Fatalf("the viewer does not show the decision:\n%s", screenText(m))
	}
	m = press(t, m, "-")
	if img, _ := r.db.GetImage(t.Context(), first); img.Approval != app.ApprovalRejected {
		t.Fatalf("- in the viewer left approval %s", img.Approval)
	}
	m = press(t, m, "0", "f")
	if img, _ := r.db.GetImage(t.Context(), first); img.Approval != app.ApprovalUndecided || img.Favorite {
		t.Fatalf("0 and f left approval %s favourite %v, want undecided and unstarred", img.Approval, img.Favorite)
	}
	if !strings.Contains(m.flash, "star removed") {
		t.Fatalf("flash = %q", m.flash)
	}
	// the header counts what the store holds
	m = press(t, m, "+", "right", "f")
	m = settle(t, m, loadHeaderCmd(m.ctx, m.b))
	line2 := strings.Split(screenText(m), "\n")[1]
	if !strings.Contains(line2, "★ 1") || !strings.Contains(line2, "✓ 1 approved") {
		t.Fatalf("header line 2 lacks the curation counts: %q", line2)
	}
}

func TestAVerdictTheServiceRefusesIsShownAndChangesNothing(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 80, 24), "v")
	r.svc.err = app.Errorf(app.EUNAUTHORIZED, "staff decide only on their own requests' images")
	m = press(t, m, "+")
	if !m.flashErr || !strings.Contains(m.flash, "own requests") {
		t.Fatalf("flash = %q (err %v)", m.flash, m.flashErr)
	}
	if strings.Contains(screenText(m), "✓ seed") {
		t.Fatal("a refused approval shows as approved")
	}
}

func TestVVariesIntoABatchOfFourFollowedByTheProgressBarAndRReRolls(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 160, 48), "v", "right", "enter") // seed 502
	m = press(t, m, "V")
	calls := r.svc.Calls()
	if len(calls) != 1 || !strings.HasPrefix(calls[0], "vary ") {
		t.Fatalf("service calls %v, want one vary", calls)
	}
	if !strings.Contains(m.flash, "batch of 4 queued (seeds 503, 504, 505, 506)") {
		t.Fatalf("flash = %q", m.flash)
	}
	if done, total := m.batches.progress(); total != 4 || done != 0 {
		t.Fatalf("batch progress %d/%d, want 0/4 followed", done, total)
	}
	if pb := m.View().ProgressBar; pb == nil {
		t.Fatal("no terminal progress bar while the varied batch runs")
	}
	m = press(t, m, "R")
	if done, total := m.batches.progress(); total != 8 || done != 0 {
		t.Fatalf("after R: progress %d/%d, want 0/8", done, total)
	}
	if calls := r.svc.Calls(); len(calls) != 2 || !strings.HasPrefix(calls[1], "reroll ") {
		t.Fatalf("service calls %v, want vary then reroll", calls)
	}
}

func TestVInTheDetailOfABatchRequestShowsTheWholeBatch(t *testing.T) {
	r := galleryRig(t)
	m := press(t, r.model(t, 160, 48), "v", "right", "V") // a batch of 4 from seed 502
	var batch string
	for _, id := range []string{testID(9002), testID(9003), testID(9004), testID(9005)} {
		req, err := r.db.GetRequest(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		batch = req.BatchID
		seedBatchImage(t, r, req)
	}
	m = press(t, m, "esc", "g")
	m = press(t, m, "enter")
	if m.detail.req.BatchID != batch {
		t.Fatalf("the detail shows %s of batch %q, want a request of %s", m.detail.req.ID, m.detail.req.BatchID, batch)
	}
	m = press(t, m, "v")
	if m.cur.gallery.batchID != batch || len(m.cur.gallery.items) != 4 {
		t.Fatalf("v in a batch request's detail: batch %q with %d pictures, want %s with 4", m.cur.gallery.batchID, len(m.cur.gallery.items), batch)
	}
	if !strings.Contains(screenText(m), "Batch "+shortID(batch)) || !strings.Contains(screenText(m), "seed 506") {
		t.Fatalf("batch grid:\n%s", screenText(m))
	}
}

// seedBatchImage completes req with one picture carrying its seed.
func seedBatchImage(t *testing.T, r *rig, req app.Request) {
	t.Helper()
	move(t, r.db, req.ID, app.Change{}, app.StatusSending, app.StatusProcessing)
	path, sha := writeColorPNG(t, t.TempDir(), int(req.Params.Seed), 32, 32)
	did, _, err := r.db.RecordDelivery(t.Context(), app.Delivery{IdempotencyKey: "cb-" + req.ID, RequestID: req.ID, Body: json.RawMessage(`{}`), Source: "127.0.0.1", ReceivedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	seed := req.Params.Seed
	if _, err := r.db.CompleteDelivery(t.Context(), app.IngestResult{DeliveryID: did, RequestID: req.ID, To: app.StatusCompleted,
		Images: []app.Image{{Sequence: 1, SHA256: sha, Path: path, MimeType: "image/png", Width: 32, Height: 32, Bytes: 100, Seed: &seed, Source: "base64"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestEExportsTheApprovedPicturesOfTheGridAndSaysWhere(t *testing.T) {
	r := galleryRig(t)
	r.b.ExportDir = t.TempDir()
	m := press(t, r.model(t, 80, 24), "v", "E")
	if !m.flashErr || !strings.Contains(m.flash, "nothing to export") {
		t.Fatalf("E with nothing approved: flash %q", m.flash)
	}
	m = press(t, m, "+", "right", "right", "+")
	next, cmd := m.Update(keyMsg("E"))
	if got := msgTypes(runCmd(t, cmd)); len(got) != 1 || got[0] != "ui.exportedMsg" {
		t.Fatalf("E's Cmd produced %v, want one exportedMsg", got)
	}
	m = settle(t, next.(Model), cmd)
	if m.flashErr || !strings.Contains(m.flash, "exported 2 pictures to "+r.b.ExportDir) {
		t.Fatalf("flash = %q", m.flash)
	}
	dir := strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(m.flash, "exported 2 pictures to "), " (", 2)[0], " ")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("no manifest where the flash says: %v", err)
	}
	var man struct {
		Images []struct {
			Seed     int64        `json:"seed"`
			Approval app.Approval `json:"approval"`
		} `json:"images"`
	}
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	seeds := map[int64]bool{}
	for _, im := range man.Images {
		seeds[im.Seed] = im.Approval == app.ApprovalApproved
	}
	if len(seeds) != 2 || !seeds[501] || !seeds[503] {
		t.Fatalf("manifest lists %v, want the approved seeds 501 and 503", seeds)
	}
}
