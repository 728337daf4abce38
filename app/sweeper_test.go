package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestSweeperTimesOutOnlyRequestsProcessingLongerThanTheTimeout(t *testing.T) {
	r := newRig(t, "test-api-key")
	reqs := r.submit(t, 3)
	old, recent, done := reqs[0].ID, reqs[1].ID, reqs[2].ID
	r.moveTo(t, old, app.StatusSending, app.StatusProcessing)
	r.moveTo(t, done, app.StatusSending, app.StatusProcessing, app.StatusCompleted)
	r.clock.Advance(20 * time.Minute)
	r.moveTo(t, recent, app.StatusSending, app.StatusProcessing)
	r.clock.Advance(11 * time.Minute) // old: 31 min, recent: 11 min; the timeout is 30 min

	sw := &app.Sweeper{Service: r.svc}
	n, err := sw.Sweep(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want 1", n, err)
	}
	got := r.get(t, old)
	if got.Status != app.StatusTimedOut || got.ErrorCode != "request_timeout" || !strings.Contains(got.ErrorMessage, "30m0s (generation.request_timeout)") {
		t.Errorf("old = %s %s %q", got.Status, got.ErrorCode, got.ErrorMessage)
	}
	if k := r.kinds(t, old); k[len(k)-1] != app.ActivityTimedOut {
		t.Errorf("activity = %v", k)
	}
	if s := r.get(t, recent).Status; s != app.StatusProcessing {
		t.Errorf("recent = %s, want processing", s)
	}
	if s := r.get(t, done).Status; s != app.StatusCompleted {
		t.Errorf("completed = %s", s)
	}
	// A late callback still completes a timed-out request.
	r.moveTo(t, old, app.StatusCompleted)
}

func TestSweeperRunsOnItsClock(t *testing.T) {
	r := newRig(t, "test-api-key")
	id := r.submit(t, 1)[0].ID
	r.moveTo(t, id, app.StatusSending, app.StatusProcessing)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- (&app.Sweeper{Service: r.svc, Every: time.Minute}).Run(ctx) }()
	waitFor(t, "the sweeper to wait", func() bool { return r.clock.Pending() > 0 })
	r.clock.Advance(31 * time.Minute)
	waitFor(t, "the request to time out", func() bool { return r.get(t, id).Status == app.StatusTimedOut })
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// Issue 11, item 6: with a 5 s request_timeout a request times out at its
// deadline: the sweeper, re-armed when the sender moved the request to
// processing, sleeps until exactly then (the old fixed one-minute tick
// fired up to 65 s late).
func TestARequestTimesOutAtItsDeadlineNotAtTheNextTick(t *testing.T) {
	r := newRig(t, "test-api-key")
	r.svc.Config.Generation.RequestTimeout = app.Duration(5 * time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- (&app.Sweeper{Service: r.svc}).Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// sendAt sends one request with the clock at `at` and waits until the
	// sweeper has armed its timer for that request's deadline.
	sendAt := func(at time.Duration) (string, time.Time) {
		t.Helper()
		// The sweeper must be asleep (nothing in processing: for at most
		// the timeout) before the clock moves, or it would measure its
		// next sleep from a time that has already passed.
		idle := r.clock.Now().Add(5 * time.Second)
		waitFor(t, "the sweeper to sleep", func() bool { return r.clock.WaitingUntil(idle) })
		start := newFakeClock().Now()
		r.clock.Advance(start.Add(at).Sub(r.clock.Now()))
		id := r.submit(t, 1)[0].ID
		if out, err := r.sender.SendRequests(t.Context(), []string{id}); err != nil || out[0].Status != app.StatusProcessing {
			t.Fatalf("send: %v (%v)", out, err)
		}
		deadline := app.Deadline(r.get(t, id), 5*time.Second)
		// updated_at grows by a nanosecond per change under a frozen clock
		// (Odoo orders changes by it), so the deadline may be a few ns late.
		if want := start.Add(at + 5*time.Second); deadline.Before(want) || deadline.Sub(want) > time.Millisecond {
			t.Fatalf("deadline %v, want %v", deadline, want)
		}
		waitFor(t, "the sweeper to sleep until the deadline", func() bool {
			return r.clock.WaitingWithin(deadline.Add(-time.Millisecond), deadline)
		})
		return id, deadline
	}

	first, deadline := sendAt(2 * time.Second)
	r.clock.Advance(deadline.Sub(r.clock.Now())) // exactly the deadline
	waitFor(t, "the first request to time out", func() bool { return r.get(t, first).Status == app.StatusTimedOut })

	second, deadline := sendAt(8 * time.Second)
	r.clock.Advance(deadline.Sub(r.clock.Now()) - time.Second)
	if s := r.get(t, second).Status; s != app.StatusProcessing {
		t.Errorf("the second request is %s one second before its deadline", s)
	}
	waitFor(t, "the sweeper to sleep until the deadline", func() bool {
		return r.clock.WaitingWithin(deadline.Add(-time.Millisecond), deadline)
	})
	r.clock.Advance(time.Second)
	waitFor(t, "the second request to time out", func() bool { return r.get(t, second).Status == app.StatusTimedOut })
}
