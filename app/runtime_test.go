package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestRunWorkersSendsAndLaterTimesOutAndStopsCleanly(t *testing.T) {
	r := newRig(t, "test-api-key")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.svc.RunWorkers(ctx) }()
	id := r.submit(t, 1)[0].ID
	waitFor(t, "processing", func() bool { return r.get(t, id).Status == app.StatusProcessing })
	r.clock.Advance(31 * time.Minute) // no callback came
	// Keep time moving: the sweeper may start waiting only after the jump.
	waitFor(t, "timed_out", func() bool {
		r.clock.Advance(time.Minute)
		return r.get(t, id).Status == app.StatusTimedOut
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunWorkers: %v", err)
	}
}
