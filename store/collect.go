package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Collector defaults.
const (
	// DefaultFileGrace is how old an unreferenced image file must be before
	// the collector removes it. An ingest saves its files before it
	// commits the rows that reference them (and Save refreshes the mtime
	// of a file that already exists), so a file younger than this may be
	// about to gain a reference.
	DefaultFileGrace = time.Hour
	// DefaultCollectEvery is how often a long-running program collects.
	DefaultCollectEvery = 24 * time.Hour
	// collectBatch bounds the files removed, and the delivery bodies
	// dropped, under one hold of the write lock.
	collectBatch = 256
	// trashPrefix names a file the collector is about to remove; see removeUnreferenced.
	trashPrefix = ".collect-"
	// incomingPrefix names Save's temp files (a crash mid-download leaves one).
	incomingPrefix = ".incoming-"
	// purgeEvery is how often deletes past their undo window are finished
	// between the collector's full rounds.
	purgeEvery = time.Minute
	// reportPaths bounds how many paths a report lists by name.
	reportPaths = 5
)

// CollectOptions tune a collection; the zero value uses the defaults.
type CollectOptions struct {
	Grace             time.Duration // DefaultFileGrace
	DeliveryRetention time.Duration // 0 = app.DefaultConfig's store.delivery_retention
}

// CollectReport says what a collection (or a dry look, for doctor) found.
type CollectReport struct {
	FilesRemoved     int      `json:"files_removed"`
	BytesFreed       int64    `json:"bytes_freed"`
	TempFilesRemoved int      `json:"temp_files_removed"`
	Orphans          int      `json:"orphans"`       // unreferenced files still on disk (younger than the grace, or a dry look)
	OrphanBytes      int64    `json:"orphan_bytes"`  //
	Missing          int      `json:"missing"`       // image rows whose file is gone
	MissingPaths     []string `json:"missing_paths"` // the first few
	BodiesDropped    int      `json:"delivery_bodies_dropped"`
	RequestsPurged   int      `json:"requests_purged"` // deletes finished once their undo window passed
}

func (o CollectOptions) withDefaults() CollectOptions {
	if o.Grace <= 0 {
		o.Grace = DefaultFileGrace
	}
	if o.DeliveryRetention <= 0 {
		o.DeliveryRetention = app.DefaultConfig().Store.DeliveryRetention.D()
	}
	return o
}

// Collect removes what nothing needs any more: image files no image row
// references (left by a deleted request, or by a crash between an ingest's
// Save and its commit) once they are older than the grace period, Save's
// temp files of the same age, and the bodies of callbacks processed longer
// ago than the retention (their idempotency key and outcome stay, so a
// replay is still recognised). It also counts image rows whose file is
// missing. It first finishes the deletes whose undo window has passed
// (PurgeDeleted). Delete never unlinks anything itself: only this does, after
// re-checking inside a write transaction that no row references the file.
func (d *DB) Collect(ctx context.Context, files *ImageFiles, opts CollectOptions) (CollectReport, error) {
	return d.collect(ctx, files, opts.withDefaults(), false)
}

// InspectFiles is Collect's dry look for `doctor`: it counts orphans and
// missing files and changes nothing (no write lock, no removal).
func (d *DB) InspectFiles(ctx context.Context, files *ImageFiles) (CollectReport, error) {
	return d.collect(ctx, files, CollectOptions{}.withDefaults(), true)
}

