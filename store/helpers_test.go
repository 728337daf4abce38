package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// testClock is a settable clock: tests move time instead of sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now().Add(d)
	return ch
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTest opens a fresh database file in t.TempDir().
func openTest(t testing.TB) (*DB, *testClock) {
	t.Helper()
	clock := newTestClock()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "data", FileName), Options{Clock: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, clock
}

// newRequest builds a valid queued request whose id sorts by at.
func newRequest(at time.Time, prompt string) app.Request {
	return app.Request{
		ID: app.NewID(at),
		Params: app.GenerationParams{Prompt: prompt, Model: "sdxl", Width: 1024, Height: 1024,
			AspectRatio: "1:1", Seed: 42, NumImages: 1},
		Status:      app.StatusQueued,
		RequestedBy: "alice",
		CreatedAt:   at,
	}
}

// createOne stores one request and returns it as stored.
func createOne(t testing.TB, db *DB, prompt string) app.Request {
	t.Helper()
	r := newRequest(db.now(), prompt)
	if err := db.CreateRequests(context.Background(), []app.Request{r}); err != nil {
		t.Fatalf("CreateRequests: %v", err)
	}
	got, err := db.GetRequest(context.Background(), r.ID)
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	return got
}

// move applies a transition that the test expects to succeed.
func move(t testing.TB, db *DB, id string, to app.Status) app.Request {
	t.Helper()
	r, err := db.Transition(context.Background(), app.Change{ID: id, To: to})
	if err != nil {
		t.Fatalf("Transition %s → %s: %v", id, to, err)
	}
	return r
}

// wantCode fails unless err carries the app error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := app.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// countRows counts rows of a table through the read pool.
func countRows(t testing.TB, db *DB, table, where string, args ...any) int {
	t.Helper()
	q := fmt.Sprintf("SELECT count(*) FROM %s", table)
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := db.rdb.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func mustGet(t testing.TB, db *DB, id string) app.Request {
	t.Helper()
	r, err := db.GetRequest(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
