package store

import (
	"context"
	"database/sql"
)

// RenewSendLease is the heartbeat of a send in flight: it bumps the
// request's send_lease_beat while owner still holds it in sending, so that
// no other process takes the send for a crashed one's leftover. held is
// false when the request left sending or another sender holds it now.
// updated_at is left alone: a heartbeat is not a change anyone syncs.
func (d *DB) RenewSendLease(ctx context.Context, requestID, owner string) (bool, error) {
	held := false
	err := d.write(ctx, "renew the send lease of request "+requestID, func(ctx context.Context, tx *sql.Tx) error {
		res, err := txExec(ctx, tx, `UPDATE requests SET send_lease_beat = send_lease_beat + 1
			WHERE id = ? AND status = 'sending' AND send_lease_owner = ?`, requestID, owner)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}