// RunCollector collects at once and then every `every` (default daily)
// until ctx ends; serve and the dashboard run it. Errors are logged: the
// next round tries again.
func (d *DB) RunCollector(ctx context.Context, files *ImageFiles, opts CollectOptions, every time.Duration) {
	if every <= 0 {
		every = DefaultCollectEvery
	}
	for {
		rep, err := d.Collect(ctx, files, opts)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("collector: round failed", "error", err)
		case err == nil:
			d.log.Info("collector: round done", "files_removed", rep.FilesRemoved, "bytes_freed", rep.BytesFreed,
				"temp_files_removed", rep.TempFilesRemoved, "young_orphans", rep.Orphans, "missing_files", rep.Missing,
				"delivery_bodies_dropped", rep.BodiesDropped, "deleted_requests_finished", rep.RequestsPurged)
		}
		// Between full rounds, finish expired deletes every purgeEvery so a
		// deleted request does not linger (hidden) for a whole day.
		for waited := time.Duration(0); waited < every; waited += purgeEvery {
			select {
			case <-ctx.Done():
				return
			case <-d.clock.After(min(purgeEvery, every-waited)):
			}
			if _, err := d.PurgeDeleted(ctx, d.now().Add(-app.UndoWindow)); err != nil && ctx.Err() == nil {
				d.log.Warn("collector: finishing deleted requests failed", "error", err)
			}
		}
	}
}

type fileSeen struct {
	path  string
	size  int64
	mtime time.Time
}

