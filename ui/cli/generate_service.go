package cli

import (
	"context"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// newService assembles the request service a one-shot command needs.
func newService(ctx context.Context, env *Env) (*app.Service, error) {
	return NewService(ctx, env, nil)
}

// NewService assembles the request service from the Env's lazily opened
// parts and the n8n client main wires in. Long-running modes (serve, the
// dashboard) pass their bus, then call RunWorkers.
func NewService(ctx context.Context, env *Env, bus *app.Bus) (*app.Service, error) {
	p, err := env.Open(ctx)
	if err != nil {
		return nil, err
	}
	cfg := p.Config
	if env.Wiring.NewWorkflow == nil {
		return nil, app.Errorf(app.EINTERNAL, "this build has no n8n client wired (cli.Wiring.NewWorkflow is nil)")
	}
	return &app.Service{
		Config:      cfg,
		Store:       p.Store,
		Workflow:    env.Wiring.NewWorkflow(cfg, p.Secrets, p.Log, env.Build.Version),
		Bus:         bus,
		Clock:       app.SystemClock{},
		Log:         p.Log,
		User:        currentUser(),
		CallbackURL: resolvedCallbackURL(ctx, env, cfg),
	}, nil
}

// CallbackURL is where n8n posts results: callback.public_url, else the
// listen address, plus the callback route. (Tunnel detection, when
// public_url is empty, belongs to the listener, which knows its tunnel.)
func CallbackURL(cfg app.Config) string { return PublicCallbackURL(cfg, cfg.Callback.Listen) }

// currentUser is requested_by: the login name, which is what Odoo users
// recognise in the record.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// sendTimeout bounds a command's wait for its requests to leave sending:
// the longest a send can take (4 attempts of n8n.timeout and the retry
// waits, each at most a minute) with room to spare.
func sendTimeout(cfg app.Config) time.Duration {
	t := cfg.N8N.Timeout.D()
	if t <= 0 {
		t = 15 * time.Second
	}
	return 4*t + 4*time.Minute
}

// sendNow sends the given requests in this process and returns them in
// their state after sending: processing, initiation_failed, or (if a
// callback beat the ack) already final.
func sendNow(ctx context.Context, svc *app.Service, ids []string) ([]app.Request, error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout(svc.Config))
	defer cancel()
	sender := &app.Sender{Service: svc}
	reqs, err := sender.SendRequests(ctx, ids)
	if err == nil && ctx.Err() != nil {
		// Interrupted or out of time: the requests went back to queued.
		err = app.Errorf(app.EUNAVAILABLE, "sending stopped before n8n answered (%v); the requests stay queued and `influencegen serve` or the dashboard will send them", context.Cause(ctx))
	}
	return reqs, err
}

// requestResult is one line of generate/retry --json.
type requestResult struct {
	ID           string     `json:"id"`
	Status       app.Status `json:"status"`
	ErrorCode    string     `json:"error_code"`
	ErrorMessage string     `json:"error_message"`
}

func resultsOf(reqs []app.Request) []requestResult {
	out := make([]requestResult, len(reqs))
	for i, r := range reqs {
		out[i] = requestResult{ID: r.ID, Status: r.Status, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
	}
	return out
}

// reportSent prints what a send did and turns it into the command's exit:
// the send's own error first, else the requests n8n did not accept.
func reportSent(w io.Writer, sent []app.Request, sendErr error, asJSON bool) error {
	if err := printResults(w, sent, asJSON); err != nil {
		return err
	}
	if sendErr != nil {
		return sendErr
	}
	return failedToStart(sent)
}

// failedToStart is the exit-1 error when n8n did not accept some requests;
// each request's own reason was printed already.
func failedToStart(reqs []app.Request) error {
	failed := 0
	var reason string
	for _, r := range reqs {
		if r.Status == app.StatusInitiationFailed {
			failed++
			reason = r.ErrorCode
		}
	}
	if failed == 0 {
		return nil
	}
	return app.ReasonErrorf(app.EUNAVAILABLE, reason, "%d of %d requests were not accepted by n8n (%s); fix the cause, then `influencegen retry ID`", failed, len(reqs), reason)
}

// resolvedCallbackURL is the callback URL for a command without a listener
// of its own: a tunnel forwarding to callback.listen (the `serve` behind
// it) counts, exactly as the listener would resolve it. The probe runs once,
// on the first send.
func resolvedCallbackURL(ctx context.Context, env *Env, cfg app.Config) func() string {
	if env.Wiring.ResolvePublicURL == nil {
		return func() string { return CallbackURL(cfg) }
	}
	var (
		once sync.Once
		url  string
	)
	return func() string {
		once.Do(func() { url = strings.TrimRight(env.Wiring.ResolvePublicURL(ctx, cfg), "/") + app.CallbackPath })
		return url
	}
}
