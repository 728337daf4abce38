package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// DecideImage applies a favourite and/or approval change with its activity
// row and image_decision outbox item in one transaction. The UPDATE itself
// compares decided_at, so of two decisions racing from two processes the
// later one by time wins whatever order they commit in.
func (d *DB) DecideImage(ctx context.Context, dec app.ImageDecision) (app.Image, error) {
	if dec.Favorite == nil && dec.Approval == nil {
		return app.Image{}, app.Errorf(app.EINVALID, "image %d: nothing to decide (give a favourite or an approval)", dec.ImageID)
	}
	if dec.Approval != nil && !dec.Approval.Valid() {
		_, err := app.ParseApproval(string(*dec.Approval))
		return app.Image{}, err
	}
	at := dec.At
	if at.IsZero() {
		at = d.now()
	}
	stamp := fmtTime(at)
	var out app.Image
	err := d.write(ctx, "decide image", func(ctx context.Context, tx *sql.Tx) error {
		sets := []string{"decided_at = ?1"}
		args := []any{stamp, dec.By, dec.ImageID}
		var what []string
		if dec.Favorite != nil {
			sets = append(sets, "favorite = ?4", "favorite_by = ?2", "favorite_at = ?1")
			args = append(args, *dec.Favorite)
			if *dec.Favorite {
				what = append(what, "starred")
			} else {
				what = append(what, "unstarred")
			}
		} else {
			args = append(args, nil)
		}
		if dec.Approval != nil {
			// An undecided image has no approver: reset clears who and when.
			if *dec.Approval == app.ApprovalUndecided {
				sets = append(sets, "approval = ?5", "approved_by = ''", "approved_at = NULL")
			} else {
				sets = append(sets, "approval = ?5", "approved_by = ?2", "approved_at = ?1")
			}
			args = append(args, string(*dec.Approval))
			what = append(what, "marked "+string(*dec.Approval))
		}
		var requestID string
		err := txQueryRow(ctx, tx, "UPDATE images SET "+strings.Join(sets, ", ")+
			" WHERE id = ?3 AND (decided_at IS NULL OR decided_at <= ?1) RETURNING request_id", args...).Scan(&requestID)
		if errors.Is(err, sql.ErrNoRows) {
			im, gerr := scanImage(txQueryRow(ctx, tx, "SELECT "+imageCols+" FROM images WHERE id = ?", dec.ImageID))
			if errors.Is(gerr, sql.ErrNoRows) {
				return notFound("image", strconv.FormatInt(dec.ImageID, 10))
			}
			out = im // a newer decision is already recorded: keep it
			return gerr
		}
		if err != nil {
			return err
		}
		who := dec.By
		if who == "" {
			who = "the user"
		}
		if err := insertActivity(ctx, tx, app.Activity{RequestID: requestID, Kind: app.ActivityImageDecided,
			Level: app.LevelInfo, Message: fmt.Sprintf("image %d %s by %s", dec.ImageID, strings.Join(what, " and "), who),
			CreatedAt: at}, at); err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]int64{"image_id": dec.ImageID})
		if err := enqueueOutbox(ctx, tx, app.OutboxImageDecision, requestID, payload, d.now()); err != nil {
			return err
		}
		out, err = scanImage(txQueryRow(ctx, tx, "SELECT "+imageCols+" FROM images WHERE id = ?", dec.ImageID))
		return err
	})
	if err != nil {
		return app.Image{}, mapError(fmt.Sprintf("decide image %d", dec.ImageID), err)
	}
	return out, nil
}

// imageFilter builds the WHERE clause of ListImages.
func imageFilter(q app.ImageQuery) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	// Images of a deleted request (in its undo window) are hidden with it;
	// the partial index requests_deleted holds just those rows.
	conds = append(conds, "request_id NOT IN (SELECT id FROM requests WHERE deleted_at IS NOT NULL)")
	if q.RequestID != "" {
		conds = append(conds, "request_id = ?")
		args = append(args, q.RequestID)
	}
	if q.BatchID != "" {
		conds = append(conds, "request_id IN (SELECT id FROM requests WHERE batch_id = ?)")
		args = append(args, q.BatchID)
	}
	if q.Favorites {
		conds = append(conds, "favorite = 1")
	}
	if q.Approval != "" {
		if !q.Approval.Valid() {
			_, err := app.ParseApproval(string(q.Approval))
			return "", nil, err
		}
		conds = append(conds, "approval = ?")
		args = append(args, string(q.Approval))
	}
	if q.BeforeID > 0 {
		conds = append(conds, "id < ?")
		args = append(args, q.BeforeID)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// ListImages reads one window of images, newest first, by keyset on id.
func (d *DB) ListImages(ctx context.Context, q app.ImageQuery) ([]app.Image, error) {
	limit, err := clampLimit(q.Limit, 200, 10000)
	if err != nil {
		return nil, err
	}
	where, args, err := imageFilter(q)
	if err != nil {
		return nil, err
	}
	args = append(args, limit)
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+imageCols+" FROM images"+where+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, mapError("list images", err)
	}
	defer rows.Close()
	var out []app.Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return nil, mapError("list images", err)
		}
		out = append(out, im)
	}
	return out, mapError("list images", rows.Err())
}

