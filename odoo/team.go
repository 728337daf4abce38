package odoo

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// teamFields are what the team view reads of each request.
var teamFields = []string{"external_id", "name", "prompt", "ai_model", "state", "requested_by", "requested_at",
	"origin", "claimed_by", "image_count", "cancel_requested", "write_date"}

// Team implements app.TeamSource: one search_read of the requests changed
// after since (Odoo's write_date), newest first.
func (e *ERP) Team(ctx context.Context, since time.Time, limit int) ([]app.TeamRequest, error) {
	domain := []any{}
	if !since.IsZero() {
		domain = append(domain, []any{"write_date", ">", since.UTC().Format(odooTime)})
	}
	args := []Arg{Pos("domain", domain), KW("fields", teamFields), KW("order", "write_date desc, id desc")}
	if limit > 0 {
		args = append(args, KW("limit", limit))
	}
	var rows []Record
	if err := e.client.Call(ctx, e.odoo.RequestModel, "search_read", nil, args, &rows); err != nil {
		return nil, err
	}
	out := make([]app.TeamRequest, 0, len(rows))
	for _, r := range rows {
		out = append(out, teamRequest(r))
	}
	return out, nil
}

func teamRequest(r Record) app.TeamRequest {
	at := func(field string) time.Time {
		t, _ := time.ParseInLocation(odooTime, r.String(field), time.UTC)
		return t
	}
	cancel, _ := r["cancel_requested"].(bool)
	return app.TeamRequest{
		ID: app.OutsideLine(r.String("external_id")), OdooID: r.ID(), Name: app.OutsideLine(r.String("name")),
		Prompt: app.OutsideText(r.String("prompt")), Model: app.OutsideLine(r.String("ai_model")),
		State: app.OutsideLine(r.String("state")), RequestedBy: app.OutsideLine(r.String("requested_by")),
		RequestedAt: at("requested_at"), Origin: app.OutsideLine(r.String("origin")),
		Host: app.OutsideLine(r.String("claimed_by")), Images: int(asInt(r["image_count"])),
		CancelRequested: cancel, UpdatedAt: at("write_date"),
	}
}

// teamOverlap is how far back each refresh looks before the newest
// write_date seen: Odoo stamps write_date with its transaction's start,
// so a long transaction can commit a change older than one already read.
const teamOverlap = time.Minute

// TeamFeed keeps the team's recent requests up to date by polling only
// what changed (write_date newer than the last seen, minus teamOverlap),
// never by re-reading everything. Safe for one poller and many readers.
type TeamFeed struct {
	src   app.TeamSource
	limit int

	mu    sync.Mutex
	byKey map[int64]app.TeamRequest
	last  time.Time
}

// NewTeamFeed returns a feed of at most limit requests (the newest).
func NewTeamFeed(src app.TeamSource, limit int) *TeamFeed {
	return &TeamFeed{src: src, limit: limit, byKey: map[int64]app.TeamRequest{}}
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
func (f *TeamFeed) Requests() []app.TeamRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedLocked()
}

func (f *TeamFeed) sortedLocked() []app.TeamRequest {
	out := make([]app.TeamRequest, 0, len(f.byKey))
	for _, r := range f.byKey {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b app.TeamRequest) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return int(b.OdooID - a.OdooID)
	})
	return out
}
