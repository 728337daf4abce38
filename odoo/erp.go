package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/influencegen/influencegen/app"
)

// CallbackTokenParam is the system parameter the seed kept the callback
// token in; the addon ships it as a placeholder.
const CallbackTokenParam = "influence_gen.n8n_callback_token"

// ERP is Odoo as the app sees it (app.ERP): the syncer plus the doctor
// checks and the token push, sharing one client so the protocol is
// detected and the login done once per process.
type ERP struct {
	*Syncer
	client Client
	opts   Options
	odoo   app.OdooConfig
}

var _ app.ERP = (*ERP)(nil)

// ERPOptions are what NewERP needs beyond the config.
type ERPOptions struct {
	Secrets app.Secrets
	Store   app.Store
	Log     *slog.Logger
	Clock   app.Clock
	Bus     *app.Bus
	// HTTP overrides the HTTP client (tests); nil = NewHTTPClient().
	HTTP      *http.Client
	UserAgent string
}

// NewERP builds the Odoo adapter from the configuration. It fails with
// ENOTCONFIGURED (reason odoo_not_configured) when odoo.url is empty: sync
// is then off, which is a normal way to run.
func NewERP(cfg app.Config, o ERPOptions) (*ERP, error) {
	if o.Secrets == nil {
		return nil, app.Errorf(app.EINTERNAL, "odoo: no secret store")
	}
	secrets := o.Secrets
	if o.HTTP == nil {
		o.HTTP = NewHTTPClient() // one keep-alive pool for RPCs and /web/version
	}
	opts := Options{
		URL: cfg.Odoo.URL, Database: cfg.Odoo.Database, Username: cfg.Odoo.Username, Protocol: cfg.Odoo.Protocol,
		Key: func(ctx context.Context) (string, error) {
			v, _, err := secrets.Get(ctx, app.SecretOdooAPIKey)
			return v, err
		},
		HTTP: o.HTTP, Log: o.Log, UserAgent: o.UserAgent,
	}
	client, err := New(opts)
	if err != nil {
		return nil, err
	}
	syncer := NewSyncer(SyncOptions{Client: client, Store: o.Store, Odoo: cfg.Odoo, Clock: o.Clock, Log: o.Log, Bus: o.Bus})
	return &ERP{Syncer: syncer, client: client, opts: opts, odoo: syncer.opts.Odoo}, nil
}

// Client returns the RPC client (for tools and tests).
func (e *ERP) Client() Client { return e.client }

// PushCallbackToken writes the callback token to Odoo's system parameter.
func (e *ERP) PushCallbackToken(ctx context.Context, token string) error {
	return PushCallbackToken(ctx, e.client, token)
}

// PushCallbackToken writes token to ir.config_parameter
// influence_gen.n8n_callback_token, where the seed's Odoo side read it.
// Writing system parameters needs the Settings (admin) group.
func PushCallbackToken(ctx context.Context, c Client, token string) error {
	err := c.Call(ctx, "ir.config_parameter", "set_param", nil,
		[]Arg{Pos("key", CallbackTokenParam), Pos("value", token)}, nil)
	if app.ErrorReason(err) == app.ReasonOdooAccess {
		return &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAccess, Err: err, Message: fmt.Sprintf(
			"the new callback token is active locally but was not pushed to Odoo: writing the system parameter %s needs "+
				"the Settings (Administration) group in Odoo; ask an admin to set it, or use an admin's API key", CallbackTokenParam)}
	}
	if err != nil {
		return fmt.Errorf("push callback token to Odoo: %w", err)
	}
	return nil
}

// Check runs the doctor checks: URL reachable with its version, protocol
// and login, both models installed, create/write rights on both, and the
// addon recent enough to have the guarded sync methods.
func (e *ERP) Check(ctx context.Context) (app.ERPCheck, error) {
	res := app.ERPCheck{URL: e.opts.URL}
	add := func(name string, err error, okDetail string) bool {
		it := app.ERPCheckItem{Name: name, OK: err == nil, Detail: okDetail}
		if err != nil {
			it.Detail, it.Reason = app.ErrorMessage(err), app.ErrorReason(err)
		}
		res.Items = append(res.Items, it)
		return err == nil
	}
	version, err := serverVersion(ctx, e.opts)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Version = version
	if !add("reachable", err, "Odoo "+version+" answers at "+e.opts.URL) {
		return res, nil
	}
	sess, err := e.client.Login(ctx)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Protocol = e.client.Protocol()
	if err == nil {
		res.User = fmt.Sprintf("uid %d", sess.UID)
		if e.opts.Username != "" {
			res.User = fmt.Sprintf("%s (uid %d)", e.opts.Username, sess.UID)
		}
	}
	if !add("login", err, fmt.Sprintf("logged in as %s over %s", res.User, res.Protocol)) {
		return res, nil
	}
	for _, model := range []string{e.odoo.RequestModel, e.odoo.ImageModel} {
		var n json.RawMessage
		err := e.client.Call(ctx, model, "search_count", nil, []Arg{Pos("domain", []any{})}, &n)
		if !add("model:"+model, err, "installed ("+string(n)+" records)") {
			continue
		}
		for _, op := range []string{"create", "write"} {
			allowed, err := hasAccess(ctx, e.client, model, op)
			if err == nil && !allowed {
				err = &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAccess, Message: fmt.Sprintf(
					"the Odoo user may not %s %s records: add it to the Internal User group (the addon's access rules)", op, model)}
			}
			add("rights:"+op+":"+model, err, op+" allowed")
		}
	}
	if res.OK() {
		add("addon", e.checkGuardedMethods(ctx), "version "+AddonVersion+" or later ("+UpsertMethod+", "+AttachMethod+", "+DecideMethod+")")
	}
	if res.OK() && e.odoo.AcceptRequests {
		detail, err := e.queueState(ctx)
		add("queue", err, detail)
	}
	return res, ctx.Err()
}

