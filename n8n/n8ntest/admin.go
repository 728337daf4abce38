package n8ntest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Admin is a fake n8n 2.8.4 public API (/api/v1) that answers like the
// recordings in shared/peers/n8n-api: 401 {"message"} for a missing or wrong
// X-N8N-API-KEY, credential create answering 200 without data, PATCH
// replacing data unless isPartialData, workflows accepting only name,
// nodes, connections and settings, credentials given as {"id": null,
// "name"} bound by name, activation refusing a Webhook without its
// credential (and not checking the other nodes), string execution ids.
// Active workflows serve their webhook: a wrong key gets 403, and a dry
// run (generation_params.dry_run) calls back with the callback credential
// like the shipped templates do. It is test-only code.
type Admin struct {
	URL    string
	APIKey string

	mu          sync.Mutex
	seq         int
	credentials map[string]*fakeCredential
	workflows   map[string]*fakeWorkflow
	executions  []map[string]any
	calls       []string
}

type fakeCredential struct {
	ID, Name, Type, Created, Updated string
	Data                             map[string]any
}

type fakeWorkflow struct {
	ID, Name, Created, Updated, VersionID string
	Nodes                                 []map[string]any
	Connections, Settings                 map[string]any
	Active                                bool
	VersionCounter                        int
}

// NewAdmin starts a fake n8n whose public API accepts apiKey.
func NewAdmin(t testing.TB, apiKey string) *Admin {
	a := &Admin{APIKey: apiKey, credentials: map[string]*fakeCredential{}, workflows: map[string]*fakeWorkflow{}}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *Admin) newID() string {
	a.seq++
	return fmt.Sprintf("fake%012d", a.seq)
}

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]any{"message": msg})
}

// Calls lists "METHOD path" of every API call, in order.
func (a *Admin) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// CredentialData returns a credential's stored data (what n8n keeps
// encrypted and never returns), for tests to check PATCH semantics.
func (a *Admin) CredentialData(id string) map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.credentials[id]; c != nil {
		out := map[string]any{}
		for k, v := range c.Data {
			out[k] = v
		}
		return out
	}
	return nil
}

// Counts reports how many credentials and workflows exist.
func (a *Admin) Counts() (credentials, workflows int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.credentials), len(a.workflows)
}

// AddExecution stores an execution as n8n would have saved it (the
// recorded list rows or details).
func (a *Admin) AddExecution(e map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.executions = append(a.executions, e)
}

func (a *Admin) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/webhook/") {
		a.serveWebhook(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		adminJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "not found"})
		return
	}
	a.mu.Lock()
	a.calls = append(a.calls, r.Method+" "+r.URL.Path)
	a.mu.Unlock()
	switch key := r.Header.Get("X-N8N-API-KEY"); {
	case key == "":
		message(w, http.StatusUnauthorized, "'X-N8N-API-KEY' header required")
		return
	case key != a.APIKey:
		message(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	var body map[string]any
	if r.Body != nil {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
			message(w, http.StatusBadRequest, "request/body must be object")
			return
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case parts[0] == "credentials":
		a.serveCredentials(w, r, parts[1:], body)
	case parts[0] == "workflows":
		a.serveWorkflows(w, r, parts[1:], body)
	case parts[0] == "executions":
		a.serveExecutions(w, r, parts[1:])
	default:
		message(w, http.StatusNotFound, "not found")
	}
}

func (c *fakeCredential) view(withID bool) map[string]any {
	v := map[string]any{"name": c.Name, "type": c.Type, "resolverId": nil, "updatedAt": c.Updated, "createdAt": c.Created,
		"isManaged": false, "isGlobal": false, "isResolvable": false, "resolvableAllowFallback": false}
	if withID {
		v["id"] = c.ID
	}
	return v
}

// headerAuthErrors checks data against httpHeaderAuth's schema (peers 03,
// 06): name and value are optional strings, nothing else is allowed.
func headerAuthErrors(data map[string]any) string {
	var errs []string
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "name" && k != "value" {
			errs = append(errs, fmt.Sprintf("request.body.data is not allowed to have the additional property %q", k))
		}
	}
	for _, k := range keys {
		if _, ok := data[k].(string); (k == "name" || k == "value") && !ok {
			errs = append(errs, "request.body.data is not of a type(s) string")
		}
	}
	return strings.Join(errs, ",")
}

