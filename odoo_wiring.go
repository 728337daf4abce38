package main

import (
	"context"
	"log/slog"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
)

// newERP implements cli.Wiring.NewERP (`sync now`). The concrete
// *odoo.ERP is returned only when non-nil, so a failure is a nil app.ERP.
func newERP(cfg app.Config, secrets app.Secrets, st app.Store, log *slog.Logger) (app.ERP, error) {
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: secrets, Store: st, Log: log.With("component", "odoo"),
		UserAgent: "influencegen/" + version})
	if err != nil {
		return nil, err
	}
	return erp, nil
}

// openERP implements cli.NewcomerWiring.OpenERP: doctor's checks need no
// store.
func openERP(cfg app.Config, secrets app.Secrets, log *slog.Logger) (app.ERP, error) {
	return newERP(cfg, secrets, nil, log)
}

// startOdooSync starts the outbox sync worker, woken by request events on
// bus, and returns its stop function; nil when odoo.url is empty (sync off:
// changes keep queueing and sync once it is set).
func startOdooSync(cfg app.Config, secrets app.Secrets, st app.Store, bus *app.Bus, clock app.Clock, log *slog.Logger, userAgent string) func() error {
	if !cfg.OdooEnabled() {
		log.Info("odoo sync off: odoo.url is not set")
		return nil
	}
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: secrets, Store: st, Bus: bus, Clock: clock,
		Log: log, UserAgent: userAgent})
	if err != nil {
		log.Warn("odoo sync off", "err", err)
		return nil
	}
	return worker(func(ctx context.Context) {
		if err := erp.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("odoo sync stopped", "err", err)
		}
	})
}

// startOdooQueue starts the poller that takes requests made in Odoo
// (issue 15) when odoo.accept_requests is on; nil otherwise. host names
// this home in Odoo's claimed_by, so a restart resumes its claims.
func startOdooQueue(cfg app.Config, secrets app.Secrets, st app.Store, svc *app.Service, clock app.Clock, log *slog.Logger, userAgent, dataDir string) func() error {
	if !cfg.Odoo.AcceptRequests {
		return nil
	}
	if !cfg.OdooEnabled() {
		log.Warn("odoo queue off: odoo.accept_requests is on but odoo.url is not set")
		return nil
	}
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: secrets, Store: st, Bus: svc.Bus, Clock: clock,
		Log: log, UserAgent: userAgent})
	if err != nil {
		log.Warn("odoo queue off", "err", err)
		return nil
	}
	host := odoo.HostName(dataDir)
	poller := odoo.NewPoller(odoo.QueueOptions{Client: erp.Client(), Store: st, Requests: svc, Config: cfg,
		Host: host, Clock: clock, Log: log, Bus: svc.Bus})
	log.Info("odoo queue on: taking requests made in Odoo", "host", host, "poll_interval", cfg.Odoo.PollInterval)
	return worker(func(ctx context.Context) {
		if err := poller.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("odoo queue stopped", "err", err)
		}
	})
}
