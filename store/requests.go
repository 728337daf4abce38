package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// querier is what both the read pool and a write transaction offer, so a
// lookup can run in either.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const requestCols = `id, prompt, negative_prompt, model, width, height, aspect_ratio, seed, num_images,
	status, error_code, error_message, requested_by, created_at, updated_at, sent_at, completed_at,
	execution_id, odoo_id, retry_of, send_attempts, image_count, sync_state,
	send_lease_owner, send_lease_beat, dry_run, batch_id, variation_of, deleted_at, cancelled_from`

type rowScanner interface{ Scan(dest ...any) error }

func scanRequest(s rowScanner) (app.Request, error) {
	var (
		r                 app.Request
		created, updated  string
		sent, completed   sql.NullString
		odooID            sql.NullInt64
		retryOf           sql.NullString
		batchID           sql.NullString
		variationOf       sql.NullInt64
		status, syncState string
		deleted           sql.NullString
		cancelledFrom     string
	)
	err := s.Scan(&r.ID, &r.Params.Prompt, &r.Params.NegativePrompt, &r.Params.Model, &r.Params.Width,
		&r.Params.Height, &r.Params.AspectRatio, &r.Params.Seed, &r.Params.NumImages,
		&status, &r.ErrorCode, &r.ErrorMessage, &r.RequestedBy, &created, &updated, &sent, &completed,
		&r.ExecutionID, &odooID, &retryOf, &r.SendAttempts, &r.ImageCount, &syncState,
		&r.LeaseOwner, &r.LeaseBeat, &r.Params.DryRun, &batchID, &variationOf, &deleted, &cancelledFrom)
	if err != nil {
		return app.Request{}, err
	}
	r.Status = app.Status(status)
	r.SyncState = app.SyncState(syncState)
	r.OdooID = odooID.Int64
	r.RetryOf = retryOf.String
	r.BatchID = batchID.String
	r.VariationOf = variationOf.Int64
	r.CancelledFrom = app.Status(cancelledFrom)
	if r.DeletedAt, err = parseTimePtr(deleted); err != nil {
		return app.Request{}, err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return app.Request{}, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return app.Request{}, err
	}
	if r.SentAt, err = parseTimePtr(sent); err != nil {
		return app.Request{}, err
	}
	if r.CompletedAt, err = parseTimePtr(completed); err != nil {
		return app.Request{}, err
	}
	return r, nil
}

func getRequest(ctx context.Context, q querier, id string) (app.Request, error) {
	r, err := scanRequest(queryRowOn(ctx, q, "SELECT "+requestCols+" FROM requests WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Request{}, notFound("request", id)
	}
	if err != nil {
		return app.Request{}, mapError("read request "+id, err)
	}
	return r, nil
}

// GetRequest returns one request by its full id.
func (d *DB) GetRequest(ctx context.Context, id string) (app.Request, error) {
	return getRequest(ctx, d.reads, id) // prepared once: the callback listener calls this per callback
}

// CreateRequests stores new requests with their "created" activity, an
// upsert_request outbox row each and their prompts in the history, all in
// one transaction. Missing ids, times and states are filled in place in
// reqs (before the write, on the caller's goroutine), so the caller learns
// them.
func (d *DB) CreateRequests(ctx context.Context, reqs []app.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	now := d.now()
	for i := range reqs {
		r := &reqs[i]
		if r.ID == "" {
			r.ID = app.NewID(now)
		} else if !app.ValidID(r.ID) {
			return app.Errorf(app.EINVALID, "request id %q is not a valid id (26 characters, Crockford base32)", r.ID)
		}
		if r.Status == "" {
			r.Status = app.StatusQueued
		}
		if !r.Status.Valid() {
			return app.Errorf(app.EINVALID, "request %s: unknown state %q", r.ID, r.Status)
		}
		if strings.TrimSpace(r.Params.Prompt) == "" {
			return app.Errorf(app.EINVALID, "request %s: the prompt is empty; type what the image should show", r.ID)
		}
		if r.Params.Seed < 0 || r.Params.Seed > app.MaxSeed {
			return app.Errorf(app.EINVALID, "request %s: seed %d is outside 0…%d", r.ID, r.Params.Seed, int64(app.MaxSeed))
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = r.CreatedAt
		}
		r.SyncState = app.SyncPending
		r.ImageCount = 0
	}
	return d.write(ctx, "create requests", func(ctx context.Context, tx *sql.Tx) error {
		for _, r := range reqs {
			if err := insertRequest(ctx, tx, r); err != nil {
				return err
			}
			if err := insertActivity(ctx, tx, app.Activity{
				RequestID: r.ID, Kind: app.ActivityCreated, Level: app.LevelInfo,
				Message: "created: " + shorten(r.Params.Prompt, 80), CreatedAt: r.CreatedAt,
			}, now); err != nil {
				return err
			}
			if err := enqueueOutbox(ctx, tx, app.OutboxUpsertRequest, r.ID, nil, now); err != nil {
				return err
			}
			if _, err := txExec(ctx, tx, `INSERT INTO prompt_history (prompt, last_used_at) VALUES (?, ?)
				ON CONFLICT (prompt) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at), uses = uses + 1`,
				r.Params.Prompt, fmtTime(r.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertRequest(ctx context.Context, tx *sql.Tx, r app.Request) error {
	var odooID, retryOf, batchID, variationOf any
	if r.BatchID != "" {
		batchID = r.BatchID
	}
	if r.VariationOf != 0 {
		variationOf = r.VariationOf
	}
	if r.OdooID != 0 {
		odooID = r.OdooID
	}
	if r.RetryOf != "" {
		retryOf = r.RetryOf
	}
	_, err := txExec(ctx, tx, `INSERT INTO requests (id, prompt, prompt_fold, negative_prompt, model,
		width, height, aspect_ratio, seed, num_images, status, error_code, error_message, requested_by,
		created_at, updated_at, sent_at, completed_at, execution_id, odoo_id, retry_of, send_attempts,
		image_count, sync_state, dry_run, batch_id, variation_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Params.Prompt, strings.ToLower(r.Params.Prompt), r.Params.NegativePrompt, r.Params.Model,
		r.Params.Width, r.Params.Height, r.Params.AspectRatio, r.Params.Seed, r.Params.NumImages,
		string(r.Status), r.ErrorCode, r.ErrorMessage, r.RequestedBy,
		fmtTime(r.CreatedAt), fmtTime(r.UpdatedAt), fmtTimePtr(r.SentAt), fmtTimePtr(r.CompletedAt),
		r.ExecutionID, odooID, retryOf, r.SendAttempts, r.ImageCount, string(r.SyncState), r.Params.DryRun,
		batchID, variationOf)
	return err
}

