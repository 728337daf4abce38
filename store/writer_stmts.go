package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
)

// Prepared statements for the hot paths.
//
// modernc's driver compiles the SQL text on every ExecContext/QueryContext:
// for the small statements of the callback path, SQLite's parser costs
// more than running them, and on the writer connection that cost is paid
// inside the only serial part of the store. So the hot statements are
// compiled once and reused.
//
// The writer's statements are prepared on the write connection when the
// store opens, before the writer goroutine takes that connection: a lazy
// PrepareContext on the one-connection pool from inside a job would wait
// for the connection the job itself holds. Jobs bind them to their
// transaction with tx.StmtContext, which reuses the statement already
// compiled on that connection (database/sql re-prepares it by itself if
// the connection is ever replaced).

// hotWriteSQL lists the statements prepared on the write connection.
// Files register theirs with hotWrite at package init.
var hotWriteSQL []string

// hotWrite registers q for preparation on the write connection and
// returns it unchanged, so the SQL text stays next to the code using it.
func hotWrite(q string) string {
	hotWriteSQL = append(hotWriteSQL, q)
	return q
}

// The savepoint statements wrap every job of a group transaction.
var (
	sqlSavepoint  = hotWrite("SAVEPOINT job")
	sqlRelease    = hotWrite("RELEASE job")
	sqlRollbackTo = hotWrite("ROLLBACK TO job")
)

// writeStmts are the write connection's prepared statements: those
// registered with hotWrite, prepared when the store opens, and every other
// statement a write job runs, prepared after its first use (issue 17: the
// ingest's transactions spent 43 % of their time compiling SQL). A job
// cannot prepare on the write connection itself (its transaction holds
// the only connection), so a statement met unprepared runs unprepared
// once and is noted; the writer prepares the noted ones between
// transactions (prepareNoted). Only the writer goroutine uses it; the
// mutex makes that a rule the race detector can check.
type writeStmts struct {
	mu    sync.Mutex
	m     map[string]*sql.Stmt
	noted []string
}

// maxWriteStmts bounds the cache: writer SQL is constant text from this
// package, but a few statements are built for a number of rows.
const maxWriteStmts = 256

func prepareWrites(ctx context.Context, db *sql.DB) (*writeStmts, error) {
	ws := &writeStmts{m: make(map[string]*sql.Stmt, len(hotWriteSQL))}
	for _, q := range hotWriteSQL {
		if _, ok := ws.m[q]; ok {
			continue
		}
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			ws.close()
			return nil, mapError("prepare statement", err)
		}
		ws.m[q] = s
	}
	return ws, nil
}

// stmt returns q bound to tx when it is prepared; otherwise it notes q for
// prepareNoted and reports false.
func (ws *writeStmts) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, bool) {
	ws.mu.Lock()
	s, ok := ws.m[q]
	if !ok && len(ws.m)+len(ws.noted) < maxWriteStmts && !slices.Contains(ws.noted, q) {
		ws.noted = append(ws.noted, q)
	}
	ws.mu.Unlock()
	if !ok {
		return nil, false
	}
	return tx.StmtContext(ctx, s), true
}

// prepareNoted prepares the statements jobs ran unprepared. The writer
// calls it with no transaction open, so the connection is free. A
// statement that does not prepare (it cannot fail to: it just ran) stays
// unprepared.
func (ws *writeStmts) prepareNoted(db *sql.DB) {
	ws.mu.Lock()
	noted := ws.noted
	ws.noted = nil
	ws.mu.Unlock()
	for _, q := range noted {
		s, err := db.PrepareContext(context.Background(), q)
		if err != nil {
			continue
		}
		ws.mu.Lock()
		ws.m[q] = s
		ws.mu.Unlock()
	}
}

func (ws *writeStmts) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if s, ok := ws.stmt(ctx, tx, q); ok {
		return s.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (ws *writeStmts) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if s, ok := ws.stmt(ctx, tx, q); ok {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

func (ws *writeStmts) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if s, ok := ws.stmt(ctx, tx, q); ok {
		return s.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

func (ws *writeStmts) close() error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var errs []error
	for _, s := range ws.m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// A write job's context carries the writer's statements, so helpers that
// get only (ctx, tx) run prepared statements too: txExec, txQueryRow and
// txQuery are tx's methods through the cache.
type writeStmtsKey struct{}

func withWriteStmts(ctx context.Context, ws *writeStmts) context.Context {
	return context.WithValue(ctx, writeStmtsKey{}, ws)
}

func txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if ws, ok := ctx.Value(writeStmtsKey{}).(*writeStmts); ok {
		return ws.exec(ctx, tx, q, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if ws, ok := ctx.Value(writeStmtsKey{}).(*writeStmts); ok {
		return ws.queryRow(ctx, tx, q, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

func txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if ws, ok := ctx.Value(writeStmtsKey{}).(*writeStmts); ok {
		return ws.query(ctx, tx, q, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

// queryRowOn runs a query on q, through the statement cache when q is a
// write transaction (getRequest and the other readers shared by reads and
// writes).
func queryRowOn(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	if tx, ok := q.(*sql.Tx); ok {
		return txQueryRow(ctx, tx, query, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// readStmts is a querier over the read pool that compiles each distinct
// SQL text once. database/sql prepares a pooled statement on each read
// connection the first time it runs there. Only constant SQL from this
// package goes through it, so the cache is bounded by the code.
type readStmts struct {
	db *sql.DB
	m  sync.Map // SQL text → *sql.Stmt
	mu sync.Mutex
}

var _ querier = (*readStmts)(nil)

func (rs *readStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := rs.m.Load(q); ok {
		return s.(*sql.Stmt), nil
	}
	rs.mu.Lock() // one preparation per text, however many callers race
	defer rs.mu.Unlock()
	if s, ok := rs.m.Load(q); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := rs.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	rs.m.Store(q, s)
	return s, nil
}

// QueryContext runs q as a cached prepared statement.
func (rs *readStmts) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := rs.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs q as a cached prepared statement. A failed
// preparation is reported by Scan, as for sql.DB.
func (rs *readStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := rs.stmt(ctx, q)
	if err != nil {
		// sql.Row has no exported constructor that carries an error;
		// the unprepared query reports the same failure from Scan.
		return rs.db.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (rs *readStmts) close() error {
	var errs []error
	rs.m.Range(func(_, s any) bool {
		errs = append(errs, s.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}
