package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/influencegen/influencegen/app"
)

// FileName is the database file inside the data folder (DESIGN §1).
const FileName = "influencegen.db"

// DefaultBusyTimeout is how long a connection waits for another process's
// write lock before SQLITE_BUSY. A CLI `generate` next to a running `serve`
// is the usual case; their transactions are milliseconds long.
const DefaultBusyTimeout = 5 * time.Second

// readPoolSize bounds concurrent readers. WAL readers never block the
// writer. The callback listener reads its request once per callback with
// dozens of connections open at once; with 4 readers, handlers queued for
// a connection (~0.5 ms each at 64 connections), with 8 they rarely do.
// An idle connection costs little (its page cache fills only when used).
const readPoolSize = 8

// Options are the optional parts of Open; the zero value is valid.
type Options struct {
	Clock app.Clock    // nil = the system clock
	Log   *slog.Logger // nil = discard
	// BusyTimeout bounds the wait for another process's write lock;
	// 0 = DefaultBusyTimeout.
	BusyTimeout time.Duration

	walQuiet time.Duration // truncateIdle unless set (tests)
}

// DB is the SQLite store. One writer goroutine owns the write connection
// (see writer.go); reads go to a separate pool of query-only connections.
type DB struct {
	path  string
	clock app.Clock
	log   *slog.Logger

	wdb *sql.DB // exactly one connection, owned by the writer goroutine
	rdb *sql.DB // read pool, query_only

	cdb *sql.DB // one connection for background WAL checkpoints

	ws    *writeStmts // the writer's prepared statements (writer_stmts.go)
	reads *readStmts  // rdb with each hot query compiled once

	// dv is a connection held for PRAGMA data_version, which is only
	// meaningful when asked repeatedly on the same connection.
	dvMu sync.Mutex
	dv   *sql.Conn

	// commits counts our own writer's commits; see DataVersion.
	commits atomic.Int64

	w         *writer
	ckpt      *checkpointer
	closeOnce sync.Once
	closeErr  error
}

var _ app.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path, applies pending
// migrations, and starts the writer. The folder is created 0700 and the
// files 0600: requests hold prompts and people's names.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Clock == nil {
		opts.Clock = app.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if path == "" {
		return nil, app.Errorf(app.EINVALID, "database path is empty: set --home or INFLUENCEGEN_HOME, or check the data folder")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, app.Errorf(app.EINVALID, "database path %q: must not contain '?' or '#' or start with \"file:\"; choose a plain folder path", path)
	}
	if err := prepareFiles(path); err != nil {
		return nil, err
	}

	d := &DB{path: path, clock: opts.Clock, log: opts.Log}
	ok := false
	defer func() {
		if !ok {
			_ = d.closeHandles() // the open's own error is the one to report
		}
	}()

	var err error
	// _txlock=immediate: the writer takes the write lock at BEGIN, so a busy
	// lock shows up (and waits busy_timeout) there, never as a deadlock-prone
	// lock upgrade in the middle of a batch.
	d.wdb, err = sql.Open("sqlite", path+"?_txlock=immediate"+pragmas(false, opts.BusyTimeout))
	if err != nil {
		return nil, mapError("open database", err)
	}
	d.wdb.SetMaxOpenConns(1)
	d.wdb.SetMaxIdleConns(1)
	d.wdb.SetConnMaxLifetime(0)
	d.wdb.SetConnMaxIdleTime(0)
	if err := d.wdb.PingContext(ctx); err != nil {
		return nil, openError(path, err)
	}
	if err := migrate(ctx, d.wdb, len(migrations)); err != nil {
		return nil, err
	}
	// After the migrations: a statement compiled against the old schema
	// would only be recompiled on first use.
	if d.ws, err = prepareWrites(ctx, d.wdb); err != nil {
		return nil, err
	}

	d.rdb, err = sql.Open("sqlite", path+"?"+strings.TrimPrefix(pragmas(true, opts.BusyTimeout), "&"))
	if err != nil {
		return nil, mapError("open database", err)
	}
	d.rdb.SetMaxOpenConns(readPoolSize + 1) // +1: the data_version connection
	d.rdb.SetMaxIdleConns(readPoolSize + 1)
	d.reads = &readStmts{db: d.rdb}
	d.dv, err = d.rdb.Conn(ctx)
	if err != nil {
		return nil, openError(path, err)
	}
	d.cdb, err = sql.Open("sqlite", path+"?"+strings.TrimPrefix(pragmas(false, opts.BusyTimeout), "&"))
	if err != nil {
		return nil, mapError("open database", err)
	}
	d.cdb.SetMaxOpenConns(1)
	d.cdb.SetMaxIdleConns(1)
	tightenSidecars(path)

	if opts.walQuiet <= 0 {
		opts.walQuiet = truncateIdle
	}
	d.ckpt = startCheckpointer(d.cdb, opts.walQuiet, d.log)
	d.w = startWriter(d.wdb, d.ws, d.ckpt.committed, d.log, &d.commits)
	ok = true
	d.log.Debug("store opened", "path", path)
	return d, nil
}