// FindRequest resolves what a person or n8n typed: a full id, a unique id
// prefix (case-insensitive), or an Odoo record id (digits). Digits are
// tried as an Odoo id first, then as an id prefix (ULIDs start with digits).
func (d *DB) FindRequest(ctx context.Context, ref string) (app.Request, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return app.Request{}, app.Errorf(app.EINVALID, "no request given: use a request id, a unique id prefix, or an Odoo record id")
	}
	if isDigits(ref) && len(ref) <= 18 {
		r, err := scanRequest(d.rdb.QueryRowContext(ctx, "SELECT "+requestCols+" FROM requests WHERE odoo_id = ?", ref))
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return app.Request{}, mapError("find request", err)
		}
	}
	prefix := strings.ToUpper(ref)
	if len(prefix) == 26 {
		return d.GetRequest(ctx, prefix)
	}
	// A prefix is an index range on the primary key: ids are [0-9A-Z] and
	// '~' sorts after all of them.
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+requestCols+
		" FROM requests WHERE id >= ?1 AND id < ?1 || '~' ORDER BY id LIMIT 2", prefix)
	if err != nil {
		return app.Request{}, mapError("find request", err)
	}
	found, err := collectRequests(rows)
	if err != nil {
		return app.Request{}, mapError("find request", err)
	}
	switch len(found) {
	case 0:
		return app.Request{}, app.Errorf(app.ENOTFOUND, "no request matches %q: check the id (see `influencegen list`)", ref)
	case 1:
		return found[0], nil
	}
	var n int
	if err := d.rdb.QueryRowContext(ctx, "SELECT count(*) FROM requests WHERE id >= ?1 AND id < ?1 || '~'", prefix).Scan(&n); err != nil {
		return app.Request{}, mapError("find request", err)
	}
	return app.Request{}, app.Errorf(app.EINVALID, "%q matches %d requests: type more characters of the id", ref, n)
}

