package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// enqueueOutbox adds one Odoo operation inside the transaction of the
// change that implies it, and marks the request as waiting for sync.
func enqueueOutbox(ctx context.Context, tx *sql.Tx, kind, requestID string, payload json.RawMessage, now time.Time) error {
	return enqueueOutboxRows(ctx, tx, requestID, []outboxRow{{kind, payload}}, now)
}

// outboxRow is one operation of enqueueOutboxRows.
type outboxRow struct {
	kind    string
	payload json.RawMessage
}

// enqueueOutboxRows adds a request's operations with one INSERT and marks
// the request once (ingest adds an image row per picture and the request's
// upsert together; issue 17).
func enqueueOutboxRows(ctx context.Context, tx *sql.Tx, requestID string, rows []outboxRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	at := fmtTime(now)
	args := make([]any, 0, 3*len(rows)+2)
	args = append(args, requestID, at)
	for _, r := range rows {
		var p any
		if len(r.payload) > 0 {
			p = string(r.payload)
		}
		args = append(args, r.kind, p)
	}
	if _, err := txExec(ctx, tx, outboxInsertSQL(len(rows)), args...); err != nil {
		return err
	}
	_, err := txExec(ctx, tx, "UPDATE requests SET sync_state = 'pending' WHERE id = ? AND sync_state <> 'parked'", requestID)
	return err
}

// outboxInsertSQL inserts n rows for request ?1 at time ?2, each binding
// its kind and payload.
func outboxInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO outbox (kind, request_id, payload, next_attempt_at, created_at) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(?%d, ?1, ?%d, ?2, ?2)", 3+2*i, 4+2*i)
	}
	return b.String()
}

// syncStateSQL recomputes sync_state of the requests owning the outbox
// rows in the JSON array ?1. Parked wins: a permanent error needs a person
// even while other rows of the request still wait.
const syncStateSQL = `UPDATE requests SET sync_state = CASE
	WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = requests.id
	             AND o.done_at IS NULL AND o.parked_at IS NOT NULL) THEN 'parked'
	WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = requests.id
	             AND o.done_at IS NULL) THEN 'pending'
	ELSE 'synced' END
WHERE id IN (SELECT request_id FROM outbox WHERE id IN (SELECT value FROM json_each(?1)))`

// idsJSON binds a list of ids as one JSON array parameter, so the SQL text
// is the same for any number of ids.
func idsJSON(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// outboxUpdate runs one UPDATE over the given ids and refreshes the
// owners' sync_state in the same transaction.
func (d *DB) outboxUpdate(ctx context.Context, op string, ids []int64, query string, args ...any) error {
	if len(ids) == 0 {
		return nil
	}
	list := idsJSON(ids)
	return d.write(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := txExec(ctx, tx, query, append(args, list)...); err != nil {
			return err
		}
		_, err := txExec(ctx, tx, syncStateSQL, list)
		return err
	})
}

const outboxCols = "id, kind, request_id, payload, attempts, next_attempt_at, last_error, created_at, done_at, parked_at"

func scanOutbox(s rowScanner) (app.OutboxItem, error) {
	var (
		it               app.OutboxItem
		payload          sql.NullString
		next, created    string
		doneAt, parkedAt sql.NullString
	)
	if err := s.Scan(&it.ID, &it.Kind, &it.RequestID, &payload, &it.Attempts, &next, &it.LastError,
		&created, &doneAt, &parkedAt); err != nil {
		return it, err
	}
	if payload.Valid {
		it.Payload = json.RawMessage(payload.String)
	}
	var err error
	if it.NextAttemptAt, err = parseTime(next); err != nil {
		return it, err
	}
	if it.CreatedAt, err = parseTime(created); err != nil {
		return it, err
	}
	if it.DoneAt, err = parseTimePtr(doneAt); err != nil {
		return it, err
	}
	if it.ParkedAt, err = parseTimePtr(parkedAt); err != nil {
		return it, err
	}
	return it, nil
}

