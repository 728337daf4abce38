package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/ui"
	"github.com/influencegen/influencegen/ui/cli"
)

// dashboardRuntime is what the long-running parts (listener, ingest,
// sender, Odoo sync) hand the dashboard, and how to stop them.
type dashboardRuntime struct {
	service  *app.Service
	bus      *app.Bus
	listener func() ui.ListenerStatus // nil = no listener running
	erp      ui.ERPChecker            // nil = Odoo not configured
	close    func() error             // drains the listener, then stops the workers
}

// startDashboardRuntime starts what the dashboard needs behind it: the
// callback listener, ingest, sender, sweeper and Odoo sync (startRuntime),
// and the Odoo client the admin screen's connection test uses.
var startDashboardRuntime = func(ctx context.Context, env *cli.Env) (*dashboardRuntime, error) {
	bus := app.NewBus()
	svc, err := cli.NewService(ctx, env, bus, nil)
	if err != nil {
		return nil, err
	}
	rt, err := startRuntime(ctx, env, svc, cli.RuntimeOptions{Workers: true})
	if err != nil {
		return nil, err
	}
	d := &dashboardRuntime{service: svc, bus: bus, listener: rt.ListenerStatus, close: rt.Close}
	if cfg, _, err := env.Config(); err == nil && cfg.OdooEnabled() {
		secrets, _ := env.Secrets(ctx)
		st, _ := env.Store(ctx)
		log, _ := env.Log()
		if erp, err := newERP(cfg, secrets, st, log); err == nil {
			d.erp = erp
		}
	}
	return d, nil
}

// runDashboard is the bare `influencegen` (and `demo`): the runtime plus the
// terminal UI. Nothing may write to stdout/stderr while it runs: the log
// goes to the file only (env.Log without MirrorLogToStderr).
func runDashboard(cmd *cobra.Command, env *cli.Env) error {
	ctx := cmd.Context()
	cfg, _, err := env.Config()
	if err != nil {
		return err
	}
	log, err := env.Log()
	if err != nil {
		return err
	}
	st, err := env.Store(ctx)
	if err != nil {
		return err
	}
	secrets, err := env.Secrets(ctx)
	if err != nil {
		return err
	}
	rt, err := startDashboardRuntime(ctx, env)
	if err != nil {
		return err
	}
	profile := env.Opts.Profile
	if profile == "" {
		profile = "default"
	}
	b := ui.Backend{
		Store: st, Service: rt.service, Secrets: secrets, Bus: rt.bus, Config: cfg,
		Profile: profile, Demo: profile == cli.DemoProfile, Clock: app.SystemClock{}, Log: log,
		Listener: rt.listener, ERP: rt.erp, SecretsInMemory: secretsInMemory(ctx, secrets),
	}
	runErr := ui.Run(ctx, b)
	// q returns here; the listener drains before the process exits.
	return errors.Join(runErr, rt.close())
}

// secretsInMemory reports whether any secret lives in this process only
// (the demo's fallback when no Secret Service answers).
func secretsInMemory(ctx context.Context, secrets app.Secrets) bool {
	statuses, _ := secrets.Status(ctx)
	for _, st := range statuses {
		if st.Source == app.SourceMemory {
			return true
		}
	}
	return false
}
