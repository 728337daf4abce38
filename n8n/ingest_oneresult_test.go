package n8n

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func activities(t *testing.T, h *harness, requestID string, kinds ...string) []app.Activity {
	t.Helper()
	acts, err := h.db.ListActivity(context.Background(), app.ActivityQuery{RequestID: requestID, Kinds: kinds})
	if err != nil {
		t.Fatalf("ListActivity: %v", err)
	}
	return acts
}

func anyActivityContains(acts []app.Activity, want string) bool {
	for _, a := range acts {
		if strings.Contains(a.Message, want) {
			return true
		}
	}
	return false
}

// Issue 10 item 8: a cancelled request used to take every different result
// it was sent, merging their images.
func TestACancelledRequestAcceptsOneResult(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusCancelled)
	wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 1))), http.StatusOK)
	h.process()
	second := h.callback(map[string]any{"ai_generation_request_id": req.ID, "status": "success",
		"images": []map[string]any{{"base64": b64(testPNG(t, 8, 8, 2))}, {"base64": b64(testPNG(t, 8, 8, 3))}}})
	wantStatus(t, second, http.StatusConflict)
	h.process()
	if d, i := h.count("deliveries"), h.count("images"); d != 1 || i != 1 {
		t.Fatalf("%d deliveries and %d images after a refused second result, want 1 and 1", d, i)
	}
	if r := h.get(req.ID); r.Status != app.StatusCancelled || r.ImageCount != 1 {
		t.Fatalf("request %s with %d images, want cancelled with 1", r.Status, r.ImageCount)
	}
	if acts := activities(t, h, req.ID, app.ActivityCallbackRejected); !anyActivityContains(acts, "one result") {
		t.Fatalf("the refused result is not in Activity: %+v", acts)
	}
}

// Issue 10 item 9: two different results sent at the same moment used to
// be merged (a completed request with the images of both, or a failed one
// with an image). Whatever the timing, exactly one is accepted.
func TestTwoResultsArrivingTogetherAreNeverMerged(t *testing.T) {
	h := newHarness(t)
	const rounds = 12
	for round := range rounds {
		req := h.request(app.StatusProcessing)
		bodies := []map[string]any{
			successBody(req.ID, testPNG(t, 8, 8, byte(2*round))),
			{"ai_generation_request_id": req.ID, "status": "success", "images": []map[string]any{
				{"base64": b64(testPNG(t, 8, 8, byte(2*round+1)))}, {"base64": b64(testPNG(t, 9, 9, byte(round)))}}},
			{"ai_generation_request_id": req.ID, "status": "failed", "error": "out of credits"},
		}
		codes := make([]int, len(bodies))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, b := range bodies {
			wg.Go(func() {
				<-start
				codes[i] = h.callback(b).status
			})
		}
		close(start)
		wg.Wait()
		h.process()
		accepted := -1
		for i, c := range codes {
			switch c {
			case http.StatusOK:
				if accepted >= 0 {
					t.Fatalf("round %d: results %d and %d were both accepted (codes %v)", round, accepted, i, codes)
				}
				accepted = i
			case http.StatusConflict:
			default:
				t.Fatalf("round %d: codes %v, want one 200 and the rest 409", round, codes)
			}
		}
		if accepted < 0 {
			t.Fatalf("round %d: no result accepted (codes %v)", round, codes)
		}
		r := h.get(req.ID)
		want := map[int]struct {
			st     app.Status
			images int
		}{0: {app.StatusCompleted, 1}, 1: {app.StatusCompleted, 2}, 2: {app.StatusFailed, 0}}[accepted]
		if r.Status != want.st || r.ImageCount != want.images {
			t.Fatalf("round %d: result %d won but the request is %s with %d images, want %s with %d",
				round, accepted, r.Status, r.ImageCount, want.st, want.images)
		}
	}
}

