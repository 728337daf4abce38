package app

import "context"

// DeliveryLookup is an optional part of a Store (checked with a type
// assertion): whether a callback with this idempotency key was ever
// recorded. The listener needs it to tell a harmless re-send of the
// callback that finished a request (200, duplicate) from a new callback
// that contradicts it (409), without writing anything to find out.
type DeliveryLookup interface {
	DeliverySeen(ctx context.Context, idempotencyKey string) (bool, error)
}

// ReasonResultExists is the reason of the ECONFLICT a second, different
// result for a request gets: a request accepts one result, whatever its
// state (the listener answers 409).
const ReasonResultExists = "result_exists"