// minHashPrefix keeps a typed prefix from matching half the gallery.
const minHashPrefix = 4

// FindImage resolves an image id (digits) or a unique sha256 prefix.
// Digits are tried as an id first, then as a hash prefix (hashes start
// with digits too).
func (d *DB) FindImage(ctx context.Context, ref string) (app.Image, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" {
		return app.Image{}, app.Errorf(app.EINVALID, "no image given: use an image id or a unique prefix of its sha256 (see `influencegen image list`)")
	}
	if isDigits(ref) {
		if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
			im, err := d.GetImage(ctx, id)
			if err == nil || app.ErrorCode(err) != app.ENOTFOUND {
				return im, err
			}
		}
	}
	if strings.Trim(ref, "0123456789abcdef") != "" {
		return app.Image{}, app.Errorf(app.EINVALID, "image %q is neither an image id nor a sha256 prefix (hex digits)", ref)
	}
	if len(ref) < minHashPrefix {
		return app.Image{}, app.Errorf(app.ENOTFOUND, "image %s not found (a sha256 prefix needs at least %d characters)", ref, minHashPrefix)
	}
	// sha256 is lower-case hex, so a range on the text is a prefix match.
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+imageCols+" FROM images WHERE sha256 >= ? AND sha256 < ? ORDER BY id LIMIT 6",
		ref, ref+"\x7f")
	if err != nil {
		return app.Image{}, mapError("find image "+ref, err)
	}
	defer rows.Close()
	var found []app.Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return app.Image{}, mapError("find image "+ref, err)
		}
		found = append(found, im)
	}
	if err := rows.Err(); err != nil {
		return app.Image{}, mapError("find image "+ref, err)
	}
	switch {
	case len(found) == 0:
		return app.Image{}, app.Errorf(app.ENOTFOUND, "no image has id or sha256 prefix %s (see `influencegen image list`)", ref)
	case len(found) == 1:
		return found[0], nil
	}
	// The same picture stored for two requests shares its hash: the prefix
	// names one picture but two images, and only an id tells them apart.
	var names []string
	for i, im := range found {
		if i == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, fmt.Sprintf("%d (%s…, request %s)", im.ID, im.SHA256[:min(12, len(im.SHA256))], im.RequestID))
	}
	return app.Image{}, app.ReasonErrorf(app.ECONFLICT, "ambiguous_image",
		"sha256 prefix %s matches several images: %s; give a longer prefix or the image id", ref, strings.Join(names, ", "))
}

// CountCuration counts starred, approved and rejected images among the
// requests q matches, in one pass over the partial indexes' rows.
func (d *DB) CountCuration(ctx context.Context, q app.ListQuery) (app.CurationCounts, error) {
	where, args, err := listFilter(app.ListQuery{Search: q.Search, RequestedBy: q.RequestedBy, Statuses: q.Statuses,
		BatchID: q.BatchID, Favorites: q.Favorites, Approval: q.Approval}, false)
	if err != nil {
		return app.CurationCounts{}, err
	}
	// Correlated on the request's primary key: only the few decided images
	// are probed, where an IN (SELECT …) would first collect every live
	// request (the filter always holds "not deleted").
	scope := ""
	if where != "" {
		scope = " AND EXISTS (SELECT 1 FROM requests" + where + " AND requests.id = i.request_id)"
	}
	var c app.CurationCounts
	err = d.rdb.QueryRowContext(ctx, `SELECT
			coalesce(sum(i.favorite = 1), 0), coalesce(sum(i.approval = 'approved'), 0), coalesce(sum(i.approval = 'rejected'), 0)
		FROM images i WHERE (i.favorite = 1 OR i.approval <> 'undecided')`+scope, args...).Scan(&c.Favorites, &c.Approved, &c.Rejected)
	if err != nil {
		return app.CurationCounts{}, mapError("count curated images", err)
	}
	return c, nil
}
