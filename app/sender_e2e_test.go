package app_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/store"
)

// onePixelPNG is the image of peer exchange 07.
const onePixelPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"

// The whole race as real n8n plays it: the fake n8n POSTs its callback to
// the real listener, the real ingest completes the request, and only then
// is the 202 written. The sender's late ack must leave it completed.
func TestARealCallbackBeforeTheAckLeavesTheRequestCompleted(t *testing.T) {
	r := newRig(t, "test-api-key")
	ctx := context.Background()
	const token = "cb-token-for-tests-0123456789abcdefghijkl"
	secrets := store.NewSecrets("test", r.db, store.SecretsOptions{Clock: r.clock, Memory: true, Getenv: func(string) string { return "" }})
	if err := secrets.Set(ctx, app.SecretCallbackToken, token); err != nil {
		t.Fatal(err)
	}
	files := store.NewImageFiles(filepath.Join(t.TempDir(), "images"))
	ingest := n8n.NewIngester(n8n.IngestOptions{Store: r.db, Files: files, Bus: r.bus, Clock: r.clock,
		Fetcher: n8n.NewFetcher(n8n.NewImagePolicy(r.fake.WebhookURL, nil), r.clock, "influencegen/test")})
	cfg := app.DefaultConfig().Callback
	cfg.Listen = "127.0.0.1:0"
	lis, err := n8n.OpenListener(n8n.ListenerOptions{Config: cfg, N8NWebhookURL: r.fake.WebhookURL, Version: "test",
		Store: r.db, Secrets: secrets, Bus: r.bus, Clock: r.clock, Committed: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	r.svc.CallbackURL = func() string { return "http://" + lis.Addr() + app.CallbackPath }

	stateBeforeAck := make(chan app.Status, 1)
	r.fake.CallbackFirst(token, func(id string) []byte {
		return []byte(`{"ai_generation_request_id":"` + id + `","status":"success","image_base64":"` + onePixelPNG + `","image_format":"png","width":1,"height":1,"seed":7}`)
	}, func(status int, err error) {
		if err != nil || status != 200 {
			t.Errorf("the listener answered the callback with %d (%v)", status, err)
		}
		// The ingest runs right after the listener's 200, still before the 202.
		if _, err := ingest.ProcessPending(ctx); err != nil {
			t.Errorf("ingest: %v", err)
		}
		page, _ := r.db.ListRequests(ctx, app.ListQuery{Limit: 1})
		stateBeforeAck <- page.Requests[0].Status
	})

	id := r.submit(t, 1)[0].ID
	out, err := r.sender.SendRequests(t.Context(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if st := <-stateBeforeAck; st != app.StatusCompleted {
		t.Fatalf("before the 202 the request was %s, want completed (the race did not happen)", st)
	}
	if out[0].Status != app.StatusCompleted || out[0].ImageCount != 1 {
		t.Errorf("after the late ack: %s with %d images, want completed with 1", out[0].Status, out[0].ImageCount)
	}
	if slices.Contains(r.kinds(t, id), app.ActivityAccepted) {
		t.Error("the late ack wrote an accepted activity")
	}
}
