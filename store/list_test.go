package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Fixture formulas shared by the SQL that generates rows and the Go that
// predicts them: row i has id %026d (valid and sortable like a ULID), state
// Statuses[i%8], and one prompt in fifty mentions "Café Neon" in varying
// case (Unicode folding is part of the search).
const (
	promptPlain = "portrait of a cat, studio light"
	promptNeonA = "CAFÉ NEON at night, rain"
	promptNeonB = "a quiet café neon sign"
)

func fixturePrompt(i int) string {
	switch i % 100 {
	case 3:
		return promptNeonA
	case 58:
		return promptNeonB
	}
	return promptPlain
}

// bulkInsert generates rows 0…n-1 inside SQLite in ONE statement: under
// -race every row that crosses database/sql costs milliseconds, so the rows
// are made by a recursive CTE, and the two secondary indexes are rebuilt
// afterwards by a sort instead of n random b-tree inserts.
func bulkInsert(t testing.TB, db *DB, n int) {
	t.Helper()
	var statusCase strings.Builder
	statusCase.WriteString("CASE i % 8")
	for k, st := range app.Statuses {
		fmt.Fprintf(&statusCase, " WHEN %d THEN '%s'", k, st)
	}
	statusCase.WriteString(" END")
	err := db.write(context.Background(), "bulk insert", func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{"DROP INDEX requests_status_id", "DROP INDEX requests_status_updated"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `WITH RECURSIVE gen(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM gen WHERE i + 1 < ?1)
			INSERT INTO requests (id, prompt, prompt_fold, model, width, height, aspect_ratio, seed, num_images,
				status, created_at, updated_at, sync_state)
			SELECT printf('%026d', i),
				CASE i % 100 WHEN 3 THEN ?2 WHEN 58 THEN ?3 ELSE ?4 END,
				CASE i % 100 WHEN 3 THEN ?5 WHEN 58 THEN ?6 ELSE ?7 END,
				'sdxl', 1024, 1024, '1:1', i * 65537 % 4294967296, 1, `+statusCase.String()+`,
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 1767225600 + i, 'unixepoch'),
				strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 1767225600 + i, 'unixepoch'), 'synced'
			FROM gen`, n, promptNeonA, promptNeonB, promptPlain,
			strings.ToLower(promptNeonA), strings.ToLower(promptNeonB), strings.ToLower(promptPlain)); err != nil {
			return err
		}
		for _, q := range []string{"CREATE INDEX requests_status_id ON requests (status, id) WHERE deleted_at IS NULL",
			"CREATE INDEX requests_status_updated ON requests (status, updated_at)"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bulk insert: %v", err)
	}
}

// fixture predicts the rows bulkInsert made, oldest first.
func fixture(n int) []app.Request {
	base := time.Unix(1767225600, 0).UTC()
	out := make([]app.Request, n)
	for i := range out {
		out[i] = app.Request{ID: fmt.Sprintf("%026d", i), CreatedAt: base.Add(time.Duration(i) * time.Second),
			Status: app.Statuses[i%len(app.Statuses)], Params: app.GenerationParams{Prompt: fixturePrompt(i)}}
	}
	return out
}

// TestPagingWithFiltersAndSearchOver100kRows pages through windows of a
// 100k-row table. Reading a row costs far more than skipping one (more so
// under -race), so each case reads a bounded number of pages from a
// starting cursor and compares them with the same slice of the expected
// order; the selective cases are read to their end.
func TestPagingWithFiltersAndSearchOver100kRows(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000 // the full size takes about a minute under -race
	}
	db, _ := openTest(t)
	ctx := context.Background()
	bulkInsert(t, db, n)
	all := fixture(n)
	// The fixture's prediction must match what SQLite generated.
	for _, i := range []int{0, 3, 58, n - 1} {
		got, err := db.GetRequest(ctx, all[i].ID)
		if err != nil || got.Params.Prompt != all[i].Params.Prompt || got.Status != all[i].Status || !got.CreatedAt.Equal(all[i].CreatedAt) {
			t.Fatalf("row %d = %+v, %v; fixture predicts %+v", i, got, err, all[i])
		}
	}
	isNeon := func(r app.Request) bool { return strings.Contains(strings.ToLower(r.Params.Prompt), "café neon") }

	tests := []struct {
		name     string
		query    app.ListQuery
		match    func(app.Request) bool
		startAt  int // index into the expected order where paging starts (its predecessor is the cursor)
		maxPages int // 0 = to the end
	}{
		{"every row from the newest", app.ListQuery{Limit: 100},
			func(app.Request) bool { return true }, 0, 8},
		{"every row from a cursor to the oldest", app.ListQuery{Limit: 100},
			func(app.Request) bool { return true }, n - 750, 0},
		{"two states from the middle", app.ListQuery{Statuses: []app.Status{app.StatusFailed, app.StatusTimedOut}, Limit: 90},
			func(r app.Request) bool { return r.Status == app.StatusFailed || r.Status == app.StatusTimedOut }, n / 10, 6},
		{"search folds case beyond ASCII", app.ListQuery{Search: "Café NEON", Limit: 250},
			isNeon, 0, 0},
		{"state and search together", app.ListQuery{Statuses: []app.Status{app.StatusCompleted, app.StatusQueued}, Search: "neon", Limit: 40},
			func(r app.Request) bool {
				return (r.Status == app.StatusCompleted || r.Status == app.StatusQueued) && isNeon(r)
			}, 0, 0},
		{"search with SQL wildcards means them literally", app.ListQuery{Search: "cat%", Limit: 100},
			func(app.Request) bool { return false }, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for i := len(all) - 1; i >= 0; i-- {
				if tt.match(all[i]) {
					want = append(want, all[i].ID)
				}
			}
			count, err := db.CountRequests(ctx, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if count != len(want) {
				t.Errorf("CountRequests = %d, want %d", count, len(want))
			}

			q := tt.query
			if tt.startAt > 0 {
				q.Before = want[tt.startAt-1]
			}
			var (
				got   []string
				pages []app.Page
			)
			for tt.maxPages == 0 || len(pages) < tt.maxPages {
				page, err := db.ListRequests(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, page)
				for _, r := range page.Requests {
					got = append(got, r.ID)
				}
				if !page.HasMore {
					break
				}
				if len(page.Requests) != q.Limit {
					t.Fatalf("a page with more after it has %d rows, want %d", len(page.Requests), q.Limit)
				}
				q.Before = page.Requests[len(page.Requests)-1].ID
			}
			end := min(tt.startAt+len(got), len(want))
			if !slices.Equal(got, want[tt.startAt:end]) {
				t.Fatalf("paged ids differ from the expected order (order, duplicates or gaps): got %d ids", len(got))
			}
			if tt.maxPages == 0 && end != len(want) {
				t.Fatalf("paging stopped at %d of %d rows", end, len(want))
			}
			// Page back up: each page up from page i is page i-1, newest first.
			for i := len(pages) - 1; i > 0 && i >= len(pages)-3; i-- {
				q := tt.query
				q.After = pages[i].Requests[0].ID
				up, err := db.ListRequests(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(up.Requests, pages[i-1].Requests, func(a, b app.Request) bool { return a.ID == b.ID }) {
					t.Fatalf("page up from page %d is not page %d", i, i-1)
				}
				wantMore := i-1 > 0 || tt.startAt > 0
				if up.HasMore != wantMore {
					t.Fatalf("page up to page %d: HasMore = %v, want %v", i-1, up.HasMore, wantMore)
				}
			}
		})
	}

	t.Run("counts per state come from one GROUP BY", func(t *testing.T) {
		counts, err := db.CountByStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, st := range app.Statuses {
			if want := n / len(app.Statuses); counts[st] != want {
				t.Errorf("%s: %d, want %d", st, counts[st], want)
			}
			total += counts[st]
		}
		if total != n {
			t.Errorf("total %d, want %d", total, n)
		}
	})

	t.Run("the list query reads an index, never sorts the table", func(t *testing.T) {
		for _, q := range []string{
			"SELECT " + requestCols + " FROM requests WHERE deleted_at IS NULL AND id < ?1 ORDER BY id DESC LIMIT 51",
			"SELECT " + requestCols + " FROM requests WHERE deleted_at IS NULL AND status IN ('failed') AND id < ?1 ORDER BY id DESC LIMIT 51",
		} {
			if plan := queryPlan(t, db, q, all[n/2].ID); strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan sorts in a temp b-tree: %s", plan)
			}
		}
	})
}

