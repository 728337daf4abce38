package store

import (
	"context"

	"github.com/influencegen/influencegen/app"
)

var _ app.DeliveryLookup = (*DB)(nil)

// DeliverySeen reports whether a callback with this idempotency key was
// ever recorded, processed or not. The listener asks it before answering
// 409 for a finished request, so a re-send of the callback that finished
// it is still a harmless duplicate. (Added by H4 for the listener.)
func (d *DB) DeliverySeen(ctx context.Context, key string) (bool, error) {
	_, ok, err := deliveryByKey(ctx, d.reads, key)
	return ok, err
}

var _ app.DeliveryKeyPrefixLookup = (*DB)(nil)

// DeliveryRequestsByKeyPrefix returns the distinct request ids (at most 4)
// of deliveries whose idempotency key starts with prefix. The range
// [prefix, prefix with its last byte + 1) walks the unique key index.
// (Added for the listener, issue 10 §6.)
func (d *DB) DeliveryRequestsByKeyPrefix(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" || prefix[len(prefix)-1] == 0xff {
		return nil, app.Errorf(app.EINVALID, "delivery key prefix %q cannot be bounded", prefix)
	}
	upper := prefix[:len(prefix)-1] + string([]byte{prefix[len(prefix)-1] + 1})
	rows, err := d.rdb.QueryContext(ctx, `SELECT DISTINCT request_id FROM deliveries
		WHERE idempotency_key >= ? AND idempotency_key < ? LIMIT 4`, prefix, upper)
	if err != nil {
		return nil, mapError("look up callbacks by key", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapError("look up callbacks by key", err)
		}
		ids = append(ids, id)
	}
	return ids, mapError("look up callbacks by key", rows.Err())
}
