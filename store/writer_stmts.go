package store

import (
	"context"
	"database/sql"
	"errors"
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

// writeStmts are the write connection's prepared statements. The map is
// filled before the writer starts and only read afterwards.
type writeStmts map[string]*sql.Stmt

func prepareWrites(ctx context.Context, db *sql.DB) (writeStmts, error) {
	ws := make(writeStmts, len(hotWriteSQL))
	for _, q := range hotWriteSQL {
		if _, ok := ws[q]; ok {
			continue
		}
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			ws.close()
			return nil, mapError("prepare statement", err)
		}
		ws[q] = s
	}
	return ws, nil
}

// stmt returns q bound to tx: the prepared statement when q is registered
// with hotWrite, else one prepared for this transaction only.
func (ws writeStmts) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, bool) {
	if s, ok := ws[q]; ok {
		return tx.StmtContext(ctx, s), true
	}
	return nil, false
}

func (ws writeStmts) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if s, ok := ws.stmt(ctx, tx, q); ok {
		return s.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (ws writeStmts) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if s, ok := ws.stmt(ctx, tx, q); ok {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

func (ws writeStmts) close() error {
	var errs []error
	for _, s := range ws {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
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
