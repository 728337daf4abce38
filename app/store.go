package app

import (
	"context"
	"time"
)

// Store is the local source of truth (SQLite in store/). Every write that
// changes a request also appends its activity and enqueues its Odoo outbox
// row in the same transaction, so sync can never miss a change.
type Store interface {
	RequestStore
	DeliveryStore
	OutboxStore
	ActivityStore
	SettingsStore
	CurationStore
	// DataVersion changes whenever another connection or process commits;
	// the TUI polls it to notice writes by `serve` or the CLI.
	DataVersion(ctx context.Context) (int64, error)
	Close() error
}

// ListQuery selects a window of requests, newest first, by keyset: ids are
// time-sortable, so "older than id X" is an index range, never an OFFSET.
type ListQuery struct {
	Statuses []Status // empty = every state
	Search   string   // case-insensitive substring of the prompt; a by:NAME word filters on requested_by
	// RequestedBy keeps only the requests of one person (the list's mine toggle).
	RequestedBy string
	Before      string // only ids < Before (the next page down)
	After       string // only ids > After (the page up); results still newest first
	Limit       int    // 1…1000; 0 = 50
	// Curation filters (issue 14): only the requests of one batch, with a
	// starred image (is:fav), or with an image of one verdict
	// (is:approved, is:rejected; "" = any).
	BatchID   string
	Favorites bool
	Approval  Approval
	// GroupBatches lists entries, not requests: a batch is one row, the
	// newest of its requests that match (which is also its place in the
	// order and its keyset cursor); CountRequests then counts entries.
	GroupBatches bool
}

// Page is one window of requests.
type Page struct {
	Requests []Request
	HasMore  bool // more rows exist beyond the window in the direction read
}

// Change is a compare-and-set state move: it applies only if the request is
// currently in one of From (default SourcesOf(To)).
type Change struct {
	ID           string
	To           Status
	From         []Status
	ErrorCode    string
	ErrorMessage string
	ExecutionID  string     // kept if non-empty
	SentAt       *time.Time // set on processing
	CountAttempt bool       // increments send_attempts (on queued → sending)
	Activity     *Activity  // appended in the same transaction
	// ClaimBy is the sender taking the send lease on a move to sending; a
	// move to any other state clears the lease.
	ClaimBy string
	// HeldBy makes the move apply only while that sender still holds the
	// lease: a sender whose lease was recovered by another process must not
	// record an outcome over the new holder's send.
	HeldBy string
	// IfUnchanged makes the move apply only if the request's lease owner,
	// heartbeat and send attempts are still those of this earlier read:
	// recovery's compare-and-set, so a request claimed (or renewed) since
	// it was read is left alone.
	IfUnchanged *Request
}

// RequestStore keeps requests and their images.
type RequestStore interface {
	// CreateRequests stores new queued requests (and their "created"
	// activity and outbox rows) in one transaction.
	CreateRequests(ctx context.Context, reqs []Request) error
	GetRequest(ctx context.Context, id string) (Request, error)
	// FindRequest resolves what a person or n8n typed: a full id, a unique id
	// prefix, or an Odoo record id (digits).
	FindRequest(ctx context.Context, ref string) (Request, error)
	ListRequests(ctx context.Context, q ListQuery) (Page, error)
	CountRequests(ctx context.Context, q ListQuery) (int, error)
	CountByStatus(ctx context.Context) (map[Status]int, error)
	// CountByStatusMatching counts per state the requests matching q's
	// search and requester (its states and cursors are ignored).
	CountByStatusMatching(ctx context.Context, q ListQuery) (map[Status]int, error)
	// RequestsInStatus returns up to limit requests in st last updated
	// before updatedBefore (zero = any), oldest first: recovery and sweeping.
	RequestsInStatus(ctx context.Context, st Status, updatedBefore time.Time, limit int) ([]Request, error)
	// Transition applies a Change. A request not in From gives ECONFLICT
	// (reason "invalid_transition") and changes nothing.
	Transition(ctx context.Context, c Change) (Request, error)
	// DeleteRequest removes a request, its images and activity, and returns
	// the image files that no other request references any more.
	DeleteRequest(ctx context.Context, id string) (orphans []string, err error)
	// SoftDeleteRequest hides a request at once; RestoreRequest brings it
	// back if it was deleted at or after deletedSince, and PurgeDeleted
	// removes the ones deleted before `before` (the collector's job).
	SoftDeleteRequest(ctx context.Context, id string) error
	RestoreRequest(ctx context.Context, id string, deletedSince time.Time, a Activity) (Request, error)
	PurgeDeleted(ctx context.Context, before time.Time) (int, error)
	// UndoCancel returns a request cancelled at or after cancelledSince to
	// the state it was cancelled from, unless a callback arrived since or
	// it was cancelled while sending (ECONFLICT saying which).
	UndoCancel(ctx context.Context, id string, cancelledSince time.Time, a Activity) (Request, error)
	Images(ctx context.Context, requestID string) ([]Image, error)
	GetImage(ctx context.Context, id int64) (Image, error)
	// GetRequestsByID and GetImagesByID read many rows by id in one query
	// (the Odoo sync's batches); ids that do not exist are left out.
	GetRequestsByID(ctx context.Context, ids []string) (map[string]Request, error)
	GetImagesByID(ctx context.Context, ids []int64) (map[int64]Image, error)
	SetOdooID(ctx context.Context, requestID string, odooID int64) error
	// RenewSendLease bumps the heartbeat of a request this sender holds in
	// sending. held is false when the request left sending or another
	// sender holds it now (the lease was lost).
	RenewSendLease(ctx context.Context, requestID, owner string) (held bool, err error)
	// PromptHistory returns distinct prompts, most recently used first.
	PromptHistory(ctx context.Context, limit int) ([]string, error)
}

