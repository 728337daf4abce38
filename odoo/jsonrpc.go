package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/influencegen/influencegen/app"
)

// jsonrpcClient speaks the classic /jsonrpc API (Odoo ≤ 18, deprecated in
// 19): common.login once, then object.execute_kw with the uid. Errors
// arrive as HTTP 200 with error.data.name.
type jsonrpcClient struct {
	opts Options
	key  keyCache
	seq  atomic.Int64

	// mu serialises login so concurrent first calls log in once: each
	// password check costs Odoo 19 over a second.
	mu  sync.Mutex
	uid int64
	db  string
}

func newJSONRPC(opts Options) *jsonrpcClient {
	return &jsonrpcClient{opts: opts, key: keyCache{fn: opts.Key}}
}

func (c *jsonrpcClient) Protocol() string { return ProtocolJSONRPC }

func (c *jsonrpcClient) who() identity {
	c.mu.Lock()
	db := c.db
	c.mu.Unlock()
	if db == "" {
		db = c.opts.Database
	}
	return identity{user: c.opts.Username, database: db}
}

type rpcEnvelope struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// rpc performs one /jsonrpc call of service.method(args).
func (c *jsonrpcClient) rpc(ctx context.Context, service, method string, args []any, cl call, out any) error {
	body := map[string]any{
		"jsonrpc": "2.0", "method": "call", "id": c.seq.Add(1),
		"params": map[string]any{"service": service, "method": method, "args": args},
	}
	h := http.Header{}
	h.Set("User-Agent", c.opts.UserAgent)
	status, data, err := post(ctx, c.opts.HTTP, c.opts.URL+"/jsonrpc", h, body)
	if err != nil {
		return mapTransportError(ctx, err, c.opts.URL)
	}
	var env rpcEnvelope
	if status != http.StatusOK || json.Unmarshal(data, &env) != nil {
		se := &ServerError{Status: status, Message: strings.TrimSpace(http.StatusText(status))}
		if status == http.StatusOK {
			se.Status, se.Message = http.StatusBadGateway, "answer is not JSON-RPC"
		}
		return mapServerError(se, cl, c.who())
	}
	if env.Error != nil {
		se := &ServerError{Status: status, Name: env.Error.Data.Name, Message: env.Error.Data.Message}
		if se.Message == "" {
			se.Message = env.Error.Message
		}
		return mapServerError(se, cl, c.who())
	}
	return decodeInto(env.Result, out, cl)
}

// Login runs common.login once and keeps the uid for the process.
func (c *jsonrpcClient) Login(ctx context.Context) (Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uid != 0 {
		return Session{Protocol: ProtocolJSONRPC, UID: c.uid}, nil
	}
	if c.opts.Username == "" {
		return Session{}, app.ReasonErrorf(app.ENOTCONFIGURED, app.ReasonOdooAuth,
			"JSON-RPC needs a login: set odoo.username (e.g. `influencegen config set odoo.username alice@example.com`)")
	}
	db := c.opts.Database
	if db == "" {
		var dbs []string
		err := c.rpc(ctx, "db", "list", []any{}, call{model: "db", method: "list"}, &dbs)
		if err != nil && Transient(err) {
			return Session{}, err
		}
		if len(dbs) != 1 {
			return Session{}, app.ReasonErrorf(app.ENOTCONFIGURED, app.ReasonOdooAuth,
				"JSON-RPC needs a database name: set odoo.database (the server lists %d databases)", len(dbs))
		}
		db = dbs[0]
	}
	key, err := c.key.get(ctx)
	if err != nil {
		return Session{}, err
	}
	var result json.RawMessage
	if err := c.rpc(ctx, "common", "login", []any{db, c.opts.Username, key}, call{model: "common", method: "login"}, &result); err != nil {
		return Session{}, err
	}
	var uid int64
	if json.Unmarshal(result, &uid) != nil || uid == 0 {
		// A wrong password is not an error in JSON-RPC: the result is false.
		c.key.forget()
		return Session{}, &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAuth, Message: fmt.Sprintf(
			"Odoo rejected the API key for %s: check odoo.username, then store a valid key or password with `influencegen secrets set odoo-api-key` and run `influencegen sync retry`",
			identity{user: c.opts.Username, database: db}.describe())}
	}
	c.uid, c.db = uid, db
	c.opts.Log.Info("odoo login", "protocol", ProtocolJSONRPC, "uid", uid, "database", db)
	return Session{Protocol: ProtocolJSONRPC, UID: uid}, nil
}

func (c *jsonrpcClient) Call(ctx context.Context, model, method string, ids []int64, args []Arg, out any) error {
	sess, err := c.Login(ctx)
	if err != nil {
		return err
	}
	key, err := c.key.get(ctx)
	if err != nil {
		return err
	}
	positional := []any{}
	if ids != nil {
		positional = append(positional, ids)
	}
	kwargs := map[string]any{}
	for _, a := range args {
		if a.Positional {
			positional = append(positional, a.Value)
		} else {
			kwargs[a.Name] = a.Value
		}
	}
	c.mu.Lock()
	db := c.db
	c.mu.Unlock()
	err = c.rpc(ctx, "object", "execute_kw", []any{db, sess.UID, key, model, method, positional, kwargs}, call{model: model, method: method}, out)
	if app.ErrorReason(err) == app.ReasonOdooAuth {
		// The password changed under us: log in again next time, with the
		// key re-read from the keyring.
		c.key.forget()
		c.mu.Lock()
		c.uid = 0
		c.mu.Unlock()
	}
	return err
}