func (d *DB) collect(ctx context.Context, files *ImageFiles, o CollectOptions, dry bool) (CollectReport, error) {
	var rep CollectReport
	if !dry {
		// Finish the deletes whose undo window has passed first, so their
		// files are counted as unreferenced below (and removed once old).
		n, err := d.PurgeDeleted(ctx, d.now().Add(-app.UndoWindow))
		rep.RequestsPurged = n
		if err != nil {
			return rep, err
		}
	}
	cutoff := d.now().Add(-o.Grace)
	var content []fileSeen
	err := filepath.WalkDir(files.Dir(), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // no images folder yet
			}
			return err
		}
		if e.IsDir() || !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil //nolint:nilerr // removed meanwhile: nothing to collect
		}
		name := e.Name()
		if strings.HasPrefix(name, incomingPrefix) || strings.HasPrefix(name, trashPrefix) {
			// A download that never finished, or a removal a crash interrupted.
			if !dry && info.ModTime().Before(cutoff) && os.Remove(p) == nil {
				rep.TempFilesRemoved++
			}
			return nil
		}
		content = append(content, fileSeen{path: p, size: info.Size(), mtime: info.ModTime()})
		return ctx.Err()
	})
	if err != nil {
		return rep, app.Errorf(app.EINTERNAL, "collector: walk images folder %s: %w", files.Dir(), err)
	}

	// A first pass on the read pool filters out the referenced files
	// without the write lock; the candidates are checked again under it.
	var old []fileSeen
	for _, f := range content {
		referenced, err := pathReferenced(ctx, d.rdb, f.path)
		if err != nil {
			return rep, mapError("collector: check image references", err)
		}
		switch {
		case referenced:
		case dry || !f.mtime.Before(cutoff):
			rep.Orphans++
			rep.OrphanBytes += f.size
		default:
			old = append(old, f)
		}
	}
	for len(old) > 0 {
		n := min(len(old), collectBatch)
		if err := d.removeUnreferenced(ctx, old[:n], cutoff, &rep); err != nil {
			return rep, err
		}
		old = old[n:]
	}
	if err := d.countMissing(ctx, &rep); err != nil {
		return rep, err
	}
	if !dry {
		// A delivery body is the durable copy of an image file written
		// without fsync (images_sync.go) until the folder is synced: sync
		// first, and drop nothing if that fails.
		if err := d.SyncImageFiles(ctx, files); err != nil {
			return rep, err
		}
		if err := d.dropDeliveryBodies(ctx, d.now().Add(-o.DeliveryRetention), &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// pathReferenced reports whether an image row names the file at path.
// Files are named by their sha256 (RecordImages refuses any other name), so
// the hash index finds the rows that can; the path compare settles it.
func pathReferenced(ctx context.Context, q querier, path string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM images WHERE sha256 = ? AND path = ? LIMIT 1",
		imageNameSHA(path), path).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// removeUnreferenced removes files after re-checking, inside a write
// transaction, that no row references them: no ingest can commit a
// reference while we hold the lock. An ingest that Saved identical bytes
// before our transaction and commits after it refreshed the file's mtime,
// so the file is first renamed aside and its mtime read again: a fresh one
// is put back. A Save after the rename finds no file and writes its own.
func (d *DB) removeUnreferenced(ctx context.Context, batch []fileSeen, cutoff time.Time, rep *CollectReport) error {
	var removed int
	var freed int64
	err := d.write(ctx, "collect unreferenced image files", func(ctx context.Context, tx *sql.Tx) error {
		removed, freed = 0, 0
		for _, f := range batch {
			referenced, err := pathReferenced(ctx, tx, f.path)
			if err != nil {
				return err
			}
			if referenced {
				continue
			}
			if removeIfStillOld(f.path, cutoff) {
				removed++
				freed += f.size
			} else {
				rep.Orphans++
				rep.OrphanBytes += f.size
			}
		}
		return nil
	})
	rep.FilesRemoved += removed
	rep.BytesFreed += freed
	return err
}

// removeIfStillOld renames path aside, checks the mtime of what it moved,
// and removes it if it is still older than cutoff; otherwise it puts it
// back (unless a Save has meanwhile written the name anew).
func removeIfStillOld(path string, cutoff time.Time) bool {
	aside := filepath.Join(filepath.Dir(path), trashPrefix+filepath.Base(path))
	if err := os.Rename(path, aside); err != nil {
		return false // gone already, or not ours to move
	}
	info, err := os.Stat(aside)
	if err == nil && info.ModTime().Before(cutoff) {
		return os.Remove(aside) == nil
	}
	// Touched by a Save since we looked: put it back. Link fails if a Save
	// already wrote the name again (identical bytes); then the aside copy
	// is redundant.
	if err := os.Link(aside, path); err != nil && !errors.Is(err, fs.ErrExist) {
		_ = os.Rename(aside, path) // no hard links here: a rename puts it back
		return false
	}
	_ = os.Remove(aside)
	return false
}

// countMissing counts image rows whose file is not on disk.
func (d *DB) countMissing(ctx context.Context, rep *CollectReport) error {
	rows, err := d.rdb.QueryContext(ctx, "SELECT DISTINCT path FROM images")
	if err != nil {
		return mapError("collector: list image files", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return mapError("collector: list image files", err)
		}
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			rep.Missing++
			if len(rep.MissingPaths) < reportPaths {
				rep.MissingPaths = append(rep.MissingPaths, p)
			}
		}
	}
	return mapError("collector: list image files", rows.Err())
}

// dropDeliveryBodies deletes the bodies of deliveries processed before
// `before`, a batch per transaction so the write lock is never held long.
func (d *DB) dropDeliveryBodies(ctx context.Context, before time.Time, rep *CollectReport) error {
	for {
		var n int64
		err := d.write(ctx, "drop old callback bodies", func(ctx context.Context, tx *sql.Tx) error {
			// Walked in delivery_bodies' order: only kept bodies are
			// visited, oldest first, and each delivery is found by its key.
			res, err := txExec(ctx, tx, `DELETE FROM delivery_bodies WHERE delivery_id IN (
				SELECT b.delivery_id FROM delivery_bodies b JOIN deliveries d ON d.id = b.delivery_id
				WHERE d.processed_at IS NOT NULL AND d.processed_at < ? LIMIT ?)`,
				fmtTime(before), collectBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		rep.BodiesDropped += int(n)
		if n < collectBatch {
			return nil
		}
	}
}

// InspectImageFiles implements app.FileHealth for `doctor`: InspectFiles on
// the images folder dir, changing nothing.
func (d *DB) InspectImageFiles(ctx context.Context, dir string) (app.FileReport, error) {
	rep, err := d.InspectFiles(ctx, NewImageFiles(dir))
	return app.FileReport{Orphans: rep.Orphans, OrphanBytes: rep.OrphanBytes, Missing: rep.Missing, MissingPaths: rep.MissingPaths}, err
}
