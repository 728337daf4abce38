package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestUndoDeleteWithinTheWindowRestoresTheRequestAndItsResult(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	r.moveTo(t, id, app.StatusSending, app.StatusProcessing)
	if err := r.svc.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	// n8n's result arrives while the request is deleted.
	r.ingestImage(t, id, app.StoredFile{SHA256: "ab" + strings.Repeat("0", 62), Path: "/images/ab/ab" + strings.Repeat("0", 62) + ".png", MimeType: "image/png", Width: 8, Height: 8, Bytes: 10})
	r.clock.Advance(app.UndoWindow - time.Second)
	got, err := r.svc.UndoDelete(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != app.StatusCompleted || got.ImageCount != 1 || got.DeletedAt != nil {
		t.Fatalf("restored: %s with %d image(s), deleted_at %v; want completed with 1, not deleted", got.Status, got.ImageCount, got.DeletedAt)
	}
	if !slices.Contains(r.kinds(t, id), app.ActivityRestored) {
		t.Fatalf("no restored activity: %v", r.kinds(t, id))
	}
	if err := r.svc.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(app.UndoWindow + time.Second)
	if _, err := r.svc.UndoDelete(t.Context(), id); app.ErrorReason(err) != "undo_expired" {
		t.Fatalf("undo after the window: %v, want undo_expired", err)
	}
}

// A queued request cancelled and put back is sent after all; one cancelled
// and left is never sent.
func TestUndoCancelOfAQueuedRequestSendsIt(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 2)
	undone, left := reqs[0].ID, reqs[1].ID
	for _, id := range []string{undone, left} {
		if _, err := r.svc.Cancel(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Advance(2 * time.Second)
	got, err := r.svc.UndoCancel(t.Context(), undone)
	if err != nil || got.Status != app.StatusQueued {
		t.Fatalf("undo cancel: %s (%v), want queued", got.Status, err)
	}
	stop := r.runSender(t)
	defer stop()
	waitFor(t, "the restored request to be sent", func() bool { return r.get(t, undone).Status == app.StatusProcessing })
	stop()
	if st := r.get(t, left).Status; st != app.StatusCancelled {
		t.Fatalf("the request left cancelled is %s", st)
	}
	if n := r.fake.Count(); n != 1 {
		t.Fatalf("n8n got %d POSTs, want 1 (the restored request only)", n)
	}
}

func TestUndoCancelAfterAResultKeepsTheResultAndTheCancel(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	r.moveTo(t, id, app.StatusSending, app.StatusProcessing)
	if _, err := r.svc.Cancel(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	r.ingestImage(t, id, app.StoredFile{SHA256: "ab" + strings.Repeat("0", 62), Path: "/images/ab/ab" + strings.Repeat("0", 62) + ".png", MimeType: "image/png", Width: 8, Height: 8, Bytes: 10}) // late result: kept, state stays cancelled
	_, err := r.svc.UndoCancel(t.Context(), id)
	if app.ErrorReason(err) != "result_arrived" {
		t.Fatalf("undo: %v, want result_arrived", err)
	}
	if got := r.get(t, id); got.Status != app.StatusCancelled || got.ImageCount != 1 {
		t.Fatalf("request is %s with %d image(s), want cancelled with its 1 image", got.Status, got.ImageCount)
	}
}
