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

// DeliveryKeyPrefixLookup is an optional part of a Store: the request ids
// of deliveries whose idempotency key starts with prefix (at most a few).
// The listener keys a webhook-id per request and asks it whether the same
// webhook-id was already used for another request (issue 10 §6).
type DeliveryKeyPrefixLookup interface {
	DeliveryRequestsByKeyPrefix(ctx context.Context, prefix string) ([]string, error)
}
