package store

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// twoOpen opens one file twice with one clock: two processes on one home.
func twoOpen(t *testing.T) (*DB, *DB, *testClock) {
	t.Helper()
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), FileName)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(context.Background(), path, Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1], clock
}

func TestALeaseHasOneHolderAcrossHandlesUntilItExpiresOrIsReleased(t *testing.T) {
	ctx := context.Background()
	a, b, clock := twoOpen(t)
	ownerA := app.LeaseOwner{Token: "A", PID: 101, Host: "laptop"}
	ownerB := app.LeaseOwner{Token: "B", PID: 202, Host: "laptop"}
	first, err := a.TryLease(ctx, app.LeaseOdooSync, ownerA, time.Minute)
	if err != nil || first.Owner != ownerA {
		t.Fatalf("A takes a free lease: %+v, %v", first, err)
	}
	held, err := b.TryLease(ctx, app.LeaseOdooSync, ownerB, time.Minute)
	if app.ErrorReason(err) != app.ReasonLeaseHeld || held.Owner != ownerA {
		t.Fatalf("B while A holds it: %+v, %v; want %s naming A", held, err, app.ReasonLeaseHeld)
	}
	if msg := app.ErrorMessage(err); !strings.Contains(msg, "pid 101 on laptop since") {
		t.Fatalf("message %q does not say who holds the lease and since when", msg)
	}
	clock.Advance(50 * time.Second)
	renewed, err := a.TryLease(ctx, app.LeaseOdooSync, ownerA, time.Minute)
	if err != nil || !renewed.AcquiredAt.Equal(first.AcquiredAt) || !renewed.ExpiresAt.After(first.ExpiresAt) {
		t.Fatalf("renewal: %+v, %v; want the same start and a later expiry than %+v", renewed, err, first)
	}
	clock.Advance(50 * time.Second) // past the first expiry, not the renewed one
	if _, err := b.TryLease(ctx, app.LeaseOdooSync, ownerB, time.Minute); app.ErrorReason(err) != app.ReasonLeaseHeld {
		t.Fatalf("B after A renewed: %v, want still held", err)
	}
	clock.Advance(11 * time.Second) // A's renewed lease has run out
	taken, err := b.TryLease(ctx, app.LeaseOdooSync, ownerB, time.Minute)
	if err != nil || taken.Owner != ownerB {
		t.Fatalf("B takes an expired lease: %+v, %v", taken, err)
	}
	// A's late release must not free B's lease.
	if err := a.ReleaseLease(ctx, app.LeaseOdooSync, ownerA.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TryLease(ctx, app.LeaseOdooSync, ownerA, time.Minute); app.ErrorReason(err) != app.ReasonLeaseHeld {
		t.Fatalf("A after its stale release: %v, want B still holding", err)
	}
	if err := b.ReleaseLease(ctx, app.LeaseOdooSync, ownerB.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TryLease(ctx, app.LeaseOdooSync, ownerA, time.Minute); err != nil {
		t.Fatalf("A after B released: %v", err)
	}
}

func TestManyHandlesRacingForAFreeLeaseHaveExactlyOneWinner(t *testing.T) {
	ctx := context.Background()
	a, b, _ := twoOpen(t)
	var (
		mu   sync.Mutex
		wins int
		wg   sync.WaitGroup
	)
	for i := range 16 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := app.LeaseOwner{Token: app.NewID(time.Now()), PID: i, Host: "h"}
			_, err := db.TryLease(ctx, app.LeaseOdooSync, owner, time.Minute)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case app.ErrorReason(err) != app.ReasonLeaseHeld:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d racers won the lease, want exactly 1", wins)
	}
}
