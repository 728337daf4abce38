package app

import (
	"encoding/json"
	"time"
)

// Request is one image generation request: one webhook call to n8n and the
// callback that answers it.
type Request struct {
	ID           string           `json:"id"` // sortable unique id (ULID), also the n8n Idempotency-Key
	Params       GenerationParams `json:"params"`
	Status       Status           `json:"status"`
	ErrorCode    string           `json:"error_code,omitempty"`
	ErrorMessage string           `json:"error_message,omitempty"`
	RequestedBy  string           `json:"requested_by"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	SentAt       *time.Time       `json:"sent_at,omitempty"`      // when n8n accepted it
	CompletedAt  *time.Time       `json:"completed_at,omitempty"` // when a final result arrived
	ExecutionID  string           `json:"execution_id,omitempty"` // n8n's, from the ack or the callback
	OdooID       int64            `json:"odoo_id,omitempty"`      // Odoo record id once synced, else 0
	RetryOf      string           `json:"retry_of,omitempty"`     // the request this one retries
	// BatchID groups the requests of one submit of several images (count
	// N, vary, re-roll); "" for a single request. Synced as batch_ref.
	BatchID string `json:"batch_id,omitempty"`
	// VariationOf is the image id a "more like this" request varies, 0 if
	// none; sent as the webhook payload's free variation_of field.
	VariationOf  int64     `json:"variation_of,omitempty"`
	SendAttempts int       `json:"send_attempts"`
	ImageCount   int       `json:"image_count"`
	SyncState    SyncState `json:"sync_state"`
	// LeaseOwner names the sender that holds the request while it is
	// sending (random per running sender), LeaseBeat its heartbeat counter;
	// see Sender. Both are meaningless in any other state.
	LeaseOwner string `json:"lease_owner,omitempty"`
	LeaseBeat  int64  `json:"-"`
	// DeletedAt is set while a deleted request waits out its undo window
	// (hidden from every list; the collector removes it afterwards).
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// CancelledFrom is the state a cancel moved it from, while it is
	// cancelled: what an undo returns it to.
	CancelledFrom Status `json:"cancelled_from,omitempty"`
}

// SyncState says how far a request's Odoo record lags behind.
type SyncState string

const (
	SyncOff     SyncState = "off"     // Odoo not configured
	SyncPending SyncState = "pending" // outbox rows wait
	SyncDone    SyncState = "synced"  // nothing pending
	SyncParked  SyncState = "parked"  // a permanent error needs a person
)

// Image is one stored picture of a request. Files are stored once by
// content under images/<sha[:2]>/<sha>.<ext>.
type Image struct {
	ID        int64     `json:"id"`
	RequestID string    `json:"request_id"`
	Sequence  int       `json:"sequence"`
	SHA256    string    `json:"sha256"`
	Path      string    `json:"path"` // absolute path of the file
	MimeType  string    `json:"mime"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Bytes     int64     `json:"bytes"`
	Seed      *int64    `json:"seed,omitempty"`
	Source    string    `json:"source"` // "base64" or "url"
	SourceURL string    `json:"source_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// The marketer's pick (issue 14): a star and a verdict, each with who
	// and when. DecidedAt is the latest decision of either kind, the
	// last-writer-wins stamp sent to Odoo.
	Favorite   bool       `json:"favorite"`
	FavoriteBy string     `json:"favorite_by,omitempty"`
	FavoriteAt *time.Time `json:"favorite_at,omitempty"`
	Approval   Approval   `json:"approval"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	// Unsynced: the file was written without an fsync because the
	// delivery body holds its bytes (store/images_sync.go).
	Unsynced bool `json:"-"`
}

// Delivery is one authenticated callback, committed before it is acked and
// processed afterwards by the ingest worker.
type Delivery struct {
	ID             int64           `json:"id"`
	IdempotencyKey string          `json:"idempotency_key"` // webhook-id, else sha256(request id + raw body)
	RequestID      string          `json:"request_id"`
	Body           json.RawMessage `json:"body"`   // the bytes n8n sent (older rows, and capped ones: the normalised callback)
	Source         string          `json:"source"` // remote address, never a token
	ReceivedAt     time.Time       `json:"received_at"`
	ProcessedAt    *time.Time      `json:"processed_at,omitempty"`
	Attempts       int             `json:"attempts"`
	LastError      string          `json:"last_error,omitempty"`
	// RequestStatus is the request's state when the delivery was read
	// (PendingDeliveries, LoadDeliveries): the ingest worker decides on it
	// without a read of its own per delivery, and the commit checks it
	// again. "" when the request is gone.
	RequestStatus Status `json:"-"`
}

// Activity is one entry of the append-only event log the UI shows.
type Activity struct {
	ID        int64     `json:"id"`
	RequestID string    `json:"request_id,omitempty"`
	Kind      string    `json:"kind"`  // see Activity* constants
	Level     string    `json:"level"` // info | warn | error
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Activity kinds.
const (
	ActivityCreated          = "created"
	ActivitySent             = "sent"
	ActivityAccepted         = "accepted"
	ActivityInitiationFailed = "initiation_failed"
	ActivityCallback         = "callback_received"
	ActivityCallbackRejected = "callback_rejected"
	ActivityImageStored      = "image_stored"
	ActivityCompleted        = "completed"
	ActivityFailed           = "failed"
	ActivityTimedOut         = "timed_out"
	ActivityCancelled        = "cancelled"
	ActivityLateResult       = "late_result"
	ActivityRetried          = "retried"
	ActivityRecovered        = "recovered"
	ActivityDeleted          = "deleted"
	ActivityRestored         = "restored"    // a delete undone
	ActivityUncancelled      = "uncancelled" // a cancel undone
	ActivitySynced           = "synced"
	ActivitySyncError        = "sync_error"
	ActivityN8NError         = "n8n_error"
	ActivityTokenRotated     = "token_rotated"
	ActivitySecretSet        = "secret_set"    // a secret replaced from the dashboard (name and fingerprint, never the value)
	ActivityImageDecided     = "image_decided" // a favourite or approval changed (who, what)
)

// N8NOutcomeKinds are the events that say how n8n last answered: an error
// (the webhook failed or n8n reported one) or a success since. The
// dashboard header shows the newest of them (ActivityStore.NewestN8NOutcome).
var N8NOutcomeKinds = []string{ActivityN8NError, ActivityInitiationFailed, ActivityAccepted, ActivityCallback, ActivityCompleted}

// Activity levels.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// OutboxItem is one pending operation for Odoo, written in the same
// transaction as the change that implies it.
type OutboxItem struct {
	ID            int64           `json:"id"`
	Kind          string          `json:"kind"` // OutboxUpsertRequest | OutboxImage
	RequestID     string          `json:"request_id"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt time.Time       `json:"next_attempt_at"`
	LastError     string          `json:"last_error,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	DoneAt        *time.Time      `json:"done_at,omitempty"`
	ParkedAt      *time.Time      `json:"parked_at,omitempty"` // permanent error: waits for `sync retry`
}

// Outbox kinds.
const (
	OutboxUpsertRequest = "upsert_request" // create or update the request record with its current state
	OutboxImage         = "image"          // attach one image (payload: {"image_id":N})
	// OutboxImageDecision writes an image's favourite and approval (payload:
	// {"image_id":N}); the current values are read at sync time.
	OutboxImageDecision = "image_decision"
)