func collectRequests(rows *sql.Rows) ([]app.Request, error) {
	defer rows.Close()
	var out []app.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RequestsInStatus returns up to limit requests in st last updated before
// updatedBefore (zero = any), oldest first: what recovery and the timeout
// sweeper work through.
func (d *DB) RequestsInStatus(ctx context.Context, st app.Status, updatedBefore time.Time, limit int) ([]app.Request, error) {
	if !st.Valid() {
		return nil, app.Errorf(app.EINVALID, "unknown state %q", st)
	}
	limit, err := clampLimit(limit, 100, 1000)
	if err != nil {
		return nil, err
	}
	bound := "~" // sorts after every stored time: no bound
	if !updatedBefore.IsZero() {
		bound = fmtTime(updatedBefore)
	}
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+requestCols+
		" FROM requests WHERE status = ? AND updated_at < ? AND deleted_at IS NULL ORDER BY updated_at, id LIMIT ?",
		string(st), bound, limit)
	if err != nil {
		return nil, mapError("list requests in state "+string(st), err)
	}
	out, err := collectRequests(rows)
	if err != nil {
		return nil, mapError("list requests in state "+string(st), err)
	}
	return out, nil
}

// SetOdooID records the Odoo record id once the record exists.
func (d *DB) SetOdooID(ctx context.Context, requestID string, odooID int64) error {
	if odooID <= 0 {
		return app.Errorf(app.EINVALID, "Odoo record id %d for request %s must be positive", odooID, requestID)
	}
	return d.write(ctx, "set Odoo id of request "+requestID, func(ctx context.Context, tx *sql.Tx) error {
		res, err := txExec(ctx, tx, "UPDATE requests SET odoo_id = ? WHERE id = ?", odooID, requestID)
		if err != nil {
			return mapError("set Odoo id of request "+requestID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("request", requestID)
		}
		return nil
	})
}

// PromptHistory returns distinct prompts, most recently used first.
func (d *DB) PromptHistory(ctx context.Context, limit int) ([]string, error) {
	limit, err := clampLimit(limit, 50, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := d.rdb.QueryContext(ctx,
		"SELECT prompt FROM prompt_history ORDER BY last_used_at DESC, rowid DESC LIMIT ?", limit)
	if err != nil {
		return nil, mapError("read prompt history", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, mapError("read prompt history", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("read prompt history", err)
	}
	return out, nil
}

// clampLimit applies a default for 0 and refuses what would load too much.
func clampLimit(limit, def, max int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > max:
		return 0, app.Errorf(app.EINVALID, "limit %d is out of range: use 1…%d", limit, max)
	}
	return limit, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// shorten cuts s to n runes for one-line activity messages.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func itoa(n int) string { return strconv.Itoa(n) }

// GetRequestsByID returns the requests of ids by id, in one query; ids
// that do not exist are left out (the Odoo sync reads a batch's requests
// at once).
func (d *DB) GetRequestsByID(ctx context.Context, ids []string) (map[string]app.Request, error) {
	if len(ids) == 0 {
		return map[string]app.Request{}, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, mapError("read requests", err)
	}
	return readByID(ctx, d.rdb, "read requests", "SELECT "+requestCols+" FROM requests WHERE id IN (SELECT value FROM json_each(?))",
		string(list), len(ids), scanRequest, func(r app.Request) string { return r.ID })
}

// readByID runs query, whose one argument is a JSON list of n ids, and
// returns its rows keyed by key: the batch reads (GetRequestsByID,
// GetImagesByID). op names the read in errors.
func readByID[K comparable, V any](ctx context.Context, db *sql.DB, op, query, list string, n int,
	scan func(rowScanner) (V, error), key func(V) K) (map[K]V, error) {
	rows, err := db.QueryContext(ctx, query, list)
	if err != nil {
		return nil, mapError(op, err)
	}
	defer rows.Close()
	out := make(map[K]V, n)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapError(op, err)
		}
		out[key(v)] = v
	}
	return out, mapError(op, rows.Err())
}
