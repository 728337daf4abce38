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
