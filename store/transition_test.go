package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestTransitionIsCompareAndSet(t *testing.T) {
	tests := []struct {
		name    string
		path    []app.Status // moves made first, each must succeed
		to      app.Status
		wantErr string // "" = allowed
	}{
		{"a queued request can start sending", nil, app.StatusSending, ""},
		{"a sending request can be accepted", []app.Status{app.StatusSending}, app.StatusProcessing, ""},
		{"a callback can complete a request still sending", []app.Status{app.StatusSending}, app.StatusCompleted, ""},
		{"a late ack after completion is refused", []app.Status{app.StatusSending, app.StatusCompleted}, app.StatusProcessing, app.ECONFLICT},
		{"a completed request cannot fail afterwards", []app.Status{app.StatusSending, app.StatusProcessing, app.StatusCompleted}, app.StatusFailed, app.ECONFLICT},
		{"a timed out request can still complete", []app.Status{app.StatusSending, app.StatusProcessing, app.StatusTimedOut}, app.StatusCompleted, ""},
		{"a result completes a request we believed unsent", nil, app.StatusCompleted, ""},
		{"a result fails a request whose send we gave up on", []app.Status{app.StatusSending, app.StatusInitiationFailed}, app.StatusFailed, ""},
		{"a queued request cannot jump to processing", nil, app.StatusProcessing, app.ECONFLICT},
		{"a cancelled request stays cancelled", []app.Status{app.StatusCancelled}, app.StatusQueued, app.ECONFLICT},
		{"crash recovery re-queues a sending request", []app.Status{app.StatusSending}, app.StatusQueued, ""},
		{"nothing moves to queued from processing", []app.Status{app.StatusSending, app.StatusProcessing}, app.StatusQueued, app.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTest(t)
			r := createOne(t, db, "a test prompt")
			for _, st := range tt.path {
				move(t, db, r.ID, st)
			}
			before, _ := db.GetRequest(context.Background(), r.ID)
			outboxBefore := countRows(t, db, "outbox", "request_id = ?", r.ID)
			got, err := db.Transition(context.Background(), app.Change{ID: r.ID, To: tt.to})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Transition: %v", err)
				}
				if got.Status != tt.to {
					t.Fatalf("status = %s, want %s", got.Status, tt.to)
				}
				return
			}
			wantCode(t, err, tt.wantErr)
			if app.ErrorReason(err) != "invalid_transition" {
				t.Errorf("reason = %q, want invalid_transition", app.ErrorReason(err))
			}
			msg := err.Error()
			if !strings.Contains(msg, string(before.Status)) || !strings.Contains(msg, string(tt.to)) {
				t.Errorf("message %q should name the current state %s and the target %s", msg, before.Status, tt.to)
			}
			after, _ := db.GetRequest(context.Background(), r.ID)
			if after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("a refused move changed the request: %+v → %+v", before, after)
			}
			if n := countRows(t, db, "outbox", "request_id = ?", r.ID); n != outboxBefore {
				t.Errorf("a refused move enqueued outbox rows: %d → %d", outboxBefore, n)
			}
		})
	}
}

func TestTransitionOfAnUnknownRequestIsNotFound(t *testing.T) {
	db, _ := openTest(t)
	_, err := db.Transition(context.Background(), app.Change{ID: "01JDX3V6Q6T7ZP3Y6N4B1K9S2E", To: app.StatusSending})
	wantCode(t, err, app.ENOTFOUND)
}