// Issue 11 item 4: a result for a request we believe queued, sending or
// initiation_failed used to be refused (409) or stuck for ever.
func TestAResultIsAcceptedWhateverOurViewOfTheSend(t *testing.T) {
	for _, st := range []app.Status{app.StatusQueued, app.StatusSending, app.StatusInitiationFailed} {
		for _, outcome := range []string{"success", "failed"} {
			t.Run(string(st)+" then "+outcome, func(t *testing.T) {
				h := newHarness(t)
				req := h.request(st)
				body := successBody(req.ID, testPNG(t, 8, 8, 4))
				want := app.StatusCompleted
				if outcome == "failed" {
					body = map[string]any{"ai_generation_request_id": req.ID, "status": "failed", "error": "no GPU"}
					want = app.StatusFailed
				}
				wantStatus(t, h.callback(body), http.StatusOK)
				if n := h.process(); n != 1 {
					t.Fatalf("processed %d deliveries, want 1", n)
				}
				if r := h.get(req.ID); r.Status != want {
					t.Fatalf("request %s, want %s", r.Status, want)
				}
				var pending int
				if err := h.raw.QueryRow("SELECT count(*) FROM deliveries WHERE processed_at IS NULL").Scan(&pending); err != nil || pending != 0 {
					t.Fatalf("%d deliveries still pending (%v), want 0", pending, err)
				}
				if acts := activities(t, h, req.ID, app.ActivityLateResult); !anyActivityContains(acts, string(st)) {
					t.Fatalf("no activity says the result came while the request was %s: %+v", st, acts)
				}
				// The sender claims only queued rows: a request whose result is
				// in is never sent (again).
				_, err := h.db.Transition(context.Background(), app.Change{ID: req.ID, To: app.StatusSending, From: []app.Status{app.StatusQueued}})
				if app.ErrorCode(err) != app.ECONFLICT {
					t.Fatalf("the sender could still claim the request: %v", err)
				}
			})
		}
	}
}

// Issue 11 item 5: ingest numbered images from 0 and the store read 0 as
// "next free", giving 1, 1, 2.
func TestImagesOfAResultAreNumberedOneToN(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	var images []map[string]any
	var shas []string
	for i := range 4 {
		pic := testPNG(t, 8, 8, byte(40+i))
		shas = append(shas, sha(pic))
		images = append(images, map[string]any{"base64": b64(pic)})
	}
	wantStatus(t, h.callback(map[string]any{"ai_generation_request_id": req.ID, "status": "success", "images": images}), http.StatusOK)
	h.process()
	stored, err := h.db.Images(context.Background(), req.ID)
	if err != nil || len(stored) != 4 {
		t.Fatalf("images = %d, %v; want 4", len(stored), err)
	}
	for i, im := range stored {
		if im.Sequence != i+1 || im.SHA256 != shas[i] {
			t.Fatalf("image %d has sequence %d (sha %s…), want sequence %d for the callback's image %d", i, im.Sequence, im.SHA256[:8], i+1, i+1)
		}
	}
}

// Issue 10 item 8: each result could carry 4 MiB of metadata, all kept.
func TestMetadataIsCapped(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusCancelled)
	body := successBody(req.ID, testPNG(t, 8, 8, 5))
	body["metadata"] = map[string]any{"blob": strings.Repeat("m", 4<<20)}
	wantStatus(t, h.callback(body), http.StatusOK)
	var size int
	if err := h.raw.QueryRow("SELECT max(length(body)) FROM delivery_bodies").Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size > 64<<10 {
		t.Fatalf("a delivery of %d bytes was stored: the metadata was not capped", size)
	}
	var note string
	if err := h.raw.QueryRow("SELECT json_extract(body, '$.metadata.dropped') FROM delivery_bodies").Scan(&note); err != nil || !strings.Contains(note, "over the 16 KiB limit") {
		t.Fatalf("no note says the metadata was dropped: %q, %v", note, err)
	}
}
