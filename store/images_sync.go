package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/influencegen/influencegen/app"
)

// Image files without a second fsync (issue 17).
//
// An inline image's bytes are durable in its delivery's body the moment
// the callback is acked, so ingest writes the file with SaveUnsynced (no
// fsync of the file or its folder) and records the row with synced = 0.
// A crash may then leave that file missing, empty or torn. Two rules keep
// that from going unnoticed or becoming permanent:
//
//   - At start-up the ingest worker checks every unsynced file against its
//     sha256 and re-creates a bad one from the delivery body, durably
//     (n8n.Ingester.RecoverImages), then syncs the folder and marks the
//     rows synced.
//   - Before retention drops delivery bodies, the collector syncs the
//     image folder (one syncfs on Linux, an fsync per file elsewhere) and
//     marks the rows synced (SyncImageFiles); if the sync fails, no body
//     is dropped.

// CheckFile reports whether path holds exactly the bytes of sha256 sum:
// nil, or an error saying what is wrong (missing, unreadable, different).
func (f *ImageFiles) CheckFile(path, sum string) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return errors.New("content does not match its sha256 " + sum[:min(12, len(sum))])
	}
	return nil
}

// Sync makes the files written without fsync durable: on Linux one
// syncfs of the images folder's file system (paths are not needed); on
// other systems an fsync of each path and of its folder.
func (f *ImageFiles) Sync(paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	return syncImageFiles(f.dir, paths)
}

// UnsyncedImages returns up to limit images written without fsync with an
// id above afterID, in id order, each with the body of the delivery that
// is its request's result (empty once retention dropped it).
func (d *DB) UnsyncedImages(ctx context.Context, afterID int64, limit int) ([]app.Image, []json.RawMessage, error) {
	rows, err := d.rdb.QueryContext(ctx, `SELECT i.id, i.request_id, i.sha256, i.path, i.source, coalesce(b.body, '')
		FROM images i JOIN requests r ON r.id = i.request_id LEFT JOIN delivery_bodies b ON b.delivery_id = r.result_delivery_id
		WHERE i.synced = 0 AND i.id > ? ORDER BY i.id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, nil, mapError("read unsynced images", err)
	}
	defer rows.Close()
	var (
		images []app.Image
		bodies []json.RawMessage
	)
	for rows.Next() {
		var (
			im   app.Image
			body string
		)
		if err := rows.Scan(&im.ID, &im.RequestID, &im.SHA256, &im.Path, &im.Source, &body); err != nil {
			return nil, nil, mapError("read unsynced images", err)
		}
		im.Unsynced = true
		images = append(images, im)
		bodies = append(bodies, json.RawMessage(body))
	}
	return images, bodies, mapError("read unsynced images", rows.Err())
}

// MarkImagesSynced records that the files of unsynced image rows up to
// throughID are durable (the caller synced them).
func (d *DB) MarkImagesSynced(ctx context.Context, throughID int64) error {
	return d.writeBackground(ctx, "mark image files synced", func(ctx context.Context, tx *sql.Tx) error {
		_, err := txExec(ctx, tx, "UPDATE images SET synced = 1 WHERE synced = 0 AND id <= ?", throughID)
		return err
	})
}

// SyncImageFiles syncs the files of every unsynced image row and marks
// the rows synced; the collector calls it before dropping delivery bodies,
// whose bytes are those files' only durable copy until then.
func (d *DB) SyncImageFiles(ctx context.Context, files *ImageFiles) error {
	var (
		paths   []string
		through int64
	)
	for {
		page, _, err := d.UnsyncedImages(ctx, through, 1000)
		if err != nil {
			return err
		}
		for _, im := range page {
			paths = append(paths, im.Path)
			through = im.ID
		}
		if len(page) < 1000 {
			break
		}
	}
	if len(paths) == 0 {
		return nil
	}
	// Rows up to through were committed after their files were written,
	// so every one of those files is covered by this sync.
	if err := files.Sync(paths); err != nil {
		return app.Errorf(app.EINTERNAL, "sync image files in %s: %w", files.Dir(), err)
	}
	return d.MarkImagesSynced(ctx, through)
}