func TestTransitionWritesStateActivityAndOutboxTogether(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "a fox")
	clock.Advance(time.Second)
	sent := clock.Now()
	got, err := db.Transition(ctx, app.Change{ID: r.ID, To: app.StatusSending, CountAttempt: true,
		Activity: &app.Activity{Kind: app.ActivitySent, Message: "sent to n8n"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = db.Transition(ctx, app.Change{ID: r.ID, To: app.StatusProcessing, SentAt: &sent, ExecutionID: "exec-9",
		Activity: &app.Activity{Kind: app.ActivityAccepted}})
	if err != nil {
		t.Fatal(err)
	}
	if got.SendAttempts != 1 || got.ExecutionID != "exec-9" || got.SentAt == nil || !got.SentAt.Equal(sent) {
		t.Errorf("change fields not applied: %+v", got)
	}
	// Two changes at one clock reading: the second is 1 ns later, so
	// updated_at still orders them (Odoo keeps the newest).
	if !got.UpdatedAt.Equal(sent.Add(time.Nanosecond)) {
		t.Errorf("updated_at = %v, want %v", got.UpdatedAt, sent.Add(time.Nanosecond))
	}
	// An empty ExecutionID keeps the stored one; a result stamps completed_at.
	clock.Advance(time.Second)
	got, err = db.Transition(ctx, app.Change{ID: r.ID, To: app.StatusFailed, ErrorCode: "n8n_error", ErrorMessage: "GPU on fire"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ExecutionID != "exec-9" || got.ErrorCode != "n8n_error" || got.CompletedAt == nil || !got.CompletedAt.Equal(clock.Now()) {
		t.Errorf("failed request: %+v", got)
	}
	if got.SyncState != app.SyncPending {
		t.Errorf("sync_state = %s, want pending", got.SyncState)
	}
	acts, err := db.ListActivity(ctx, app.ActivityQuery{RequestID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range acts {
		kinds = append(kinds, a.Kind)
	}
	if strings.Join(kinds, ",") != "accepted,sent,created" {
		t.Errorf("activity kinds newest first = %v", kinds)
	}
	if acts[0].Message != "sending → processing" {
		t.Errorf("default activity message = %q", acts[0].Message)
	}
	// created + three moves: four upsert rows.
	if n := countRows(t, db, "outbox", "request_id = ? AND kind = 'upsert_request'", r.ID); n != 4 {
		t.Errorf("upsert outbox rows = %d, want 4", n)
	}
}

func TestTransitionWithExplicitSourcesOnlyMovesFromThem(t *testing.T) {
	db, _ := openTest(t)
	r := createOne(t, db, "x")
	// Cancel only if still queued: a request already sending is left alone.
	move(t, db, r.ID, app.StatusSending)
	_, err := db.Transition(context.Background(), app.Change{ID: r.ID, To: app.StatusCancelled, From: []app.Status{app.StatusQueued}})
	wantCode(t, err, app.ECONFLICT)
}

func TestConcurrentAckAndCallbackLeaveTheRequestCompleted(t *testing.T) {
	// The race of DESIGN §3: n8n calls back before its 202 is read. Whatever
	// order the two writes take, the request ends completed.
	for i := 0; i < 20; i++ {
		db, _ := openTest(t)
		r := createOne(t, db, "race")
		move(t, db, r.ID, app.StatusSending)
		errs := make(chan error, 2)
		go func() {
			_, err := db.Transition(context.Background(), app.Change{ID: r.ID, To: app.StatusProcessing})
			errs <- err
		}()
		go func() {
			_, err := db.Transition(context.Background(), app.Change{ID: r.ID, To: app.StatusCompleted})
			errs <- err
		}()
		e1, e2 := <-errs, <-errs
		if e1 != nil && e2 != nil {
			t.Fatalf("both moves failed: %v, %v", e1, e2)
		}
		got, _ := db.GetRequest(context.Background(), r.ID)
		if got.Status != app.StatusCompleted {
			t.Fatalf("run %d: final status %s, want completed", i, got.Status)
		}
	}
}

func TestUpdatedAtGrowsWithEveryChangeEvenWhenTheClockStallsOrStepsBack(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "a fox")
	last := r.UpdatedAt
	steps := []struct {
		to   app.Status
		move time.Duration
	}{{app.StatusSending, 0}, {app.StatusProcessing, -time.Hour}, {app.StatusFailed, 0}}
	for _, st := range steps {
		clock.Advance(st.move)
		got, err := db.Transition(ctx, app.Change{ID: r.ID, To: st.to})
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.After(last) {
			t.Fatalf("%s: updated_at %v is not after the previous change's %v", st.to, got.UpdatedAt, last)
		}
		last = got.UpdatedAt
	}
}
