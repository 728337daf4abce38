package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// fakeClock moves only when told; After fires when Advance passes it.
type fakeClock = apptest.Clock

func newFakeClock() *fakeClock {
	return apptest.NewClock(time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC))
}

// rig is the service wired to a real SQLite store on a temp dir and the
// fake n8n on loopback through the real client.
type rig struct {
	svc    *app.Service
	db     *store.DB
	fake   *n8ntest.Server
	clock  *fakeClock
	sender *app.Sender
	bus    *app.Bus
}

func newRig(t *testing.T, apiKey string) *rig {
	t.Helper()
	return newRigOn(t, filepath.Join(t.TempDir(), "influencegen.db"), newFakeClock(), n8ntest.New(t, n8ntest.Options{}), apiKey)
}

// newRigOn is one "process" on the database file at path: its own store
// handle (connections, writer), service and sender, with the given clock
// and fake n8n. Two rigs on one path race like two processes on one home.
func newRigOn(t *testing.T, path string, clock *fakeClock, fake *n8ntest.Server, apiKey string) *rig {
	t.Helper()
	db, err := store.Open(t.Context(), path, store.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	client := n8n.NewClient(n8n.ClientOptions{
		URL: fake.WebhookURL, APIKey: func(context.Context) (string, error) { return apiKey, nil },
		// Long: tests hold POSTs open on purpose, and a client retry would
		// be a second POST the tests count.
		Timeout: time.Minute, Version: "0.0.0",
		Sleep: func(context.Context, time.Duration) error { return nil }, // retries without waiting
	})
	bus := app.NewBus()
	seed := uint32(1000)
	svc := &app.Service{
		Config: app.DefaultConfig(), Store: db, Workflow: client, Bus: bus, Clock: clock,
		Log: slog.New(slog.DiscardHandler), User: "alice",
		Seeds:       func() uint32 { seed++; return seed },
		CallbackURL: func() string { return "http://127.0.0.1:8787" + app.CallbackPath },
	}
	return &rig{svc: svc, db: db, fake: fake, clock: clock, bus: bus,
		sender: &app.Sender{Service: svc, Concurrency: 4}}
}

// submit stores n requests for a short prompt.
func (r *rig) submit(t *testing.T, n int) []app.Request {
	t.Helper()
	reqs, err := r.svc.Submit(t.Context(), app.ParamsInput{Prompt: "a red fox", Count: n})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// moveTo walks a request along the state machine to st, as the workers and
// the ingest would.
func (r *rig) moveTo(t *testing.T, id string, path ...app.Status) {
	t.Helper()
	for _, st := range path {
		c := app.Change{ID: id, To: st, CountAttempt: st == app.StatusSending}
		if st == app.StatusFailed {
			c.ErrorCode, c.ErrorMessage = "generation_failed", "the model crashed"
		}
		if _, err := r.db.Transition(t.Context(), c); err != nil {
			t.Fatalf("move %s to %s: %v", id, st, err)
		}
	}
}

func (r *rig) get(t *testing.T, id string) app.Request {
	t.Helper()
	req, err := r.db.GetRequest(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// kinds lists a request's activity kinds, oldest first.
func (r *rig) kinds(t *testing.T, id string) []string {
	t.Helper()
	acts, err := r.db.ListActivity(t.Context(), app.ActivityQuery{RequestID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(acts))
	for i, a := range acts {
		out[len(acts)-1-i] = a.Kind
	}
	return out
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runSender starts the sender's Run and returns a stop func that cancels
// it and waits for it to return.
func (r *rig) runSender(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.sender.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sender.Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}
