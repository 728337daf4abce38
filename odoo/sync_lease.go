package odoo

import (
	"context"
	"time"

	"github.com/influencegen/influencegen/app"
)

// takeLease takes the odoo-sync lease for one batch, waiting up to wait
// while another process holds it, and returns its release.
func (s *Syncer) takeLease(ctx context.Context, wait time.Duration) (func(), error) {
	s.leaseErr = nil
	leases := s.opts.Leases
	if leases == nil {
		return func() {}, nil
	}
	deadline := s.opts.Clock.Now().Add(wait)
	for {
		_, err := leases.TryLease(ctx, app.LeaseOdooSync, s.owner, s.opts.LeaseTTL)
		if err == nil {
			s.leaseRenewed = s.opts.Clock.Now()
			return s.releaseLease, nil
		}
		if app.ErrorReason(err) != app.ReasonLeaseHeld || !s.opts.Clock.Now().Before(deadline) {
			return nil, leaseError(err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.opts.Clock.After(leasePoll):
		}
	}
}

// releaseLease frees the lease so the next syncer need not wait for it to
// expire; it runs on shutdown too, hence its own short context.
func (s *Syncer) releaseLease() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.opts.Leases.ReleaseLease(ctx, app.LeaseOdooSync, s.owner.Token); err != nil {
		s.opts.Log.Warn("odoo sync: releasing the sync lease failed; it expires by itself", "err", err)
	}
}

// renewLease runs before every RPC of a batch: once a quarter of the TTL
// has passed it extends the lease. If that fails, the batch stops calling
// Odoo and records nothing (runOnce checks leaseErr): a syncer that may
// have lost the lease must not go on writing.
func (s *Syncer) renewLease(ctx context.Context) error {
	if s.opts.Leases == nil || s.leaseRenewed.IsZero() {
		return nil
	}
	if s.leaseErr != nil {
		return s.leaseErr
	}
	if s.opts.Clock.Now().Sub(s.leaseRenewed) < s.opts.LeaseTTL/4 {
		return nil
	}
	if _, err := s.opts.Leases.TryLease(ctx, app.LeaseOdooSync, s.owner, s.opts.LeaseTTL); err != nil {
		s.leaseErr = &app.Error{Code: app.ECONFLICT, Reason: app.ReasonLeaseHeld, Err: err,
			Message: "odoo sync stopped mid-batch: renewing the sync lease failed (" + app.ErrorMessage(err) + "); the unsynced items stay due"}
		return s.leaseErr
	}
	s.leaseRenewed = s.opts.Clock.Now()
	return nil
}

// leaseError says what a held lease means for the person who ran `sync now`.
func leaseError(err error) error {
	if app.ErrorReason(err) != app.ReasonLeaseHeld {
		return err
	}
	return &app.Error{Code: app.ECONFLICT, Reason: app.ReasonLeaseHeld, Err: err,
		Message: "another influencegen process is syncing this database to Odoo (" + app.ErrorMessage(err) +
			"); it syncs the same outbox, so wait for it, or stop it and run `influencegen sync now` again"}
}
