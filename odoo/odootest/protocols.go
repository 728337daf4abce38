package odootest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// --- JSON-2: POST /json/2/<model>/<method>, bearer key, named args ---

func (s *Server) serveJSON2(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/json/2/")
	model, method, ok := strings.Cut(rest, "/")
	if r.Method != http.MethodPost || !ok {
		writeJSON(w, 404, errorBody("werkzeug.exceptions.NotFound", "Did you mean POST /json/2/<model>/<method>?", 404, true), false)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeHTML(w, 415, "415 Unsupported Media Type", "Unsupported Media Type",
			"Request inferred type is compatible with [&#39;http&#39;] but &#39;/json/2/&lt;__model__&gt;/&lt;__method__&gt;&#39; is type=&#39;json2&#39;.<br><br>Please verify the Content-Type request header and try again.",
			"application/json")
		return
	}
	if s.fault(w, r) {
		return
	}
	unauthorized := func(msg string) {
		w.Header().Set("WWW-Authenticate", "Bearer ")
		writeJSON(w, 401, errorBody("werkzeug.exceptions.Unauthorized", msg, 401, true), false)
	}
	scheme, key, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
		return
	}
	if key != s.Key() {
		unauthorized("Invalid apikey")
		return
	}
	var kw map[string]any
	data, _ := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	if err := json.Unmarshal(data, &kw); err != nil {
		writeJSON(w, 400, errorBody("werkzeug.exceptions.BadRequest", "Invalid JSON data", 400, true), false)
		return
	}
	var ids []int64
	if raw, ok := kw["ids"]; ok {
		for _, v := range asList(raw) {
			ids = append(ids, num(v))
		}
		delete(kw, "ids")
	}
	result, oerr := s.dispatch("json2", "", model, method, ids, kw)
	if oerr != nil {
		if oerr == errUnknownModel {
			oerr = &odooError{name: "werkzeug.exceptions.NotFound", message: fmt.Sprintf("the model '%s' does not exist", model), status: 404}
		}
		if oerr.status == 0 {
			oerr.status = 500
		}
		werkzeug := strings.HasPrefix(oerr.name, "werkzeug.")
		writeJSON(w, oerr.status, errorBody(oerr.name, oerr.message, oerr.status, werkzeug), false)
		return
	}
	writeJSON(w, 200, result, true)
}

// --- JSON-RPC: /jsonrpc, errors as HTTP 200 ---

type rpcResult struct {
	JSONRPC string `json:"jsonrpc"`
	ID      any    `json:"id"`
	Result  any    `json:"result"`
}

