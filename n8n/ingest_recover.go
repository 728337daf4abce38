package n8n

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/influencegen/influencegen/app"
)

// Image files without a second fsync (issue 17). Ingest writes an inline
// image's file without fsync: the delivery row already holds its bytes
// durably. RecoverImages, run when the worker starts, makes that safe: a
// file a crash left missing, empty or torn is re-created from the delivery
// body, and then the folder is synced and the rows marked synced. Before
// retention drops a body, the collector syncs the folder too
// (store/images_sync.go), so a body is never the last copy when it goes.

// recoverableFiles is the image store's side (store.ImageFiles).
type recoverableFiles interface {
	SaveUnsynced(ctx context.Context, r io.Reader) (app.StoredFile, error)
	CheckFile(path, sha256 string) error
	Sync(paths []string) error
}

// imageRecovery is the database's side (store.DB).
type imageRecovery interface {
	UnsyncedImages(ctx context.Context, afterID int64, limit int) ([]app.Image, []json.RawMessage, error)
	MarkImagesSynced(ctx context.Context, throughID int64) error
}

const recoverPage = 500

// RecoverImages checks every image file written without fsync against its
// sha256, re-creates (durably) those that do not match from their delivery
// body, syncs the files and marks them synced. It returns how many it
// re-created. A file that cannot be re-created (its body already dropped)
// is logged; `doctor` reports it missing.
func (in *Ingester) RecoverImages(ctx context.Context) (int, error) {
	files, ok1 := in.opts.Files.(recoverableFiles)
	rec, ok2 := in.opts.Store.(imageRecovery)
	if !ok1 || !ok2 {
		return 0, nil
	}
	recreated := 0
	var after int64
	for {
		images, bodies, err := rec.UnsyncedImages(ctx, after, recoverPage)
		if err != nil {
			return recreated, err
		}
		if len(images) == 0 {
			return recreated, nil
		}
		paths := make([]string, 0, len(images))
		for i, im := range images {
			after = im.ID
			paths = append(paths, im.Path)
			problem := files.CheckFile(im.Path, im.SHA256)
			if problem == nil {
				continue
			}
			if err := in.recreateImage(ctx, im, bodies[i]); err != nil {
				in.opts.Log.Error("ingest: an image file is damaged and cannot be re-created", "request", im.RequestID,
					"path", im.Path, "problem", problem.Error(), "err", app.OutsideLine(err.Error()))
				continue
			}
			recreated++
			in.opts.Log.Warn("ingest: image file re-created from its callback after a crash", "request", im.RequestID,
				"path", im.Path, "problem", problem.Error())
		}
		if err := files.Sync(paths); err != nil {
			return recreated, app.Errorf(app.EINTERNAL, "sync image files: %w", err)
		}
		if err := rec.MarkImagesSynced(ctx, after); err != nil {
			return recreated, err
		}
	}
}

// recreateImage finds im's bytes among the inline images of body and
// saves them again, with fsync.
func (in *Ingester) recreateImage(ctx context.Context, im app.Image, body json.RawMessage) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the callback's body was already dropped by retention")
	}
	cb, err := ParseCallback(body)
	if err != nil {
		return fmt.Errorf("the callback's body does not parse: %w", err)
	}
	for _, ci := range cb.Images {
		if ci.Base64 == "" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(base64Reader(ci.Base64), app.MaxImageBytes+1))
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != im.SHA256 {
			continue
		}
		// Save keeps a file that already has the name: move the bad one
		// out of the way first.
		if err := in.opts.Files.Remove(im.Path); err != nil {
			return err
		}
		stored, err := in.opts.Files.Save(ctx, bytes.NewReader(data))
		if err != nil {
			return err
		}
		if stored.Path != im.Path {
			return fmt.Errorf("saved as %s, not %s", stored.Path, im.Path)
		}
		return nil
	}
	return fmt.Errorf("no inline image of the callback has sha256 %s", im.SHA256[:12])
}
