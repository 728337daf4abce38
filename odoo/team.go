package odoo

import (
	"context"
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

// TeamFeed is app.TeamFeed: it moved to app so the dashboard (which may
// not import this package) polls with the same code as status --team.
type TeamFeed = app.TeamFeed

// NewTeamFeed is app.NewTeamFeed.
var NewTeamFeed = app.NewTeamFeed