// IngestResult is everything one processed callback changes, committed in
// one transaction: images, the state move, activity, outbox rows, and the
// delivery's processed marker.
type IngestResult struct {
	DeliveryID   int64
	RequestID    string
	To           Status // completed or failed; "" keeps the state (late result on a cancelled request)
	ErrorCode    string
	ErrorMessage string
	ExecutionID  string
	Images       []Image
	Activities   []Activity
}

// IngestOutcome is where a committed IngestResult left its request: what
// the ingest worker logs and whom it tells. The store reads these two
// columns in the commit, not the whole request (issue 17).
type IngestOutcome struct {
	Status Status
	OdooID int64
}

// DeliveryStore is the durable callback inbox.
type DeliveryStore interface {
	// RecordDelivery commits d before the callback is acked. duplicate is
	// true (and nothing is written) when its idempotency key is known.
	RecordDelivery(ctx context.Context, d Delivery) (id int64, duplicate bool, err error)
	// PendingDeliveries returns unprocessed deliveries that are due, oldest
	// first (a failed one is due again after its backoff).
	PendingDeliveries(ctx context.Context, limit int) ([]Delivery, error)
	// PendingDeliveryIDs is the ids of PendingDeliveries alone, and
	// LoadDeliveries reads the deliveries of some ids (those gone are left
	// out). The ingest worker looks for work after every commit while most
	// of the pending page is already in flight: it reads the ids, then the
	// bodies of only those it takes (issue 17).
	PendingDeliveryIDs(ctx context.Context, limit int) ([]int64, error)
	LoadDeliveries(ctx context.Context, ids []int64) ([]Delivery, error)
	CompleteDelivery(ctx context.Context, r IngestResult) (IngestOutcome, error)
	// DeliveryFailed records a processing error; the delivery stays pending
	// and is not due again until a backoff (growing with its attempts) passes.
	DeliveryFailed(ctx context.Context, id int64, msg string) error
}

// OutboxStats summarises the Odoo backlog.
type OutboxStats struct {
	Pending       int
	Parked        int
	OldestPending *time.Time
	LastError     string
}

// OutboxStore is the queue of operations for Odoo.
type OutboxStore interface {
	// DueOutbox returns items whose next attempt is due, oldest first, at
	// most one batch; parked and done items are never returned.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	OutboxDone(ctx context.Context, ids []int64, at time.Time) error
	OutboxRetryLater(ctx context.Context, ids []int64, errMsg string, next time.Time) error
	OutboxPark(ctx context.Context, ids []int64, errMsg string, at time.Time) error
	// OutboxRequeue makes parked items of a request ("" = all) due now.
	OutboxRequeue(ctx context.Context, requestID string) (int, error)
	OutboxStats(ctx context.Context) (OutboxStats, error)
}

// ActivityQuery selects activity rows, newest first.
type ActivityQuery struct {
	RequestID string
	Kinds     []string
	BeforeID  int64 // keyset: only rows with id < BeforeID
	Limit     int
}

// ActivityStore is the append-only event log.
type ActivityStore interface {
	AppendActivity(ctx context.Context, a ...Activity) error
	ListActivity(ctx context.Context, q ActivityQuery) ([]Activity, error)
	// NewestN8NOutcome is the newest event of N8NOutcomeKinds; ok is false
	// when there is none.
	NewestN8NOutcome(ctx context.Context) (a Activity, ok bool, err error)
}

// SettingsStore keeps non-secret metadata (e.g. the previous token's expiry).
type SettingsStore interface {
	GetSetting(ctx context.Context, key string) (value string, ok bool, err error)
	SetSetting(ctx context.Context, key, value string) error
}
