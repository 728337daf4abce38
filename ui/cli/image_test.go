package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

// seedResult stores one completed request whose result holds n real PNG
// files (distinct content, seeds 100, 101, …), as the ingest would.
func (r *syncRig) seedResult(n int, prompt string) (app.Request, []app.Image) {
	r.t.Helper()
	ctx := context.Background()
	_, paths, err := store.LoadConfig(store.LoadOptions{Home: r.home, Getenv: r.getenv})
	if err != nil {
		r.t.Fatal(err)
	}
	st, err := store.Open(ctx, paths.DB, store.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	req := app.Request{ID: app.NewID(now), Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: now, UpdatedAt: now,
		Params: app.GenerationParams{Prompt: prompt, Model: "sdxl", Width: 64, Height: 64, AspectRatio: "1:1", Seed: 100, NumImages: n}}
	if err := st.CreateRequests(ctx, []app.Request{req}); err != nil {
		r.t.Fatal(err)
	}
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := st.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			r.t.Fatal(err)
		}
	}
	did, _, err := st.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k-" + req.ID, RequestID: req.ID, Body: []byte(`{}`), ReceivedAt: now})
	if err != nil {
		r.t.Fatal(err)
	}
	files := store.NewImageFiles(paths.ImagesDir)
	var ims []app.Image
	for i := range n {
		sf, err := files.Save(ctx, bytes.NewReader(pngBytes(r.t, len(prompt)*16+i)))
		if err != nil {
			r.t.Fatal(err)
		}
		seed := int64(100 + i)
		ims = append(ims, app.Image{RequestID: req.ID, Sequence: i + 1, SHA256: sf.SHA256, Path: sf.Path, MimeType: sf.MimeType,
			Width: sf.Width, Height: sf.Height, Bytes: sf.Bytes, Seed: &seed, Source: "base64"})
	}
	if _, err := st.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: req.ID, To: app.StatusCompleted, Images: ims}); err != nil {
		r.t.Fatal(err)
	}
	stored, err := st.Images(ctx, req.ID)
	if err != nil || len(stored) != n {
		r.t.Fatalf("images = %v, %v", stored, err)
	}
	return req, stored
}

