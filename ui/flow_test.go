package ui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestComposeSubmitAndCallbackShowTheFinishedImage is the dashboard's whole
// story: type a prompt, submit it to a fake n8n through the real service and
// sender, let a callback complete it, and see the row turn completed with
// the picture drawn in half-blocks.
func TestComposeSubmitAndCallbackShowTheFinishedImage(t *testing.T) {
	clock := app.SystemClock{}
	db := openStore(t, clock)
	bus := app.NewBus()
	fake := n8ntest.New(t, n8ntest.Options{})
	cfg := app.DefaultConfig()
	cfg.N8N.WebhookURL = fake.WebhookURL
	client := n8n.NewClient(n8n.ClientOptions{URL: fake.WebhookURL, Timeout: 5 * time.Second,
		APIKey: func(context.Context) (string, error) { return "test-api-key", nil }})
	svc := &app.Service{Config: cfg, Store: db, Workflow: client, Bus: bus, Clock: clock, User: "alice",
		CallbackURL: func() string { return "http://127.0.0.1:8787" + app.CallbackPath }}
	ctx, cancel := context.WithCancel(context.Background())
	senderDone := make(chan struct{})
	go func() { defer close(senderDone); _ = (&app.Sender{Service: svc}).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-senderDone })

	b := Backend{Store: db, Service: svc, Bus: bus, Config: cfg, Secrets: newFakeSecrets(), Clock: clock,
		Getenv: func(k string) string { return map[string]string{"TERM": "xterm-256color"}[k] }}
	tm := teatest.NewTestModel(t, New(ctx, b), teatest.WithInitialTermSize(160, 48))

	tm.Send(tea.KeyPressMsg{Code: 'n', Text: "n"})
	tm.Type("a fox in the snow")
	tm.Send(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})

	waitUntil(t, "the webhook call to reach the fake n8n", func() bool { return fake.Count() >= 1 })
	id, _ := fake.Requests()[0].JSON()["ai_generation_request_id"].(string)
	if !app.ValidID(id) {
		t.Fatalf("the webhook body carried request id %q", id)
	}
	waitUntil(t, "n8n's ack to move the request to processing", func() bool {
		r, err := db.GetRequest(context.Background(), id)
		return err == nil && r.Status == app.StatusProcessing
	})

	// The fake callback: what ingest does after the listener acks.
	path, sha := writeTestPNG(t, t.TempDir())
	completeWithImage(t, db, id, path, sha)
	bus.Publish(app.Event{Kind: app.EventRequest, RequestID: id})

	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return bytes.Contains(out, []byte("▀")) // the preview is drawn only for a completed request's image
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))

	// ctrl+c, not q: a letter typed right after a submit counts as
	// typeahead of the prompt and is held (see holdTypedAhead)
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	row, ok := final.list.selected()
	if !ok || row.ID != id || row.Status != app.StatusCompleted {
		t.Fatalf("selected row %s is %s, want %s completed", row.ID, row.Status, id)
	}
	if final.detail.preview == nil || final.detail.preview.cells == "" {
		t.Fatal("the detail has no image preview")
	}
	if got := fake.Requests()[0].JSON()["generation_params"].(map[string]any)["prompt"]; got != "a fox in the snow" {
		t.Fatalf("n8n received prompt %v", got)
	}
}
