package n8ntest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

var readOnlyWorkflowFields = []string{"id", "active", "tags", "createdAt", "updatedAt", "versionId", "isArchived", "shared"}

func (a *Admin) workflowView(wf *fakeWorkflow) map[string]any {
	v := map[string]any{"updatedAt": wf.Updated, "createdAt": wf.Created, "id": wf.ID, "name": wf.Name, "description": nil,
		"active": wf.Active, "isArchived": false, "nodes": wf.Nodes, "connections": wf.Connections, "settings": wf.Settings,
		"staticData": nil, "meta": nil, "pinData": nil, "versionId": wf.VersionID, "activeVersionId": nil,
		"versionCounter": wf.VersionCounter, "triggerCount": 0}
	if wf.Active {
		v["activeVersionId"] = wf.VersionID
		v["triggerCount"] = 1
	}
	return v
}

// bindCredentials fills {"id": null, "name"} with the id of the one
// credential of that name and type, as n8n does on create (peers 41).
func (a *Admin) bindCredentials(nodes []map[string]any) {
	for _, n := range nodes {
		creds, _ := n["credentials"].(map[string]any)
		for typ, v := range creds {
			c, _ := v.(map[string]any)
			if c == nil || c["id"] != nil {
				continue
			}
			var match []string
			for _, fc := range a.credentials {
				if fc.Name == c["name"] && fc.Type == typ {
					match = append(match, fc.ID)
				}
			}
			if len(match) == 1 {
				c["id"] = match[0]
			}
		}
	}
}

func (a *Admin) readWorkflowBody(w http.ResponseWriter, body map[string]any) (*fakeWorkflow, bool) {
	// Unknown fields are reported before read-only ones (peers 16: active,
	// tags, pinData and meta together give "additional properties").
	for k := range body {
		if !slices.Contains(readOnlyWorkflowFields, k) && k != "name" && k != "nodes" && k != "connections" && k != "settings" && k != "staticData" {
			message(w, http.StatusBadRequest, "request/body must NOT have additional properties")
			return nil, false
		}
	}
	for k := range body {
		if slices.Contains(readOnlyWorkflowFields, k) {
			message(w, http.StatusBadRequest, "request/body/"+k+" is read-only")
			return nil, false
		}
	}
	for _, k := range []string{"name", "nodes", "connections", "settings"} {
		if _, ok := body[k]; !ok {
			message(w, http.StatusBadRequest, "request/body must have required property '"+k+"'")
			return nil, false
		}
	}
	raw, _ := json.Marshal(body["nodes"])
	var nodes []map[string]any
	if json.Unmarshal(raw, &nodes) != nil {
		message(w, http.StatusBadRequest, "request/body/nodes must be array")
		return nil, false
	}
	a.bindCredentials(nodes)
	name, _ := body["name"].(string)
	conns, _ := body["connections"].(map[string]any)
	settings, _ := body["settings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
	}
	// Defaults n8n 2.8.4 adds to every stored workflow's settings.
	if _, ok := settings["callerPolicy"]; !ok {
		settings["callerPolicy"] = "workflowsFromSameOwner"
	}
	if _, ok := settings["availableInMCP"]; !ok {
		settings["availableInMCP"] = false
	}
	return &fakeWorkflow{Name: name, Nodes: nodes, Connections: conns, Settings: settings}, true
}

