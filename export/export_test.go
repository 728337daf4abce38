package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/export"
	"github.com/influencegen/influencegen/store"
)

func pngOf(t *testing.T, n int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := range 12 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{uint8(n * 40), uint8(x * 10), uint8(y * 10), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type rig struct {
	db    *store.DB
	files *store.ImageFiles
	n     int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &rig{db: db, files: store.NewImageFiles(filepath.Join(dir, "images"))}
}

// result stores a completed request for prompt whose images all carry seed.
func (r *rig) result(t *testing.T, prompt string, seed int64, images int) []app.Image {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	req := app.Request{ID: app.NewID(time.Now()), Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: at, UpdatedAt: at,
		Params: app.GenerationParams{Prompt: prompt, NegativePrompt: "blurry", Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: seed, NumImages: images}}
	if err := r.db.CreateRequests(ctx, []app.Request{req}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := r.db.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	did, _, err := r.db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k" + req.ID, RequestID: req.ID, Body: []byte(`{}`), ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var ims []app.Image
	for i := range images {
		r.n++
		sf, err := r.files.Save(ctx, bytes.NewReader(pngOf(t, r.n)))
		if err != nil {
			t.Fatal(err)
		}
		s := seed
		ims = append(ims, app.Image{RequestID: req.ID, Sequence: i + 1, SHA256: sf.SHA256, Path: sf.Path, MimeType: sf.MimeType,
			Width: sf.Width, Height: sf.Height, Bytes: sf.Bytes, Seed: &s, Source: "base64"})
	}
	if _, err := r.db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: req.ID, To: app.StatusCompleted, Images: ims}); err != nil {
		t.Fatal(err)
	}
	stored, err := r.db.Images(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func (r *rig) approve(t *testing.T, im app.Image, a app.Approval) {
	t.Helper()
	if _, err := r.db.DecideImage(context.Background(), app.ImageDecision{ImageID: im.ID, Approval: &a, By: "alice", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

var namePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}_[a-z0-9-]{1,40}_\d+(-\d+)?\.png$`)

// Issue 14 done-when: export --approved writes exactly the approved
// images with the documented names, and a manifest whose sha256s match.
func TestExportApprovedWritesExactlyThoseWithReadableNamesAndAMatchingManifest(t *testing.T) {
	r := newRig(t)
	cafe := r.result(t, "Café crème on a marble table, morning light — 35mm, very very long prompt", 77, 2) // same seed twice: a name collision
	other := r.result(t, "a red cube", 5, 2)
	r.approve(t, cafe[0], app.ApprovalApproved)
	r.approve(t, cafe[1], app.ApprovalApproved)
	r.approve(t, other[0], app.ApprovalApproved)
	r.approve(t, other[1], app.ApprovalRejected)
	dir := filepath.Join(t.TempDir(), "campaign")

	res, err := export.Run(context.Background(), r.db, export.Options{Dir: dir, Query: app.ImageQuery{Approval: app.ApprovalApproved}, ContactSheet: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{"2026-11-28_a-red-cube_5.png", "2026-11-28_cafe-creme-on-a-marble-table-morning_77-2.png",
		"2026-11-28_cafe-creme-on-a-marble-table-morning_77.png", export.ContactSheetName, export.ManifestName}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("folder holds\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	var m export.Manifest
	data, _ := os.ReadFile(filepath.Join(dir, export.ManifestName))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Images) != 3 || len(res.Images) != 3 || m.Filter != "is:approved" {
		t.Fatalf("manifest lists %d images (filter %q), want the 3 approved", len(m.Images), m.Filter)
	}
	approved := map[string]bool{cafe[0].SHA256: true, cafe[1].SHA256: true, other[0].SHA256: true}
	for _, f := range m.Images {
		if !namePattern.MatchString(f.File) {
			t.Errorf("name %q does not follow <date>_<slug>_<seed>.<ext>", f.File)
		}
		body, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != f.SHA256 || !approved[f.SHA256] {
			t.Errorf("%s: manifest sha256 %s does not match the file or is not an approved image", f.File, f.SHA256)
		}
		if f.Approval != app.ApprovalApproved || f.ApprovedBy != "alice" || f.Model != "sdxl" || f.NegativePrompt != "blurry" || f.Resolution != "1024x1024" || f.Prompt == "" {
			t.Errorf("manifest entry lacks parameters or the approval: %+v", f)
		}
	}
	sheet, err := os.Open(res.ContactSheet)
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	cfg, err := png.DecodeConfig(sheet)
	if err != nil || cfg.Width < 2*192 || cfg.Height < 2*192 {
		t.Errorf("contact sheet %dx%d, %v: want a 2x2 grid of thumbnails", cfg.Width, cfg.Height, err)
	}
}

func TestExportNeverOverwritesWithoutForce(t *testing.T) {
	r := newRig(t)
	ims := r.result(t, "a red cube", 5, 1)
	r.approve(t, ims[0], app.ApprovalApproved)
	dir := t.TempDir()
	opts := export.Options{Dir: dir, Query: app.ImageQuery{Approval: app.ApprovalApproved}}
	if _, err := export.Run(context.Background(), r.db, opts); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "2026-11-28_a-red-cube_5.png")
	if err := os.WriteFile(target, []byte("someone's edit"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := export.Run(context.Background(), r.db, opts)
	if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(app.ErrorMessage(err), "--force") || !strings.Contains(app.ErrorMessage(err), "manifest.json") {
		t.Fatalf("second export = %v, want a conflict naming the files and --force", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "someone's edit" {
		t.Fatal("a refused export changed a file")
	}
	opts.Force = true
	if _, err := export.Run(context.Background(), r.db, opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) == "someone's edit" {
		t.Fatal("--force did not overwrite")
	}
}

func TestExportOfNothingSaysWhatWasAskedFor(t *testing.T) {
	r := newRig(t)
	r.result(t, "a red cube", 5, 1)
	_, err := export.Run(context.Background(), r.db, export.Options{Dir: t.TempDir(), Query: app.ImageQuery{Favorites: true}})
	if app.ErrorCode(err) != app.ENOTFOUND || !strings.Contains(app.ErrorMessage(err), "is:fav") {
		t.Errorf("export of no favourites = %v", err)
	}
}

func TestSlugIsShortASCIIAndNeverEmpty(t *testing.T) {
	cases := map[string]string{
		"A Red Cube!":                     "a-red-cube",
		"Café crème":                      "cafe-creme",
		"東京の夜":                            "image",
		"   ":                             "image",
		"../../etc/passwd":                "etc-passwd",
		strings.Repeat("abcdefghij ", 10): "abcdefghij-abcdefghij-abcdefghij",
	}
	for in, want := range cases {
		if got := export.Slug(in); got != want || len(got) > export.MaxSlug {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
