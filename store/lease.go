package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/influencegen/influencegen/app"
)

var _ app.Leases = (*DB)(nil)

// TryLease takes or renews a lease in one statement: the upsert's WHERE
// lets it replace the row only when the row is ours or expired, and the
// writer's BEGIN IMMEDIATE makes the check and the write one step for
// every process on the file.
func (d *DB) TryLease(ctx context.Context, name string, owner app.LeaseOwner, ttl time.Duration) (app.Lease, error) {
	if name == "" || owner.Token == "" || ttl <= 0 {
		return app.Lease{}, app.Errorf(app.EINVALID, "lease %q: needs a name, an owner token and a positive duration (got %s)", name, ttl)
	}
	now := d.now()
	var (
		got     app.Lease
		held    bool
		acq, ex string
	)
	err := d.write(ctx, "take lease "+name, func(ctx context.Context, tx *sql.Tx) error {
		held = false
		err := txQueryRow(ctx, tx, `INSERT INTO leases (name, token, pid, host, acquired_at, expires_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)
			ON CONFLICT (name) DO UPDATE SET
				token = excluded.token, pid = excluded.pid, host = excluded.host,
				acquired_at = CASE WHEN leases.token = excluded.token THEN leases.acquired_at ELSE excluded.acquired_at END,
				expires_at = excluded.expires_at
			WHERE leases.token = excluded.token OR leases.expires_at <= excluded.acquired_at
			RETURNING token, pid, host, acquired_at, expires_at`,
			name, owner.Token, owner.PID, owner.Host, fmtTime(now), fmtTime(now.Add(ttl))).
			Scan(&got.Owner.Token, &got.Owner.PID, &got.Owner.Host, &acq, &ex)
		if errors.Is(err, sql.ErrNoRows) {
			// The WHERE refused: someone else holds it. Read who, for
			// the message.
			held = true
			return txQueryRow(ctx, tx, "SELECT token, pid, host, acquired_at, expires_at FROM leases WHERE name = ?", name).
				Scan(&got.Owner.Token, &got.Owner.PID, &got.Owner.Host, &acq, &ex)
		}
		return err
	})
	if err != nil {
		return app.Lease{}, err
	}
	got.Name = name
	if got.AcquiredAt, err = parseTime(acq); err != nil {
		return app.Lease{}, mapError("read lease "+name, err)
	}
	if got.ExpiresAt, err = parseTime(ex); err != nil {
		return app.Lease{}, mapError("read lease "+name, err)
	}
	if held {
		return got, app.ReasonErrorf(app.ECONFLICT, app.ReasonLeaseHeld,
			"lease %s is held by pid %d on %s since %s (until %s unless renewed)",
			name, got.Owner.PID, app.TerminalSafe(got.Owner.Host), got.AcquiredAt.Local().Format(time.DateTime),
			got.ExpiresAt.Local().Format(time.DateTime))
	}
	return got, nil
}

// ReleaseLease deletes the lease only while token holds it.
func (d *DB) ReleaseLease(ctx context.Context, name, token string) error {
	return d.write(ctx, "release lease "+name, func(ctx context.Context, tx *sql.Tx) error {
		_, err := txExec(ctx, tx, "DELETE FROM leases WHERE name = ? AND token = ?", name, token)
		return err
	})
}