func (a *Admin) serveCredentials(w http.ResponseWriter, r *http.Request, rest []string, body map[string]any) {
	switch {
	case len(rest) == 2 && rest[0] == "schema" && r.Method == http.MethodGet:
		if rest[1] != "httpHeaderAuth" {
			message(w, http.StatusNotFound, "Not Found")
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"additionalProperties": false, "type": "object",
			"properties": map[string]any{"name": map[string]any{"type": "string"}, "value": map[string]any{"type": "string"}, "useCustomAuth": map[string]any{"type": "notice"}},
			"required":   []any{}})
	case len(rest) == 0 && r.Method == http.MethodGet:
		var list []*fakeCredential
		for _, c := range a.credentials {
			list = append(list, c)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID > list[j].ID }) // newest first
		data := []any{}
		for _, c := range list {
			data = append(data, map[string]any{"id": c.ID, "name": c.Name, "type": c.Type, "createdAt": c.Created, "updatedAt": c.Updated,
				"shared": []any{map[string]any{"id": "fakeProject0001", "name": "Owner <owner@example.test>", "role": "credential:owner", "createdAt": c.Created, "updatedAt": c.Created}}})
		}
		adminJSON(w, http.StatusOK, map[string]any{"data": data, "nextCursor": nil})
	case len(rest) == 0 && r.Method == http.MethodPost:
		data, hasData := body["data"].(map[string]any)
		switch {
		case !hasData:
			message(w, http.StatusBadRequest, "request/body must have required property 'data'")
		case body["type"] != "httpHeaderAuth":
			message(w, http.StatusBadRequest, "req.body.type is not a known type")
		case headerAuthErrors(data) != "":
			message(w, http.StatusBadRequest, headerAuthErrors(data))
		default:
			name, _ := body["name"].(string)
			c := &fakeCredential{ID: a.newID(), Name: name, Type: "httpHeaderAuth", Created: now(), Data: data}
			c.Updated = c.Created
			a.credentials[c.ID] = c
			adminJSON(w, http.StatusOK, c.view(true))
		}
	case len(rest) == 1 && r.Method == http.MethodPatch:
		c := a.credentials[rest[0]]
		if c == nil {
			message(w, http.StatusNotFound, "Credential not found")
			return
		}
		if name, ok := body["name"].(string); ok {
			c.Name = name
		}
		if data, ok := body["data"].(map[string]any); ok {
			if body["isPartialData"] == true {
				for k, v := range data {
					c.Data[k] = v
				}
			} else {
				c.Data = data // what real n8n does: the header name is gone (peers 10)
			}
		}
		c.Updated = now()
		adminJSON(w, http.StatusOK, c.view(true))
	case len(rest) == 1 && r.Method == http.MethodDelete:
		c := a.credentials[rest[0]]
		if c == nil {
			message(w, http.StatusNotFound, "Not Found")
			return
		}
		delete(a.credentials, c.ID)
		adminJSON(w, http.StatusOK, c.view(false))
	default:
		message(w, http.StatusNotFound, "not found")
	}
}

func (a *Admin) serveExecutions(w http.ResponseWriter, r *http.Request, rest []string) {
	if r.Method != http.MethodGet {
		message(w, http.StatusNotFound, "not found")
		return
	}
	if len(rest) == 1 {
		for _, e := range a.executions {
			if fmt.Sprint(e["id"]) == rest[0] {
				adminJSON(w, http.StatusOK, e)
				return
			}
		}
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	wfID := r.URL.Query().Get("workflowId")
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	var rows []map[string]any
	for _, e := range a.executions {
		if wfID != "" && e["workflowId"] != wfID {
			continue
		}
		row := map[string]any{}
		for _, k := range []string{"id", "finished", "mode", "retryOf", "retrySuccessId", "status", "startedAt", "stoppedAt", "workflowId", "waitTill"} {
			row[k] = e[k]
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { // newest first, by numeric id
		x, _ := strconv.Atoi(fmt.Sprint(rows[i]["id"]))
		y, _ := strconv.Atoi(fmt.Sprint(rows[j]["id"]))
		return x > y
	})
	var next any
	if len(rows) > limit {
		rows = rows[:limit]
		cursor, _ := json.Marshal(map[string]any{"lastId": rows[limit-1]["id"], "limit": limit})
		next = base64.StdEncoding.EncodeToString(cursor)
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	adminJSON(w, http.StatusOK, map[string]any{"data": rows, "nextCursor": next})
}

// CredentialDataByName is CredentialData for the credential named name.
func (a *Admin) CredentialDataByName(name string) map[string]any {
	a.mu.Lock()
	var id string
	for _, c := range a.credentials {
		if c.Name == name {
			id = c.ID
		}
	}
	a.mu.Unlock()
	return a.CredentialData(id)
}