func (a *Admin) serveWorkflows(w http.ResponseWriter, r *http.Request, rest []string, body map[string]any) {
	var wf *fakeWorkflow
	if len(rest) > 0 {
		if wf = a.workflows[rest[0]]; wf == nil {
			message(w, http.StatusNotFound, "Not Found")
			return
		}
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		data := []any{}
		for _, wf := range a.workflows {
			data = append(data, a.workflowView(wf))
		}
		adminJSON(w, http.StatusOK, map[string]any{"data": data, "nextCursor": nil})
	case len(rest) == 0 && r.Method == http.MethodPost:
		nw, ok := a.readWorkflowBody(w, body)
		if !ok {
			return
		}
		nw.ID, nw.VersionID, nw.Created = a.newID(), a.newID(), now()
		nw.Updated, nw.VersionCounter = nw.Created, 1
		a.workflows[nw.ID] = nw
		adminJSON(w, http.StatusOK, a.workflowView(nw))
	case len(rest) == 1 && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, a.workflowView(wf))
	case len(rest) == 1 && r.Method == http.MethodPut:
		nw, ok := a.readWorkflowBody(w, body)
		if !ok {
			return
		}
		wf.Name, wf.Nodes, wf.Connections, wf.Settings = nw.Name, nw.Nodes, nw.Connections, nw.Settings
		wf.Updated, wf.VersionID = now(), a.newID()
		wf.VersionCounter++
		adminJSON(w, http.StatusOK, a.workflowView(wf))
	case len(rest) == 1 && r.Method == http.MethodDelete:
		delete(a.workflows, wf.ID)
		kept := a.executions[:0]
		for _, e := range a.executions {
			if e["workflowId"] != wf.ID {
				kept = append(kept, e)
			}
		}
		a.executions = kept
		wf.VersionCounter++
		v := a.workflowView(wf)
		v["shared"] = []any{}
		adminJSON(w, http.StatusOK, v)
	case len(rest) == 2 && rest[1] == "activate" && r.Method == http.MethodPost:
		// Like n8n 2.8.4: only trigger nodes are checked (peers 43 vs 45).
		for _, n := range wf.Nodes {
			if n["type"] == "n8n-nodes-base.webhook" && n["parameters"].(map[string]any)["authentication"] == "headerAuth" && a.nodeCredential(n) == nil {
				message(w, http.StatusBadRequest, fmt.Sprintf("Cannot publish workflow: 1 node have configuration issues:\n\nNode %q:\n  - Credential not configured: httpHeaderAuth", n["name"]))
				return
			}
		}
		wf.Active = true
		v := a.workflowView(wf)
		v["activeVersion"] = map[string]any{"versionId": wf.VersionID, "workflowId": wf.ID, "nodes": wf.Nodes, "connections": wf.Connections,
			"authors": "Owner", "name": nil, "description": nil, "autosaved": false, "createdAt": wf.Updated, "updatedAt": wf.Updated, "workflowPublishHistory": []any{}}
		adminJSON(w, http.StatusOK, v)
	case len(rest) == 2 && rest[1] == "deactivate" && r.Method == http.MethodPost:
		wf.Active = false
		v := a.workflowView(wf)
		v["shared"], v["activeVersion"] = []any{}, nil
		adminJSON(w, http.StatusOK, v)
	default:
		message(w, http.StatusNotFound, "not found")
	}
}

func (a *Admin) nodeCredential(n map[string]any) *fakeCredential {
	creds, _ := n["credentials"].(map[string]any)
	c, _ := creds["httpHeaderAuth"].(map[string]any)
	id, _ := c["id"].(string)
	return a.credentials[id]
}

func nodeNamed(wf *fakeWorkflow, name string) map[string]any {
	for _, n := range wf.Nodes {
		if n["name"] == name {
			return n
		}
	}
	return nil
}

var dryRunPNG = regexp.MustCompile(`base64: '([A-Za-z0-9+/=]+)'`)

// serveWebhook answers like an active workflow's production webhook.
func (a *Admin) serveWebhook(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/webhook/")
	a.mu.Lock()
	var wf *fakeWorkflow
	var hook map[string]any
	for _, cand := range a.workflows {
		for _, n := range cand.Nodes {
			p, _ := n["parameters"].(map[string]any)
			if cand.Active && n["type"] == "n8n-nodes-base.webhook" && p["path"] == path && p["httpMethod"] == r.Method {
				wf, hook = cand, n
			}
		}
	}
	var auth, callbackCred *fakeCredential
	if wf != nil {
		auth = a.nodeCredential(hook)
		if cb := nodeNamed(wf, "Callback"); cb != nil {
			callbackCred = a.nodeCredential(cb)
		}
	}
	a.mu.Unlock()
	if wf == nil {
		adminJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": fmt.Sprintf("The requested webhook \"%s %s\" is not registered.", r.Method, path),
			"hint": "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)"})
		return
	}
	if auth == nil || r.Header.Get(fmt.Sprint(auth.Data["name"])) != fmt.Sprint(auth.Data["value"]) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Webhook"`)
		w.Header()["Content-Type"] = nil // n8n sends this text without a Content-Type
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Authorization data is wrong!")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var body struct {
		RequestID   any    `json:"ai_generation_request_id"`
		CallbackURL string `json:"callback_url"`
		Params      struct {
			DryRun bool   `json:"dry_run"`
			Seed   any    `json:"seed"`
			Prompt string `json:"prompt"`
		} `json:"generation_params"`
	}
	if json.Unmarshal(raw, &body) != nil {
		adminJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Failed to parse request body", "hint": "Unexpected token"})
		return
	}
	opts, _ := hook["parameters"].(map[string]any)["options"].(map[string]any)
	if hdrs, ok := opts["responseHeaders"].(map[string]any); ok {
		for _, e := range hdrs["entries"].([]any) {
			h := e.(map[string]any)
			w.Header().Set(fmt.Sprint(h["name"]), fmt.Sprint(h["value"]))
		}
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, fmt.Sprint(opts["responseData"]))
	switch {
	case body.Params.DryRun:
		go a.dryRun(wf, callbackCred, body.RequestID, body.CallbackURL, body.Params.Seed)
	case strings.Contains(body.Params.Prompt, "FAIL500"):
		go a.providerFailure(wf, callbackCred, body.RequestID, body.CallbackURL)
	}
}

