package app

import (
	"context"
	"time"
)

// ERP is the records system (Odoo) as the CLI, the dashboard and doctor see
// it: a connection check, the outbox sync, and the optional push of the
// callback token. main builds the concrete one (package odoo) from Config.
type ERP interface {
	Syncer
	// Check runs the doctor checks in order and stops at the first one that
	// makes the rest meaningless (an unreachable URL, a rejected key). The
	// returned error is only for failures of the check itself (ctx ended).
	Check(ctx context.Context) (ERPCheck, error)
	// PushCallbackToken writes token to the Odoo system parameter the seed
	// kept it in (influence_gen.n8n_callback_token). Needs admin rights;
	// without them the error says so (reason odoo_access).
	PushCallbackToken(ctx context.Context, token string) error
}

// Syncer drains the Odoo outbox. It never blocks its callers: Run owns one
// goroutine, and Kick only nudges it.
type Syncer interface {
	// RunOnce syncs at most one batch of due outbox items and says what
	// happened. Transient Odoo errors are not returned: the items are
	// rescheduled and the report says so. Only store errors are returned.
	RunOnce(ctx context.Context) (SyncReport, error)
	// Run syncs until ctx ends: batches back to back while items are due,
	// then waits for Kick or the poll interval.
	Run(ctx context.Context) error
	// Kick asks Run to look at the outbox now (e.g. after a callback); it
	// never blocks.
	Kick()
}

// SyncReport is what one RunOnce did.
type SyncReport struct {
	Items     int    `json:"items"`  // outbox items looked at
	Done      int    `json:"done"`   // synced (or found already synced)
	Retry     int    `json:"retry"`  // transient error: rescheduled with backoff
	Parked    int    `json:"parked"` // permanent error: waits for `sync retry`
	RPCs      int    `json:"rpcs"`   // calls made to Odoo
	LastError string `json:"last_error,omitempty"`
	Protocol  string `json:"protocol,omitempty"` // json2 | jsonrpc, once detected
	// NextDue is when the earliest rescheduled item becomes due (zero when
	// nothing was rescheduled).
	NextDue time.Time `json:"next_due,omitzero"`
}

// ERPCheck is the result of ERP.Check, in the order the checks ran.
type ERPCheck struct {
	URL      string         `json:"url"`
	Version  string         `json:"version,omitempty"`  // server_version, e.g. "19.0"
	Protocol string         `json:"protocol,omitempty"` // json2 | jsonrpc
	User     string         `json:"user,omitempty"`     // login or uid the key belongs to
	Items    []ERPCheckItem `json:"checks"`
}

// OK reports whether every check passed.
func (c ERPCheck) OK() bool {
	for _, it := range c.Items {
		if !it.OK {
			return false
		}
	}
	return len(c.Items) > 0
}

// ERPCheckItem is one line of the check: what was checked, whether it
// passed, and for a failure the reason code and how to fix it.
type ERPCheckItem struct {
	Name   string `json:"name"` // reachable | version | login | model:<name> | rights:<model>
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Reason string `json:"reason,omitempty"` // e.g. odoo_auth, odoo_model_missing
}

// Odoo error reasons (README troubleshooting table). The permanent ones
// park outbox items until `influencegen sync retry`; the transient ones
// (code EUNAVAILABLE) are retried with backoff.
const (
	ReasonOdooAuth          = "odoo_auth"           // key/password rejected
	ReasonOdooAccess        = "odoo_access"         // the user lacks rights
	ReasonOdooValidation    = "odoo_validation"     // Odoo refused the values
	ReasonOdooModelMissing  = "odoo_model_missing"  // addon not installed
	ReasonOdooAddonOutdated = "odoo_addon_outdated" // addon lacks the guarded sync methods: upgrade it
	ReasonOdooRecordGone    = "odoo_record_missing"
	ReasonOdooProtocol      = "odoo_protocol"    // wrong protocol / URL
	ReasonOdooError         = "odoo_error"       // another server-side error
	ReasonOdooUnavailable   = "odoo_unavailable" // 5xx, 429: transient
	ReasonOdooUnreachable   = "odoo_unreachable" // connection refused, DNS: transient
	ReasonOdooTimeout       = "odoo_timeout"     // no answer in time: transient
)
