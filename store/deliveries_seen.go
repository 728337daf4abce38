package store

import (
	"context"
	"strings"

	"github.com/influencegen/influencegen/app"
)

var _ app.DeliveryKeyPrefixLookup = (*DB)(nil)

// DeliveryRequestsByKeyPrefix returns the distinct request ids (at most 4)
// of deliveries whose idempotency key starts with prefix, a webhook-id
// key's prefix. The range [prefix, prefix with its last byte + 1) walks
// the index of webhook-id keys (migration 0012). (Added for the listener,
// issue 10 §6.)
func (d *DB) DeliveryRequestsByKeyPrefix(ctx context.Context, prefix string) ([]string, error) {
	if !strings.HasPrefix(prefix, webhookKeyPrefix) || prefix[len(prefix)-1] == 0xff {
		return nil, app.Errorf(app.EINVALID, "delivery key prefix %q: only the keys of webhook-ids are looked up by prefix", prefix)
	}
	upper := prefix[:len(prefix)-1] + string([]byte{prefix[len(prefix)-1] + 1})
	// The literal bounds are the index's own condition, so that the
	// planner may use it for the bound range.
	rows, err := d.rdb.QueryContext(ctx, `SELECT DISTINCT request_id FROM deliveries INDEXED BY deliveries_webhook_key
		WHERE idempotency_key >= 'webhook-id:' AND idempotency_key < 'webhook-id;'
		AND idempotency_key >= ? AND idempotency_key < ? LIMIT 4`, prefix, upper)
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

// webhookKeyPrefix begins every idempotency key made from a webhook-id
// (n8n's webhookIDPrefix); deliveries_webhook_key indexes those keys.
const webhookKeyPrefix = "webhook-id:"
