package n8n

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// Admin speaks n8n's public REST API (/api/v1, header X-N8N-API-KEY) as
// recorded from n8n 2.8.4 in shared/peers/n8n-api: 401 {"message"} for a
// missing or wrong key, string ids, credential create answering 200, PATCH
// replacing a credential's data unless isPartialData is true. It never logs
// or returns the admin key or credential values.
type Admin struct {
	base   string // e.g. http://127.0.0.1:5678, without /api/v1
	apiKey string
	http   *http.Client
}

// maxAdminBody bounds what one answer may hold: an execution with its data
// is ~16 KB, one holding a base64 image a few MiB.
const maxAdminBody = 16 << 20

// NewAdmin checks baseURL (n8n's own address, e.g. https://n8n.example.com)
// and returns a client whose every call is bounded by timeout.
func NewAdmin(baseURL, apiKey string, timeout time.Duration) (*Admin, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, app.Errorf(app.EINVALID, "n8n URL %q: want n8n's address, e.g. https://n8n.example.com", baseURL)
	}
	if apiKey == "" {
		return nil, app.ReasonErrorf(app.ENOTCONFIGURED, "n8n_admin_key_missing",
			"no n8n admin key: create one in n8n (Settings → n8n API → Create an API key) and store it with `influencegen secrets set %s`", app.SecretN8NAdminKey)
	}
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1")
	u.RawQuery, u.Fragment = "", ""
	return &Admin{base: strings.TrimSuffix(u.String(), "/"), apiKey: apiKey, http: &http.Client{Timeout: timeout}}, nil
}

// BaseURL is n8n's address as the client uses it.
func (a *Admin) BaseURL() string { return a.base }

// EditorURL links to a workflow (and an execution of it) in n8n's editor.
func (a *Admin) EditorURL(workflowID, executionID string) string {
	if executionID == "" {
		return a.base + "/workflow/" + url.PathEscape(workflowID)
	}
	return a.base + "/workflow/" + url.PathEscape(workflowID) + "/executions/" + url.PathEscape(executionID)
}

// do sends one call; out (if not nil) receives the decoded 2xx answer.
func (a *Admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-N8N-API-KEY", a.apiKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return app.ReasonErrorf(app.EUNAVAILABLE, "n8n_unreachable", "n8n at %s cannot be reached (%s): check the URL and that n8n is running", a.base, adminErrText(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody+1))
	if err != nil {
		return app.ReasonErrorf(app.EUNAVAILABLE, "n8n_unreachable", "reading n8n's answer to %s %s: %s", method, path, adminErrText(err))
	}
	if len(raw) > maxAdminBody {
		return app.Errorf(app.EUNAVAILABLE, "n8n's answer to %s %s is larger than %d MiB", method, path, maxAdminBody>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return adminStatusError(resp.StatusCode, raw, method, path)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return app.Errorf(app.EUNAVAILABLE, "n8n answered %s %s with something that is not the expected JSON (%v): is %s really n8n?", method, path, err, a.base)
	}
	return nil
}

func adminErrText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return app.ClipText(app.CleanLine(err.Error()), 200)
}

// adminStatusError turns n8n's {"message"} answers into domain errors whose
// text says what to do.
func adminStatusError(status int, raw []byte, method, path string) *app.Error {
	var env struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &env)
	msg := app.ClipText(app.CleanLine(env.Message), 300)
	if msg == "" {
		msg = app.ClipText(app.CleanLine(string(raw)), 200)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return app.ReasonErrorf(app.EUNAUTHORIZED, "n8n_admin_auth",
			"n8n refused the admin key (%s): create a new one in n8n (Settings → n8n API) and store it with `influencegen secrets set %s`", msg, app.SecretN8NAdminKey)
	case http.StatusNotFound:
		return app.ReasonErrorf(app.ENOTFOUND, "n8n_not_found", "n8n: %s %s: %s", method, path, msg)
	case http.StatusBadRequest:
		return app.ReasonErrorf(app.EINVALID, "n8n_rejected", "n8n refused %s %s: %s", method, path, msg)
	}
	return app.ReasonErrorf(app.EUNAVAILABLE, "n8n_error", "n8n answered %s %s with HTTP %d: %s", method, path, status, msg)
}

// Credential is a credential without its data (n8n never returns it).
type Credential struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Credentials lists every credential the key can see.
func (a *Admin) Credentials(ctx context.Context) ([]Credential, error) {
	return listAll[Credential](ctx, a, "/credentials")
}

// listAll reads every page of one of the public API's cursor-paged lists
// (at most 100 pages of 250: a bound, not a real limit).
func listAll[T any](ctx context.Context, a *Admin, resource string) ([]T, error) {
	var all []T
	cursor := ""
	for page := 0; page < 100; page++ {
		var res struct {
			Data       []T     `json:"data"`
			NextCursor *string `json:"nextCursor"`
		}
		path := resource + "?limit=250"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := a.do(ctx, http.MethodGet, path, nil, &res); err != nil {
			return nil, err
		}
		all = append(all, res.Data...)
		if res.NextCursor == nil || *res.NextCursor == "" {
			break
		}
		cursor = *res.NextCursor
	}
	return all, nil
}

