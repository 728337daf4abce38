package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/influencegen/influencegen/app"
)

// json2Client speaks Odoo 19's JSON-2 API: POST /json/2/<model>/<method>,
// bearer key, named arguments, bare results, errors by HTTP status. Each
// call is its own transaction on the server.
type json2Client struct {
	opts Options
	key  keyCache

	mu  sync.Mutex
	uid int64
}

func newJSON2(opts Options) *json2Client {
	return &json2Client{opts: opts, key: keyCache{fn: opts.Key}}
}

func (c *json2Client) Protocol() string { return ProtocolJSON2 }

func (c *json2Client) who() identity {
	return identity{user: c.opts.Username, database: c.opts.Database}
}

// Login asks res.users/context_get: the cheapest call that proves the key
// works, and it tells our uid.
func (c *json2Client) Login(ctx context.Context) (Session, error) {
	var uctx struct {
		UID int64 `json:"uid"`
	}
	if err := c.Call(ctx, "res.users", "context_get", nil, nil, &uctx); err != nil {
		return Session{}, err
	}
	c.mu.Lock()
	c.uid = uctx.UID
	c.mu.Unlock()
	return Session{Protocol: ProtocolJSON2, UID: uctx.UID}, nil
}

// noEndpoint reports whether err means the server has no JSON-2 API at all
// (Odoo ≤ 18 answers any /json/2 path with a plain 404 page), as opposed
// to JSON-2's own 404 for an unknown model.
func (c *json2Client) noEndpoint(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Status == http.StatusNotFound && se.Name == ""
}

func (c *json2Client) Call(ctx context.Context, model, method string, ids []int64, args []Arg, out any) error {
	key, err := c.key.get(ctx)
	if err != nil {
		return err
	}
	body := make(map[string]any, len(args)+1)
	if ids != nil {
		body["ids"] = ids
	}
	for _, a := range args {
		body[a.Name] = a.Value
	}
	h := http.Header{}
	h.Set("Authorization", "bearer "+key)
	if c.opts.Database != "" {
		h.Set("X-Odoo-Database", c.opts.Database)
	}
	h.Set("User-Agent", c.opts.UserAgent)
	endpoint := c.opts.URL + "/json/2/" + url.PathEscape(model) + "/" + url.PathEscape(method)
	status, data, err := post(ctx, c.opts.HTTP, endpoint, h, body)
	if err != nil {
		return mapTransportError(ctx, err, c.opts.URL)
	}
	cl := call{model: model, method: method}
	if status == http.StatusOK {
		return decodeInto(data, out, cl)
	}
	se := &ServerError{Status: status}
	var env struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &env) == nil && (env.Name != "" || env.Message != "") {
		se.Name, se.Message = env.Name, env.Message
	} else {
		se.Message = fmt.Sprintf("%s (non-JSON answer)", strings.TrimSpace(http.StatusText(status)))
	}
	mapped := mapServerError(se, cl, c.who())
	if app.ErrorReason(mapped) == app.ReasonOdooAuth {
		c.key.forget()
	}
	if se.Status == http.StatusNotFound && se.Name == "" {
		return &app.Error{Code: app.EINVALID, Reason: app.ReasonOdooProtocol, Err: se, Message: fmt.Sprintf(
			"%s has no JSON-2 API (Odoo older than 19?): set odoo.protocol = jsonrpc (or auto) and odoo.username", c.opts.URL)}
	}
	return mapped
}
