package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Transition applies a compare-and-set state move:
//
//	UPDATE requests … WHERE id = ? AND status IN (From…)
//
// No row changed means the request is missing (ENOTFOUND) or in a state the
// move may not start from (ECONFLICT, reason "invalid_transition", naming
// both states). A late ack after a callback already completed the request
// is refused this way and changes nothing. On success the same transaction
// appends the activity and enqueues an upsert_request outbox row.
func (d *DB) Transition(ctx context.Context, c app.Change) (app.Request, error) {
	if !c.To.Valid() {
		return app.Request{}, app.Errorf(app.EINVALID, "unknown target state %q", c.To)
	}
	if c.ID == "" {
		return app.Request{}, app.Errorf(app.EINVALID, "state change without a request id")
	}
	from := c.From
	if len(from) == 0 {
		from = app.SourcesOf(c.To)
	}
	now := d.now()
	var out app.Request
	err := d.write(ctx, "change state of request "+c.ID, func(ctx context.Context, tx *sql.Tx) error {
		prev, err := casStatus(ctx, tx, c, from, now)
		if err != nil {
			return err
		}
		if c.Activity != nil {
			a := *c.Activity
			if a.RequestID == "" {
				a.RequestID = c.ID
			}
			if a.Message == "" {
				a.Message = transitionMessage(prev, c.To)
			}
			if err := insertActivity(ctx, tx, a, now); err != nil {
				return err
			}
		}
		if err := enqueueOutbox(ctx, tx, app.OutboxUpsertRequest, c.ID, nil, now); err != nil {
			return err
		}
		out, err = getRequest(ctx, tx, c.ID)
		return err
	})
	if err != nil {
		return app.Request{}, err
	}
	return out, nil
}

// casStatus is the compare-and-set itself, shared with CompleteDelivery. It
// returns the state the request was in. completed_at is stamped when a
// result arrives (completed or failed).
func casStatus(ctx context.Context, tx *sql.Tx, c app.Change, from []app.Status, now time.Time) (app.Status, error) {
	if len(from) == 0 {
		// Nothing may move to c.To (it has no sources): refuse like a CAS miss.
		return refusedTransition(ctx, tx, c.ID, c.To)
	}
	// Read the current state first for the activity text and the error
	// message; the write lock is ours (BEGIN IMMEDIATE), so it cannot
	// change before the UPDATE, which still checks it itself.
	var prev, prevUpdated string
	err := txQueryRow(ctx, tx, "SELECT status, updated_at FROM requests WHERE id = ?", c.ID).Scan(&prev, &prevUpdated)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("request", c.ID)
	}
	if err != nil {
		return "", err
	}
	// updated_at orders a request's changes: the Odoo addon keeps the
	// state with the newest one (issue 11 §2). It must grow with every
	// change even when the clock stalls (coarse clocks, a frozen test
	// clock) or steps back.
	if last, perr := parseTime(prevUpdated); perr == nil && !now.After(last) {
		now = last.Add(time.Nanosecond)
	}
	claimBy := ""
	if c.To == app.StatusSending {
		claimBy = c.ClaimBy
	}
	// The lease conditions are NULL when unused: "?x IS NULL OR col = ?x".
	var heldBy, ifOwner, ifBeat, ifAttempts any
	if c.HeldBy != "" {
		heldBy = c.HeldBy
	}
	if u := c.IfUnchanged; u != nil {
		ifOwner, ifBeat, ifAttempts = u.LeaseOwner, u.LeaseBeat, u.SendAttempts
	}
	// Error texts and execution ids come from outside (n8n's answers and
	// callbacks): stored cleaned and clipped whoever the caller is.
	args := []any{string(c.To), fmtTime(now), app.OutsideLine(c.ErrorCode), app.OutsideText(c.ErrorMessage), app.OutsideLine(c.ExecutionID),
		fmtTimePtr(c.SentAt), boolInt(c.CountAttempt), boolInt(c.To == app.StatusCompleted || c.To == app.StatusFailed),
		c.ID, claimBy, heldBy, ifOwner, ifBeat, ifAttempts}
	for _, s := range from {
		args = append(args, string(s))
	}
	res, err := txExec(ctx, tx, `UPDATE requests SET
			status = ?1, updated_at = ?2, error_code = ?3, error_message = ?4,
			execution_id = CASE WHEN ?5 = '' THEN execution_id ELSE ?5 END,
			sent_at = COALESCE(?6, sent_at),
			send_attempts = send_attempts + ?7,
			completed_at = CASE WHEN ?8 THEN ?2 ELSE completed_at END,
			send_lease_owner = ?10,
			send_lease_beat = send_lease_beat + (?1 = 'sending'),
			cancelled_from = CASE WHEN ?1 = 'cancelled' THEN status ELSE '' END
		WHERE id = ?9
			AND (?1 <> 'sending' OR deleted_at IS NULL)
			AND (?11 IS NULL OR send_lease_owner = ?11)
			AND (?12 IS NULL OR (send_lease_owner = ?12 AND send_lease_beat = ?13 AND send_attempts = ?14))
			AND status IN (`+placeholders(15, len(from))+`)`, args...)
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return "", err
		}
		if (c.HeldBy != "" || c.IfUnchanged != nil) && slices.Contains(from, app.Status(prev)) {
			// The state was right; the lease was not what the caller held or read.
			return app.Status(prev), app.ReasonErrorf(app.ECONFLICT, "send_lease_lost",
				"request %s is %s under another send lease: another sender took it over or renewed it", c.ID, prev)
		}
		return refusedTransition(ctx, tx, c.ID, c.To)
	}
	return app.Status(prev), nil
}

