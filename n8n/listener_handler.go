package n8n

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// callbackHandler serves the callback routes. It writes nothing to the
// store until a request is authenticated, parsed, matched to a request and
// its images have passed the cheap checks; then one delivery row commits
// and only then is 200 sent.
type callbackHandler struct {
	opts    ListenerOptions
	store   app.Store
	auth    *authenticator
	sources *sourceResolver
	limiter *failureLimiter
	policy  *ImagePolicy
	maxBody int64
	// inFlight bounds every callback body held at once; unauthBodies
	// bounds the bodies read before any credential was checked
	// (signature-only mode).
	inFlight, unauthBodies *byteBudget
	log                    *slog.Logger
	bus                    *app.Bus
	notify                 func()
	rejected               *rejectionLog
}

func newCallbackHandler(opts ListenerOptions) (*callbackHandler, error) {
	if opts.Store == nil || opts.Secrets == nil {
		return nil, app.Errorf(app.EINTERNAL, "callback listener needs a store and secrets")
	}
	switch opts.Config.Auth {
	case "", app.AuthToken, app.AuthSignature, app.AuthTokenSignature:
	default:
		return nil, app.Errorf(app.EINVALID, "callback.auth = %q: use token, signature or token+signature", opts.Config.Auth)
	}
	sources, err := newSourceResolver(opts.Config.TrustedProxies)
	if err != nil {
		return nil, err
	}
	maxBody := int64(opts.Config.MaxBody)
	if maxBody <= 0 {
		maxBody = int64(app.DefaultConfig().Callback.MaxBody)
	}
	// Twice max_body at least: a body is joined from its chunks once, so a
	// maximal one briefly needs both.
	inFlight := max(int64(opts.Config.MaxInFlight), 2*maxBody)
	if opts.Config.MaxInFlight <= 0 {
		inFlight = max(int64(app.DefaultConfig().Callback.MaxInFlight), 2*maxBody)
	}
	notify := opts.Committed
	if notify == nil {
		notify = func() {}
	}
	policy := opts.Policy
	if policy == nil {
		policy = NewImagePolicy(opts.N8NWebhookURL, opts.Config.AllowImageHosts)
	}
	return &callbackHandler{
		opts: opts, store: opts.Store,
		auth:    &authenticator{mode: opts.Config.Auth, secrets: opts.Secrets, now: opts.Clock.Now},
		sources: sources, limiter: newFailureLimiter(opts.Clock.Now),
		policy:  policy,
		maxBody: maxBody, inFlight: newByteBudget(inFlight), unauthBodies: newByteBudget(2 * maxBody),
		log: opts.Log, bus: opts.Bus, notify: notify,
		rejected: newRejectionLog(opts.Store, opts.Bus, opts.Log, opts.Clock.Now),
	}, nil
}

func (h *callbackHandler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+app.CallbackPath, h.serveCallback)
	mux.HandleFunc("POST "+app.CallbackPath+"/{request_id}", h.serveCallback)
	mux.HandleFunc("GET /healthz", h.serveHealthz)
	return mux
}

// serveHealthz answers {"status":"ok"} to anyone, the probe answer to a
// self-check, and version and instance only with a valid callback token
// (issue 10 §14). A wrong token counts as a failure of its source, as on
// the callback route.
func (h *callbackHandler) serveHealthz(w http.ResponseWriter, r *http.Request) {
	var who *healthDoc
	if presentedToken(r) != "" {
		authErr, err := h.auth.checkToken(r.Context(), r)
		switch {
		case err == nil && authErr == nil:
			who = &healthDoc{Version: h.opts.Version, Instance: instanceID}
		case err == nil:
			h.limiter.Fail(h.sources.source(r))
		}
	}
	writeHealthz(w, r, instanceKey, who)
}

// reply carries the envelope choice of one exchange.
type reply struct {
	w       http.ResponseWriter
	rpc     bool
	id      json.RawMessage
	refused *refusal // set by fail, so the handler can log who was turned away
}

// refusal is the status and message of a refused callback.
type refusal struct {
	status  int
	message string
}

func (rp reply) send(status int, body map[string]any) {
	if !rp.rpc {
		writeJSON(rp.w, status, body)
		return
	}
	// Odoo-style callers get the JSON-RPC envelope back, with the HTTP
	// status kept so that plain clients still see the outcome.
	env := map[string]any{"jsonrpc": "2.0", "id": rp.id}
	if rp.id == nil {
		env["id"] = nil
	}
	if status == http.StatusOK {
		env["result"] = body
	} else {
		env["error"] = map[string]any{"code": status, "message": body["message"], "data": body}
	}
	writeJSON(rp.w, status, env)
}

// The two 200 bodies are constants: an ack marshals nothing.
var (
	replySuccess   = []byte(`{"status":"success"}`)
	replyDuplicate = []byte(`{"status":"success","duplicate":true}`)
)

