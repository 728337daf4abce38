package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Names of the files Run writes beside the images.
const (
	ManifestName     = "manifest.json"
	ContactSheetName = "contact-sheet.png"
	// MaxImages bounds one export (the store's page size).
	MaxImages = 10000
)

// Options say what to export and where.
type Options struct {
	Dir          string         // target folder; created if missing
	Query        app.ImageQuery // which images: Approval, Favorites, BatchID or RequestID ("" = all)
	ContactSheet bool           // also write ContactSheetName
	Force        bool           // overwrite files already in Dir
	Now          time.Time      // exported_at (default time.Now)
}

// File is one exported image, as the manifest lists it.
type File struct {
	File           string       `json:"file"`
	ImageID        int64        `json:"image_id"`
	RequestID      string       `json:"request_id"`
	BatchID        string       `json:"batch_id,omitempty"`
	SHA256         string       `json:"sha256"`
	Mime           string       `json:"mime"`
	Bytes          int64        `json:"bytes"`
	Width          int          `json:"width"`
	Height         int          `json:"height"`
	Seed           int64        `json:"seed"`
	Prompt         string       `json:"prompt"`
	NegativePrompt string       `json:"negative_prompt"`
	Model          string       `json:"model"`
	Resolution     string       `json:"resolution"`
	AspectRatio    string       `json:"aspect_ratio"`
	RequestSeed    int64        `json:"request_seed"`
	NumImages      int          `json:"num_images"`
	VariationOf    int64        `json:"variation_of,omitempty"`
	RequestedBy    string       `json:"requested_by"`
	CreatedAt      time.Time    `json:"created_at"`
	Favorite       bool         `json:"favorite"`
	Approval       app.Approval `json:"approval"`
	ApprovedBy     string       `json:"approved_by,omitempty"`
	ApprovedAt     *time.Time   `json:"approved_at,omitempty"`
	OdooID         int64        `json:"odoo_id,omitempty"`
}

// Manifest is manifest.json.
type Manifest struct {
	ExportedAt time.Time `json:"exported_at"`
	Filter     string    `json:"filter"`
	Images     []File    `json:"images"`
}

// Result says what Run wrote.
type Result struct {
	Dir          string `json:"dir"`
	Images       []File `json:"images"`
	Manifest     string `json:"manifest"`
	ContactSheet string `json:"contact_sheet,omitempty"`
}

