package app

import (
	"context"
	"fmt"
)

// MaxDeliveryAttempts is how often processing one callback is tried before
// it is parked: retried with a doubling backoff (2 s … 5 min), about half an
// hour in all, never for ever.
const MaxDeliveryAttempts = 10

// ParkedDeliveries is an optional part of a Store: callbacks whose
// processing failed MaxDeliveryAttempts times and are no longer retried,
// for doctor and status. requestID "" lists them all (newest first, at
// most limit).
type ParkedDeliveries interface {
	ParkedDeliveries(ctx context.Context, requestID string, limit int) ([]Delivery, error)
	// RetryParkedDeliveries makes every parked delivery due once more
	// (the ingest worker calls it at start: after a restart, with the
	// cause fixed, each gets one more attempt) and returns how many.
	RetryParkedDeliveries(ctx context.Context) (int, error)
}

// ReasonResultExists is the reason of the ECONFLICT a second, different
// result for a request gets: a request accepts one result, whatever its
// state (the listener answers 409).
const ReasonResultExists = "result_exists"

// CheckParkedDeliveries is doctor's line about callbacks that could not be
// applied: parked ones mean results are waiting for a person. st without
// ParkedDeliveries is skipped.
func CheckParkedDeliveries(ctx context.Context, st any) Check {
	parked, ok := st.(ParkedDeliveries)
	if !ok {
		return NewCheck("callbacks", CheckSkip, "this store keeps no parked callbacks", "")
	}
	list, err := parked.ParkedDeliveries(ctx, "", 100)
	if err != nil {
		return NewCheck("callbacks", CheckFail, ErrorMessage(err), "run doctor again; if it persists, check the database above")
	}
	if len(list) == 0 {
		return NewCheck("callbacks", CheckOK, "none parked: every received result was applied or is being retried", "")
	}
	last := list[0]
	return NewCheck("callbacks", CheckFail,
		fmt.Sprintf("%d parked after %d failed attempts (newest: request %s: %s)", len(list), MaxDeliveryAttempts, last.RequestID, last.LastError),
		"fix the cause shown (disk space, permissions of the images folder), then restart serve or the dashboard: each parked callback is tried once more at start")
}

// DeliveryKeyPrefixLookup is an optional part of a Store: the request ids
// of deliveries whose idempotency key starts with prefix (at most a few).
// The listener keys a webhook-id per request and asks it whether the same
// webhook-id was already used for another request (issue 10 §6).
type DeliveryKeyPrefixLookup interface {
	DeliveryRequestsByKeyPrefix(ctx context.Context, prefix string) ([]string, error)
}