// ok answers 200: the delivery is committed (or was already).
func (rp reply) ok(duplicate bool) {
	if rp.rpc {
		body := map[string]any{"status": "success"}
		if duplicate {
			body["duplicate"] = true
		}
		rp.send(http.StatusOK, body)
		return
	}
	b := replySuccess
	if duplicate {
		b = replyDuplicate
	}
	rp.w.Header().Set("Content-Type", "application/json")
	rp.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rp.w.WriteHeader(http.StatusOK)
	_, _ = rp.w.Write(b)
}

func (rp reply) fail(status int, message string) {
	if rp.refused != nil {
		*rp.refused = refusal{status: status, message: message}
	}
	rp.send(status, map[string]any{"status": "error", "message": message})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *callbackHandler) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	source := h.sources.source(r)
	rp := reply{w: w, refused: &refusal{}}
	defer func() {
		// 4xx only: a 500 is ours, and a 503 while draining is not the caller's fault.
		if st := rp.refused.status; st >= 400 && st < 500 {
			h.rejected.record(source, st, rp.refused.message)
		}
	}()

	// Credentials first, the failure limiter only after them: a valid
	// credential is never refused because someone else guessed wrong from
	// the same address (behind a tunnel every caller may share one).
	if h.auth.needsToken() {
		authErr, err := h.auth.checkToken(ctx, r)
		if err != nil {
			h.internalError(rp, "check callback token", err)
			return
		}
		if authErr != nil {
			h.unauthorized(rp, source, authErr)
			return
		}
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		rp.fail(http.StatusUnsupportedMediaType, "Content-Type: send application/json")
		return
	}
	res := &reservation{global: h.inFlight}
	if !h.auth.needsToken() {
		// signature-only: nobody is authenticated before the body is read,
		// so these bytes come out of the small unauthenticated budget.
		res.unauth = h.unauthBodies
	}
	defer res.release()
	body, status, msg := h.readBody(w, r, res)
	if status != 0 {
		rp.fail(status, msg)
		return
	}
	if h.auth.needsSignature() {
		authErr, err := h.auth.checkSignature(ctx, r, body)
		if err != nil {
			h.internalError(rp, "check webhook signature", err)
			return
		}
		if authErr != nil {
			h.unauthorized(rp, source, authErr)
			return
		}
		res.authenticated()
	}

	cb, err := ParseCallback(body)
	rp.rpc, rp.id = cb.RPC, cb.RPCID
	if err != nil {
		h.badRequest(rp, source, err)
		return
	}
	pathRef := r.PathValue("request_id")
	switch {
	case cb.RequestRef == "" && pathRef == "":
		h.badRequest(rp, source, fieldErr("ai_generation_request_id", "is missing: send the id influencegen put in the webhook body"))
		return
	case cb.RequestRef == "":
		cb.RequestRef = pathRef
	case pathRef != "" && pathRef != cb.RequestRef:
		h.badRequest(rp, source, fieldErr("ai_generation_request_id", "%q does not match %q in the URL", clipText(cb.RequestRef, 40), clipText(pathRef, 40)))
		return
	}
	requestID, err := h.requestID(ctx, cb.RequestRef)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			h.notFound(rp, source, cb.RequestRef)
			return
		}
		h.internalError(rp, "look up request", err)
		return
	}
	webhookID := r.Header.Get(HeaderWebhookID)
	key := idempotencyKey(webhookID, requestID, body)
	if other, err := h.webhookIDUsedElsewhere(ctx, webhookID, requestID); err != nil {
		h.internalError(rp, "check webhook-id", err)
		return
	} else if other != "" {
		rp.fail(http.StatusConflict, "webhook-id: "+strconv.Quote(clipText(strings.TrimSpace(webhookID), 64))+" was already used for request "+other+
			"; this callback is for request "+requestID+": each callback needs its own webhook-id")
		return
	}
	if err := h.checkImages(ctx, cb); err != nil {
		h.badRequest(rp, source, err)
		return
	}

	// The request's state is checked inside the INSERT (issue 17): a
	// request in any state but completed or failed takes its one result
	// (queued and initiation_failed included, because n8n may have run a
	// workflow whose 202 we never read); a re-send of the callback that
	// finished a request is a duplicate; anything else for a final request
	// contradicts it (409). The delivery holds the bytes received, which
	// ingest parses once.
	stored, err := deliveryBody(cb, body)
	if err != nil {
		h.internalError(rp, "encode delivery", err)
		return
	}
	_, duplicate, err := h.store.RecordDelivery(ctx, app.Delivery{
		IdempotencyKey: key, RequestID: requestID, Body: stored, Source: source, ReceivedAt: h.opts.Clock.Now(),
	})
	switch {
	case app.ErrorReason(err) == app.ReasonResultExists:
		h.log.Info("callback refused: the request already has its result", "request", requestID, "source", source)
		rp.fail(http.StatusConflict, "ai_generation_request_id: "+app.ErrorMessage(err))
		return
	case app.ErrorCode(err) == app.ENOTFOUND:
		h.notFound(rp, source, cb.RequestRef)
		return
	case err != nil:
		h.internalError(rp, "record delivery", err)
		return
	case duplicate:
		h.log.Info("duplicate callback", "request", requestID, "source", source)
		rp.ok(true)
		return
	}
	h.log.Info("callback recorded", "request", requestID, "status", cb.Status, "images", len(cb.Images), "source", source)
	h.notify()
	h.bus.Publish(app.Event{Kind: app.EventActivity, RequestID: requestID})
	rp.ok(false)
}