// HeaderAuth is the data of an httpHeaderAuth credential.
type HeaderAuth struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CreateHeaderCredential creates an httpHeaderAuth credential.
func (a *Admin) CreateHeaderCredential(ctx context.Context, name string, data HeaderAuth) (Credential, error) {
	var c Credential
	err := a.do(ctx, http.MethodPost, "/credentials", map[string]any{"name": name, "type": CredentialTypeHeader, "data": data}, &c)
	return c, err
}

// SetHeaderCredential replaces both fields of a Header Auth credential.
func (a *Admin) SetHeaderCredential(ctx context.Context, id string, data HeaderAuth) error {
	return a.do(ctx, http.MethodPatch, "/credentials/"+url.PathEscape(id), map[string]any{"data": data, "isPartialData": true}, nil)
}

// RotateHeaderValue changes only the value of a Header Auth credential.
// isPartialData is what keeps the header name: without it n8n replaces the
// whole data with {value} (peers/n8n-api 10 vs 11).
func (a *Admin) RotateHeaderValue(ctx context.Context, id, value string) error {
	return a.do(ctx, http.MethodPatch, "/credentials/"+url.PathEscape(id), map[string]any{"data": map[string]string{"value": value}, "isPartialData": true}, nil)
}

// DeleteCredential deletes a credential.
func (a *Admin) DeleteCredential(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, "/credentials/"+url.PathEscape(id), nil, nil)
}

// WorkflowState is a stored workflow as n8n answers it.
type WorkflowState struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Active bool              `json:"active"`
	Nodes  []json.RawMessage `json:"nodes"`
}

// Workflows lists workflows (without caring for their nodes).
func (a *Admin) Workflows(ctx context.Context) ([]WorkflowState, error) {
	return listAll[WorkflowState](ctx, a, "/workflows")
}

// GetWorkflow reads one workflow with its nodes.
func (a *Admin) GetWorkflow(ctx context.Context, id string) (WorkflowState, error) {
	var w WorkflowState
	err := a.do(ctx, http.MethodGet, "/workflows/"+url.PathEscape(id), nil, &w)
	return w, err
}

// CreateWorkflow posts a workflow (only the fields the API accepts).
func (a *Admin) CreateWorkflow(ctx context.Context, wf Workflow) (WorkflowState, error) {
	var w WorkflowState
	err := a.do(ctx, http.MethodPost, "/workflows", wf, &w)
	return w, err
}

// UpdateWorkflow replaces a workflow's name, nodes, connections and
// settings.
func (a *Admin) UpdateWorkflow(ctx context.Context, id string, wf Workflow) (WorkflowState, error) {
	var w WorkflowState
	err := a.do(ctx, http.MethodPut, "/workflows/"+url.PathEscape(id), wf, &w)
	return w, err
}

// ActivateWorkflow registers the workflow's webhook ("publish" in n8n 2).
func (a *Admin) ActivateWorkflow(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodPost, "/workflows/"+url.PathEscape(id)+"/activate", nil, nil)
}

// DeactivateWorkflow unregisters the workflow's webhook.
func (a *Admin) DeactivateWorkflow(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodPost, "/workflows/"+url.PathEscape(id)+"/deactivate", nil, nil)
}

// DeleteWorkflow deletes a workflow (active or not) and its executions.
func (a *Admin) DeleteWorkflow(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, "/workflows/"+url.PathEscape(id), nil, nil)
}

// ExecutionSummary is one row of the executions list. n8n 2.8.4 sends ids
// as strings although its spec says numbers; flexID takes both.
type ExecutionSummary struct {
	ID         flexID     `json:"id"`
	WorkflowID flexID     `json:"workflowId"`
	Status     string     `json:"status"`
	Finished   bool       `json:"finished"`
	Mode       string     `json:"mode"`
	StartedAt  time.Time  `json:"startedAt"`
	StoppedAt  *time.Time `json:"stoppedAt"`
}

type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("execution id %s is neither a string nor a number", b)
	}
	*f = flexID(n.String())
	return nil
}

// Executions lists the newest executions of a workflow (all if workflowID
// is empty), at most limit (≤ 250).
func (a *Admin) Executions(ctx context.Context, workflowID string, limit int) ([]ExecutionSummary, error) {
	if limit <= 0 || limit > 250 {
		limit = 250
	}
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if workflowID != "" {
		q.Set("workflowId", workflowID)
	}
	var res struct {
		Data []ExecutionSummary `json:"data"`
	}
	err := a.do(ctx, http.MethodGet, "/executions?"+q.Encode(), nil, &res)
	return res.Data, err
}
