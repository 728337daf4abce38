package main

import (
	"context"
	"errors"
	"path/filepath"

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
	team     *ui.TeamBackend          // nil = Odoo not configured
	close    func() error             // drains the listener, then stops the workers
}

// startDashboardRuntime starts what the dashboard needs behind it: the
// callback listener, ingest, sender, sweeper and Odoo sync (startRuntime),
// and the Odoo client the admin screen's connection test uses.
var startDashboardRuntime = func(ctx context.Context, env *cli.Env) (*dashboardRuntime, error) {
	bus := app.NewBus()
	svc, err := cli.NewService(ctx, env, bus)
	if err != nil {
		return nil, err
	}
	rt, err := startRuntime(ctx, env, svc, cli.RuntimeOptions{Workers: true})
	if err != nil {
		return nil, err
	}
	d := &dashboardRuntime{service: svc, bus: bus, listener: rt.ListenerStatus, close: rt.Close}
	if p, err := env.Open(ctx); err == nil && p.Config.OdooEnabled() {
		if erp, err := newERP(p.Config, p.Secrets, p.Store, p.Log); err == nil {
			d.erp = erp
		}
		d.team = newDashboardTeam(p.Config, p.Secrets, p.Store, p.Paths, p.Log)
	}
	return d, nil
}

// runDashboard is the bare `influencegen` (and `demo`): the runtime plus the
// terminal UI. Nothing may write to stdout/stderr while it runs: the log
// goes to the file only (env.Log without MirrorLogToStderr).
func runDashboard(cmd *cobra.Command, env *cli.Env) error {
	ctx := cmd.Context()
	p, err := env.Open(ctx)
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
		Store: p.Store, Service: rt.service, Secrets: p.Secrets, Bus: rt.bus, Config: p.Config,
		Profile: profile, Demo: profile == cli.DemoProfile, Clock: app.SystemClock{}, Log: p.Log,
		Listener: rt.listener, ERP: rt.erp, SecretsInMemory: secretsInMemory(ctx, p.Secrets),
		N8NAdmin: keyedN8NAdmin(env, p), Team: rt.team, ExportDir: filepath.Join(p.Paths.DataDir, "exports"),
		Presets: presetBook(p.Paths, p.Config.Defaults()),
	}
	runErr := ui.Run(ctx, b)
	// q returns here; the listener drains before the process exits.
	return errors.Join(runErr, rt.close())
}

// keyedN8NAdmin is the dashboard's n8n admin factory: the same
// n8n.NewManager the CLI's --push-n8n and `status ID` use, and nil, nil
// while no n8n-admin-key can be read (the screens then say how to enable
// it).
func keyedN8NAdmin(env *cli.Env, p cli.Parts) func(context.Context) (app.N8NAdmin, error) {
	if env.Wiring.NewN8NAdmin == nil {
		return nil
	}
	return func(ctx context.Context) (app.N8NAdmin, error) {
		// No key, or no keyring to hold one (a headless box): as for
		// `status ID`, the n8n half is a bonus, never an error on every
		// failed request's detail. The admin screen's secrets table says
		// what is wrong with the keyring.
		if _, _, err := p.Secrets.Get(ctx, app.SecretN8NAdminKey); err != nil {
			return nil, nil //nolint:nilerr // no usable key means no n8n admin, not a failure
		}
		return env.Wiring.NewN8NAdmin(ctx, p.Config, p.Secrets, p.Store, "")
	}
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