func (h *callbackHandler) notFound(rp reply, source, ref string) {
	h.log.Info("callback for an unknown request", "source", source, "ref", clipText(ref, 64))
	rp.fail(http.StatusNotFound, "ai_generation_request_id: no request "+strconv.Quote(clipText(ref, 64))+" here: was it sent by another influencegen profile or deleted?")
}

func isJSONContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "application/json-rpc" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// requestID resolves our id exactly (its existence and state are checked
// by the INSERT that records the delivery), or digits as an Odoo record
// id. A prefix match (as the CLI allows) would let a sloppy callback land
// on the wrong request, so any other text is unknown. The id is a copy:
// ref aliases the pooled body, and the id outlives it (bus events).
func (h *callbackHandler) requestID(ctx context.Context, ref string) (string, error) {
	upper := strings.ToUpper(ref)
	if app.ValidID(upper) {
		return strings.Clone(upper), nil
	}
	if odooID, err := strconv.ParseInt(ref, 10, 64); err == nil && odooID > 0 {
		// FindRequest also tries digits as an id prefix; only an exact
		// Odoo record id counts here.
		req, err := h.store.FindRequest(ctx, ref)
		if err == nil && req.OdooID == odooID {
			return req.ID, nil
		}
		if err != nil && app.ErrorCode(err) != app.ENOTFOUND && app.ErrorCode(err) != app.EINVALID {
			return "", err
		}
	}
	return "", app.Errorf(app.ENOTFOUND, "no request %q", ref)
}

// idempotencyKey is (request, webhook-id) if the sender set one, else a
// hash of the request id and the exact bytes: the same callback sent twice
// is one. A webhook-id alone is not enough: keyed globally, a success for
// request B carrying A's webhook-id was answered "duplicate" and dropped.
func idempotencyKey(webhookID, requestID string, body []byte) string {
	if prefix := webhookIDPrefix(webhookID); prefix != "" {
		return prefix + requestID
	}
	h := sha256.New()
	h.Write([]byte(requestID))
	h.Write(body)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// webhookIDPrefix is the part of a webhook-id key before the request id:
// the id's length makes it unambiguous whatever the id contains, so every
// key of one webhook-id shares it (and an index range finds them).
func webhookIDPrefix(webhookID string) string {
	id := strings.TrimSpace(webhookID)
	if id == "" || len(id) > maxWebhookIDLen {
		return ""
	}
	return "webhook-id:" + strconv.Itoa(len(id)) + ":" + id + "@"
}

// webhookIDUsedElsewhere names another request a delivery with this
// webhook-id was recorded for, or "".
func (h *callbackHandler) webhookIDUsedElsewhere(ctx context.Context, webhookID, requestID string) (string, error) {
	prefix := webhookIDPrefix(webhookID)
	lookup, ok := h.store.(app.DeliveryKeyPrefixLookup)
	if prefix == "" || !ok {
		return "", nil
	}
	ids, err := lookup.DeliveryRequestsByKeyPrefix(ctx, prefix)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if id != requestID {
			return id, nil
		}
	}
	return "", nil
}

// checkImages makes the cheap checks before the ack: base64 decodes, the
// magic bytes are an accepted format, the header size is in bounds, and
// URLs are allowed by policy. Garbage is refused here so it never enters
// the inbox.
func (h *callbackHandler) checkImages(ctx context.Context, cb Callback) error {
	for _, img := range cb.Images {
		// Every URL is checked, inline data or not: the URL is stored as
		// the image's source and may be fetched later (issue 10 §12).
		if img.URL != "" {
			if err := h.policy.CheckURLResolved(ctx, img.URL); err != nil {
				return fieldErr(img.URLField(), "%v", err)
			}
		}
		if img.Base64 != "" {
			if err := checkInlineImage(img); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *callbackHandler) unauthorized(rp reply, source string, why error) {
	blocked, wait := h.limiter.Blocked(source)
	h.limiter.Fail(source)
	if blocked {
		rp.w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		rp.fail(http.StatusTooManyRequests, "too many failed authentications from this address: retry later")
		return
	}
	h.log.Warn("callback rejected: authentication failed", "source", source, "why", why.Error())
	rp.w.Header().Set("WWW-Authenticate", `Bearer realm="influencegen callback"`)
	rp.fail(http.StatusUnauthorized, "invalid or missing callback credentials")
}

func (h *callbackHandler) badRequest(rp reply, source string, err error) {
	msg := app.ErrorMessage(err)
	h.log.Info("callback rejected", "source", source, "problem", msg)
	rp.fail(http.StatusBadRequest, msg)
}

// internalError answers 500 with a correlation id only: the cause stays in
// the log, where the id finds it.
func (h *callbackHandler) internalError(rp reply, what string, err error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	h.log.Error("callback failed: "+what, "correlation_id", id, "err", err)
	rp.send(http.StatusInternalServerError, map[string]any{"status": "error", "message": "internal error", "correlation_id": id})
}
