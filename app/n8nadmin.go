package app

import (
	"context"
	"time"
)

// N8NStep is one checked step of `n8n setup`, `n8n status` or `n8n
// remove`: what was done or found, and, when it failed, how to fix it.
type N8NStep struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// N8NSetupOptions choose the provider template and where things live.
type N8NSetupOptions struct {
	N8NURL      string // n8n's own address, e.g. https://n8n.example.com
	Provider    string // openai | stability | replicate | comfyui | custom
	ProviderURL string // "" = the template's default
	WebhookPath string // "" = influence-gen/generate
	Signed      bool
	// ProviderKey goes to n8n's credential only; it is never stored here.
	// Empty keeps the key n8n already has (re-runs) or, for keyless
	// providers, means none.
	ProviderKey string
}

// N8NSetupResult is what setup made.
type N8NSetupResult struct {
	WorkflowID string   `json:"workflow_id"`
	WebhookURL string   `json:"webhook_url"`
	EditorURL  string   `json:"editor_url"`
	Models     []string `json:"models"`
	Provider   string   `json:"provider"`
}

// N8NExecution is one n8n run as a person needs it to see why a request
// failed. Texts come from n8n, cleaned and clipped.
type N8NExecution struct {
	ID         string     `json:"id"`
	WorkflowID string     `json:"workflow_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	StoppedAt  *time.Time `json:"stopped_at,omitempty"`
	FailedNode string     `json:"failed_node,omitempty"`
	Message    string     `json:"message,omitempty"`
	EditorURL  string     `json:"editor_url"`
}

// N8NAdmin manages the n8n half through n8n's public API with the
// n8n-admin-key secret. Every step reports through step as it happens.
type N8NAdmin interface {
	// Setup creates or updates (idempotently, by the ids it recorded) the
	// credentials and the workflow, activates it and verifies every node's
	// credential is bound.
	Setup(ctx context.Context, o N8NSetupOptions, step func(N8NStep)) (N8NSetupResult, error)
	// Status checks reachability, the key, the workflow, its credentials
	// and its webhook URL against webhookURL, and lists recent runs.
	Status(ctx context.Context, webhookURL string, step func(N8NStep)) ([]N8NExecution, error)
	// Remove deletes what Setup created.
	Remove(ctx context.Context, step func(N8NStep)) error
	// PushSecret writes a rotated n8n-api-key or callback-token into its
	// n8n credential (value only: the header name stays).
	PushSecret(ctx context.Context, name, value string) error
	// Explain finds the n8n run of a failed or timed-out request.
	Explain(ctx context.Context, r Request) (N8NExecution, error)
}

// ExplainFailure looks up the n8n run behind a request that failed or
// timed out; other states (and a nil admin) have nothing to explain and
// return nil. The dashboard's detail and `status ID` both use it.
func ExplainFailure(ctx context.Context, admin N8NAdmin, r Request) (*N8NExecution, error) {
	if admin == nil || (r.Status != StatusFailed && r.Status != StatusTimedOut) {
		return nil, nil
	}
	e, err := admin.Explain(ctx, r)
	if err != nil {
		return nil, err
	}
	return &e, nil
}
