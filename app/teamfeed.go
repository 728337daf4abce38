package app

import (
	"context"
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
