package cli

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
	"github.com/influencegen/influencegen/store"
)

// Issue 11, item 6: `generate --wait` gives up at the request's own
// deadline (processing since + request_timeout), the instant the sweeper
// times it out, not request_timeout after the wait began.
func TestWaitGivesUpAtTheRequestsDeadline(t *testing.T) {
	clock := apptest.NewClock(time.Now().Add(-10 * time.Minute)) // accepted ten minutes ago
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), store.FileName), store.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reqs := []app.Request{{Params: app.GenerationParams{Prompt: "p", Model: "sdxl", Width: 8, Height: 8, NumImages: 1}}}
	if err := db.CreateRequests(t.Context(), reqs); err != nil {
		t.Fatal(err)
	}
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := db.Transition(t.Context(), app.Change{ID: reqs[0].ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	// The deadline (processing + 5 min) passed five minutes ago: the wait
	// ends at once. The test's own timeout is what fails the old behaviour,
	// which waited five more minutes.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := waitForFinal(ctx, io.Discard, db, []string{reqs[0].ID}, 5*time.Minute)
	if app.ErrorReason(err) != "wait_timeout" || len(out) != 1 || out[0].Status != app.StatusProcessing {
		t.Fatalf("wait = %v (%v), want wait_timeout with the request still processing", out, err)
	}
}

func TestWaitDeadlineIsTheLatestDeadlineOfTheUnfinishedRequests(t *testing.T) {
	start := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
	limit := 5 * time.Minute
	reqs := []app.Request{
		{Status: app.StatusProcessing, UpdatedAt: start.Add(-time.Minute)},
		{Status: app.StatusProcessing, UpdatedAt: start.Add(-3 * time.Minute)},
		{Status: app.StatusCompleted, UpdatedAt: start.Add(time.Hour)},
	}
	if got, want := waitDeadline(reqs, start, limit), start.Add(4*time.Minute); !got.Equal(want) {
		t.Errorf("deadline = %v, want %v (the later processing request's)", got, want)
	}
	reqs = append(reqs, app.Request{Status: app.StatusQueued})
	if got, want := waitDeadline(reqs, start, limit), start.Add(limit); !got.Equal(want) {
		t.Errorf("with a queued request the deadline = %v, want %v", got, want)
	}
}