// DueOutbox returns at most limit items due at now, oldest first. Parked
// and done rows are never returned.
func (d *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]app.OutboxItem, error) {
	limit, err := clampLimit(limit, 50, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+outboxCols+` FROM outbox
		WHERE done_at IS NULL AND parked_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
		fmtTime(now), limit)
	if err != nil {
		return nil, mapError("read outbox", err)
	}
	defer rows.Close()
	var out []app.OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, mapError("read outbox", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read outbox", err)
	}
	return out, nil
}

// OutboxDone marks items as delivered to Odoo.
func (d *DB) OutboxDone(ctx context.Context, ids []int64, at time.Time) error {
	return d.outboxUpdate(ctx, "mark outbox done", ids,
		`UPDATE outbox SET done_at = ?, last_error = '' WHERE done_at IS NULL
		 AND id IN (SELECT value FROM json_each(?))`, fmtTime(at))
}

// OutboxRetryLater records a temporary failure and when to try again.
func (d *DB) OutboxRetryLater(ctx context.Context, ids []int64, errMsg string, next time.Time) error {
	return d.outboxUpdate(ctx, "reschedule outbox", ids,
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
		 WHERE done_at IS NULL AND id IN (SELECT value FROM json_each(?))`, app.OutsideText(errMsg), fmtTime(next)) // Odoo's words
}

// OutboxPark sets items aside after a permanent error; they wait for
// `sync retry` (OutboxRequeue) and make their request's sync_state parked.
func (d *DB) OutboxPark(ctx context.Context, ids []int64, errMsg string, at time.Time) error {
	return d.outboxUpdate(ctx, "park outbox items", ids,
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, parked_at = ?
		 WHERE done_at IS NULL AND id IN (SELECT value FROM json_each(?))`, app.OutsideText(errMsg), fmtTime(at)) // Odoo's words
}

// OutboxRequeue makes the parked items of a request ("" = every request)
// due now and returns how many there were.
func (d *DB) OutboxRequeue(ctx context.Context, requestID string) (int, error) {
	now := fmtTime(d.now())
	var n int
	err := d.write(ctx, "requeue outbox", func(ctx context.Context, tx *sql.Tx) error {
		// RETURNING gives the ids so sync_state is refreshed for exactly
		// the requests touched.
		rows, err := txQuery(ctx, tx, `UPDATE outbox SET parked_at = NULL, next_attempt_at = ?
			WHERE done_at IS NULL AND parked_at IS NOT NULL AND (?2 = '' OR request_id = ?2) RETURNING id`,
			now, requestID)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		_, err = txExec(ctx, tx, syncStateSQL, idsJSON(ids))
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// OutboxStats summarises the backlog: counts over the partial indexes, the
// oldest waiting row and the newest error.
func (d *DB) OutboxStats(ctx context.Context) (app.OutboxStats, error) {
	var (
		st      app.OutboxStats
		oldest  sql.NullString
		lastErr sql.NullString
	)
	err := d.rdb.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM outbox WHERE done_at IS NULL AND parked_at IS NULL),
		(SELECT count(*) FROM outbox WHERE done_at IS NULL AND parked_at IS NOT NULL),
		(SELECT created_at FROM outbox WHERE done_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT 1),
		(SELECT last_error FROM (
			SELECT id, last_error FROM outbox WHERE done_at IS NULL AND parked_at IS NULL AND last_error <> ''
			UNION ALL
			SELECT id, last_error FROM outbox WHERE done_at IS NULL AND parked_at IS NOT NULL AND last_error <> ''
		) ORDER BY id DESC LIMIT 1)`).
		Scan(&st.Pending, &st.Parked, &oldest, &lastErr)
	if err != nil {
		return st, mapError("read outbox stats", err)
	}
	if st.OldestPending, err = parseTimePtr(oldest); err != nil {
		return st, mapError("read outbox stats", err)
	}
	st.LastError = lastErr.String
	return st, nil
}
