// Package n8n adapts n8n to the app: the webhook client that starts a
// generation, the callback listener n8n posts results to, the ingest of those
// results, and the demo simulator. It implements app interfaces and must never
// decide request state on its own: every state move goes through app and the
// store's compare-and-set transitions.
package n8n

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Retry policy (issue 3 §2): the first try, then retries after 1 s, 3 s and
// 9 s, each ±20 % jitter. "3 attempts at 1 s, 3 s and 9 s" reads as three
// retries, so a webhook that stays down is tried four times in ~13 s.
var retryDelays = []time.Duration{1 * time.Second, 3 * time.Second, 9 * time.Second}

const (
	jitterFraction = 0.2
	maxRetryAfter  = 60 * time.Second // a longer Retry-After is capped, not obeyed
	maxAckBody     = 64 << 10         // n8n's ack is tiny; never buffer an unbounded answer
	promptLogChars = 40
)

// ClientOptions configure a Client. Only URL and APIKey are required.
type ClientOptions struct {
	URL          string // n8n.webhook_url
	APIKeyHeader string // n8n.api_key_header (default X-API-Key)
	// APIKey reads the key for each send, so a key set while the program
	// runs is used at once. A missing key (app.ENOTFOUND) is not_configured.
	APIKey  func(ctx context.Context) (string, error)
	Timeout time.Duration // per attempt (n8n.timeout, default 15 s)
	Version string        // for User-Agent and "client"
	Log     *slog.Logger
	// Sleep waits between attempts; tests inject one that records delays.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a float in [0,1) for jitter (default math/rand/v2).
	Rand func() float64
	// HTTPClient overrides the transport (tests); its Timeout is ignored in
	// favour of the per-attempt context deadline.
	HTTPClient *http.Client
}

// Client posts generation requests to the n8n webhook. It implements
// app.Workflow and is safe for concurrent use.
type Client struct {
	opts ClientOptions
	http *http.Client
}

var _ app.Workflow = (*Client)(nil)

