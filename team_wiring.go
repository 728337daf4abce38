package main

import (
	"context"
	"log/slog"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui"
)

// teamFeedLimit is how many of the team's most recent requests the
// dashboard's team scope keeps: bounded memory, several screens' worth.
const teamFeedLimit = 200

// newDashboardTeam wires the dashboard's team scope (T, issue 15 §3):
// app.TeamFeed over the Odoo adapter, images fetched from Odoo into this
// home's content-addressed image folder, and the shared queue's count
// when odoo.accept_requests is on. nil while Odoo is not configured.
func newDashboardTeam(cfg app.Config, secrets app.Secrets, st app.Store, paths app.Paths, log *slog.Logger) *ui.TeamBackend {
	if !cfg.OdooEnabled() {
		return nil
	}
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: secrets, Store: st, Log: log.With("component", "odoo-team"),
		UserAgent: "influencegen/" + version})
	if err != nil || erp == nil {
		return nil
	}
	files := store.NewImageFiles(paths.ImagesDir)
	tb := &ui.TeamBackend{
		Feed: app.NewTeamFeed(erp, teamFeedLimit),
		Images: func(ctx context.Context, odooID int64) ([]app.StoredFile, error) {
			return erp.TeamImages(ctx, files, odooID)
		},
		Host: odoo.HostName(paths.DataDir),
	}
	if cfg.Odoo.AcceptRequests {
		tb.QueueWaiting = erp.QueueWaiting
	}
	return tb
}
