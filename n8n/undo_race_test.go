package n8n

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Issue 14 §6: a callback that races a delete (the request hidden, its
// undo window open) is acknowledged, stored and applied over real HTTP,
// so an undo brings the request back completed with its picture: the
// result is never lost to the soft delete, whichever lands first.
func TestACallbackRacingASoftDeleteIsNotLost(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const rounds = 8
	for round := range rounds {
		req := h.request(app.StatusProcessing)
		var wg sync.WaitGroup
		var deleteErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			deleteErr = h.db.SoftDeleteRequest(ctx, req.ID)
		}()
		resp := h.callback(successBody(req.ID, testPNG(t, 8, 8, byte(round))))
		wg.Wait()
		if deleteErr != nil {
			t.Fatalf("round %d: soft delete: %v", round, deleteErr)
		}
		wantStatus(t, resp, http.StatusOK)
		h.process()
		got, err := h.db.RestoreRequest(ctx, req.ID, time.Time{}, app.Activity{Kind: app.ActivityRestored, Level: app.LevelInfo, Message: "delete undone"})
		if err != nil {
			t.Fatalf("round %d: undo delete: %v", round, err)
		}
		if got.Status != app.StatusCompleted || got.ImageCount != 1 {
			t.Fatalf("round %d: restored request is %s with %d image(s), want completed with 1", round, got.Status, got.ImageCount)
		}
	}
}

// A callback after a cancel is kept (late result), and the cancel's undo
// is then refused: the undo can never hide the result that arrived.
func TestACallbackAfterACancelBlocksItsUndoAndIsKept(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := h.request(app.StatusProcessing)
	if _, err := h.db.Transition(ctx, app.Change{ID: req.ID, To: app.StatusCancelled}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 9))), http.StatusOK)
	_, err := h.db.UndoCancel(ctx, req.ID, time.Time{}, app.Activity{Kind: app.ActivityUncancelled, Level: app.LevelInfo, Message: "cancel undone"})
	if app.ErrorReason(err) != "result_arrived" {
		t.Fatalf("undo after an acknowledged callback: %v, want result_arrived", err)
	}
	h.process()
	if r := h.get(req.ID); r.Status != app.StatusCancelled || r.ImageCount != 1 {
		t.Fatalf("request %s with %d image(s), want cancelled with its 1 image", r.Status, r.ImageCount)
	}
}
