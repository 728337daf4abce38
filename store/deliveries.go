package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/influencegen/influencegen/app"
)

// RecordDelivery commits an authenticated callback before it is acked.
// When the idempotency key is already known nothing is written and the
// existing delivery's id comes back with duplicate = true. The request must
// exist (ENOTFOUND otherwise): the listener answers 404 for unknown ids.
func (d *DB) RecordDelivery(ctx context.Context, dl app.Delivery) (int64, bool, error) {
	if dl.IdempotencyKey == "" {
		return 0, false, app.Errorf(app.EINVALID, "delivery without an idempotency key")
	}
	if dl.RequestID == "" {
		return 0, false, app.Errorf(app.EINVALID, "delivery without a request id")
	}
	// The body is stored as received: the listener validated it in one
	// pass and ingest parses it once (issue 17). Here it only has to be a
	// JSON object or array, so a caller cannot store plain text by mistake.
	raw := bytes.TrimSpace(dl.Body)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if raw[0] != '{' && raw[0] != '[' {
		return 0, false, app.Errorf(app.EINVALID, "delivery body for request %s is not a JSON object", dl.RequestID)
	}
	// Bound as text without a copy: the driver copies the text into
	// SQLite's memory when it binds it (libc.CString), and the write job
	// runs before RecordDelivery returns, so raw is never read after.
	body := unsafe.String(unsafe.SliceData(raw), len(raw))
	// No read before the write: almost every callback is new, for a
	// request that exists and has no result yet. The INSERT checks all of
	// it in one statement: it selects the request row only if it is not
	// final (the foreign key is implied), and ON CONFLICT turns a replay
	// into no row. Only when no row comes back does whyNotInserted read more.
	if dl.ReceivedAt.IsZero() {
		dl.ReceivedAt = d.now()
	}
	var (
		id      int64
		dup     bool
		refused error
	)
	err := d.write(ctx, "record callback for request "+dl.RequestID, func(ctx context.Context, tx *sql.Tx) error {
		refused = nil
		err := d.ws.queryRow(ctx, tx, sqlInsertDelivery,
			dl.IdempotencyKey, dl.RequestID, dl.Source, fmtTime(dl.ReceivedAt)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id, dup, err = whyNotInserted(ctx, tx, d.ws, dl)
			return err
		}
		if err != nil {
			return err
		}
		if _, err := d.ws.exec(ctx, tx, sqlInsertDeliveryBody, id, body); err != nil {
			return err
		}
		// A request accepts one result: the first delivery to claim it
		// here is that result. The claim and the insert are one unit of
		// the writer's transaction, so two different results arriving
		// together end as if they had come one after the other.
		res, err := d.ws.exec(ctx, tx, sqlClaimResult, id, dl.RequestID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		err = refuseSecondResult(ctx, tx, d.ws, dl, id, d.now())
		if app.ErrorReason(err) == app.ReasonResultExists {
			refused = err // the refusal is recorded: commit it, then report it
			return nil
		}
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if refused != nil {
		return 0, false, refused
	}
	return id, dup, nil
}

var (
	// The SELECT yields the request only while it can take a result; its
	// WHERE also keeps SQLite from reading ON CONFLICT as a join clause.
	sqlInsertDelivery = hotWrite(`INSERT INTO deliveries (idempotency_key, request_id, source, received_at)
	SELECT ?1, id, ?3, ?4 FROM requests WHERE id = ?2 AND status NOT IN ('completed', 'failed')
	ON CONFLICT (request_id, idempotency_key) DO NOTHING RETURNING id`)
	// The body has a table of its own (migration 0012): ingest's update
	// of the delivery row no longer rewrites it.
	sqlInsertDeliveryBody = hotWrite(`INSERT INTO delivery_bodies (delivery_id, body) VALUES (?, ?)`)
	sqlClaimResult        = hotWrite(`UPDATE requests SET result_delivery_id = ? WHERE id = ? AND result_delivery_id IS NULL`)
	sqlDeliveryByKey      = hotWrite("SELECT id FROM deliveries WHERE request_id = ? AND idempotency_key = ?")
	sqlRequestStatus      = hotWrite("SELECT status FROM requests WHERE id = ?")
	sqlDeleteDelivery     = hotWrite("DELETE FROM deliveries WHERE id = ?")
	sqlRequestResultRow   = hotWrite("SELECT status, result_delivery_id FROM requests WHERE id = ?")
)

// whyNotInserted explains an INSERT that wrote no row: a replay of a
// known callback (its id, duplicate), an unknown request (ENOTFOUND), or
// a request that is already final (ECONFLICT, ReasonResultExists: a
// different result contradicts it; nothing is recorded).
func whyNotInserted(ctx context.Context, tx *sql.Tx, ws *writeStmts, dl app.Delivery) (int64, bool, error) {
	var id int64
	err := ws.queryRow(ctx, tx, sqlDeliveryByKey, dl.RequestID, dl.IdempotencyKey).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, err
	}
	var status string
	err = ws.queryRow(ctx, tx, sqlRequestStatus, dl.RequestID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, notFound("request", dl.RequestID)
	}
	if err != nil {
		return 0, false, err
	}
	return 0, false, app.ReasonErrorf(app.ECONFLICT, app.ReasonResultExists,
		"request %s is already %s; a different result is not accepted", dl.RequestID, status)
}

// refuseSecondResult undoes the insert of a delivery whose request already
// has its result, records the refusal in Activity (it is not merged, and
// not kept: only its summary is) and returns the ECONFLICT (reason
// ReasonResultExists) for the caller, or another error if that failed.
func refuseSecondResult(ctx context.Context, tx *sql.Tx, ws *writeStmts, dl app.Delivery, id int64, now time.Time) error {
	if _, err := ws.exec(ctx, tx, sqlDeleteDelivery, id); err != nil {
		return err
	}
	var (
		status string
		first  sql.NullInt64
	)
	if err := ws.queryRow(ctx, tx, sqlRequestResultRow, dl.RequestID).Scan(&status, &first); err != nil {
		return err
	}
	msg := fmt.Sprintf("a second, different result from %s was refused: a request accepts one result, and this one has callback %d's (state %s)",
		app.OutsideLine(dl.Source), first.Int64, status)
	if err := insertActivity(ctx, tx, app.Activity{RequestID: dl.RequestID, Kind: app.ActivityCallbackRejected,
		Level: app.LevelWarn, Message: msg}, now); err != nil {
		return err
	}
	return app.ReasonErrorf(app.ECONFLICT, app.ReasonResultExists,
		"request %s already has its result (callback %d, state %s); a different result is not accepted", dl.RequestID, first.Int64, status)
}

// Retry spacing of a delivery whose processing failed: 2 s after the first
// failure, doubling up to 5 min. Short enough that a passing problem (a
// full disk being cleared) costs seconds, long enough that a delivery that
// keeps failing does not keep the ingest worker busy.
const (
	deliveryRetryBase = 2 * time.Second
	deliveryRetryMax  = 5 * time.Minute
)

// deliveryRetryDelay is the wait after a delivery's failed attempt number
// attempts (1 for the first failure).
func deliveryRetryDelay(attempts int) time.Duration {
	return min(deliveryRetryBase<<min(max(attempts-1, 0), 10), deliveryRetryMax)
}

// PendingDeliveries returns unprocessed deliveries that are due, oldest
// first: a delivery whose processing failed is left out until its retry
// time (see DeliveryFailed), so deliveries backing off at the front of the
// inbox never hide newer ones from a caller reading a page at a time.
func (d *DB) PendingDeliveries(ctx context.Context, limit int) ([]app.Delivery, error) {
	limit, err := clampLimit(limit, 50, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := d.rdb.QueryContext(ctx, `SELECT `+deliveryCols+` FROM `+deliveriesWithBodies+`
		WHERE `+sqlPendingDue+` ORDER BY deliveries.id LIMIT ?2`, fmtTime(d.now()), limit)
	if err != nil {
		return nil, mapError("read pending callbacks", err)
	}
	return scanDeliveries(rows)
}

// sqlPendingDue selects the due unprocessed deliveries (?1: now); the
// deliveries_pending index holds every column it tests.
const sqlPendingDue = `processed_at IS NULL AND parked_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)`

// deliveryCols are read from deliveriesWithBodies; a body dropped by
// retention reads as "", and so does the state of a request that is gone.
const (
	deliveryCols = `deliveries.id, idempotency_key, request_id, coalesce(b.body, ''), source, received_at,
		processed_at, attempts, last_error, coalesce(r.status, '')`
	deliveriesWithBodies = `deliveries LEFT JOIN delivery_bodies b ON b.delivery_id = deliveries.id
		LEFT JOIN requests r ON r.id = deliveries.request_id`
)

// PendingDeliveryIDs returns the ids of PendingDeliveries from the index
// alone, without reading a body.
func (d *DB) PendingDeliveryIDs(ctx context.Context, limit int) ([]int64, error) {
	limit, err := clampLimit(limit, 50, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := d.reads.QueryContext(ctx, `SELECT id FROM deliveries INDEXED BY deliveries_pending
		WHERE `+sqlPendingDue+` ORDER BY id LIMIT ?2`, fmtTime(d.now()), limit)
	if err != nil {
		return nil, mapError("read pending callbacks", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapError("read pending callbacks", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read pending callbacks", err)
	}
	return ids, nil
}

// LoadDeliveries returns the deliveries of ids in id order; ids that no
// longer exist are left out.
func (d *DB) LoadDeliveries(ctx context.Context, ids []int64) ([]app.Delivery, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := d.reads.QueryContext(ctx, `SELECT `+deliveryCols+` FROM `+deliveriesWithBodies+`
		WHERE deliveries.id IN (SELECT value FROM json_each(?)) ORDER BY deliveries.id`, idsJSON(ids))
	if err != nil {
		return nil, mapError("read callbacks", err)
	}
	return scanDeliveries(rows)
}

// scanDeliveries reads rows of deliveryCols and closes them.
func scanDeliveries(rows *sql.Rows) ([]app.Delivery, error) {
	defer rows.Close()
	var out []app.Delivery
	for rows.Next() {
		var (
			dl        app.Delivery
			body      string
			received  string
			processed sql.NullString
			status    string
			err       error
		)
		if err := rows.Scan(&dl.ID, &dl.IdempotencyKey, &dl.RequestID, &body, &dl.Source, &received,
			&processed, &dl.Attempts, &dl.LastError, &status); err != nil {
			return nil, mapError("read callbacks", err)
		}
		dl.Body = json.RawMessage(body)
		dl.RequestStatus = app.Status(status)
		if dl.ReceivedAt, err = parseTime(received); err != nil {
			return nil, mapError("read callbacks", err)
		}
		if dl.ProcessedAt, err = parseTimePtr(processed); err != nil {
			return nil, mapError("read callbacks", err)
		}
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read callbacks", err)
	}
	return out, nil
}

// DeliveryFailed records a processing error. The delivery stays pending
// and is due again after deliveryRetryDelay: PendingDeliveries leaves it
// out until then, and the wait is kept across restarts. The
// app.MaxDeliveryAttempts-th failure parks it instead (deliveries_parked.go).
func (d *DB) DeliveryFailed(ctx context.Context, id int64, msg string) error {
	now := d.now()
	return d.writeBackground(ctx, fmt.Sprintf("record failure of callback %d", id), func(ctx context.Context, tx *sql.Tx) error {
		var (
			attempts  int
			processed sql.NullString
		)
		err := txQueryRow(ctx, tx, "SELECT attempts, processed_at FROM deliveries WHERE id = ?", id).Scan(&attempts, &processed)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("callback", fmt.Sprint(id))
		}
		if err != nil || processed.Valid {
			return err // already processed: nothing to record
		}
		attempts++
		if attempts >= app.MaxDeliveryAttempts {
			return parkDelivery(ctx, tx, id, attempts, msg, now)
		}
		_, err = txExec(ctx, tx, `UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?
			WHERE id = ?`, attempts, app.OutsideText(msg), fmtTime(now.Add(deliveryRetryDelay(attempts))), id)
		return err
	})
}

// CompleteDelivery commits everything one processed callback changes, in
// one transaction: new image rows (a picture the request already has is
// skipped), the state move, the activities, an "image" outbox row per new
// image plus an "upsert_request" row, and the delivery's processed marker.
//
// The state move is a compare-and-set from app.SourcesOf(r.To). When it is
// refused, what happens depends on where the request already is:
//
//   - r.To is "": the state is kept on purpose (a late result for a
//     cancelled request); images are stored, the delivery is processed.
//   - already in r.To (a second success for a completed request): a
//     duplicate result; new images are added, processed, no error.
//   - cancelled (cancelled between the ingest worker's read and this
//     commit): the late result is kept, the state stays cancelled, a
//     late_result warning is logged, processed, no error.
//   - the other final state (a failure for a completed request or the
//     reverse): the result contradicts a finished request. Images are
//     stored and the delivery is processed, so it is not retried for ever;
//     the activities that claim the move ("completed"/"failed") are dropped,
//     a late_result warning is logged, and ECONFLICT (reason
//     "invalid_transition") is returned WITH the committed request.
//   - not final (e.g. queued after crash recovery): nothing is written and
//     ECONFLICT is returned; the delivery stays pending and applies once the
//     request is sent again.
//
// A delivery that is already processed changes nothing and returns where
// the request is, so a crash between commit and bookkeeping is harmless.
func (d *DB) CompleteDelivery(ctx context.Context, r app.IngestResult) (app.IngestOutcome, error) {
	if r.To != "" && r.To != app.StatusCompleted && r.To != app.StatusFailed {
		return app.IngestOutcome{}, app.Errorf(app.EINVALID, "a callback result can complete or fail a request, not move it to %s", r.To)
	}
	now := d.now()
	var (
		out      app.IngestOutcome
		conflict error
	)
	op := fmt.Sprintf("process callback %d", r.DeliveryID)
	// The background lane: an ack waiting to commit goes first (issue 17).
	err := d.writeBackground(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		conflict = nil
		var (
			reqID     string
			processed sql.NullString
			resultID  sql.NullInt64
			odooID    sql.NullInt64
		)
		// The request's state and Odoo id as they are before this
		// commit: with the move below, where it leaves the request.
		err := txQueryRow(ctx, tx, `SELECT d.request_id, d.processed_at, r.result_delivery_id, r.status, r.odoo_id
			FROM deliveries d JOIN requests r ON r.id = d.request_id WHERE d.id = ?`, r.DeliveryID).
			Scan(&reqID, &processed, &resultID, &out.Status, &odooID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("callback", fmt.Sprint(r.DeliveryID))
		}
		if err != nil {
			return err
		}
		if r.RequestID != "" && r.RequestID != reqID {
			return app.Errorf(app.EINVALID, "callback %d belongs to request %s, not %s", r.DeliveryID, reqID, r.RequestID)
		}
		out.OdooID = odooID.Int64
		if processed.Valid {
			return nil
		}
		// The ack claimed the request's one result; only a delivery
		// recorded by an older version may still have to (ownsResult).
		if resultID.Int64 != r.DeliveryID {
			isResult, err := ownsResult(ctx, tx, reqID, r.DeliveryID)
			if err == nil && !isResult {
				err = dropSecondResult(ctx, tx, reqID, r.DeliveryID, now)
			}
			if err != nil || !isResult {
				return err
			}
		}
		moved, refusedFrom, err := d.applyResult(ctx, tx, reqID, r, now)
		if err != nil {
			return err
		}
		if moved {
			out.Status = r.To
		}
		added, err := insertImages(ctx, tx, reqID, r.Images, now)
		if err != nil {
			return err
		}
		// The images' outbox rows and the request's upsert go in one
		// INSERT, the activities in another (issue 17: one statement each
		// made ingest's commit three times as many statements).
		outbox := make([]outboxRow, 0, len(added)+1)
		for _, id := range added {
			outbox = append(outbox, outboxRow{app.OutboxImage, json.RawMessage(fmt.Sprintf(`{"image_id":%d}`, id))})
		}
		outbox = append(outbox, outboxRow{kind: app.OutboxUpsertRequest})
		acts := make([]app.Activity, 0, len(r.Activities)+1)
		for _, a := range r.Activities {
			if !moved && (a.Kind == app.ActivityCompleted || a.Kind == app.ActivityFailed) {
				continue // the move it announces did not happen
			}
			if a.RequestID == "" {
				a.RequestID = reqID
			}
			acts = append(acts, a)
		}
		if refusedFrom != "" {
			acts = append(acts, app.Activity{RequestID: reqID, Kind: app.ActivityLateResult,
				Level: app.LevelWarn, Message: fmt.Sprintf("a %s result arrived for a %s request: %d new image(s) kept, state stays %s",
					r.To, refusedFrom, len(added), refusedFrom)})
			if refusedFrom != app.StatusCancelled {
				conflict = app.ReasonErrorf(app.ECONFLICT, "invalid_transition",
					"request %s is already %s; the %s result was recorded but the state stays %s", reqID, refusedFrom, r.To, refusedFrom)
			}
		}
		if err := insertActivities(ctx, tx, acts, now); err != nil {
			return err
		}
		if err := enqueueOutboxRows(ctx, tx, reqID, outbox, now); err != nil {
			return err
		}
		if _, err := txExec(ctx, tx, `UPDATE deliveries SET processed_at = ?, attempts = attempts + 1, last_error = ''
			WHERE id = ?`, fmtTime(now), r.DeliveryID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return app.IngestOutcome{}, err
	}
	return out, conflict
}

// applyResult makes the state move of a result. moved reports whether the
// state changed; refusedFrom is the final state that refused a move whose
// result is still kept (see CompleteDelivery), "" otherwise.
func (d *DB) applyResult(ctx context.Context, tx *sql.Tx, reqID string, r app.IngestResult, now time.Time) (moved bool, refusedFrom app.Status, err error) {
	if r.To == "" {
		// Keep the state; remember n8n's execution id if we had none.
		if r.ExecutionID != "" {
			_, err = txExec(ctx, tx, "UPDATE requests SET execution_id = ? WHERE id = ? AND execution_id = ''",
				r.ExecutionID, reqID)
		}
		return false, "", err
	}
	cur, err := casStatus(ctx, tx, app.Change{ID: reqID, To: r.To, ErrorCode: r.ErrorCode,
		ErrorMessage: r.ErrorMessage, ExecutionID: r.ExecutionID}, app.SourcesOf(r.To), now)
	if err == nil {
		return true, "", nil
	}
	if app.ErrorCode(err) != app.ECONFLICT {
		return false, "", err
	}
	switch {
	case cur == r.To:
		return false, "", nil // a repeated result: nothing to move
	case cur.Final():
		return false, cur, nil
	default:
		return false, "", err
	}
}

// ownsResult reports whether delivery id is the request's one result,
// claiming it if the request has none yet (a delivery recorded by a
// version that did not claim).
func ownsResult(ctx context.Context, tx *sql.Tx, reqID string, id int64) (bool, error) {
	res, err := txExec(ctx, tx, `UPDATE requests SET result_delivery_id = ?1
		WHERE id = ?2 AND (result_delivery_id IS NULL OR result_delivery_id = ?1)`, id, reqID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// dropSecondResult marks a delivery that is not its request's result as
// processed without applying it: results recorded before one result per
// request was enforced are never merged into the one that won.
func dropSecondResult(ctx context.Context, tx *sql.Tx, reqID string, id int64, now time.Time) error {
	if _, err := txExec(ctx, tx, `UPDATE deliveries SET processed_at = ?, attempts = attempts + 1,
		last_error = 'not applied: the request already has its result' WHERE id = ?`, fmtTime(now), id); err != nil {
		return err
	}
	return insertActivity(ctx, tx, app.Activity{RequestID: reqID, Kind: app.ActivityCallbackRejected, Level: app.LevelWarn,
		Message: fmt.Sprintf("callback %d was not applied: a request accepts one result, and this one already has another", id)}, now)
}