// pragmas are applied by the driver on every new connection. WAL lets
// readers run beside the writer; synchronous=FULL makes a commit durable
// before a callback is acked ("200 only after the delivery is committed").
func pragmas(readOnly bool, busy time.Duration) string {
	p := fmt.Sprintf("&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)",
		busy.Milliseconds())
	if readOnly {
		// query_only, not mode=ro: a read-only open cannot create the -shm
		// file and would fail before the writer has made it.
		return p + "&_pragma=query_only(1)"
	}
	// wal_autocheckpoint and journal_size_limit: see writer_checkpoint.go.
	// temp_store=MEMORY keeps the sub-journal in memory: every job of a
	// group transaction runs under its own SAVEPOINT, and each page a job
	// changes that an earlier job of the batch changed first is copied to
	// the sub-journal, which SQLite otherwise writes to a temporary file
	// (issue 17: 8 % of the CPU of a saturated listener, in pwrite). The
	// larger page cache keeps the pages every transaction rewrites (the
	// tables' and indexes' right edges) in memory between batches.
	return p + fmt.Sprintf("&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)"+
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(%d)",
		walBackstopPages, journalSizeLimit, -writerCacheKiB)
}

// writerCacheKiB is the page cache of the write connection (SQLite's
// default is 2,000 KiB).
const writerCacheKiB = 16 << 10

// prepareFiles creates the folder (0700) and an empty database file (0600)
// before SQLite does, so the file never exists with the process umask's
// looser mode. SQLite gives -wal and -shm the database file's mode.
func prepareFiles(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "create data folder %s: %w (check permissions, or set --home)", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return app.Errorf(app.EUNAVAILABLE, "open database %s: %w (check permissions, or set --home)", path, err)
	}
	if err := f.Close(); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "open database %s: %w", path, err)
	}
	// An older file created with a looser mode is tightened too.
	if err := os.Chmod(path, 0o600); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "restrict database %s to its owner: %w", path, err)
	}
	return nil
}

// tightenSidecars makes sure -wal and -shm are 0600 even when they were
// left behind by an older build with a looser mode.
func tightenSidecars(path string) {
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Chmod(path+suffix, 0o600) // absent sidecars are fine
	}
}

func openError(path string, err error) error {
	e := mapError("open database "+path, err)
	var ae *app.Error
	if errors.As(e, &ae) && ae.Code == app.EINTERNAL {
		ae.Code = app.EUNAVAILABLE
		ae.Message = fmt.Sprintf("open database %s: %v (is it a SQLite file? run `influencegen doctor`)", path, err)
	}
	return e
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close stops the writer (waiting for the batch in progress) and closes all
// connections. It is safe to call more than once.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		if d.w != nil {
			d.w.stop()
		}
		if d.ckpt != nil {
			d.ckpt.stop()
		}
		d.closeErr = d.closeHandles()
	})
	return d.closeErr
}

func (d *DB) closeHandles() error {
	var errs []error
	if d.reads != nil {
		errs = append(errs, d.reads.close())
	}
	if d.ws != nil {
		errs = append(errs, d.ws.close())
	}
	if d.dv != nil {
		errs = append(errs, d.dv.Close())
	}
	if d.rdb != nil {
		errs = append(errs, d.rdb.Close())
	}
	if d.cdb != nil {
		errs = append(errs, d.cdb.Close())
	}
	if d.wdb != nil {
		errs = append(errs, d.wdb.Close())
	}
	return errors.Join(errs...)
}

// DataVersion changes whenever anything commits to the database file.
// PRAGMA data_version on one long-lived connection changes when any OTHER
// connection commits — another process, or our writer, which is a
// different connection. The writer's in-process commit counter is added as
// well, so a commit of our own is visible even if the PRAGMA connection
// were ever the writer's; both only grow, so the sum changes whenever
// either does.
func (d *DB) DataVersion(ctx context.Context) (int64, error) {
	d.dvMu.Lock()
	defer d.dvMu.Unlock()
	var v int64
	if err := d.dv.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return 0, mapError("read data version", err)
	}
	return v + d.commits.Load(), nil
}

// SchemaVersion returns the migration level of the file (PRAGMA user_version).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := d.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, mapError("read schema version", err)
	}
	return v, nil
}

// LatestSchemaVersion is the version this build migrates to.
func LatestSchemaVersion() int { return len(migrations) }

// QuickCheck runs PRAGMA quick_check (used by `doctor`): nil when the file
// is sound, else an error listing the first problems SQLite found.
func (d *DB) QuickCheck(ctx context.Context) error {
	rows, err := d.rdb.QueryContext(ctx, "PRAGMA quick_check(20)")
	if err != nil {
		return mapError("check database", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return mapError("check database", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return mapError("check database", err)
	}
	if len(problems) > 0 {
		return app.Errorf(app.EINTERNAL, "database %s is damaged: %s (restore a backup, or move the file away to start fresh)",
			d.path, strings.Join(problems, "; "))
	}
	return nil
}

func (d *DB) now() time.Time { return d.clock.Now() }

// write runs fn through the group-commit writer; op names the action in
// error messages.
func (d *DB) write(ctx context.Context, op string, fn writeFunc) error {
	return mapError(op, d.w.do(ctx, fn))
}

// writeBackground is write in the writer's background lane (ingest): it
// shares transactions with the acks but never delays them by more than
// backgroundRoom jobs per transaction (writer.run).
func (d *DB) writeBackground(ctx context.Context, op string, fn writeFunc) error {
	return mapError(op, d.w.doBackground(ctx, fn))
}
