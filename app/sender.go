package app

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Sender defaults.
const (
	DefaultSendConcurrency = 4
	DefaultSenderScan      = 30 * time.Second
	senderBatch            = 64
	// afterSendTimeout bounds the store write that records a send's
	// outcome; it runs even when the worker is stopping, so the outcome of a
	// POST that left is never lost to a shutdown.
	afterSendTimeout = 10 * time.Second
)

// Sender sends queued requests to the workflow (n8n) with bounded
// concurrency. Each request is moved queued → sending in a committed
// compare-and-set BEFORE its POST leaves, because real n8n may call back
// before we read its 202; the ack then only moves sending → processing and
// never touches a request the callback already finished.
type Sender struct {
	Service     *Service
	Concurrency int           // parallel POSTs, default 4
	ScanEvery   time.Duration // periodic scan for requests queued by another process, default 30 s
	// StaleSending is how long a request may stay in sending before it is
	// taken for the leftover of a crashed process and re-queued. It must
	// exceed the longest possible send (4 attempts of n8n.timeout plus the
	// waits between them), so a live send of another process (serve next to
	// the dashboard) is never taken over. Default 4×n8n.timeout + 3 min.
	StaleSending time.Duration

	once     sync.Once
	slots    chan struct{}
	inFlight sync.WaitGroup
}

func (s *Sender) init() {
	s.once.Do(func() {
		n := s.Concurrency
		if n <= 0 {
			n = DefaultSendConcurrency
		}
		s.slots = make(chan struct{}, n)
	})
}

func (s *Sender) staleSending() time.Duration {
	if s.StaleSending > 0 {
		return s.StaleSending
	}
	t := s.Service.Config.N8N.Timeout.D()
	if t <= 0 {
		t = 15 * time.Second
	}
	return 4*t + 3*time.Minute
}

// Run recovers requests a crashed process left in sending, then sends
// queued requests whenever Submit or Retry rings, and on a periodic scan.
// It returns when ctx ends, after every in-flight send has recorded its
// outcome.
func (s *Sender) Run(ctx context.Context) error {
	s.init()
	defer s.inFlight.Wait()
	svc := s.Service
	every := s.ScanEvery
	if every <= 0 {
		every = DefaultSenderScan
	}
	for {
		if n, err := s.Recover(ctx); err != nil && ctx.Err() == nil {
			svc.log().Warn("sender: recovery scan failed", "error", err)
		} else if n > 0 {
			svc.log().Info("sender: re-queued requests left in sending", "count", n)
		}
		if err := s.dispatch(ctx); err != nil && ctx.Err() == nil {
			svc.log().Warn("sender: scan of queued requests failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-svc.wakeups():
		case <-svc.clock().After(every):
		}
	}
}

// Recover moves requests stuck in sending for longer than StaleSending back
// to queued, with a "recovered" activity; the next dispatch re-sends them
// once with the same id (the Idempotency-Key lets n8n drop a duplicate).
func (s *Sender) Recover(ctx context.Context) (int, error) {
	svc := s.Service
	cutoff := svc.clock().Now().Add(-s.staleSending())
	count := 0
	for {
		stuck, err := svc.Store.RequestsInStatus(ctx, StatusSending, cutoff, senderBatch)
		if err != nil {
			return count, err
		}
		for _, r := range stuck {
			_, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusQueued, From: []Status{StatusSending},
				Activity: svc.activity(r.ID, ActivityRecovered, LevelWarn,
					"recovered: the program stopped while sending; re-sending once with the same id")})
			if err != nil {
				if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
					continue // moved on meanwhile: nothing to recover
				}
				return count, err
			}
			count++
			svc.publish(r.ID)
		}
		if len(stuck) < senderBatch {
			return count, nil
		}
	}
}

// dispatch claims and starts queued requests, oldest first, as slots free.
func (s *Sender) dispatch(ctx context.Context) error {
	for {
		queued, err := s.Service.Store.RequestsInStatus(ctx, StatusQueued, time.Time{}, senderBatch)
		if err != nil {
			return err
		}
		for _, r := range queued {
			if err := s.start(ctx, r, &s.inFlight); err != nil {
				return err
			}
		}
		if len(queued) < senderBatch {
			return nil
		}
	}
}

