package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/influencegen/influencegen/app"
)

// The shared queue (issue 15 §2): requests made in Odoo are claimed by
// one host each (the addon's ClaimMethod, FOR UPDATE SKIP LOCKED), stored
// locally under Odoo's external_id and sent by the usual sender; their
// states and images go back through the outbox like the host's own.

// DefaultClaimLimit is how many requests one poll claims at most: the
// sender sends one at a time, so a larger batch only holds claims other
// hosts could be working on.
const DefaultClaimLimit = 10

// QueueService is what the poller needs of app.Service.
type QueueService interface {
	Cancel(ctx context.Context, id string) (app.Request, error)
	Wake()
}

// QueueOptions configure a Poller.
type QueueOptions struct {
	Client   Client
	Store    app.Store
	Requests QueueService
	Config   app.Config // Odoo (models, poll interval, claim timeout) and Generation (what this host accepts)
	Host     string     // this host's name in claimed_by; see HostName
	Clock    app.Clock
	Log      *slog.Logger
	Bus      *app.Bus
	Limit    int            // default DefaultClaimLimit
	Jitter   func() float64 // factor on backoff delays; default random in [0.5, 1.5)
}

// Poller claims Odoo requests for this host.
type Poller struct {
	opts      QueueOptions
	published bool
}

// QueueReport says what one poll did.
type QueueReport struct {
	Claimed   int // requests Odoo handed to this host (its own earlier claims included)
	Stored    int // of those, new here
	Cancelled int // requests cancelled because someone pressed Cancel in Odoo
}

// HostName names this host in Odoo's claimed_by: the machine's name and a
// short hash of the data folder, so two homes on one machine (or two
// users) are two hosts, and the same home after a restart is the same one
// and gets its claims back.
func HostName(dataDir string) string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "host"
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return app.OutsideLine(h) + "/" + hex.EncodeToString(sum[:4])
}

// NewPoller returns a poller; nothing runs until Run or PollOnce.
func NewPoller(o QueueOptions) *Poller {
	if o.Clock == nil {
		o.Clock = app.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Limit <= 0 {
		o.Limit = DefaultClaimLimit
	}
	if o.Jitter == nil {
		o.Jitter = func() float64 { return 0.5 + rand.Float64() }
	}
	def := app.DefaultConfig().Odoo
	if o.Config.Odoo.RequestModel == "" {
		o.Config.Odoo.RequestModel = def.RequestModel
	}
	if o.Config.Odoo.PollInterval <= 0 {
		o.Config.Odoo.PollInterval = def.PollInterval
	}
	if o.Config.Odoo.ClaimTimeout <= 0 {
		o.Config.Odoo.ClaimTimeout = def.ClaimTimeout
	}
	return &Poller{opts: o}
}

// Run polls at once, then every poll interval, until ctx ends. While Odoo
// fails it backs off like the sync (1 s doubling to 5 min, jittered), so
// an outage costs one call per backoff step.
func (p *Poller) Run(ctx context.Context) error {
	failures := 0
	for {
		_, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // stopping: the poll's error is the cancellation itself
		}
		wait := time.Duration(p.opts.Config.Odoo.PollInterval)
		if err != nil {
			failures++
			wait = max(wait, queueBackoff(failures, p.opts.Jitter()))
			p.opts.Log.Warn("odoo queue: poll failed", "err", err, "retry_in", wait.Round(time.Millisecond))
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.opts.Clock.After(wait):
		}
	}
}

func queueBackoff(failures int, jitter float64) time.Duration {
	d := backoffBase << min(failures-1, 20)
	return time.Duration(float64(min(d, backoffCap)) * jitter)
}

// PollOnce publishes this host's models (once per process, so Odoo's form
// offers them), claims what Odoo has for this host, stores the new ones
// and wakes the sender, then cancels what people cancelled in Odoo.
func (p *Poller) PollOnce(ctx context.Context) (QueueReport, error) {
	var rep QueueReport
	if !p.published {
		if err := p.publish(ctx); err != nil {
			return rep, err
		}
		p.published = true
	}
	var out struct {
		Requests []Record `json:"requests"`
		Cancel   []string `json:"cancel"`
	}
	timeout := int(time.Duration(p.opts.Config.Odoo.ClaimTimeout) / time.Second)
	err := p.opts.Client.Call(ctx, p.opts.Config.Odoo.RequestModel, ClaimMethod, nil,
		[]Arg{Pos("host", p.opts.Host), Pos("limit", p.opts.Limit), Pos("timeout", timeout),
			Pos("models", p.opts.Config.Generation.Models)}, &out)
	if err != nil {
		return rep, outdatedAddon(err, p.opts.Config.Odoo.RequestModel, ClaimMethod)
	}
	rep.Claimed = len(out.Requests)
	for _, rec := range out.Requests {
		stored, err := p.store(ctx, rec)
		if err != nil {
			// The claim stays ours; the next poll returns it again.
			return rep, err
		}
		if stored {
			rep.Stored++
		}
	}
	if rep.Stored > 0 && p.opts.Requests != nil {
		p.opts.Requests.Wake()
	}
	for _, id := range out.Cancel {
		if p.cancel(ctx, id) {
			rep.Cancelled++
		}
	}
	if rep.Stored > 0 || rep.Cancelled > 0 {
		p.opts.Log.Info("odoo queue: took requests", "claimed", rep.Claimed, "new", rep.Stored, "cancelled", rep.Cancelled)
	}
	return rep, nil
}

