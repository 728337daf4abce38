package n8n

import (
	"context"
	"log/slog"

	"github.com/influencegen/influencegen/app"
)

// NewWorkflow builds the webhook client from the configuration and the
// secret store; it matches cli.Wiring.NewWorkflow so main wires it with one
// line. The API key is read per send, never kept.
func NewWorkflow(cfg app.Config, secrets app.Secrets, log *slog.Logger, version string) app.Workflow {
	return NewClient(ClientOptions{
		URL:          cfg.N8N.WebhookURL,
		APIKeyHeader: cfg.N8N.APIKeyHeader,
		Timeout:      cfg.N8N.Timeout.D(),
		Version:      version,
		Log:          log,
		APIKey: func(ctx context.Context) (string, error) {
			value, _, err := secrets.Get(ctx, app.SecretN8NAPIKey)
			return value, err
		},
	})
}
