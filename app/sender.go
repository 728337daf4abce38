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
	// DefaultLeaseTTL is how long a send lease's heartbeat may stand still,
	// on the observing process's own monotonic clock, before the request is
	// taken for a crashed process's leftover. A live send beats every
	// LeaseTTL/4 however long its POST takes, so this bounds only how late a
	// crashed send is re-sent.
	DefaultLeaseTTL = time.Minute
	// recoveryScanLimit bounds one recovery read. Rows in sending are at
	// most Concurrency per running sender, so one read sees them all.
	recoveryScanLimit = 1000
	senderBatch       = 64
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
//
// At most one POST per request is in flight across every process on the
// database file: the claim takes a send lease (the request row names this
// sender), the send renews it while its POST is open (sendlease.go), and
// recovery of a crashed process's leftover moves a request back to queued
// only when its lease has stood still for LeaseTTL and is still exactly
// what recovery read.
type Sender struct {
	Service     *Service
	Concurrency int           // parallel POSTs, default 4
	ScanEvery   time.Duration // periodic scan for requests queued by another process, default 30 s
	// LeaseTTL is how long another sender's lease must stand still (no
	// heartbeat, measured here on the monotonic clock) before its request
	// is recovered; default DefaultLeaseTTL. Heartbeat is how often a send
	// in flight renews its own lease; default LeaseTTL/4.
	LeaseTTL  time.Duration
	Heartbeat time.Duration

	once     sync.Once
	slots    chan struct{}
	inFlight sync.WaitGroup
	owner    string // this sender's lease name: pid and random, unique per run

	mu      sync.Mutex
	sending map[string]bool       // ids claimed here whose outcome is not recorded yet
	seen    map[string]leaseSeen  // other senders' leases as first read (recovery)
	hook    func(stale []Request) // test hook: after recovery read, before its compare-and-set
}

func (s *Sender) init() {
	s.once.Do(func() {
		n := s.Concurrency
		if n <= 0 {
			n = DefaultSendConcurrency
		}
		s.slots = make(chan struct{}, n)
		s.owner = newLeaseOwner()
		s.sending = map[string]bool{}
		s.seen = map[string]leaseSeen{}
	})
}

// Run recovers requests a crashed process left in sending (see Recover),
// then sends queued requests whenever Submit or Retry rings, and on a
// periodic scan.
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
			svc.log().Info("sender: re-queued requests a stopped sender left in sending", "count", n)
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
	// Marked before the claim commits: recovery in this process must never
	// see its own send as someone else's leftover. A request whose earlier
	// POST from here is still open (its lease was taken over while this
	// process stood still) is not started again until that POST ends.
	if !s.markSending(r.ID) {
		<-s.slots
		return nil
	}
	claimed, err := s.claim(ctx, r)
	if err != nil {
		s.unmarkSending(r.ID)
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
		defer s.unmarkSending(claimed.ID)
		s.send(ctx, claimed)
	}()
	return nil
}

// claim commits queued → sending before anything leaves the machine.
func (s *Sender) claim(ctx context.Context, r Request) (Request, error) {
	svc := s.Service
	out, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusSending, From: []Status{StatusQueued}, CountAttempt: true, ClaimBy: s.owner,
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
	sendCtx, cancelSend := context.WithCancel(ctx)
	stopBeats := s.heartbeat(ctx, req.ID, cancelSend)
	ack, sendErr := svc.Workflow.Send(sendCtx, req, callbackURL)
	lost := stopBeats()
	cancelSend()
	if lost {
		// Another sender recovered the request while this POST was held up
		// (this process was stalled longer than a lease): the request is
		// theirs now, and so is recording its outcome.
		svc.log().Warn("sender: send lease lost; the outcome of this POST is not recorded", "request_id", req.ID, "error", sendErr)
		return
	}

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
	change.HeldBy = s.owner
	if _, err := svc.Store.Transition(wctx, change); err != nil {
		switch ErrorCode(err) {
		case ECONFLICT, ENOTFOUND:
			// Expected: the callback (or a cancel, or a delete) got there
			// before we read the ack, or another sender recovered it. The
			// request keeps its newer state.
			svc.log().Debug("sender: outcome not applied, the request moved on", "request_id", req.ID, "to", change.To, "error", err)
		default:
			svc.log().Error("sender: outcome not recorded", "request_id", req.ID, "to", change.To, "error", err)
		}
		return
	}
	if change.To == StatusProcessing {
		svc.rearmSweeper() // its deadline starts now
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
