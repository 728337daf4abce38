package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestAWriteLockHeldByAnotherProcessBecomesABusyError(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(ctx, path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Another process (a raw connection) takes the write lock and keeps it.
	other, err := sql.Open("sqlite", path+"?_txlock=immediate"+pragmas(false, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // released at the end of the test

	err = db.SetSetting(ctx, "k", "v")
	wantCode(t, err, app.EUNAVAILABLE)
	if !errors.Is(err, ErrBusy) || app.ErrorReason(err) != ReasonBusy {
		t.Fatalf("err = %v (reason %q), want ErrBusy", err, app.ErrorReason(err))
	}
	if msg := app.ErrorMessage(err); msg == "" || msg == "internal error" {
		t.Errorf("message %q should tell the user what happened", msg)
	}
	// Reads still work beside the other writer (WAL), and the writer
	// recovers as soon as the lock is released.
	if _, _, err := db.GetSetting(ctx, "k"); err != nil {
		t.Fatalf("read while another process writes: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
}

func TestMapErrorKeepsDomainAndContextErrorsAsTheyAre(t *testing.T) {
	domain := app.Errorf(app.ECONFLICT, "already there")
	if got := mapError("op", domain); got != error(domain) { //nolint:errorlint // identity is the point: not rewrapped
		t.Errorf("domain error rewrapped: %v", got)
	}
	if got := mapError("op", context.DeadlineExceeded); !errors.Is(got, context.DeadlineExceeded) || app.ErrorCode(got) != app.EINTERNAL {
		t.Errorf("context error = %v", got)
	}
	got := mapError("read request", sql.ErrNoRows)
	wantCode(t, got, app.ENOTFOUND)
	foreign := mapError("write", errors.New("disk said something odd"))
	wantCode(t, foreign, app.EINTERNAL)
	if app.ErrorMessage(foreign) != "write: database error" {
		t.Errorf("foreign error message = %q: driver text must not reach users", app.ErrorMessage(foreign))
	}
}
