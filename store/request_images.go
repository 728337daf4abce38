package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/influencegen/influencegen/app"
)

const imageCols = "id, request_id, sequence, sha256, path, mime, width, height, bytes, seed, source, source_url, created_at, " +
	"favorite, favorite_by, favorite_at, approval, approved_by, approved_at, decided_at"

func scanImage(s rowScanner) (app.Image, error) {
	var (
		im                                app.Image
		seed                              sql.NullInt64
		created, approval                 string
		favoriteAt, approvedAt, decidedAt sql.NullString
	)
	if err := s.Scan(&im.ID, &im.RequestID, &im.Sequence, &im.SHA256, &im.Path, &im.MimeType, &im.Width,
		&im.Height, &im.Bytes, &seed, &im.Source, &im.SourceURL, &created,
		&im.Favorite, &im.FavoriteBy, &favoriteAt, &approval, &im.ApprovedBy, &approvedAt, &decidedAt); err != nil {
		return im, err
	}
	im.Approval = app.Approval(approval)
	var err error
	if im.FavoriteAt, err = parseTimePtr(favoriteAt); err != nil {
		return im, err
	}
	if im.ApprovedAt, err = parseTimePtr(approvedAt); err != nil {
		return im, err
	}
	if im.DecidedAt, err = parseTimePtr(decidedAt); err != nil {
		return im, err
	}
	if seed.Valid {
		v := seed.Int64
		im.Seed = &v
	}
	im.CreatedAt, err = parseTime(created)
	return im, err
}

// Images returns a request's images in sequence order.
func (d *DB) Images(ctx context.Context, requestID string) ([]app.Image, error) {
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+imageCols+
		" FROM images WHERE request_id = ? ORDER BY sequence, id", requestID)
	if err != nil {
		return nil, mapError("read images of request "+requestID, err)
	}
	defer rows.Close()
	var out []app.Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return nil, mapError("read images of request "+requestID, err)
		}
		out = append(out, im)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read images of request "+requestID, err)
	}
	return out, nil
}

// GetImage returns one image by id.
func (d *DB) GetImage(ctx context.Context, id int64) (app.Image, error) {
	im, err := scanImage(d.rdb.QueryRowContext(ctx, "SELECT "+imageCols+" FROM images WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Image{}, notFound("image", fmt.Sprint(id))
	}
	if err != nil {
		return app.Image{}, mapError(fmt.Sprintf("read image %d", id), err)
	}
	return im, nil
}

// insertImages stores the images of one result, skipping any whose content
// the request already has (a replayed or repeated callback), and returns
// the ids of the rows actually added. A zero Sequence, or one the request
// already uses, takes the next free number: numbers stay unique per
// request (migration 0005's index), so Odoo attachment names do too.
// image_count follows in the same transaction.
func insertImages(ctx context.Context, tx *sql.Tx, requestID string, images []app.Image, now time.Time) ([]int64, error) {
	var added []int64
	for _, im := range images {
		if im.SHA256 == "" || im.Path == "" {
			return nil, app.Errorf(app.EINVALID, "image of request %s lacks its sha256 or path: store the file before recording it", requestID)
		}
		if imageNameSHA(im.Path) != im.SHA256 {
			// The collector finds a file's rows by the hash in its name
			// (pathReferenced): a row under another name would let it
			// remove a file still in use.
			return nil, app.Errorf(app.EINVALID, "image of request %s: file %s is not named by its sha256 %s: store it with ImageFiles",
				requestID, im.Path, im.SHA256)
		}
		if im.CreatedAt.IsZero() {
			im.CreatedAt = now
		}
		var seed any
		if im.Seed != nil {
			seed = *im.Seed
		}
		var id int64
		err := txQueryRow(ctx, tx, `INSERT INTO images (request_id, sequence, sha256, path, mime, width,
				height, bytes, seed, source, source_url, created_at, synced)
			VALUES (?1, CASE WHEN ?2 > 0 AND NOT EXISTS (SELECT 1 FROM images WHERE request_id = ?1 AND sequence = ?2) THEN ?2
				ELSE (SELECT coalesce(max(sequence), 0) + 1 FROM images WHERE request_id = ?1) END,
				?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
			ON CONFLICT (request_id, sha256) DO NOTHING
			RETURNING id`,
			requestID, im.Sequence, im.SHA256, im.Path, im.MimeType, im.Width, im.Height, im.Bytes, seed,
			im.Source, im.SourceURL, fmtTime(im.CreatedAt), boolInt(!im.Unsynced)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // this picture is already stored for the request
		}
		if err != nil {
			return nil, err
		}
		added = append(added, id)
	}
	if len(added) > 0 {
		if _, err := txExec(ctx, tx, "UPDATE requests SET image_count = image_count + ? WHERE id = ?",
			len(added), requestID); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// GetImagesByID returns the images of ids by id, in one query; ids that
// do not exist are left out (the Odoo sync reads a batch's images at once).
func (d *DB) GetImagesByID(ctx context.Context, ids []int64) (map[int64]app.Image, error) {
	if len(ids) == 0 {
		return map[int64]app.Image{}, nil
	}
	return readByID(ctx, d.rdb, "read images", "SELECT "+imageCols+" FROM images WHERE id IN (SELECT value FROM json_each(?))",
		idsJSON(ids), len(ids), scanImage, func(im app.Image) int64 { return im.ID })
}
