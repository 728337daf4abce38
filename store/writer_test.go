package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestGroupCommitGivesEachOf64ConcurrentWritersItsOwnResult(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	const writers = 64
	const failing = 17 // this caller's work fails halfway and must be undone alone
	errFail := errors.New("caller 17 changed its mind")

	start := make(chan struct{})
	results := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			key := fmt.Sprintf("writer-%02d", i)
			results[i] = db.write(ctx, "test write", func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, '')", key, key); err != nil {
					return err
				}
				if i == failing {
					return errFail
				}
				return nil
			})
		})
	}
	commitsBefore := db.commits.Load()
	close(start)
	wg.Wait()

	for i, err := range results {
		key := fmt.Sprintf("writer-%02d", i)
		_, ok, gerr := db.GetSetting(ctx, key)
		if gerr != nil {
			t.Fatal(gerr)
		}
		if i == failing {
			if !errors.Is(err, errFail) {
				t.Errorf("failing writer got %v, want its own error", err)
			}
			if ok {
				t.Errorf("failing writer's row was committed")
			}
			continue
		}
		if err != nil {
			t.Errorf("writer %d got %v, want nil", i, err)
		}
		if !ok {
			t.Errorf("writer %d was told nil but its row is missing", i)
		}
	}
	commits := db.commits.Load() - commitsBefore
	if commits < 1 || commits > writers {
		t.Errorf("commits = %d for %d writers", commits, writers)
	}
	t.Logf("%d writers committed in %d transactions", writers, commits)
}

func TestGroupCommitKeepsADuplicateKeyErrorToItsCaller(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "first")
	dup := newRequest(db.now(), "second")
	dup.ID = r.ID
	other := newRequest(db.now(), "third")

	var wg sync.WaitGroup
	var errDup, errOther error
	wg.Go(func() { errDup = db.CreateRequests(ctx, []app.Request{dup}) })
	wg.Go(func() { errOther = db.CreateRequests(ctx, []app.Request{other}) })
	wg.Wait()
	wantCode(t, errDup, app.ECONFLICT)
	if app.ErrorReason(errDup) != ReasonDuplicate {
		t.Errorf("reason = %q, want %q", app.ErrorReason(errDup), ReasonDuplicate)
	}
	if errOther != nil {
		t.Fatalf("the other caller failed too: %v", errOther)
	}
	if _, err := db.GetRequest(ctx, other.ID); err != nil {
		t.Errorf("other request missing: %v", err)
	}
	// The duplicate's activity and outbox rows were rolled back with it.
	if n := countRows(t, db, "activity", "request_id = ?", r.ID); n != 1 {
		t.Errorf("activity rows of the original = %d, want 1", n)
	}
}

func TestAWriteWhoseContextEndedBeforeItRanIsNotCommitted(t *testing.T) {
	db, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.SetSetting(ctx, "gone", "x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, ok, _ := db.GetSetting(context.Background(), "gone"); ok {
		t.Error("a cancelled write was committed")
	}
}

func TestAPanickingWriteFailsAloneAndTheWriterKeepsGoing(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	err := db.write(ctx, "test write", func(ctx context.Context, tx *sql.Tx) error { panic("boom") })
	wantCode(t, err, app.EINTERNAL)
	if err := db.SetSetting(ctx, "after", "ok"); err != nil {
		t.Fatalf("writer broken after a panic: %v", err)
	}
}

func TestWritesAfterCloseAreRefused(t *testing.T) {
	db, _ := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err := db.SetSetting(context.Background(), "k", "v")
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	wantCode(t, err, app.EUNAVAILABLE)
}