type rpcErrorData struct {
	Name      string         `json:"name"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
	Debug     string         `json:"debug"`
}

type rpcError struct {
	JSONRPC string `json:"jsonrpc"`
	ID      any    `json:"id"`
	Error   struct {
		Code    int          `json:"code"`
		Message string       `json:"message"`
		Data    rpcErrorData `json:"data"`
	} `json:"error"`
}

func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && mt != "application/json-rpc" {
		writeHTML(w, 415, "415 Unsupported Media Type", "Unsupported Media Type",
			"Request inferred type is compatible with [&#39;http&#39;] but &#39;/jsonrpc&#39; is type=&#39;jsonrpc&#39;.<br><br>Please verify the Content-Type request header and try again.",
			"application/json, application/json-rpc")
		return
	}
	if s.fault(w, r) {
		return
	}
	var req struct {
		ID     any `json:"id"`
		Params struct {
			Service string `json:"service"`
			Method  string `json:"method"`
			Args    []any  `json:"args"`
		} `json:"params"`
	}
	data, _ := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	if err := json.Unmarshal(data, &req); err != nil {
		writeJSON(w, 400, errorBody("werkzeug.exceptions.BadRequest", "Invalid JSON data", 400, true), false)
		return
	}
	fail := func(oerr *odooError) {
		var e rpcError
		e.JSONRPC, e.ID = "2.0", req.ID
		e.Error.Message = "Odoo Server Error"
		b := errorBody(oerr.name, oerr.message, 0, false)
		e.Error.Data = rpcErrorData{Name: oerr.name, Message: oerr.message, Arguments: b["arguments"].([]any), Context: map[string]any{}, Debug: b["debug"].(string)}
		writeJSON(w, 200, e, false)
	}
	ok := func(result any) { writeJSON(w, 200, rpcResult{JSONRPC: "2.0", ID: req.ID, Result: result}, true) }
	p := req.Params
	args := p.Args
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch p.Service + "." + p.Method {
	case "common.version":
		s.record(Call{Protocol: "jsonrpc", Service: "common", Method: "version"})
		ok(map[string]any{"server_version": "19.0", "server_version_info": versionInfo(), "server_serie": "19.0", "protocol_version": 1})
	case "db.list":
		s.record(Call{Protocol: "jsonrpc", Service: "db", Method: "list"})
		ok([]string{s.cfg.Database})
	case "common.login", "common.authenticate":
		s.mu.Lock()
		s.logins++
		s.mu.Unlock()
		s.record(Call{Protocol: "jsonrpc", Service: "common", Method: p.Method})
		if arg(0) == s.cfg.Database && arg(1) == s.cfg.Login && arg(2) == s.Key() {
			ok(UID)
		} else {
			ok(false)
		}
	case "object.execute_kw", "object.execute":
		if arg(0) != s.cfg.Database || num(arg(1)) != UID || arg(2) != s.Key() {
			fail(&odooError{name: "odoo.exceptions.AccessDenied", message: "Access Denied"})
			return
		}
		model, _ := arg(3).(string)
		method, _ := arg(4).(string)
		positional := asList(arg(5))
		kw, _ := arg(6).(map[string]any)
		if kw == nil {
			kw = map[string]any{}
		}
		ids, named, oerr := positionalToNamed(method, positional)
		if oerr != nil {
			fail(oerr)
			return
		}
		for k, v := range named {
			kw[k] = v
		}
		result, oerr := s.dispatch("jsonrpc", "object", model, method, ids, kw)
		if oerr == errUnknownModel {
			oerr = &odooError{name: "odoo.exceptions.UserError", message: fmt.Sprintf("Object %s doesn't exist", model)}
		}
		if oerr != nil {
			fail(oerr)
			return
		}
		ok(result)
	default:
		fail(&odooError{name: "builtins.NameError", message: fmt.Sprintf("%s.%s is not a known method", p.Service, p.Method)})
	}
}

// signatures lists the positional parameters of the model methods the fake
// serves; record methods (ids first) are marked.
var signatures = map[string]struct {
	record bool
	params []string
}{
	"search_read":         {false, []string{"domain", "fields", "offset", "limit", "order"}},
	"search":              {false, []string{"domain", "offset", "limit", "order"}},
	"search_count":        {false, []string{"domain", "limit"}},
	"read":                {true, []string{"fields"}},
	"create":              {false, []string{"vals_list"}},
	"write":               {true, []string{"vals"}},
	"has_access":          {true, []string{"operation"}},
	"check_access_rights": {false, []string{"operation", "raise_exception"}},
	"context_get":         {false, nil},
	"set_param":           {false, []string{"key", "value"}},
	"get_param":           {false, []string{"key", "default"}},
	upsertMethod:          {false, []string{"vals_list"}},
	attachMethod:          {false, []string{"vals_list"}},
	decideMethod:          {false, []string{"vals_list"}},
	claimMethod:           {false, []string{"host", "limit", "timeout", "models"}},
	publishMethod:         {false, []string{"names", "default_model", "default_resolution"}},
}

func positionalToNamed(method string, positional []any) ([]int64, map[string]any, *odooError) {
	sig, known := signatures[method]
	named := map[string]any{}
	if !known {
		return nil, named, nil // dispatch reports the unknown method
	}
	var ids []int64
	if sig.record {
		if len(positional) == 0 {
			return nil, nil, &odooError{name: "builtins.TypeError", message: fmt.Sprintf("%s() missing the record ids", method)}
		}
		for _, v := range asList(positional[0]) {
			ids = append(ids, num(v))
		}
		positional = positional[1:]
	}
	if len(positional) > len(sig.params) {
		return nil, nil, &odooError{name: "builtins.TypeError", message: fmt.Sprintf("%s() takes %d positional arguments", method, len(sig.params))}
	}
	for i, v := range positional {
		named[sig.params[i]] = v
	}
	return ids, named, nil
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}