// queryPlan returns EXPLAIN QUERY PLAN details joined by "; ".
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, detail)
	}
	return strings.Join(parts, "; ")
}

func TestListRejectsBadQueries(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name string
		q    app.ListQuery
	}{
		{"a limit above 1000", app.ListQuery{Limit: 1001}},
		{"a negative limit", app.ListQuery{Limit: -1}},
		{"both cursors", app.ListQuery{Before: "B", After: "A"}},
		{"an unknown state", app.ListQuery{Statuses: []app.Status{"done"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.ListRequests(ctx, tt.q)
			wantCode(t, err, app.EINVALID)
		})
	}
}

func TestRequestsInStatusReturnsTheOldestUpdatedFirst(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		r := createOne(t, db, "p")
		move(t, db, r.ID, app.StatusSending)
		clock.Advance(time.Minute)
		ids = append(ids, r.ID)
		_ = i
	}
	// The first one moves on and is no longer sending.
	move(t, db, ids[0], app.StatusProcessing)
	cutoff := clock.Now().Add(-150 * time.Second) // after the 2nd/3rd moves
	got, err := db.RequestsInStatus(ctx, app.StatusSending, cutoff, 10)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, r := range got {
		gotIDs = append(gotIDs, r.ID)
	}
	if !slices.Equal(gotIDs, ids[1:3]) {
		t.Errorf("stale sending requests = %v, want %v", gotIDs, ids[1:3])
	}
	all, _ := db.RequestsInStatus(ctx, app.StatusSending, time.Time{}, 2)
	if len(all) != 2 || all[0].ID != ids[1] {
		t.Errorf("limit 2 without a cutoff: %v", all)
	}
}