// NewClient returns a client; it never fails, because a missing URL or key
// must surface per request as not_configured rather than stop the program.
func NewClient(o ClientOptions) *Client {
	if o.APIKeyHeader == "" {
		o.APIKeyHeader = "X-API-Key"
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	hc := o.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		hc = &http.Client{Transport: tr}
	}
	// A redirected POST silently turns into a GET in net/http, which n8n
	// would answer with a confusing 404: report the 3xx instead.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 0
	return &Client{opts: o, http: &c}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// payload is the DESIGN §4 body. Field order is the documented order.
type payload struct {
	RequestID   string        `json:"ai_generation_request_id"`
	OdooID      *int64        `json:"ai_generation_request_model_id"`
	Params      payloadParams `json:"generation_params"`
	CallbackURL string        `json:"callback_url"`
	RequestedBy string        `json:"requested_by"`
	RequestedAt string        `json:"requested_at"`
	Client      string        `json:"client"`
	// VariationOf is the local id of the image a "more like this" request
	// varies (issue 14); absent otherwise. A free field: the workflow may
	// use it (an upscaler, a refiner) or ignore it.
	VariationOf int64 `json:"variation_of,omitempty"`
}

type payloadParams struct {
	Prompt         string `json:"prompt"`
	NegativePrompt string `json:"negative_prompt"`
	Model          string `json:"model_id"`
	Resolution     string `json:"resolution"`
	Width          int    `json:"width"`
	Height         int    `json:"height"`
	AspectRatio    string `json:"aspect_ratio"`
	Seed           int64  `json:"seed"`
	NumImages      int    `json:"num_images"`
	DryRun         bool   `json:"dry_run,omitempty"` // only for `n8n setup`'s round trip
}

// Payload renders the exact JSON body sent for req.
func Payload(req app.Request, callbackURL, version string) ([]byte, error) {
	p := payload{
		RequestID: req.ID,
		Params: payloadParams{
			Prompt: req.Params.Prompt, NegativePrompt: req.Params.NegativePrompt, Model: req.Params.Model,
			Resolution: req.Params.Resolution(), Width: req.Params.Width, Height: req.Params.Height,
			AspectRatio: req.Params.AspectRatio, Seed: req.Params.Seed, NumImages: max(req.Params.NumImages, 1),
			DryRun: req.Params.DryRun,
		},
		CallbackURL: callbackURL,
		RequestedBy: req.RequestedBy,
		RequestedAt: req.CreatedAt.UTC().Format(time.RFC3339),
		Client:      "influencegen/" + version,
		VariationOf: req.VariationOf,
	}
	if req.OdooID > 0 {
		id := req.OdooID
		p.OdooID = &id
	}
	return json.Marshal(p)
}

// Send posts req, retrying transient failures, and returns n8n's ack.
func (c *Client) Send(ctx context.Context, req app.Request, callbackURL string) (app.Ack, error) {
	if c.opts.URL == "" {
		return app.Ack{}, app.ReasonErrorf(app.ENOTCONFIGURED, "not_configured",
			"the n8n webhook URL is not set: run `influencegen config set n8n.webhook_url URL` (the workflow's production URL, …/webhook/…)")
	}
	target, err := url.Parse(c.opts.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return app.Ack{}, app.ReasonErrorf(app.ENOTCONFIGURED, "not_configured",
			"n8n.webhook_url %q is not an http(s) URL: run `influencegen config set n8n.webhook_url URL`", c.opts.URL)
	}
	apiKey := c.opts.APIKey
	if apiKey == nil {
		apiKey = func(context.Context) (string, error) { return "", nil }
	}
	key, err := apiKey(ctx)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			return app.Ack{}, app.ReasonErrorf(app.ENOTCONFIGURED, "not_configured",
				"the n8n API key is not set: run `influencegen secrets set n8n-api-key` (or set INFLUENCEGEN_N8N_API_KEY)")
		}
		return app.Ack{}, &app.Error{Code: app.EUNAVAILABLE, Reason: "secrets_unavailable",
			Message: "cannot read the n8n API key: " + app.ErrorMessage(err), Err: err}
	}
	if key == "" {
		return app.Ack{}, app.ReasonErrorf(app.ENOTCONFIGURED, "not_configured",
			"the n8n API key is empty: run `influencegen secrets set n8n-api-key`")
	}
	body, err := Payload(req, callbackURL, c.opts.Version)
	if err != nil {
		return app.Ack{}, app.Errorf(app.EINTERNAL, "encode n8n payload: %w", err)
	}

	log := c.opts.Log.With("request_id", req.ID, "host", target.Host,
		"key_fingerprint", app.Fingerprint(key), "prompt", clip(req.Params.Prompt, promptLogChars))
	attempts := len(retryDelays) + 1
	for attempt := 1; ; attempt++ {
		res := c.attempt(ctx, target, key, req.ID, body)
		level := slog.LevelInfo
		if res.err != nil {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "n8n webhook attempt", "method", http.MethodPost, "status", res.status,
			"duration", res.duration.Round(time.Millisecond).String(), "attempt", attempt, "error", errText(res.err))
		if res.err == nil {
			return res.ack, nil
		}
		if ctx.Err() != nil {
			return app.Ack{}, &app.Error{Code: app.EUNAVAILABLE, Reason: "cancelled",
				Message: "sending to n8n was interrupted", Err: ctx.Err()}
		}
		if !res.retry || attempt == attempts {
			if res.retry {
				var e *app.Error
				if errors.As(res.err, &e) {
					e.Message += fmt.Sprintf(" (after %d attempts)", attempt)
				}
			}
			return app.Ack{}, res.err
		}
		delay := c.backoff(attempt)
		if res.retryAfter > 0 {
			delay = min(res.retryAfter, maxRetryAfter)
		}
		log.Debug("n8n webhook retry scheduled", "attempt", attempt, "delay", delay.Round(time.Millisecond).String())
		if err := c.opts.Sleep(ctx, delay); err != nil {
			return app.Ack{}, &app.Error{Code: app.EUNAVAILABLE, Reason: "cancelled",
				Message: "sending to n8n was interrupted", Err: err}
		}
	}
}

// backoff is the delay before retry number attempt (1-based), jittered.
func (c *Client) backoff(attempt int) time.Duration {
	base := retryDelays[attempt-1]
	f := 1 - jitterFraction + 2*jitterFraction*c.opts.Rand()
	return time.Duration(float64(base) * f)
}

type attemptResult struct {
	ack        app.Ack
	status     int
	duration   time.Duration
	err        error
	retry      bool
	retryAfter time.Duration
}

func (c *Client) attempt(ctx context.Context, target *url.URL, key, id string, body []byte) (r attemptResult) {
	start := time.Now()
	defer func() { r.duration = time.Since(start) }()
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: app.Errorf(app.EINTERNAL, "build n8n request: %w", err)}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(c.opts.APIKeyHeader, key)
	hreq.Header.Set("Idempotency-Key", id)
	hreq.Header.Set("User-Agent", "influencegen/"+c.opts.Version)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return attemptResult{err: unreachable(target.Host, err, c.opts.Timeout), retry: true}
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAckBody))
	r = attemptResult{status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The request was accepted even if the ack body was cut short:
		// n8n has the job, so a re-send would only duplicate it.
		r.ack = app.Ack{StatusCode: resp.StatusCode, ExecutionID: executionID(raw)}
		return r
	}
	if readErr != nil && len(raw) == 0 {
		return attemptResult{status: resp.StatusCode, err: unreachable(target.Host, readErr, c.opts.Timeout), retry: true}
	}
	r.err = statusError(resp.StatusCode, raw, c.opts.URL, c.opts.APIKeyHeader)
	r.retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	if r.retry {
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// executionID finds n8n's execution id in a JSON ack, if the workflow
// returns one; any other 2xx body is fine and ignored.
func executionID(raw []byte) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	for _, k := range []string{"execution_id", "executionId", "job_id"} {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return app.ErrorReason(err)
}
