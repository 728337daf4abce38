package cli

import (
	"context"
	"log/slog"

	"github.com/influencegen/influencegen/app"
)

// NewcomerWiring is what `doctor` and `demo` need from the adapters. main
// fills it from n8n, store and odoo; a nil field makes its part report
// "not available in this build" instead of failing.
type NewcomerWiring struct {
	// NetworkChecks runs doctor's probes: the listen port, the public URL
	// self-check, whether n8n can reach the callback, and the n8n webhook
	// (DNS, TCP, TLS, HTTP) without starting a generation.
	// main: func(ctx, cfg) { return n8n.DoctorChecks(ctx, n8n.DoctorOptions{Config: cfg}) }
	NetworkChecks func(ctx context.Context, cfg app.Config) []app.Check
	// SchemaLatest is the schema version this build migrates to
	// (store.LatestSchemaVersion()); 0 skips the comparison.
	SchemaLatest int
	// OpenERP builds the Odoo client for doctor's Odoo checks; called only
	// when odoo.url is set.
	OpenERP func(cfg app.Config, secrets app.Secrets, log *slog.Logger) (app.ERP, error)
	// OpenMemorySecrets returns secrets kept in this process only, for the
	// demo on a machine without a Secret Service
	// (store.NewSecrets(profile, settings, store.SecretsOptions{Memory: true, Log: log})).
	OpenMemorySecrets func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets
	// StartSimulator starts the simulated n8n on a free loopback port
	// (n8n.StartDemoSimulator).
	StartSimulator func(opts DemoSimulatorOptions) (DemoSimulator, error)
}

// DemoSimulatorOptions configure the simulated n8n. The secrets are read
// through funcs on every call, so a key set or a token rotated in the
// dashboard's admin screen takes effect at once.
type DemoSimulatorOptions struct {
	APIKey        func() string
	APIKeyHeader  string
	CallbackToken func() string
	WebhookSecret func() string
	Log           *slog.Logger
}

// DemoSimulator is a running simulated n8n.
type DemoSimulator interface {
	// URL is the production webhook URL to use as n8n.webhook_url.
	URL() string
	Close() error
}
