package store

import (
	"context"
	"slices"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// listFilter builds the WHERE clause shared by ListRequests and
// CountRequests. Only bound parameters carry values; the SQL text varies
// only in how many status placeholders it has.
func listFilter(q app.ListQuery, withCursor bool) (string, []any, error) {
	return listFilterOn(q, withCursor, "requests")
}

// listFilterOn is listFilter on the table named t (an alias in a subquery).
func listFilterOn(q app.ListQuery, withCursor bool, t string) (string, []any, error) {
	t += "."
	// A deleted request is hidden at once, while it waits out its undo
	// window; the partial index requests_status_id holds live rows only.
	conds := []string{t + "deleted_at IS NULL"}
	var args []any
	if len(q.Statuses) > 0 {
		ph := make([]string, 0, len(q.Statuses))
		for _, st := range q.Statuses {
			if !st.Valid() {
				_, err := app.ParseStatus(string(st))
				return "", nil, err
			}
			ph = append(ph, "?")
			args = append(args, string(st))
		}
		conds = append(conds, t+"status IN ("+strings.Join(ph, ", ")+")")
	}
	search, err := app.ParseSearchQuery(q.Search)
	if err != nil {
		return "", nil, err
	}
	if q.RequestedBy != "" { // the mine toggle
		conds = append(conds, t+"requested_by = ?")
		args = append(args, q.RequestedBy)
	}
	sc, sa := searchConds(search, t)
	conds, args = append(conds, sc...), append(args, sa...)
	if q.BatchID != "" {
		conds = append(conds, t+"batch_id = ?")
		args = append(args, q.BatchID)
	}
	if q.Favorites {
		conds = append(conds, "EXISTS (SELECT 1 FROM images i WHERE i.request_id = "+t+"id AND i.favorite = 1)")
	}
	if q.Approval != "" {
		if !q.Approval.Valid() {
			_, err := app.ParseApproval(string(q.Approval))
			return "", nil, err
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM images i WHERE i.request_id = "+t+"id AND i.approval = ?)")
		args = append(args, string(q.Approval))
	}
	if withCursor {
		if q.Before != "" && q.After != "" {
			return "", nil, app.Errorf(app.EINVALID, "give either a before or an after cursor, not both")
		}
		if q.Before != "" {
			conds = append(conds, t+"id < ?")
			args = append(args, q.Before)
		}
		if q.After != "" {
			conds = append(conds, t+"id > ?")
			args = append(args, q.After)
		}
	}
	if q.GroupBatches {
		// A request of a batch stands for its batch only when no newer
		// request of the same batch matches too (batchentries.go).
		sub, subArgs, err := listFilterOn(app.ListQuery{Statuses: q.Statuses, Search: q.Search,
			RequestedBy: q.RequestedBy, BatchID: q.BatchID, Favorites: q.Favorites, Approval: q.Approval}, false, "n")
		if err != nil {
			return "", nil, err
		}
		sub = strings.TrimPrefix(sub, " WHERE ") + " AND "
		// INDEXED BY: with a state filter the planner would rather walk the
		// partial state index from this row up, once per row listed.
		conds = append(conds, "("+t+"batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM requests n INDEXED BY requests_batch WHERE "+sub+
			"n.batch_id = "+t+"batch_id AND n.id > "+t+"id))")
		args = append(args, subArgs...)
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// ListRequests reads one window of requests, newest first, by keyset on the
// time-sortable id: Before pages down (older), After pages up (newer) and
// still returns newest first. It reads Limit+1 rows to learn HasMore, never
// an OFFSET and never the whole table.
func (d *DB) ListRequests(ctx context.Context, q app.ListQuery) (app.Page, error) {
	limit, err := clampLimit(q.Limit, 50, 1000)
	if err != nil {
		return app.Page{}, err
	}
	where, args, err := listFilter(q, true)
	if err != nil {
		return app.Page{}, err
	}
	// Paging up reads the rows just above the cursor, nearest first, and
	// reverses them; otherwise a page up would jump to the very newest rows.
	order := " ORDER BY id DESC"
	if q.After != "" {
		order = " ORDER BY id ASC"
	}
	args = append(args, limit+1)
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+requestCols+" FROM requests"+where+order+" LIMIT ?", args...)
	if err != nil {
		return app.Page{}, mapError("list requests", err)
	}
	reqs, err := collectRequests(rows)
	if err != nil {
		return app.Page{}, mapError("list requests", err)
	}
	page := app.Page{HasMore: len(reqs) > limit}
	if page.HasMore {
		reqs = reqs[:limit]
	}
	if q.After != "" {
		slices.Reverse(reqs)
	}
	page.Requests = reqs
	return page, nil
}

// CountRequests counts the requests matching the filter (states and
// search); the cursors and the limit are ignored, so the UI can show
// "window of total".
func (d *DB) CountRequests(ctx context.Context, q app.ListQuery) (int, error) {
	where, args, err := listFilter(q, false)
	if err != nil {
		return 0, err
	}
	var n int
	if err := d.rdb.QueryRowContext(ctx, "SELECT count(*) FROM requests"+where, args...).Scan(&n); err != nil {
		return 0, mapError("count requests", err)
	}
	return n, nil
}

// CountByStatus counts requests per state in one GROUP BY over the
// (status, id) index. Every state is present in the map, zero if empty, so
// tabs need no special case.
func (d *DB) CountByStatus(ctx context.Context) (map[app.Status]int, error) {
	return d.CountByStatusMatching(ctx, app.ListQuery{})
}

// CountByStatusMatching counts per state the requests that match the
// query's search and requester, in one grouped query: the tab counts of a
// searched list. The query's states, cursors and limit are ignored (each
// tab is one state).
func (d *DB) CountByStatusMatching(ctx context.Context, q app.ListQuery) (map[app.Status]int, error) {
	where, args, err := listFilter(app.ListQuery{Search: q.Search, RequestedBy: q.RequestedBy,
		BatchID: q.BatchID, Favorites: q.Favorites, Approval: q.Approval}, false)
	if err != nil {
		return nil, err
	}
	rows, err := d.rdb.QueryContext(ctx, "SELECT status, count(*) FROM requests"+where+" GROUP BY status", args...)
	if err != nil {
		return nil, mapError("count requests by state", err)
	}
	defer rows.Close()
	out := make(map[app.Status]int, len(app.Statuses))
	for _, st := range app.Statuses {
		out[st] = 0
	}
	for rows.Next() {
		var (
			st string
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, mapError("count requests by state", err)
		}
		out[app.Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("count requests by state", err)
	}
	return out, nil
}