// pngBytes is a small PNG whose pixels depend on n.
func pngBytes(t testing.TB, n int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, color.RGBA{uint8(n), uint8(n >> 8), uint8(x * y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Issue 14 done-when, against the fake Odoo: approve one image of a
// 2-image result and star the other in the CLI; Odoo shows both within
// the command (the push), and the Gallery's filters find them.
func TestImageCommandsApproveAndStarAndOdooShowsBothAtOnce(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	req, ims := rig.seedResult(2, "a red cube")
	if code, out, errOut := rig.run("sync", "now"); code != 0 {
		t.Fatalf("first sync: %d %s %s", code, out, errOut)
	}
	code, out, errOut := rig.run("image", "approve", fmt.Sprint(ims[0].ID))
	if code != 0 || !strings.Contains(out, "\tapproved") {
		t.Fatalf("image approve: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = rig.run("image", "favorite", ims[1].SHA256[:10])
	if code != 0 || !strings.Contains(out, "★") {
		t.Fatalf("image favorite PREFIX: exit %d\n%s%s", code, out, errOut)
	}
	byHash := map[string]map[string]any{}
	for _, r := range fake.Records("influence_gen.generated_image") {
		byHash[r["sha256"].(string)] = r
	}
	if got := byHash[ims[0].SHA256]; got["approval_state"] != "approved" || got["approved_by"] != currentUser() {
		t.Errorf("first image in Odoo = %v, want approved by %s", got, currentUser())
	}
	if got := byHash[ims[1].SHA256]; got["favorite"] != true || got["approval_state"] != "undecided" {
		t.Errorf("second image in Odoo = %v, want a favourite, undecided", got)
	}

	code, out, _ = rig.run("image", "list", "--request", req.ID, "--json")
	var rows []imageRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 2 {
		t.Fatalf("image list --json: exit %d\n%s", code, out)
	}
	code, out, _ = rig.run("image", "list", "--approved")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], fmt.Sprintf("%d\t%s\t%s\t100\t8x8\t", ims[0].ID, req.ID, ims[0].SHA256)) || !strings.HasSuffix(lines[0], "\t-\tapproved") {
		t.Fatalf("image list --approved: exit %d\n%q", code, out)
	}
	code, out, _ = rig.run("image", "list", "--favorites")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, ims[1].SHA256) {
		t.Fatalf("image list --favorites: exit %d\n%s", code, out)
	}
	code, out, _ = rig.run("image", "favorite", "--off", fmt.Sprint(ims[1].ID))
	if code != 0 || strings.Contains(out, "★") {
		t.Fatalf("image favorite --off: exit %d\n%s", code, out)
	}
	code, out, _ = rig.run("image", "reset", fmt.Sprint(ims[0].ID))
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "undecided") {
		t.Fatalf("image reset: exit %d\n%s", code, out)
	}
}

func TestImageRefsThatAreAmbiguousOrUnknownSayWhy(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	_, ims := rig.seedResult(1, "a blue cube")
	// The same picture in a second request: its hash prefix names two images.
	rig.seedResult(1, "a blue cube")
	code, _, errOut := rig.run("image", "approve", ims[0].SHA256[:8])
	if code == 0 || !strings.Contains(errOut, "matches several images") || !strings.Contains(errOut, "image id") {
		t.Errorf("ambiguous prefix: exit %d, %s", code, errOut)
	}
	code, _, errOut = rig.run("image", "reject", "ffffffffff")
	if code == 0 || !strings.Contains(errOut, "no image has id or sha256 prefix ffffffffff") {
		t.Errorf("unknown prefix: exit %d, %s", code, errOut)
	}
	code, _, errOut = rig.run("image", "list", "--approved", "--favorites")
	if code != 2 || !strings.Contains(errOut, "at most one of") {
		t.Errorf("two filters: exit %d, %s", code, errOut)
	}
}

// A decision made while Odoo is down is kept and queued; the next sync
// delivers it.
func TestADecisionWhileOdooIsDownIsQueuedAndSyncsLater(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	_, ims := rig.seedResult(1, "a green cube")
	fake.SetDown(true)
	code, out, errOut := rig.run("image", "reject", fmt.Sprint(ims[0].ID))
	if code != 0 || !strings.Contains(out, "rejected") || !strings.Contains(errOut, "syncs later") {
		t.Fatalf("reject while Odoo is down: exit %d\n%s%s", code, out, errOut)
	}
	fake.SetDown(false)
	// The failed attempt backs off about a second: poll until it is due.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rig.run("sync", "now")
		rows := fake.Records("influence_gen.generated_image")
		if len(rows) == 1 && rows[0]["approval_state"] == "rejected" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Odoo never got the rejection: %v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestExportCommandWritesTheApprovedImagesAndRefusesToOverwrite(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	_, ims := rig.seedResult(2, "a red cube")
	if code, out, errOut := rig.run("image", "approve", "--no-sync", fmt.Sprint(ims[1].ID)); code != 0 {
		t.Fatalf("approve: %d %s %s", code, out, errOut)
	}
	dir := t.TempDir()
	code, out, errOut := rig.run("export", "--approved", "--to", dir)
	if code != 0 || !strings.Contains(out, "exported 1 image(s)") || !strings.Contains(out, "_a-red-cube_101.png") {
		t.Fatalf("export --approved: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = rig.run("export", "--approved", "--to", dir)
	if code == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("second export: exit %d, %s", code, errOut)
	}
	if code, _, errOut = rig.run("export", "--approved", "--favorites", "--to", dir); code != 2 {
		t.Fatalf("two selectors: exit %d, %s", code, errOut)
	}
}
