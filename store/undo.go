package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Undo of delete and cancel (issue 14 §6). A delete only stamps deleted_at:
// the row, its images and its history stay while the undo window runs, so
// a callback that arrives meanwhile is recorded as usual and an undo brings
// the request back with its result. PurgeDeleted (run by the collector)
// removes the rows whose window has passed.

// SoftDeleteRequest hides a request at once. A request in sending is
// refused in the UPDATE itself (its POST is in flight), as DeleteRequest
// does. Odoo is never told: deleting is local.
func (d *DB) SoftDeleteRequest(ctx context.Context, id string) error {
	now := d.now()
	return d.write(ctx, "delete request "+id, func(ctx context.Context, tx *sql.Tx) error {
		res, err := txExec(ctx, tx, `UPDATE requests SET deleted_at = ?
			WHERE id = ? AND deleted_at IS NULL AND status <> 'sending'`, fmtTime(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var (
				status  string
				deleted sql.NullString
			)
			err := txQueryRow(ctx, tx, "SELECT status, deleted_at FROM requests WHERE id = ?", id).Scan(&status, &deleted)
			switch {
			case errors.Is(err, sql.ErrNoRows), err == nil && deleted.Valid:
				return notFound("request", id)
			case err != nil:
				return err
			}
			return app.ReasonErrorf(app.ECONFLICT, "request_sending",
				"request %s is %s: its POST to n8n is in flight right now; wait a moment, or cancel it first", id, status)
		}
		msg := "deleted request " + id
		if a, ok := app.ActorFrom(ctx); ok { // who, on a shared host
			msg += " by " + a.Name
		}
		// Request-less, like DeleteRequest's: the request's own history
		// goes with it when the collector finishes the delete.
		return insertActivity(ctx, tx, app.Activity{Kind: app.ActivityDeleted, Level: app.LevelInfo, Message: msg}, now)
	})
}

// RestoreRequest undoes a delete made at or after deletedSince (the start
// of the undo window). A request whose window has passed, or that the
// collector already removed, is not restored.
func (d *DB) RestoreRequest(ctx context.Context, id string, deletedSince time.Time, a app.Activity) (app.Request, error) {
	now := d.now()
	var out app.Request
	err := d.write(ctx, "undo delete of request "+id, func(ctx context.Context, tx *sql.Tx) error {
		res, err := txExec(ctx, tx, `UPDATE requests SET deleted_at = NULL
			WHERE id = ? AND deleted_at IS NOT NULL AND deleted_at >= ?`, id, fmtTime(deletedSince))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var deleted sql.NullString
			err := txQueryRow(ctx, tx, "SELECT deleted_at FROM requests WHERE id = ?", id).Scan(&deleted)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return app.ReasonErrorf(app.ENOTFOUND, "undo_expired", "request %s is deleted for good: the undo window has passed", id)
			case err != nil:
				return err
			case !deleted.Valid:
				return app.ReasonErrorf(app.ECONFLICT, "not_deleted", "request %s is not deleted: nothing to undo", id)
			}
			return app.ReasonErrorf(app.ECONFLICT, "undo_expired", "request %s was deleted too long ago to undo (the window is %s)", id, app.UndoWindow)
		}
		a.RequestID = id
		if err := insertActivity(ctx, tx, a, now); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, id)
		return err
	})
	return out, err
}

// UndoCancel puts a cancelled request back in the state the cancel moved
// it from, if the cancel happened at or after cancelledSince and no
// callback has arrived since: a result that came in while it was cancelled
// is kept (as a late result) and the request stays cancelled, so nothing is
// ever lost to an undo. A request cancelled while sending is not put back:
// whether n8n took its POST is unknown, and a re-send could run it twice.
// The Odoo record gets the restored state through the outbox.
func (d *DB) UndoCancel(ctx context.Context, id string, cancelledSince time.Time, a app.Activity) (app.Request, error) {
	now := d.now()
	var out app.Request
	err := d.write(ctx, "undo cancel of request "+id, func(ctx context.Context, tx *sql.Tx) error {
		var (
			status, from, updated string
			result                sql.NullInt64
		)
		err := txQueryRow(ctx, tx, "SELECT status, cancelled_from, updated_at, result_delivery_id FROM requests WHERE id = ?", id).
			Scan(&status, &from, &updated, &result)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("request", id)
		}
		if err != nil {
			return err
		}
		if err := undoCancelRefusal(id, app.Status(status), app.Status(from), updated, result.Valid, cancelledSince); err != nil {
			return err
		}
		// updated_at grows with every change (the Odoo addon keeps the newest).
		at := now
		if last, perr := parseTime(updated); perr == nil && !at.After(last) {
			at = last.Add(time.Nanosecond)
		}
		// The write lock is ours since the read, yet the UPDATE checks the
		// same conditions again: it is the compare-and-set.
		res, err := txExec(ctx, tx, `UPDATE requests SET status = cancelled_from, cancelled_from = '', updated_at = ?,
				send_lease_owner = ''
			WHERE id = ? AND status = 'cancelled' AND cancelled_from = ? AND updated_at = ? AND result_delivery_id IS NULL`,
			fmtTime(at), id, from, updated)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.ReasonErrorf(app.ECONFLICT, "invalid_transition", "request %s changed while undoing its cancel; it stays cancelled", id)
		}
		a.RequestID = id
		if err := insertActivity(ctx, tx, a, now); err != nil {
			return err
		}
		if err := enqueueOutbox(ctx, tx, app.OutboxUpsertRequest, id, nil, now); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, id)
		return err
	})
	return out, err
}

func undoCancelRefusal(id string, status, from app.Status, updated string, hasResult bool, since time.Time) error {
	switch {
	case status != app.StatusCancelled:
		return app.ReasonErrorf(app.ECONFLICT, "invalid_transition", "request %s is %s, not cancelled: nothing to undo", id, status)
	case hasResult:
		return app.ReasonErrorf(app.ECONFLICT, "result_arrived",
			"request %s stays cancelled: its result arrived after the cancel and is kept with it (see its detail)", id)
	case from == app.StatusSending:
		return app.ReasonErrorf(app.ECONFLICT, "cancelled_while_sending",
			"request %s stays cancelled: it was cancelled while its POST to n8n was in flight, so putting it back could run it twice; retry or remix it instead", id)
	case from == "":
		return app.ReasonErrorf(app.ECONFLICT, "invalid_transition", "request %s was cancelled by an older version that did not keep its previous state; it stays cancelled", id)
	}
	if at, err := parseTime(updated); err != nil || at.Before(since) {
		return app.ReasonErrorf(app.ECONFLICT, "undo_expired", "request %s was cancelled too long ago to undo (the window is %s)", id, app.UndoWindow)
	}
	return nil
}

// PurgeDeleted finishes the deletes made before `before` (the undo window's
// start): the rows go with their images' rows, activity, deliveries and
// outbox (ON DELETE CASCADE). Their files are left to the file collector,
// which removes unreferenced ones after its own grace. A batch per
// transaction keeps the write lock short.
func (d *DB) PurgeDeleted(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := d.write(ctx, "finish deleted requests", func(ctx context.Context, tx *sql.Tx) error {
			res, err := txExec(ctx, tx, `DELETE FROM requests WHERE id IN (
				SELECT id FROM requests WHERE deleted_at IS NOT NULL AND deleted_at < ? AND status <> 'sending' LIMIT ?)`,
				fmtTime(before), collectBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < collectBatch {
			return total, err
		}
	}
}
