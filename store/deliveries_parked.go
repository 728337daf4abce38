package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/influencegen/influencegen/app"
)

var _ app.ParkedDeliveries = (*DB)(nil)

// parkDelivery sets a delivery aside after its last allowed attempt: it
// leaves PendingDeliveries (no more retries, no spinning), and an activity
// on its request says so and why.
func parkDelivery(ctx context.Context, tx *sql.Tx, id int64, attempts int, msg string, now time.Time) error {
	msg = app.OutsideText(msg)
	var reqID string
	if err := txQueryRow(ctx, tx, `UPDATE deliveries SET attempts = ?, last_error = ?, parked_at = ?, next_attempt_at = NULL
		WHERE id = ? RETURNING request_id`, attempts, msg, fmtTime(now), id).Scan(&reqID); err != nil {
		return err
	}
	return insertActivity(ctx, tx, app.Activity{RequestID: reqID, Kind: app.ActivityCallbackRejected, Level: app.LevelError,
		Message: fmt.Sprintf("callback %d parked after %d failed attempts, no longer retried: %s. Fix the cause, then restart influencegen: parked callbacks get one more attempt at start",
			id, attempts, msg)}, now)
}

// ParkedDeliveries lists parked deliveries, newest first, without bodies.
func (d *DB) ParkedDeliveries(ctx context.Context, requestID string, limit int) ([]app.Delivery, error) {
	limit, err := clampLimit(limit, 20, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := d.rdb.QueryContext(ctx, `SELECT id, idempotency_key, request_id, source, received_at, attempts, last_error
		FROM deliveries WHERE processed_at IS NULL AND parked_at IS NOT NULL AND (?1 = '' OR request_id = ?1)
		ORDER BY id DESC LIMIT ?2`, requestID, limit)
	if err != nil {
		return nil, mapError("read parked callbacks", err)
	}
	defer rows.Close()
	var out []app.Delivery
	for rows.Next() {
		var (
			dl       app.Delivery
			received string
		)
		if err := rows.Scan(&dl.ID, &dl.IdempotencyKey, &dl.RequestID, &dl.Source, &received, &dl.Attempts, &dl.LastError); err != nil {
			return nil, mapError("read parked callbacks", err)
		}
		if dl.ReceivedAt, err = parseTime(received); err != nil {
			return nil, mapError("read parked callbacks", err)
		}
		dl.Body = json.RawMessage("null")
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read parked callbacks", err)
	}
	return out, nil
}

// RetryParkedDeliveries makes parked deliveries due again with one attempt
// left: a delivery that fails once more is parked again, so a restart
// costs one attempt per parked callback, never a loop.
func (d *DB) RetryParkedDeliveries(ctx context.Context) (int, error) {
	var n int64
	err := d.write(ctx, "retry parked callbacks", func(ctx context.Context, tx *sql.Tx) error {
		res, err := txExec(ctx, tx, `UPDATE deliveries SET parked_at = NULL, next_attempt_at = NULL, attempts = ?
			WHERE processed_at IS NULL AND parked_at IS NOT NULL`, app.MaxDeliveryAttempts-1)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
