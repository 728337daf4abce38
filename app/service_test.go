package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

func TestSubmitStoresCountQueuedRequestsAndPublishesEvents(t *testing.T) {
	r := newRig(t, "test-api-key")
	sub := r.bus.Subscribe(t.Context(), 64)
	seed := int64(42)
	reqs, err := r.svc.Submit(t.Context(), app.ParamsInput{Prompt: "  a red fox  ", Seed: &seed, Count: 3, Resolution: "1216x832"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, q := range reqs {
		got := r.get(t, q.ID)
		if got.Status != app.StatusQueued || got.Params.Prompt != "a red fox" || got.Params.Seed != 42+int64(i) ||
			got.RequestedBy != "alice" || got.Params.Width != 1216 || got.Params.AspectRatio != "3:2" {
			t.Errorf("request %d = %+v", i, got)
		}
		if i > 0 && q.ID <= reqs[i-1].ID {
			t.Errorf("ids not in order: %s after %s", q.ID, reqs[i-1].ID)
		}
	}
	if r.fake.Count() != 0 {
		t.Error("Submit itself posted to n8n; the sender must")
	}
	events := map[string]bool{}
	for len(events) < 3 {
		select {
		case ev := <-sub.C:
			if ev.Kind == app.EventRequest {
				events[ev.RequestID] = true
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("events for %d of 3 requests", len(events))
		}
	}
}

func TestSubmitRefusesInvalidParametersAndStoresNothing(t *testing.T) {
	r := newRig(t, "test-api-key")
	_, err := r.svc.Submit(t.Context(), app.ParamsInput{Prompt: "", Model: "dall-e", Count: 99})
	if app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	for _, want := range []string{"prompt: required", `model "dall-e"`, "count 99"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n, _ := r.db.CountRequests(t.Context(), app.ListQuery{}); n != 0 {
		t.Errorf("%d requests stored", n)
	}
}

func TestRetryOfAnInitiationFailureReSendsTheSameID(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	r.moveTo(t, id, app.StatusSending, app.StatusInitiationFailed)
	got, err := r.svc.Retry(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Status != app.StatusQueued {
		t.Errorf("retry gave %s %s, want %s queued", got.ID, got.Status, id)
	}
	if k := r.kinds(t, id); k[len(k)-1] != app.ActivityRetried {
		t.Errorf("activity = %v", k)
	}
	out, err := r.sender.SendRequests(t.Context(), []string{id})
	if err != nil || out[0].Status != app.StatusProcessing || out[0].SendAttempts != 2 {
		t.Errorf("after the re-send: %+v, %v", out, err)
	}
}

func TestRetryOfAFinishedFailureMakesANewRequestPointingBack(t *testing.T) {
	for _, path := range [][]app.Status{
		{app.StatusSending, app.StatusProcessing, app.StatusFailed},
		{app.StatusSending, app.StatusProcessing, app.StatusTimedOut},
	} {
		final := path[len(path)-1]
		t.Run("a "+string(final)+" request is retried as a new one", func(t *testing.T) {
			r := newRig(t, "test-api-key")
			orig := r.submit(t, 1)[0]
			r.moveTo(t, orig.ID, path...)
			retry, err := r.svc.Retry(t.Context(), orig.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := r.get(t, retry.ID)
			if got.ID == orig.ID || got.RetryOf != orig.ID || got.Status != app.StatusQueued || got.Params != orig.Params {
				t.Errorf("retry = %+v, want a new queued request with retry_of %s and the same params", got, orig.ID)
			}
			if r.get(t, orig.ID).Status != final {
				t.Errorf("the original changed state")
			}
			if k := r.kinds(t, orig.ID); k[len(k)-1] != app.ActivityRetried {
				t.Errorf("original activity = %v", k)
			}
		})
	}
}

func TestRetryOfOtherStatesIsRefusedWithTheReason(t *testing.T) {
	tests := []struct {
		name string
		path []app.Status
		want string
	}{
		{"a processing request cannot be retried", []app.Status{app.StatusSending, app.StatusProcessing}, "is processing"},
		{"a completed request suggests a remix", []app.Status{app.StatusSending, app.StatusProcessing, app.StatusCompleted}, "remix it"},
		{"a queued request cannot be retried", nil, "is queued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "test-api-key")
			id := r.submit(t, 1)[0].ID
			r.moveTo(t, id, tt.path...)
			_, err := r.svc.Retry(t.Context(), id)
			if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a conflict saying %q", err, tt.want)
			}
		})
	}
}

func TestCancelStopsAnActiveRequestAndRefusesAFinishedOne(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 2)
	got, err := r.svc.Cancel(t.Context(), reqs[0].ID)
	if err != nil || got.Status != app.StatusCancelled {
		t.Fatalf("cancel: %+v, %v", got, err)
	}
	if k := r.kinds(t, reqs[0].ID); k[len(k)-1] != app.ActivityCancelled {
		t.Errorf("activity = %v", k)
	}
	// A cancelled request is never sent.
	out, _ := r.sender.SendRequests(t.Context(), []string{reqs[0].ID})
	if out[0].Status != app.StatusCancelled || r.fake.Count() != 0 {
		t.Errorf("a cancelled request was sent")
	}
	r.moveTo(t, reqs[1].ID, app.StatusSending, app.StatusProcessing, app.StatusCompleted)
	_, err = r.svc.Cancel(t.Context(), reqs[1].ID)
	if app.ErrorCode(err) != app.ECONFLICT || !strings.Contains(err.Error(), "it is completed") {
		t.Errorf("cancel of a completed request: %v", err)
	}
	if _, err := r.svc.Cancel(t.Context(), "01JDX3V6Q6T7ZP3Y6N4B1K9S2E"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("cancel of an unknown id: %v", err)
	}
}

func TestRemixAndReuseSeedReturnTheParametersForTheComposer(t *testing.T) {
	r := newRig(t, "test-api-key")
	seed := int64(77)
	reqs, err := r.svc.Submit(t.Context(), app.ParamsInput{Prompt: "a red fox", NegativePrompt: "blurry", Model: "flux-dev", AspectRatio: "16:9", Seed: &seed, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	remix, err := r.svc.Remix(t.Context(), reqs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	p := reqs[1].Params
	want := app.ParamsInput{Prompt: "a red fox", NegativePrompt: "blurry", Model: "flux-dev", Resolution: p.Resolution(), AspectRatio: "16:9", Count: 1}
	if remix.Seed != nil || remix != want {
		t.Errorf("remix = %+v, want %+v with a random seed", remix, want)
	}
	reuse, err := r.svc.ReuseSeed(t.Context(), reqs[1].ID)
	if err != nil || reuse.Seed == nil || *reuse.Seed != 78 || reuse.Prompt != "a red fox" {
		t.Errorf("reuse seed = %+v, %v; want seed 78", reuse, err)
	}
	// The remix validates back to the same parameters.
	again, err := r.svc.Submit(t.Context(), reuse)
	if err != nil || again[0].Params != p {
		t.Errorf("resubmitted %+v (%v), want %+v", again, err, p)
	}
}

func TestDeleteHidesTheRequestAndTheCollectorRemovesItAfterTheUndoWindow(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 2)
	r.complete(t, reqs[0].ID, "/images/aa/shared.png", "/images/bb/own.png")
	if err := r.svc.Delete(t.Context(), reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	if page, err := r.db.ListRequests(t.Context(), app.ListQuery{}); err != nil || len(page.Requests) != 1 || page.Requests[0].ID != reqs[1].ID {
		t.Fatalf("list after delete: %+v (%v), want only the other request", page.Requests, err)
	}
	r.clock.Advance(app.UndoWindow + time.Second)
	if _, err := r.db.Collect(t.Context(), store.NewImageFiles(t.TempDir()), store.CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.GetRequest(t.Context(), reqs[0].ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("the request is still there after the undo window and a collection: %v", err)
	}
	acts, _ := r.db.ListActivity(t.Context(), app.ActivityQuery{Kinds: []string{app.ActivityDeleted}, Limit: 10})
	if len(acts) != 1 || !strings.Contains(acts[0].Message, reqs[0].ID) {
		t.Errorf("deleted activity = %+v", acts)
	}
}

func TestDeleteRefusesARequestBeingSent(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	r.moveTo(t, id, app.StatusSending)
	if err := r.svc.Delete(t.Context(), id); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("err = %v, want conflict", err)
	}
}

// complete records a success callback with images in the folders of the
// given paths, as the ingest does.
func (r *rig) complete(t *testing.T, id string, paths ...string) {
	t.Helper()
	r.moveTo(t, id, app.StatusSending, app.StatusProcessing)
	ctx := context.Background()
	did, _, err := r.db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k-" + id, RequestID: id, Body: []byte(`{}`), ReceivedAt: r.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var imgs []app.Image
	for i, p := range paths {
		// Files are named by their hash, in the folder of the given path.
		sum := strings.Repeat(string(rune('a'+len(p)%6)), 63) + string(rune('0'+i))
		imgs = append(imgs, app.Image{RequestID: id, Sequence: i + 1, SHA256: sum,
			Path: filepath.Join(filepath.Dir(p), sum+filepath.Ext(p)), MimeType: "image/png", Width: 8, Height: 8, Bytes: 10, Source: "base64", CreatedAt: r.clock.Now()})
	}
	if _, err := r.db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: id, To: app.StatusCompleted, Images: imgs}); err != nil {
		t.Fatal(err)
	}
}

func TestEveryActionPublishesAnEventForItsRequest(t *testing.T) {
	tests := []struct {
		name   string
		path   []app.Status
		action func(r *rig, id string) error
	}{
		{"cancel publishes", nil, func(r *rig, id string) error { _, err := r.svc.Cancel(context.Background(), id); return err }},
		{"retry publishes", []app.Status{app.StatusSending, app.StatusInitiationFailed},
			func(r *rig, id string) error { _, err := r.svc.Retry(context.Background(), id); return err }},
		{"delete publishes", nil, func(r *rig, id string) error { return r.svc.Delete(context.Background(), id) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "test-api-key")
			id := r.submit(t, 1)[0].ID
			r.moveTo(t, id, tt.path...)
			sub := r.bus.Subscribe(t.Context(), 16)
			if err := tt.action(r, id); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for !(seen[app.EventRequest] && seen[app.EventActivity]) {
				select {
				case ev := <-sub.C:
					if ev.RequestID == id {
						seen[ev.Kind] = true
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("events seen: %v", seen)
				}
			}
		})
	}
}
