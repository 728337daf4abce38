package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// leaseSeen is another sender's lease on a request in sending as this
// sender first read it, with when (on this process's clock, monotonic when
// real) it was read.
type leaseSeen struct {
	owner    string
	beat     int64
	attempts int
	since    time.Time
}

func newLeaseOwner() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

func (s *Sender) leaseTTL() time.Duration {
	if s.LeaseTTL > 0 {
		return s.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (s *Sender) heartbeatEvery() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return s.leaseTTL() / 4
}

// markSending notes that this sender is about to claim and POST id; it
// reports false when a POST of id from here is still open.
func (s *Sender) markSending(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sending[id] {
		return false
	}
	s.sending[id] = true
	return true
}

func (s *Sender) unmarkSending(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sending, id)
}

// heartbeat renews the send lease of id every Heartbeat until the returned
// stop is called; stop reports whether the lease was lost meanwhile. A lost
// lease (another sender recovered the request because this process stood
// still longer than a lease, e.g. a suspended laptop) cancels the POST at
// once, so two POSTs of one request overlap for at most one heartbeat. A
// request that merely left sending (its callback came before the ack) ends
// the heartbeat quietly.
func (s *Sender) heartbeat(ctx context.Context, id string, cancelSend context.CancelFunc) (stop func() (lost bool)) {
	svc := s.Service
	quit := make(chan struct{})
	done := make(chan struct{})
	var lost atomic.Bool
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-svc.clock().After(s.heartbeatEvery()):
			}
			rctx, cancel := context.WithTimeout(ctx, afterSendTimeout)
			held, err := svc.Store.RenewSendLease(rctx, id, s.owner)
			if err == nil && !held {
				var req Request
				req, err = svc.Store.GetRequest(rctx, id)
				if err == nil && req.Status == StatusSending && req.LeaseOwner != s.owner {
					lost.Store(true)
					cancelSend()
				}
				cancel()
				return
			}
			cancel()
			if err != nil && ctx.Err() == nil {
				// A busy database: the next beat tries again, well within the lease.
				svc.log().Warn("sender: send lease not renewed", "request_id", id, "error", err)
			}
		}
	}()
	return func() bool {
		close(quit)
		<-done
		return lost.Load()
	}
}

// Recover moves requests that a stopped sender (a crashed or killed
// process) left in sending back to queued, with a "recovered" activity;
// the next dispatch re-sends them with the same id.
//
// A request counts as left behind only when its lease (owner, heartbeat,
// send attempts) has not changed for LeaseTTL, measured on this process's
// clock from the first time this sender read it; a live send renews its
// heartbeat every LeaseTTL/4, so it never qualifies, however long its POST
// takes and whatever the wall clock does. Sends of this sender are skipped
// outright. The move back to queued is a compare-and-set on the lease as
// read: if anyone claimed or renewed the request since, it changes nothing.
func (s *Sender) Recover(ctx context.Context) (int, error) {
	s.init()
	svc := s.Service
	rows, err := svc.Store.RequestsInStatus(ctx, StatusSending, time.Time{}, recoveryScanLimit)
	if err != nil {
		return 0, err
	}
	now := svc.clock().Now() // keeps its monotonic reading: never .UTC() here
	stale := s.staleLeases(rows, now)
	if s.hook != nil {
		s.hook(stale)
	}
	count := 0
	for _, r := range stale {
		_, err := svc.Store.Transition(ctx, Change{ID: r.ID, To: StatusQueued, From: []Status{StatusSending}, IfUnchanged: &r,
			Activity: svc.activity(r.ID, ActivityRecovered, LevelWarn,
				"recovered: the sender that held it stopped while sending; re-sending once with the same id")})
		s.mu.Lock()
		delete(s.seen, r.ID)
		s.mu.Unlock()
		if err != nil {
			if ErrorCode(err) == ECONFLICT || ErrorCode(err) == ENOTFOUND {
				continue // claimed, renewed or finished meanwhile: nothing to recover
			}
			return count, err
		}
		count++
		svc.publish(r.ID)
	}
	return count, nil
}

// staleLeases updates what this sender has seen of other senders' leases
// and returns the requests whose lease stood still for LeaseTTL.
func (s *Sender) staleLeases(rows []Request, now time.Time) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	present := make(map[string]bool, len(rows))
	var stale []Request
	for _, r := range rows {
		present[r.ID] = true
		if s.sending[r.ID] {
			continue
		}
		prev, ok := s.seen[r.ID]
		if !ok || prev.owner != r.LeaseOwner || prev.beat != r.LeaseBeat || prev.attempts != r.SendAttempts {
			s.seen[r.ID] = leaseSeen{owner: r.LeaseOwner, beat: r.LeaseBeat, attempts: r.SendAttempts, since: now}
			continue
		}
		if now.Sub(prev.since) >= s.leaseTTL() {
			stale = append(stale, r)
		}
	}
	for id := range s.seen {
		if !present[id] {
			delete(s.seen, id)
		}
	}
	return stale
}
