package app

import (
	"context"
	"time"
)

// Curation (issue 14): batches, and the marketer's pick of the keepers.
//
// For the dashboard: a request of a batch has Request.BatchID set (a
// single-image submit has none). List requests as usual, collect the
// distinct BatchIDs of the page, and read their summaries with ONE call
// to Store.Batches(ctx, ids, now); Batch.Progress() is the row's text
// ("12/16 · 1 failed · ~20 s left"). Store.BatchRequests gives the
// requests of one batch (its expanded rows), Store.ListImages its images
// (ImageQuery{BatchID: id}) for the grid. Favourite and approval changes
// go through Service.SetFavorite / Service.SetApproval (who and when are
// filled in, the Odoo sync is queued in the same transaction), "more like
// this" through Service.Vary / Service.Reroll. The filters is:fav,
// is:approved and is:rejected are ListQuery.Favorites and
// ListQuery.Approval; Store.CountCuration gives the header's counts.

// Approval is a person's verdict on one image.
type Approval string

const (
	ApprovalUndecided Approval = "undecided"
	ApprovalApproved  Approval = "approved"
	ApprovalRejected  Approval = "rejected"
)

// Valid reports whether a is one of the three verdicts.
func (a Approval) Valid() bool {
	return a == ApprovalUndecided || a == ApprovalApproved || a == ApprovalRejected
}

// ParseApproval reads a verdict as typed ("" is undecided).
func ParseApproval(s string) (Approval, error) {
	if s == "" {
		return ApprovalUndecided, nil
	}
	if a := Approval(s); a.Valid() {
		return a, nil
	}
	return "", Errorf(EINVALID, "approval %q: use undecided, approved or rejected", s)
}

// ImageDecision changes the favourite star and/or the approval of one
// image. Nil fields are left as they are. By and At are who decided and
// when; At also orders decisions (last writer wins), locally and in Odoo.
type ImageDecision struct {
	ImageID  int64
	Favorite *bool
	Approval *Approval
	By       string
	At       time.Time
}

// ImageQuery selects images, newest first (by id), by keyset.
type ImageQuery struct {
	RequestID string   // only this request's images
	BatchID   string   // only the images of this batch's requests
	Favorites bool     // only starred images
	Approval  Approval // "" = any; else only images with this verdict
	BeforeID  int64    // keyset: only ids < BeforeID
	Limit     int      // 1…10000; 0 = 200
}

// CurationCounts are the header's counts: images starred, approved and
// rejected among the requests a ListQuery matches.
type CurationCounts struct {
	Favorites int `json:"favorites"`
	Approved  int `json:"approved"`
	Rejected  int `json:"rejected"`
}

// Batch summarises the requests of one submit of several images.
type Batch struct {
	ID        string    `json:"id"`
	Prompt    string    `json:"prompt"` // of its first request
	Model     string    `json:"model"`
	CreatedAt time.Time `json:"created_at"`
	Total     int       `json:"total"`
	Completed int       `json:"completed"`
	Failed    int       `json:"failed"` // failed, initiation_failed and timed_out
	Cancelled int       `json:"cancelled"`
	InFlight  int       `json:"in_flight"` // queued, sending and processing
	Images    int       `json:"images"`
	// ETA is the expected time until the last request in flight ends: the
	// median duration (sent → completed) of the model's recent completed
	// requests, counted from the latest send (now for one not sent yet).
	// HasETA is false when nothing is in flight or the model has no history.
	ETA    time.Duration `json:"eta_ns"`
	HasETA bool          `json:"has_eta"`
}

// Done reports whether no request of the batch is in flight any more.
func (b Batch) Done() bool { return b.InFlight == 0 }

// RecentDurations is how many recent completed requests of a model the
// batch ETA takes its median from.
const RecentDurations = 50

// CurationStore keeps batches and image decisions (store/ in SQLite).
type CurationStore interface {
	// Batches summarises the given batches in one query (a page of list
	// rows costs one call, not one per row); unknown ids are absent from
	// the map. now is the clock the ETA counts from.
	Batches(ctx context.Context, ids []string, now time.Time) (map[string]Batch, error)
	// BatchRequests returns a batch's requests in creation (id) order.
	BatchRequests(ctx context.Context, batchID string) ([]Request, error)
	// DecideImage applies d, appends an activity row and queues an
	// image_decision outbox item, all in one transaction. A decision older
	// than the image's latest one (d.At before decided_at) changes nothing
	// and returns the image as it is: last writer wins by time.
	DecideImage(ctx context.Context, d ImageDecision) (Image, error)
	// ListImages reads one window of images, newest first.
	ListImages(ctx context.Context, q ImageQuery) ([]Image, error)
	// FindImage resolves what a person typed: an image id (digits) or a
	// unique prefix (4+ hex characters) of its sha256. An ambiguous prefix
	// gives ECONFLICT naming the candidates, an unknown one ENOTFOUND.
	FindImage(ctx context.Context, ref string) (Image, error)
	// CountCuration counts the images starred, approved and rejected among
	// the requests matching q's search, requester and batch.
	CountCuration(ctx context.Context, q ListQuery) (CurationCounts, error)
}