// queueState says what waits in the shared queue (issue 15), without
// claiming anything: how many Odoo requests no host took yet, and how
// many hosts hold unsent. Doctor shows it when odoo.accept_requests is on.
func (e *ERP) queueState(ctx context.Context) (string, error) {
	count := func(model string, domain []any) (int64, error) {
		var n int64
		err := e.client.Call(ctx, model, "search_count", nil, []Arg{Pos("domain", domain)}, &n)
		return n, err
	}
	if _, err := count(ModelModel, []any{}); err != nil {
		if app.ErrorReason(err) == app.ReasonOdooModelMissing || app.ErrorCode(err) == app.ENOTFOUND {
			return "", &app.Error{Code: app.ENOTCONFIGURED, Reason: app.ReasonOdooAddonOutdated, Err: err, Message: fmt.Sprintf(
				"odoo.accept_requests is on but the Odoo addon has no request queue (%s): upgrade it to %s "+
					"(odoo-bin -u influence_gen_ai_integration)", ModelModel, AddonVersion)}
		}
		return "", err
	}
	// Claiming needs InfluenceGen / Manager; of what an Internal User
	// lacks, writing the offered models is the one has_access can ask.
	if manager, err := hasAccess(ctx, e.client, ModelModel, "write"); err != nil {
		return "", err
	} else if !manager {
		return "", &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAccess, Message: "odoo.accept_requests is on " +
			"but the Odoo user of this API key may not take requests: add it to the group InfluenceGen / Manager " +
			"(Settings → Users), or turn odoo.accept_requests off on this host"}
	}
	waiting, err := e.QueueWaiting(ctx)
	if err != nil {
		return "", err
	}
	held, err := count(e.odoo.RequestModel, append(queuedInOdoo(), []any{"claimed_by", "!=", false}))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("accepting requests made in Odoo: %d waiting, %d claimed by hosts and not sent yet (claims expire after %s)",
		waiting, held, e.odoo.ClaimTimeout), nil
}

// queuedInOdoo is the domain of Odoo-origin requests still queued.
func queuedInOdoo() []any {
	return []any{[]any{"origin", "=", "odoo"}, []any{"state", "=", "queued"}}
}

// QueueWaiting is how many requests made in Odoo no host has claimed yet:
// doctor's "N waiting", and the dashboard header's "Odoo queue: N waiting".
// One search_count.
func (e *ERP) QueueWaiting(ctx context.Context) (int, error) {
	var n int64
	err := e.client.Call(ctx, e.odoo.RequestModel, "search_count", nil,
		[]Arg{Pos("domain", append(queuedInOdoo(), []any{"claimed_by", "=", false}))}, &n)
	return int(n), err
}

// checkGuardedMethods calls the addon's sync methods with nothing to do:
// an addon installed before they existed answers "does not exist", and
// the sync would park every item, so doctor says to upgrade it first.
func (e *ERP) checkGuardedMethods(ctx context.Context) error {
	for _, m := range []struct{ model, method string }{
		{e.odoo.RequestModel, UpsertMethod}, {e.odoo.ImageModel, AttachMethod}, {e.odoo.ImageModel, DecideMethod},
	} {
		model, method := m.model, m.method
		var out json.RawMessage
		if err := e.client.Call(ctx, model, method, nil, []Arg{Pos("vals_list", []any{})}, &out); err != nil {
			return outdatedAddon(err, model, method)
		}
	}
	return nil
}

// hasAccess asks has_access (Odoo 18+), falling back to
// check_access_rights on older servers that lack it.
func hasAccess(ctx context.Context, c Client, model, op string) (bool, error) {
	var ok bool
	err := c.Call(ctx, model, "has_access", []int64{}, []Arg{Pos("operation", op)}, &ok)
	if err == nil {
		return ok, nil
	}
	if Transient(err) || app.ErrorReason(err) == app.ReasonOdooAuth {
		return false, err
	}
	err = c.Call(ctx, model, "check_access_rights", nil, []Arg{Pos("operation", op), Pos("raise_exception", false)}, &ok)
	return ok, err
}

// serverVersion reads GET /web/version (no auth, no database needed).
func serverVersion(ctx context.Context, o Options) (string, error) {
	hc := o.HTTP
	if hc == nil {
		hc = NewHTTPClient()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL+"/web/version", nil)
	if err != nil {
		return "", app.Errorf(app.EINVALID, "odoo.url = %q: %v", o.URL, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", mapTransportError(ctx, err, o.URL)
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<16)).Decode(&v) != nil || v.Version == "" {
		return "", app.ReasonErrorf(app.EINVALID, app.ReasonOdooProtocol,
			"%s/web/version answered HTTP %d without an Odoo version: is odoo.url the Odoo base URL?", o.URL, resp.StatusCode)
	}
	return v.Version, nil
}