// Run exports the images q selects into opts.Dir. It plans every name
// first and refuses (EEXISTS-style ECONFLICT) before writing anything if a
// target exists and Force is off; each copy is checked against its sha256.
func Run(ctx context.Context, st app.Store, opts Options) (Result, error) {
	if strings.TrimSpace(opts.Dir) == "" {
		return Result{}, app.Errorf(app.EINVALID, "export needs a target folder (--to DIR)")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	q := opts.Query
	q.Limit = MaxImages
	ims, err := st.ListImages(ctx, q)
	if err != nil {
		return Result{}, err
	}
	if len(ims) == 0 {
		return Result{}, app.Errorf(app.ENOTFOUND, "no images match %s: nothing to export", Describe(opts.Query))
	}
	reqs := map[string]app.Request{}
	files := make([]File, 0, len(ims))
	names := newNamer()
	// Oldest first: the manifest and the contact sheet read in the order
	// the pictures were made.
	for i := len(ims) - 1; i >= 0; i-- {
		im := ims[i]
		req, ok := reqs[im.RequestID]
		if !ok {
			if req, err = st.GetRequest(ctx, im.RequestID); err != nil {
				return Result{}, err
			}
			reqs[im.RequestID] = req
		}
		files = append(files, fileOf(im, req, names))
	}
	targets := []string{ManifestName}
	if opts.ContactSheet {
		targets = append(targets, ContactSheetName)
	}
	for _, f := range files {
		targets = append(targets, f.File)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return Result{}, app.Errorf(app.EINVALID, "cannot create the export folder %s: %v", opts.Dir, err)
	}
	if !opts.Force {
		if err := refuseExisting(opts.Dir, targets); err != nil {
			return Result{}, err
		}
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if err := copyVerified(ims[len(ims)-1-i].Path, filepath.Join(opts.Dir, f.File), f.SHA256); err != nil {
			return Result{}, err
		}
	}
	res := Result{Dir: opts.Dir, Images: files, Manifest: filepath.Join(opts.Dir, ManifestName)}
	if opts.ContactSheet {
		res.ContactSheet = filepath.Join(opts.Dir, ContactSheetName)
		if err := writeContactSheet(ctx, opts.Dir, res.ContactSheet, files); err != nil {
			return Result{}, err
		}
	}
	m := Manifest{ExportedAt: opts.Now.UTC(), Filter: Describe(opts.Query), Images: files}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, err
	}
	if err := writeAtomic(res.Manifest, append(data, '\n')); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Describe names a selection for messages and the manifest.
func Describe(q app.ImageQuery) string {
	var parts []string
	if q.Approval != "" {
		parts = append(parts, "is:"+string(q.Approval))
	}
	if q.Favorites {
		parts = append(parts, "is:fav")
	}
	if q.BatchID != "" {
		parts = append(parts, "batch:"+q.BatchID)
	}
	if q.RequestID != "" {
		parts = append(parts, "request:"+q.RequestID)
	}
	if len(parts) == 0 {
		return "all images"
	}
	return strings.Join(parts, " ")
}

func fileOf(im app.Image, req app.Request, names *namer) File {
	p := req.Params
	seed := p.Seed
	if im.Seed != nil {
		seed = *im.Seed
	}
	approval := im.Approval
	if approval == "" {
		approval = app.ApprovalUndecided
	}
	return File{
		File:    names.name(req.CreatedAt, p.Prompt, seed, extOf(im)),
		ImageID: im.ID, RequestID: im.RequestID, BatchID: req.BatchID, SHA256: im.SHA256, Mime: im.MimeType,
		Bytes: im.Bytes, Width: im.Width, Height: im.Height, Seed: seed,
		Prompt: p.Prompt, NegativePrompt: p.NegativePrompt, Model: p.Model, Resolution: p.Resolution(),
		AspectRatio: p.AspectRatio, RequestSeed: p.Seed, NumImages: p.NumImages, VariationOf: req.VariationOf,
		RequestedBy: req.RequestedBy, CreatedAt: req.CreatedAt.UTC(),
		Favorite: im.Favorite, Approval: approval, ApprovedBy: im.ApprovedBy, ApprovedAt: im.ApprovedAt, OdooID: req.OdooID,
	}
}

func extOf(im app.Image) string {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(im.Path), "."))
	if ext == "" {
		ext = strings.TrimPrefix(im.MimeType, "image/")
	}
	if ext == "jpeg" {
		ext = "jpg"
	}
	if ext == "" || strings.Trim(ext, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		ext = "bin"
	}
	return ext
}

// refuseExisting fails, naming up to three, if any target already exists.
func refuseExisting(dir string, targets []string) error {
	var found []string
	for _, t := range targets {
		if _, err := os.Lstat(filepath.Join(dir, t)); err == nil {
			found = append(found, t)
		} else if !errors.Is(err, os.ErrNotExist) {
			return app.Errorf(app.EINVALID, "cannot check %s in the export folder: %v", t, err)
		}
	}
	if len(found) == 0 {
		return nil
	}
	more := ""
	if len(found) > 3 {
		more = fmt.Sprintf(" and %d more", len(found)-3)
		found = found[:3]
	}
	return app.ReasonErrorf(app.ECONFLICT, "export_exists",
		"%s already holds %s%s: nothing was written; choose another folder or add --force to overwrite", dir, strings.Join(found, ", "), more)
}

// copyVerified copies src to dst through a temporary file, checking the
// bytes against the recorded sha256 on the way: an image changed outside
// influencegen is refused, never handed to a campaign.
func copyVerified(src, dst, want string) error {
	in, err := os.Open(src)
	if err != nil {
		return app.ReasonErrorf(app.ENOTFOUND, "image_file_missing", "image file %s cannot be read (%v): it was removed or moved outside influencegen", src, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".export-*")
	if err != nil {
		return app.Errorf(app.EINVALID, "cannot write in the export folder: %v", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		tmp.Close()
		return app.Errorf(app.EINTERNAL, "copying %s: %v", src, err)
	}
	if err := tmp.Close(); err != nil {
		return app.Errorf(app.EINTERNAL, "writing %s: %v", dst, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return app.ReasonErrorf(app.EINVALID, "image_file_changed",
			"image file %s no longer matches its sha256 (%.12s…, recorded %.12s…): it was modified outside influencegen", src, got, want)
	}
	return os.Rename(tmp.Name(), dst)
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return app.Errorf(app.EINVALID, "cannot write in the export folder: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