// ProviderFailure is what the fake's provider says to a FAIL500 prompt,
// like the recorded fake provider (peers/n8n-api 30).
const ProviderFailure = "CUDA out of memory"

// providerFailure plays the templates' failure path: a failure callback
// with the provider's code and message, then Stop and Error, which n8n
// saves as an error execution.
func (a *Admin) providerFailure(wf *fakeWorkflow, cred *fakeCredential, requestID any, callbackURL string) {
	a.mu.Lock()
	execID := fmt.Sprint(1000 + a.seq)
	a.seq++
	a.mu.Unlock()
	if cred != nil {
		payload, _ := json.Marshal(map[string]any{"ai_generation_request_id": requestID, "status": "failed",
			"error_code": "gpu_oom", "error_message": ProviderFailure, "execution_id": execID})
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, callbackURL, bytes.NewReader(payload))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(fmt.Sprint(cred.Data["name"]), fmt.Sprint(cred.Data["value"]))
			if resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	a.AddExecution(map[string]any{"id": execID, "finished": false, "mode": "webhook", "retryOf": nil, "retrySuccessId": nil, "status": "error",
		"startedAt": now(), "stoppedAt": now(), "workflowId": wf.ID, "waitTill": nil,
		"data": map[string]any{"resultData": map[string]any{"error": map[string]any{"message": "gpu_oom: " + ProviderFailure, "node": map[string]any{"name": "Stop and Error"}},
			"lastNodeExecuted": "Stop and Error",
			"runData":          map[string]any{"Webhook": []any{map[string]any{"data": map[string]any{"main": []any{[]any{map[string]any{"json": map[string]any{"body": map[string]any{"ai_generation_request_id": requestID}}}}}}}}}}}})
}

// dryRun calls back like the templates' dry-run branch; a missing
// callback credential or a refused callback becomes an error execution.
func (a *Admin) dryRun(wf *fakeWorkflow, cred *fakeCredential, requestID any, callbackURL string, seed any) {
	a.mu.Lock()
	execID := fmt.Sprint(1000 + a.seq)
	a.seq++
	var png string
	if n := nodeNamed(wf, "Dry run image"); n != nil {
		if m := dryRunPNG.FindStringSubmatch(fmt.Sprint(n["parameters"].(map[string]any)["jsCode"])); m != nil {
			png = m[1]
		}
	}
	sign := nodeNamed(wf, "Sign (HMAC-SHA256)")
	a.mu.Unlock()
	fail := func(msg string) {
		a.AddExecution(map[string]any{"id": execID, "finished": false, "mode": "webhook", "retryOf": nil, "retrySuccessId": nil, "status": "error",
			"startedAt": now(), "stoppedAt": now(), "workflowId": wf.ID, "waitTill": nil,
			"data": map[string]any{"resultData": map[string]any{"error": map[string]any{"message": msg}, "lastNodeExecuted": "Callback",
				"runData": map[string]any{"Webhook": []any{map[string]any{"data": map[string]any{"main": []any{[]any{map[string]any{"json": map[string]any{"body": map[string]any{"ai_generation_request_id": requestID}}}}}}}}}}}})
	}
	if cred == nil {
		fail("Found credential with no ID.")
		return
	}
	payload, _ := json.Marshal(map[string]any{"ai_generation_request_id": requestID, "status": "success",
		"images": []any{map[string]any{"base64": png, "mime_type": "image/png", "width": 8, "height": 8, "seed": seed}}, "execution_id": execID})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, callbackURL, bytes.NewReader(payload))
	if err != nil {
		fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(fmt.Sprint(cred.Data["name"]), fmt.Sprint(cred.Data["value"]))
	if sign != nil {
		id, ts := "msg_"+execID, fmt.Sprint(time.Now().Unix())
		mac := hmac.New(sha256.New, []byte(fmt.Sprint(sign["parameters"].(map[string]any)["secret"])))
		mac.Write([]byte(id + "." + ts + "." + string(payload)))
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		fail("The service refused the connection - perhaps it is offline")
		return
	}
	resp.Body.Close()
	if resp.StatusCode > 299 {
		fail(fmt.Sprintf("Request failed with status code %d", resp.StatusCode))
	}
}
