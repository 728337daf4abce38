package app

import (
	"context"
	"slices"
	"sync"
	"time"
)

// TeamRequest is one request of anyone on the team, as Odoo holds it
// (issue 15 §3): made in the app on any host, or in Odoo. Text fields come
// from Odoo: cleaned when read, escaped again when printed.
type TeamRequest struct {
	ID              string    `json:"id"` // the request id (external_id); "" for an Odoo draft
	OdooID          int64     `json:"odoo_id"`
	Name            string    `json:"name"`
	Prompt          string    `json:"prompt"`
	Model           string    `json:"model"`
	State           string    `json:"state"` // Odoo's: the app's states plus draft
	RequestedBy     string    `json:"requested_by"`
	RequestedAt     time.Time `json:"requested_at,omitzero"`
	Origin          string    `json:"origin"` // app | odoo
	Host            string    `json:"host"`   // claimed_by: the host running an Odoo request
	Images          int       `json:"images"` // generated images Odoo holds
	CancelRequested bool      `json:"cancel_requested,omitempty"`
	UpdatedAt       time.Time `json:"updated_at"` // Odoo's write_date
}

// TeamSource reads the team's requests from Odoo. The Odoo adapter
// implements it; an ERP without it has no team view.
type TeamSource interface {
	// Team returns requests changed after since (zero = the most recent),
	// newest change first, at most limit.
	Team(ctx context.Context, since time.Time, limit int) ([]TeamRequest, error)
}

// teamOverlap is how far back each refresh looks before the newest
// write_date seen: Odoo stamps write_date with its transaction's start,
// so a long transaction can commit a change older than one already read.
const teamOverlap = time.Minute

// TeamFeed keeps the team's recent requests up to date by polling only
// what changed (write_date newer than the last seen, minus teamOverlap),
// never by re-reading everything. Safe for one poller and many readers.
type TeamFeed struct {
	src   TeamSource
	limit int

	mu    sync.Mutex
	byKey map[int64]TeamRequest
	last  time.Time
}

// NewTeamFeed returns a feed of at most limit requests (the newest).
func NewTeamFeed(src TeamSource, limit int) *TeamFeed {
	return &TeamFeed{src: src, limit: limit, byKey: map[int64]TeamRequest{}}
}

// Refresh reads what changed since the last refresh and returns how many
// requests are new or changed (the overlap re-reads the last minute's
// changes; those count only if they differ).
func (f *TeamFeed) Refresh(ctx context.Context) (int, error) {
	f.mu.Lock()
	since := f.last
	f.mu.Unlock()
	if !since.IsZero() {
		since = since.Add(-teamOverlap)
	}
	got, err := f.src.Team(ctx, since, f.limit)
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := 0
	for _, r := range got {
		if old, ok := f.byKey[r.OdooID]; !ok || old != r {
			changed++
		}
		f.byKey[r.OdooID] = r
		if r.UpdatedAt.After(f.last) {
			f.last = r.UpdatedAt
		}
	}
	if len(f.byKey) > f.limit {
		all := f.sortedLocked()
		for _, r := range all[f.limit:] {
			delete(f.byKey, r.OdooID)
		}
	}
	return changed, nil
}

// Requests returns the feed's requests, newest change first.
func (f *TeamFeed) Requests() []TeamRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedLocked()
}

func (f *TeamFeed) sortedLocked() []TeamRequest {
	out := make([]TeamRequest, 0, len(f.byKey))
	for _, r := range f.byKey {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b TeamRequest) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return int(b.OdooID - a.OdooID)
	})
	return out
}
