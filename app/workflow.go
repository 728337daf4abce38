package app

import "context"

// CallbackPath is the route n8n posts results to (DESIGN §5).
const CallbackPath = "/influence_gen/ai/callback/image_result"

// Ack is what n8n answered to an accepted webhook call.
type Ack struct {
	StatusCode  int
	ExecutionID string // from execution_id | executionId | job_id, if the workflow returns one
}

// Workflow is the image generation engine (n8n): it accepts a request and
// later calls back with the result.
type Workflow interface {
	// Send posts one request. Errors carry a reason such as n8n_auth,
	// n8n_webhook_not_registered, n8n_rejected_payload or n8n_unreachable.
	Send(ctx context.Context, req Request, callbackURL string) (Ack, error)
}