// start waits for a free slot, claims r and sends it on its own goroutine.
// A request that moved on meanwhile (cancelled, taken by another process) is
// skipped.
func (s *Sender) start(ctx context.Context, r Request, wg *sync.WaitGroup) error {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	claimed, err := s.claim(ctx, r)
	if err != nil {
		<-s.slots
		if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { <-s.slots }()
		s.send(ctx, claimed)
	}()
	return nil
}

// claim commits queued → sending before anything leaves the machine.
func (s *Sender) claim(ctx context.Context, r Request) (Request, error) {
	svc := s.Service
	out, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusSending, From: []Status{StatusQueued}, CountAttempt: true,
		Activity: svc.activity(r.ID, ActivitySent, LevelInfo, fmt.Sprintf("sending to n8n (attempt %d)", r.SendAttempts+1))})
	if err != nil {
		return Request{}, err
	}
	svc.publish(r.ID)
	return out, nil
}

// send posts one claimed request and records the outcome.
func (s *Sender) send(ctx context.Context, req Request) {
	svc := s.Service
	callbackURL := ""
	if svc.CallbackURL != nil {
		callbackURL = svc.CallbackURL()
	}
	ack, sendErr := svc.Workflow.Send(ctx, req, callbackURL)

	// Record the outcome even if we are stopping: the POST may have left.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterSendTimeout)
	defer cancel()
	var change Change
	switch {
	case sendErr != nil && ctx.Err() != nil:
		change = Change{ID: req.ID, To: StatusQueued, From: []Status{StatusSending},
			Activity: svc.activity(req.ID, ActivityRecovered, LevelWarn, "sending interrupted by shutdown; it will be re-sent with the same id")}
	case sendErr != nil:
		reason, msg := ErrorReason(sendErr), ErrorMessage(sendErr)
		change = Change{ID: req.ID, To: StatusInitiationFailed, From: []Status{StatusSending}, ErrorCode: reason, ErrorMessage: msg,
			Activity: svc.activity(req.ID, ActivityInitiationFailed, LevelError, reason+": "+msg)}
	default:
		now := svc.clock().Now().UTC()
		msg := fmt.Sprintf("n8n accepted (HTTP %d)", ack.StatusCode)
		if ack.ExecutionID != "" {
			msg += ", execution " + ack.ExecutionID
		}
		change = Change{ID: req.ID, To: StatusProcessing, From: []Status{StatusSending}, SentAt: &now, ExecutionID: ack.ExecutionID,
			Activity: svc.activity(req.ID, ActivityAccepted, LevelInfo, msg)}
	}
	if _, err := svc.Store.Transition(wctx, change); err != nil {
		switch ErrorCode(err) {
		case ECONFLICT, ENOTFOUND:
			// Expected: the callback (or a cancel, or a delete) got there
			// before we read the ack. The request keeps its newer state.
			svc.log().Debug("sender: outcome not applied, the request moved on", "request_id", req.ID, "to", change.To, "error", err)
		default:
			svc.log().Error("sender: outcome not recorded", "request_id", req.ID, "to", change.To, "error", err)
		}
		return
	}
	svc.publish(req.ID)
}

// SendRequests sends exactly the given requests (those still queued) and
// returns when each has left sending, with their current state. The CLI
// uses it to send what it just stored without touching other work.
func (s *Sender) SendRequests(ctx context.Context, ids []string) ([]Request, error) {
	s.init()
	var wg sync.WaitGroup
	var startErr error
	for _, id := range ids {
		r, err := s.Service.Store.GetRequest(ctx, id)
		if err != nil {
			startErr = err
			break
		}
		if r.Status != StatusQueued {
			continue
		}
		if err := s.start(ctx, r, &wg); err != nil {
			startErr = err
			break
		}
	}
	wg.Wait()
	rctx := context.WithoutCancel(ctx)
	out := make([]Request, 0, len(ids))
	for _, id := range ids {
		r, err := s.Service.Store.GetRequest(rctx, id)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, startErr
}
