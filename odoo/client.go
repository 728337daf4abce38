package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Protocols.
const (
	ProtocolAuto    = "auto"
	ProtocolJSON2   = "json2"
	ProtocolJSONRPC = "jsonrpc"
)

// Arg is one argument of a model method. JSON-2 sends every argument by
// name; JSON-RPC's execute_kw sends Positional ones in order and the rest
// as keyword arguments (some methods, e.g. create, take no keyword form
// there).
type Arg struct {
	Name       string
	Value      any
	Positional bool
}

// Pos is a positional argument (named for JSON-2).
func Pos(name string, v any) Arg { return Arg{Name: name, Value: v, Positional: true} }

// KW is a keyword argument.
func KW(name string, v any) Arg { return Arg{Name: name, Value: v} }

// Session is who the server says we are.
type Session struct {
	Protocol string
	UID      int64
}

// Client calls Odoo model methods. Implementations are safe for
// concurrent use.
type Client interface {
	// Call runs model.method on ids (nil for model-level methods such as
	// create or search_read) and decodes the result into out (nil
	// discards it). Errors are app errors with an odoo_* reason.
	Call(ctx context.Context, model, method string, ids []int64, args []Arg, out any) error
	// Login authenticates once per client (JSON-RPC: common.login; JSON-2:
	// res.users/context_get) and, for auto, settles the protocol.
	Login(ctx context.Context) (Session, error)
	// Protocol is json2 or jsonrpc once known, "" before auto detection.
	Protocol() string
}

// KeyFunc returns the API key (or JSON-RPC password). It is called lazily
// and again after Odoo rejects the key, so `secrets set odoo-api-key`
// takes effect without a restart.
type KeyFunc func(ctx context.Context) (string, error)

// Options configure a client.
type Options struct {
	URL      string
	Database string
	Username string // JSON-RPC login; also named in odoo_auth messages
	Protocol string // auto | json2 | jsonrpc
	Key      KeyFunc
	// HTTP defaults to NewHTTPClient(); tests pass shorter timeouts.
	HTTP      *http.Client
	Log       *slog.Logger
	UserAgent string
}

// Timeouts of the default HTTP client (issue 5 §1).
const (
	ConnectTimeout = 10 * time.Second
	CallTimeout    = 60 * time.Second
	maxResponse    = 64 << 20 // a search_read of a few thousand rows is far below this
)

// NewHTTPClient returns a keep-alive client: connect within 10 s, whole
// call within 60 s. Reusing connections matters: a TLS handshake per RPC
// would cost more than the RPC.
func NewHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		MaxIdleConns:          8,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: CallTimeout,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: CallTimeout}
}

// New returns a client for opts.Protocol; auto detects the protocol on the
// first call, once per client, and logs the choice.
func New(opts Options) (Client, error) {
	opts.URL = strings.TrimRight(strings.TrimSpace(opts.URL), "/")
	if opts.URL == "" {
		return nil, app.ReasonErrorf(app.ENOTCONFIGURED, "odoo_not_configured",
			"Odoo sync is off: set odoo.url (e.g. `influencegen config set odoo.url https://odoo.example.com`)")
	}
	if !strings.HasPrefix(opts.URL, "http://") && !strings.HasPrefix(opts.URL, "https://") {
		return nil, app.Errorf(app.EINVALID, "odoo.url = %q: must start with http:// or https://", opts.URL)
	}
	if opts.Key == nil {
		return nil, app.Errorf(app.EINVALID, "odoo client: no API key source")
	}
	if opts.HTTP == nil {
		opts.HTTP = NewHTTPClient()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "influencegen"
	}
	switch opts.Protocol {
	case ProtocolJSON2:
		return newJSON2(opts), nil
	case ProtocolJSONRPC:
		return newJSONRPC(opts), nil
	case ProtocolAuto, "":
		return &autoClient{opts: opts}, nil
	}
	return nil, app.Errorf(app.EINVALID, "odoo.protocol = %q: use auto, json2 or jsonrpc", opts.Protocol)
}

// autoClient settles the protocol on first use: JSON-2 if the server has
// /json/2 (Odoo 19+), JSON-RPC otherwise. A transient failure leaves it
// undecided so the next call tries again.
type autoClient struct {
	opts  Options
	mu    sync.Mutex
	inner Client
}

func (a *autoClient) Protocol() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inner == nil {
		return ""
	}
	return a.inner.Protocol()
}

func (a *autoClient) resolve(ctx context.Context) (Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inner != nil {
		return a.inner, nil
	}
	j2 := newJSON2(a.opts)
	_, err := j2.Login(ctx)
	switch {
	case err == nil:
		a.inner = j2
	case j2.noEndpoint(err):
		// Odoo ≤ 18 has no /json/2: fall back to JSON-RPC.
		a.inner = newJSONRPC(a.opts)
	case app.ErrorReason(err) == app.ReasonOdooAuth && a.opts.Username != "":
		// JSON-2 exists but refused the value as a key: it may be a
		// password, which only JSON-RPC accepts.
		rpc := newJSONRPC(a.opts)
		if _, rerr := rpc.Login(ctx); rerr != nil {
			return nil, err
		}
		a.inner = rpc
	default:
		return nil, err
	}
	a.opts.Log.Info("odoo protocol detected", "protocol", a.inner.Protocol(), "url", a.opts.URL)
	return a.inner, nil
}

func (a *autoClient) Login(ctx context.Context) (Session, error) {
	c, err := a.resolve(ctx)
	if err != nil {
		return Session{}, err
	}
	return c.Login(ctx)
}

func (a *autoClient) Call(ctx context.Context, model, method string, ids []int64, args []Arg, out any) error {
	c, err := a.resolve(ctx)
	if err != nil {
		return err
	}
	return c.Call(ctx, model, method, ids, args, out)
}

// keyCache holds the key between calls and forgets it when Odoo rejects
// it, so a key replaced in the keyring is picked up on the next attempt.
type keyCache struct {
	fn  KeyFunc
	mu  sync.Mutex
	key string
}

func (k *keyCache) get(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != "" {
		return k.key, nil
	}
	v, err := k.fn(ctx)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", app.ReasonErrorf(app.ENOTCONFIGURED, app.ReasonOdooAuth,
			"no Odoo API key: store one with `influencegen secrets set odoo-api-key`")
	}
	k.key = v
	return v, nil
}

func (k *keyCache) forget() {
	k.mu.Lock()
	k.key = ""
	k.mu.Unlock()
}

// post sends body as JSON and returns the status and the body read up to
// maxResponse.
func post(ctx context.Context, hc *http.Client, url string, header http.Header, body any) (int, []byte, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return 0, nil, app.Errorf(app.EINTERNAL, "encode Odoo request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(buf))
	if err != nil {
		return 0, nil, app.Errorf(app.EINVALID, "odoo.url: %w", err)
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if len(data) > maxResponse {
		return resp.StatusCode, nil, fmt.Errorf("odoo answer larger than %d bytes", maxResponse)
	}
	return resp.StatusCode, data, nil
}

// decodeInto decodes a result; a shape we did not expect is a protocol
// error, not a crash.
func decodeInto(raw json.RawMessage, out any, c call) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &app.Error{Code: app.EINTERNAL, Reason: app.ReasonOdooProtocol, Err: err,
			Message: fmt.Sprintf("unexpected answer from Odoo for %s %s: %v", c.model, c.method, err)}
	}
	return nil
}