// publish offers this host's generation models in Odoo's form.
func (p *Poller) publish(ctx context.Context) error {
	g := p.opts.Config.Generation
	var n int
	err := p.opts.Client.Call(ctx, ModelModel, PublishMethod, nil, []Arg{Pos("names", g.Models),
		Pos("default_model", g.DefaultModel), Pos("default_resolution", g.DefaultResolution)}, &n)
	return outdatedAddon(err, ModelModel, PublishMethod)
}

// store inserts one claimed request under Odoo's id, durably; false when
// it is here already (a restart before the claim showed progress in Odoo).
func (p *Poller) store(ctx context.Context, rec Record) (bool, error) {
	id := rec.String("external_id")
	if !app.ValidID(id) {
		p.opts.Log.Warn("odoo queue: claimed record has no valid request id; skipped", "odoo_id", rec.ID(),
			"external_id", app.OutsideLine(id))
		return false, nil
	}
	if _, err := p.opts.Store.GetRequest(ctx, id); err == nil {
		return false, nil
	} else if app.ErrorCode(err) != app.ENOTFOUND {
		return false, err
	}
	req := p.request(rec, id)
	err := p.opts.Store.CreateRequests(ctx, []app.Request{req})
	if app.ErrorCode(err) == app.ECONFLICT {
		return false, nil // another process on this home stored it first
	}
	if app.ErrorCode(err) == app.EINVALID {
		// Not even a failed request can hold it (no prompt: made past
		// Generate). Skip it rather than stop taking the others; the
		// claim expires and a manager sees it queued in Odoo.
		p.opts.Log.Warn("odoo queue: claimed request cannot be stored; skipped", "request_id", id, "err", err)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store Odoo request %s: %w", id, err)
	}
	if err := p.opts.Store.SetOdooID(ctx, id, rec.ID()); err != nil {
		p.opts.Log.Warn("odoo queue: Odoo record id not kept (the sync finds it by request id)", "request_id", id, "err", err)
	}
	if p.opts.Bus != nil {
		p.opts.Bus.Publish(app.Event{Kind: app.EventRequest, RequestID: id})
	}
	return true, nil
}

// request turns a claimed record into a local request. Odoo checked it
// with the app's rules and claims only this host's models; this host
// checks again against its own generation config (its default
// resolution, a model list changed since). A request this host cannot
// run is stored as failed, which the sync reports to Odoo,
// instead of being released to bounce between hosts.
func (p *Poller) request(rec Record, id string) app.Request {
	now := p.opts.Clock.Now().UTC()
	created := now
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", rec.String("requested_at"), time.UTC); err == nil {
		created = t
	}
	seed := asInt(rec["seed"])
	if s := rec.String("seed"); s != "" {
		_, _ = fmt.Sscan(s, &seed)
	}
	in := app.ParamsInput{
		Prompt: app.OutsideText(rec.String("prompt")), NegativePrompt: app.OutsideText(rec.String("negative_prompt")),
		Model: app.OutsideLine(rec.String("ai_model")), Resolution: app.OutsideLine(rec.String("resolution")),
		AspectRatio: app.OutsideLine(rec.String("aspect_ratio")), Seed: &seed, Count: 1,
	}
	req := app.Request{ID: id, Status: app.StatusQueued, RequestedBy: app.OutsideLine(rec.String("requested_by")),
		CreatedAt: created, UpdatedAt: now}
	params, err := app.Validate(in, p.opts.Config.Defaults(), func() uint32 { return 0 })
	if err != nil {
		req.Status, req.ErrorCode, req.ErrorMessage = app.StatusFailed, "invalid_params",
			"this host cannot run it: "+err.Error()
		req.Params = app.GenerationParams{Prompt: in.Prompt, NegativePrompt: in.NegativePrompt, Model: in.Model,
			Seed: max(seed, 0), NumImages: 1}
		return req
	}
	req.Params = params[0]
	if n := int(asInt(rec["num_images"])); n >= 1 && n <= app.MaxCount {
		req.Params.NumImages = n
	}
	return req
}

// cancel cancels a request someone cancelled in Odoo, if this host holds
// it and it is not finished; the sync then writes "cancelled" to Odoo.
func (p *Poller) cancel(ctx context.Context, id string) bool {
	if p.opts.Requests == nil || !app.ValidID(id) {
		return false
	}
	req, err := p.opts.Store.GetRequest(ctx, id)
	if err != nil || req.Status.Final() {
		return false
	}
	if _, err := p.opts.Requests.Cancel(ctx, id); err != nil {
		p.opts.Log.Warn("odoo queue: cancel asked in Odoo failed", "request_id", id, "err", err)
		return false
	}
	return true
}
