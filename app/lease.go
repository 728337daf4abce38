package app

import (
	"context"
	"os"
	"time"
)

// LeaseOdooSync names the lease a syncer holds while it drains the outbox:
// one syncer per database file at a time, across processes. runMu in one
// process cannot stop `serve` and `influencegen sync now` from writing the
// same record to Odoo from two reads of different age (issue 11 §2).
const LeaseOdooSync = "odoo-sync"

// ReasonLeaseHeld is the reason of the ECONFLICT error TryLease returns
// while another holder's lease is unexpired.
const ReasonLeaseHeld = "sync_lease_held"

// LeaseOwner identifies one holder: Token is unique per holder (two
// syncers in one process differ), PID and Host say who it is to a person.
type LeaseOwner struct {
	Token string `json:"token"`
	PID   int    `json:"pid"`
	Host  string `json:"host"`
}

// NewLeaseOwner returns an owner for this process with a fresh token.
func NewLeaseOwner(now time.Time) LeaseOwner {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return LeaseOwner{Token: NewID(now), PID: os.Getpid(), Host: host}
}

// Lease is a named, expiring lock in the database.
type Lease struct {
	Name       string     `json:"name"`
	Owner      LeaseOwner `json:"owner"`
	AcquiredAt time.Time  `json:"acquired_at"` // when this owner took it (kept across renewals)
	ExpiresAt  time.Time  `json:"expires_at"`
}

// Leases are cross-process leases (the store implements them in SQLite).
type Leases interface {
	// TryLease takes name for owner until now+ttl when it is free, expired
	// or already owner's (then it is renewed). It is one compare-and-set:
	// two processes racing for a free lease cannot both win. While another
	// owner holds it, it returns that lease and an ECONFLICT error with
	// reason ReasonLeaseHeld naming the holder.
	TryLease(ctx context.Context, name string, owner LeaseOwner, ttl time.Duration) (Lease, error)
	// ReleaseLease gives name up if token still holds it; a lease that
	// expired and was taken by someone else is left alone.
	ReleaseLease(ctx context.Context, name, token string) error
}
