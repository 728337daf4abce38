package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// oldFile sets a file's mtime well before the grace period of clock's now.
func oldFile(t *testing.T, clock *testClock, path string) {
	t.Helper()
	old := clock.Now().Add(-2 * DefaultFileGrace)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorRemovesFilesACrashLeftBetweenSaveAndCommitOnlyAfterTheGrace(t *testing.T) {
	db, clock := openTest(t)
	files := NewImageFiles(filepath.Join(t.TempDir(), "images"))
	leftOld, err := files.Save(t.Context(), bytes.NewReader(pngOf(t, 8, 8, 1)))
	if err != nil {
		t.Fatal(err)
	}
	leftYoung, err := files.Save(t.Context(), bytes.NewReader(pngOf(t, 8, 8, 2)))
	if err != nil {
		t.Fatal(err)
	}
	oldFile(t, clock, leftOld.Path)
	// A download a crash interrupted, and one still running.
	staleTemp := filepath.Join(files.Dir(), incomingPrefix+"123")
	liveTemp := filepath.Join(files.Dir(), incomingPrefix+"456")
	for _, p := range []string{staleTemp, liveTemp} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldFile(t, clock, staleTemp)

	rep, err := db.Collect(t.Context(), files, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesRemoved != 1 || rep.TempFilesRemoved != 1 || rep.Orphans != 1 || rep.BytesFreed != leftOld.Bytes {
		t.Errorf("report = %+v; want the old file and the old temp removed, the young file kept", rep)
	}
	for p, want := range map[string]bool{leftOld.Path: false, staleTemp: false, leftYoung.Path: true, liveTemp: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

func TestSaveRefreshesTheMtimeOfAFileAlreadyStored(t *testing.T) {
	_, clock := openTest(t)
	files := NewImageFiles(filepath.Join(t.TempDir(), "images"))
	pic := pngOf(t, 8, 8, 3)
	first, err := files.Save(t.Context(), bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	oldFile(t, clock, first.Path)
	before, _ := os.Stat(first.Path)
	if _, err := files.Save(t.Context(), bytes.NewReader(pic)); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(first.Path)
	if err != nil || !after.ModTime().After(before.ModTime()) {
		t.Errorf("mtime %v → %v (%v): Save of identical bytes must refresh it", before.ModTime(), after.ModTime(), err)
	}
}

// The collector renames a file aside before removing it; a Save that
// refreshed it in between (its ingest will commit a reference) wins.
func TestTheCollectorPutsBackAFileASaveTouchedAfterItLooked(t *testing.T) {
	_, clock := openTest(t)
	files := NewImageFiles(filepath.Join(t.TempDir(), "images"))
	f, err := files.Save(t.Context(), bytes.NewReader(pngOf(t, 8, 8, 4)))
	if err != nil {
		t.Fatal(err)
	}
	// The file was old when the collector listed it; Save has touched it since.
	cutoff := clock.Now().Add(-DefaultFileGrace)
	if removeIfStillOld(f.Path, cutoff) {
		t.Fatal("a freshly touched file was removed")
	}
	if _, err := os.Stat(f.Path); err != nil {
		t.Fatalf("the touched file is gone: %v", err)
	}
	oldFile(t, clock, f.Path)
	if !removeIfStillOld(f.Path, cutoff) {
		t.Fatal("an old file was kept")
	}
	if left := filesIn(t, files.Dir()); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

func TestCollectorDropsOldCallbackBodiesAndKeepsKeyAndOutcome(t *testing.T) {
	db, clock := openTest(t)
	files := NewImageFiles(filepath.Join(t.TempDir(), "images"))
	ctx := context.Background()
	done, did := processing(t, db, "processed-key")
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: done.ID, To: app.StatusFailed,
		ErrorCode: "generation_failed", ErrorMessage: "boom"}); err != nil {
		t.Fatal(err)
	}
	_, pendingID := processing(t, db, "pending-key")

	clock.Advance(29 * 24 * time.Hour)
	if rep, err := db.Collect(ctx, files, CollectOptions{DeliveryRetention: 30 * 24 * time.Hour}); err != nil || rep.BodiesDropped != 0 {
		t.Fatalf("within the retention: %+v (%v)", rep, err)
	}
	clock.Advance(2 * 24 * time.Hour)
	if rep, err := db.Collect(ctx, files, CollectOptions{DeliveryRetention: 30 * 24 * time.Hour}); err != nil || rep.BodiesDropped != 1 {
		t.Fatalf("after the retention: %+v (%v), want one body dropped", rep, err)
	}
	var body string
	var processed sql.NullString
	if err := db.rdb.QueryRow(`SELECT coalesce(b.body, ''), processed_at FROM deliveries d
		LEFT JOIN delivery_bodies b ON b.delivery_id = d.id WHERE d.id = ?`, did).Scan(&body, &processed); err != nil {
		t.Fatal(err)
	}
	if body != "" || !processed.Valid {
		t.Errorf("processed delivery: body %q, processed %v; want the body gone and the outcome kept", body, processed)
	}
	if err := db.rdb.QueryRow("SELECT body FROM delivery_bodies WHERE delivery_id = ?", pendingID).Scan(&body); err != nil || body == "" {
		t.Errorf("an unprocessed delivery lost its body: %q (%v)", body, err)
	}
	// A replay of the old callback is still recognised by its key.
	if _, dup, err := db.RecordDelivery(ctx, delivery(done.ID, "processed-key")); err != nil || !dup {
		t.Errorf("replay: duplicate %v (%v), want a duplicate", dup, err)
	}
	if got, _ := db.GetRequest(ctx, done.ID); got.Status != app.StatusFailed {
		t.Errorf("request = %s", got.Status)
	}
}

func TestInspectFilesReportsOrphansAndMissingFilesAndChangesNothing(t *testing.T) {
	db, clock := openTest(t)
	files := NewImageFiles(filepath.Join(t.TempDir(), "images"))
	ctx := context.Background()
	orphan, err := files.Save(ctx, bytes.NewReader(pngOf(t, 8, 8, 5)))
	if err != nil {
		t.Fatal(err)
	}
	oldFile(t, clock, orphan.Path)
	r, did := processing(t, db, "k")
	gone := filepath.Join(files.Dir(), "ab", "ab12.png")
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
		Images: []app.Image{{RequestID: r.ID, Sequence: 1, SHA256: "ab12", Path: gone, MimeType: "image/png", Source: "base64"}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := db.InspectFiles(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Orphans != 1 || rep.OrphanBytes != orphan.Bytes || rep.Missing != 1 || len(rep.MissingPaths) != 1 || rep.MissingPaths[0] != gone || rep.FilesRemoved != 0 {
		t.Errorf("report = %+v", rep)
	}
	if _, err := os.Stat(orphan.Path); err != nil {
		t.Errorf("inspection removed a file: %v", err)
	}
}

// Issue 11, item 5: the "not sending" check is part of the DELETE, so a
// claim committed an instant before cannot slip past it.
func TestDeleteRequestRefusesARequestInSendingInItsStatement(t *testing.T) {
	db, _ := openTest(t)
	r := createOne(t, db, "in flight")
	move(t, db, r.ID, app.StatusSending)
	_, err := db.DeleteRequest(context.Background(), r.ID)
	wantCode(t, err, app.ECONFLICT)
	if got, err := db.GetRequest(context.Background(), r.ID); err != nil || got.Status != app.StatusSending {
		t.Errorf("request after the refused delete: %+v (%v)", got, err)
	}
	_, err = db.DeleteRequest(context.Background(), "01JDX3V6Q6T7ZP3Y6N4B1K9S2E")
	wantCode(t, err, app.ENOTFOUND)
}

// Issue 11, item 5: opening a current file takes no write lock, so status
// and doctor work while another process holds a long write transaction.
func TestOpeningACurrentDatabaseWorksWhileAnotherProcessHoldsTheWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	first, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := createOne(t, first, "before the lock")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	holder, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin() // BEGIN IMMEDIATE: the write lock, held until the test ends
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec("UPDATE requests SET error_message = 'held' WHERE id = ?", r.ID); err != nil {
		t.Fatal(err)
	}

	db, err := Open(context.Background(), path, Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open while another connection holds the write lock: %v", err)
	}
	defer db.Close()
	if got, err := db.GetRequest(context.Background(), r.ID); err != nil || got.ErrorMessage != "" {
		t.Errorf("read: %+v (%v)", got, err)
	}
	if _, err := db.CountByStatus(context.Background()); err != nil {
		t.Errorf("count: %v", err)
	}
	if err := db.QuickCheck(context.Background()); err != nil {
		t.Errorf("quick check: %v", err)
	}
}
