package app

import (
	"context"
	"fmt"
	"time"
)

// DefaultSweepEvery is the longest the sweeper sleeps when it knows of no
// earlier deadline: a request another process moved to processing is
// noticed within min(this, generation.request_timeout), which is before
// its deadline.
const DefaultSweepEvery = time.Minute

// sweepRetry is the pause after a round that failed (a store error), or
// that kept finding a passed deadline: never a busy loop.
const sweepRetry = time.Second

// Sweeper marks requests whose callback never came: processing for longer
// than generation.request_timeout becomes timed_out ("lost", never "done";
// a late callback still completes it). It sleeps until the earliest
// deadline of the requests in processing, and is re-armed when this
// process moves one there, so a request times out on time, not up to a
// tick late.
type Sweeper struct {
	Service *Service
	Every   time.Duration // the longest sleep, default DefaultSweepEvery
}

func (w *Sweeper) timeout() time.Duration {
	if t := w.Service.Config.Generation.RequestTimeout.D(); t > 0 {
		return t
	}
	return DefaultConfig().Generation.RequestTimeout.D()
}

// Run sweeps at once and then at each next deadline until ctx ends.
func (w *Sweeper) Run(ctx context.Context) error {
	svc := w.Service
	again := 0
	for {
		n, err := w.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			svc.log().Warn("sweeper: scan failed", "error", err)
		} else if n > 0 {
			svc.log().Info("sweeper: requests timed out", "count", n)
		}
		wait, werr := w.nextWait(ctx)
		if werr != nil && ctx.Err() == nil {
			svc.log().Warn("sweeper: reading the next deadline failed", "error", werr)
		}
		if wait <= 0 && err == nil && werr == nil && again < 3 && ctx.Err() == nil {
			// A deadline passed while we swept: sweep again now, not a pause later.
			again++
			continue
		}
		again = 0
		if wait <= 0 {
			wait = sweepRetry // something failed: never a busy loop
		}
		select {
		case <-ctx.Done():
			return nil
		case <-svc.sweepBell():
		case <-svc.clock().After(wait):
		}
	}
}

// nextWait is how long to sleep: until the earliest deadline of a request
// in processing (0 when it has passed), at most min(Every, timeout).
func (w *Sweeper) nextWait(ctx context.Context) (time.Duration, error) {
	timeout := w.timeout()
	longest := w.Every
	if longest <= 0 {
		longest = DefaultSweepEvery
	}
	longest = min(longest, timeout)
	oldest, err := w.Service.Store.RequestsInStatus(ctx, StatusProcessing, time.Time{}, 1)
	if err != nil {
		return sweepRetry, err
	}
	if len(oldest) == 0 {
		return longest, nil
	}
	wait := oldest[0].UpdatedAt.Add(timeout).Sub(w.Service.clock().Now())
	return max(0, min(wait, longest)), nil
}

// Deadline is when a request in processing times out: the time it entered
// processing plus generation.request_timeout. `generate --wait` gives up
// at the same instant.
func Deadline(r Request, timeout time.Duration) time.Time { return r.UpdatedAt.Add(timeout) }

// Sweep times out every overdue processing request and returns how many.
func (w *Sweeper) Sweep(ctx context.Context) (int, error) {
	svc := w.Service
	timeout := w.timeout()
	// updated_at <= now - timeout: a request times out at its deadline, not
	// one clock tick after it.
	cutoff := svc.clock().Now().Add(-timeout).Add(time.Nanosecond)
	msg := fmt.Sprintf("no result from n8n within %s (generation.request_timeout); a late result will still complete it", timeout)
	count := 0
	for {
		overdue, err := svc.Store.RequestsInStatus(ctx, StatusProcessing, cutoff, senderBatch)
		if err != nil {
			return count, err
		}
		moved := 0
		for _, r := range overdue {
			_, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusTimedOut, From: []Status{StatusProcessing},
				ErrorCode: "request_timeout", ErrorMessage: msg,
				Activity: svc.activity(r.ID, ActivityTimedOut, LevelWarn, "timed out: "+msg)})
			if err != nil {
				if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
					moved++ // the callback won the race: nothing is lost, and it left processing
					continue
				}
				return count, err
			}
			moved++
			count++
			svc.publish(r.ID)
		}
		if len(overdue) < senderBatch || moved == 0 {
			return count, nil
		}
	}
}