// refusedTransition explains why a CAS changed nothing.
func refusedTransition(ctx context.Context, tx *sql.Tx, id string, to app.Status) (app.Status, error) {
	var cur string
	err := txQueryRow(ctx, tx, "SELECT status FROM requests WHERE id = ?", id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("request", id)
	}
	if err != nil {
		return "", err
	}
	return app.Status(cur), app.ReasonErrorf(app.ECONFLICT, "invalid_transition",
		"request %s is %s and cannot move to %s", id, cur, to)
}

// placeholders renders n numbered parameters starting at first: "?10, ?11".
func placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?")
		b.WriteString(itoa(first + i))
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DeleteRequest removes a request with its images, activity, deliveries
// and outbox rows (ON DELETE CASCADE) and returns the image files no other
// request references now. They are for information only: nobody may
// unlink them, because an ingest of identical bytes may be between its
// Save and its commit; the collector (collect.go) removes unreferenced
// files after a grace period. A request in sending is refused in the
// DELETE itself (its POST is in flight and the ack would find nothing), so
// a claim committed by another process just before cannot slip past the
// check. A "deleted" event without a request id stays in the log.
func (d *DB) DeleteRequest(ctx context.Context, id string) ([]string, error) {
	now := d.now()
	var orphans []string
	err := d.write(ctx, "delete request "+id, func(ctx context.Context, tx *sql.Tx) error {
		orphans = nil
		paths, err := queryStrings(ctx, tx, "SELECT json_array(sha256, path) FROM images WHERE request_id = ?", id)
		if err != nil {
			return err
		}
		res, err := txExec(ctx, tx, "DELETE FROM requests WHERE id = ? AND status <> 'sending'", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			cur, err := refusedTransition(ctx, tx, id, "deleted")
			if app.ErrorCode(err) == app.ENOTFOUND {
				return err
			}
			return app.ReasonErrorf(app.ECONFLICT, "request_sending",
				"request %s is %s: its POST to n8n is in flight right now; wait a moment, or cancel it first", id, cur)
		}
		if len(paths) > 0 {
			// One query for all files, as [sha256, path] pairs: the paths no
			// remaining image row uses (found by the hash index).
			orphans, err = queryStrings(ctx, tx, `SELECT DISTINCT value ->> 1 FROM json_each(?)
				WHERE NOT EXISTS (SELECT 1 FROM images WHERE sha256 = value ->> 0 AND path = value ->> 1)`,
				"["+strings.Join(paths, ",")+"]")
			if err != nil {
				return err
			}
		}
		msg := "deleted request " + id
		if a, ok := app.ActorFrom(ctx); ok { // who, on a shared host
			msg += " by " + a.Name
		}
		return insertActivity(ctx, tx, app.Activity{Kind: app.ActivityDeleted, Level: app.LevelInfo,
			Message: msg}, now)
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

// queryStrings runs a one-column query and collects its values.
func queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := txQuery(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
