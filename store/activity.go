package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// insertActivity appends one event inside a write transaction. A missing
// level or time is filled in; an empty kind or message is a programming
// mistake and is refused.
func insertActivity(ctx context.Context, tx *sql.Tx, a app.Activity, now time.Time) error {
	return insertActivities(ctx, tx, []app.Activity{a}, now)
}

// maxActivityRows bounds the rows of one INSERT (5 parameters each), so
// the statement texts stay few and each is prepared once.
const maxActivityRows = 8

// insertActivities appends events in one statement per maxActivityRows:
// ingest writes three or four per callback (issue 17: one INSERT each
// was a quarter of its statements).
func insertActivities(ctx context.Context, tx *sql.Tx, acts []app.Activity, now time.Time) error {
	for len(acts) > 0 {
		n := min(len(acts), maxActivityRows)
		args := make([]any, 0, 5*n)
		for _, a := range acts[:n] {
			row, err := activityRow(a, now)
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		if _, err := txExec(ctx, tx, activityInsertSQL(n), args...); err != nil {
			return err
		}
		acts = acts[n:]
	}
	return nil
}

// activityRow checks one event and returns its INSERT arguments.
func activityRow(a app.Activity, now time.Time) ([]any, error) {
	if a.Kind == "" {
		return nil, app.Errorf(app.EINVALID, "activity without a kind (message %q)", a.Message)
	}
	if a.Level == "" {
		a.Level = app.LevelInfo
	}
	switch a.Level {
	case app.LevelInfo, app.LevelWarn, app.LevelError:
	default:
		return nil, app.Errorf(app.EINVALID, "activity level %q: use info, warn or error", a.Level)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	// Messages quote outside text (n8n's error, an image host's answer,
	// Odoo's fault): stored cleaned and clipped, whoever wrote them.
	var reqID any
	if a.RequestID != "" {
		reqID = a.RequestID
	}
	return []any{reqID, a.Kind, a.Level, app.OutsideText(a.Message), fmtTime(a.CreatedAt)}, nil
}

// activityInsertSQL is the INSERT of n activity rows.
func activityInsertSQL(n int) string {
	return "INSERT INTO activity (request_id, kind, level, message, created_at) VALUES (?, ?, ?, ?, ?)" +
		strings.Repeat(", (?, ?, ?, ?, ?)", n-1)
}

// AppendActivity appends events to the log in one transaction.
func (d *DB) AppendActivity(ctx context.Context, acts ...app.Activity) error {
	if len(acts) == 0 {
		return nil
	}
	now := d.now()
	return d.write(ctx, "append activity", func(ctx context.Context, tx *sql.Tx) error {
		return insertActivities(ctx, tx, acts, now)
	})
}

// ListActivity returns events newest first, keyset by id.
func (d *DB) ListActivity(ctx context.Context, q app.ActivityQuery) ([]app.Activity, error) {
	limit, err := clampLimit(q.Limit, 100, 1000)
	if err != nil {
		return nil, err
	}
	var (
		conds []string
		args  []any
	)
	if q.RequestID != "" {
		conds = append(conds, "request_id = ?")
		args = append(args, q.RequestID)
	}
	if len(q.Kinds) > 0 {
		conds = append(conds, "kind IN (?"+strings.Repeat(", ?", len(q.Kinds)-1)+")")
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if q.BeforeID > 0 {
		conds = append(conds, "id < ?")
		args = append(args, q.BeforeID)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, limit)
	return d.queryActivity(ctx, "SELECT id, request_id, kind, level, message, created_at FROM activity"+
		where+" ORDER BY id DESC LIMIT ?", args...)
}

// n8nOutcomeSQL reads the newest event of app.N8NOutcomeKinds. The kinds
// are written into the text, in the order of the partial index
// activity_n8n_outcome (migration 0013): SQLite uses a partial index only
// for a WHERE that repeats the index's own, and with them as parameters it
// would walk the whole log instead.
var n8nOutcomeSQL = "SELECT id, request_id, kind, level, message, created_at FROM activity WHERE kind IN ('" +
	strings.Join(app.N8NOutcomeKinds, "', '") + "') ORDER BY id DESC LIMIT 1"

// NewestN8NOutcome returns the newest event that says how n8n last
// answered (the dashboard header).
func (d *DB) NewestN8NOutcome(ctx context.Context) (app.Activity, bool, error) {
	acts, err := d.queryActivity(ctx, n8nOutcomeSQL)
	if err != nil || len(acts) == 0 {
		return app.Activity{}, false, err
	}
	return acts[0], true, nil
}

// queryActivity runs a SELECT of activity rows on the read pool.
func (d *DB) queryActivity(ctx context.Context, query string, args ...any) ([]app.Activity, error) {
	rows, err := d.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapError("read activity", err)
	}
	defer rows.Close()
	var out []app.Activity
	for rows.Next() {
		var (
			a       app.Activity
			reqID   sql.NullString
			created string
		)
		if err := rows.Scan(&a.ID, &reqID, &a.Kind, &a.Level, &a.Message, &created); err != nil {
			return nil, mapError("read activity", err)
		}
		a.RequestID = reqID.String
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, mapError("read activity", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read activity", err)
	}
	return out, nil
}

// transitionMessage is the activity text of a state move nobody described.
func transitionMessage(from, to app.Status) string {
	return fmt.Sprintf("%s → %s", from, to)
}
