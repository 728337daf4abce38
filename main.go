// Command influencegen generates AI images through n8n, shows them arriving
// in a terminal dashboard, and keeps records in Odoo.
//
// main wires concrete adapters (store, n8n, odoo, ui) into the CLI and does
// nothing else: no logic lives here, so every part stays testable alone.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui/cli"
)

// Set by the linker: -X main.version=… -X main.commit=… -X main.date=…
// (goreleaser.yaml does this for releases).
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

func run(ctx context.Context) int {
	env := cli.DefaultEnv(cli.BuildInfo{Version: version, Commit: commit, Date: date}, wiring())

	// The bare command is the dashboard (dashboard.go); the runtime behind
	// it and `serve` is assembled in runtime.go.
	root := cli.NewRoot(env, runDashboard)
	return cli.Execute(ctx, root, env)
}

// wiring adapts the store package's constructors to the CLI's seams.
func wiring() cli.Wiring {
	return cli.Wiring{
		LoadConfig: func(o cli.Options) (app.Config, app.Paths, error) {
			return store.LoadConfig(store.LoadOptions{Home: o.Home, Overrides: o.Overrides})
		},
		OpenLog: func(paths app.Paths, level string, alsoStderr io.Writer) (*slog.Logger, io.Closer, error) {
			return store.OpenLog(paths, level, alsoStderr)
		},
		OpenStore: func(ctx context.Context, paths app.Paths, log *slog.Logger) (app.Store, error) {
			db, err := store.Open(ctx, paths.DB, store.Options{Clock: app.SystemClock{}, Log: log})
			if err != nil {
				return nil, err // not a typed-nil *store.DB inside the interface
			}
			return db, nil
		},
		OpenSecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
			return store.NewSecrets(profile, settings, store.SecretsOptions{Log: log})
		},
		SetConfig: func(paths app.Paths, key, value string) error {
			return store.SetConfigValue(paths.ConfigFile, key, value)
		},
		NewWorkflow: n8n.NewWorkflow,
		ResolvePublicURL: func(ctx context.Context, cfg app.Config) string {
			return n8n.ResolvePublicURL(ctx, cfg.Callback, n8n.DefaultTunnelProbe()).PublicURL
		},
		// The callback listener and background workers (runtime.go).
		StartRuntime: startRuntime,
		// Odoo sync commands and doctor's Odoo checks (odoo_wiring.go).
		NewERP: newERP,
		// `n8n setup|status|remove`, --push-n8n, doctor's n8n API check.
		NewN8NAdmin: n8n.NewManager,
		// The team host: serve --ssh, team, doctor's SSH checks (issue 16).
		SSH: sshWiring(),
		// Generation presets (issue 14 §5).
		Presets: presetBook,
		// doctor's probes and the demo's simulated n8n (issue 7).
		Newcomer: cli.NewcomerWiring{
			NetworkChecks: func(ctx context.Context, cfg app.Config) []app.Check {
				return n8n.DoctorChecks(ctx, n8n.DoctorOptions{Config: cfg})
			},
			SchemaLatest: store.LatestSchemaVersion(),
			OpenERP:      openERP,
			OpenMemorySecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
				return store.NewSecrets(profile, settings, store.SecretsOptions{Memory: true, Log: log})
			},
			StartSimulator: func(o cli.DemoSimulatorOptions) (cli.DemoSimulator, error) {
				return n8n.StartDemoSimulator(o.APIKeyHeader, o.APIKey, o.CallbackToken, o.WebhookSecret, o.Log)
			},
		},
	}
}

// presetBook opens presets.toml beside the config.
func presetBook(paths app.Paths, def app.GenerationDefaults) app.PresetBook {
	return store.PresetFile{Path: store.PresetsFile(paths), Defaults: def}
}
