package app

import (
	"context"
	"fmt"
	"time"
)

// DefaultSweepEvery is how often the sweeper looks for lost requests.
const DefaultSweepEvery = time.Minute

// Sweeper marks requests whose callback never came: processing for longer
// than generation.request_timeout becomes timed_out ("lost", never "done";
// a late callback still completes it).
type Sweeper struct {
	Service *Service
	Every   time.Duration // default 1 min
}

// Run sweeps at once and then every Every until ctx ends.
func (w *Sweeper) Run(ctx context.Context) error {
	every := w.Every
	if every <= 0 {
		every = DefaultSweepEvery
	}
	for {
		if n, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.Service.log().Warn("sweeper: scan failed", "error", err)
		} else if n > 0 {
			w.Service.log().Info("sweeper: requests timed out", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.Service.clock().After(every):
		}
	}
}

// Sweep times out every overdue processing request and returns how many.
func (w *Sweeper) Sweep(ctx context.Context) (int, error) {
	svc := w.Service
	timeout := svc.Config.Generation.RequestTimeout.D()
	if timeout <= 0 {
		timeout = DefaultConfig().Generation.RequestTimeout.D()
	}
	cutoff := svc.clock().Now().Add(-timeout)
	msg := fmt.Sprintf("no result from n8n within %s (generation.request_timeout); a late result will still complete it", timeout)
	count := 0
	for {
		overdue, err := svc.Store.RequestsInStatus(ctx, StatusProcessing, cutoff, senderBatch)
		if err != nil {
			return count, err
		}
		for _, r := range overdue {
			_, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusTimedOut, From: []Status{StatusProcessing},
				ErrorCode: "request_timeout", ErrorMessage: msg,
				Activity: svc.activity(r.ID, ActivityTimedOut, LevelWarn, "timed out: "+msg)})
			if err != nil {
				if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
					continue // the callback won the race: nothing is lost
				}
				return count, err
			}
			count++
			svc.publish(r.ID)
		}
		if len(overdue) < senderBatch {
			return count, nil
		}
	}
}
