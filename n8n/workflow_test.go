package n8n

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The workflow templates are what a newcomer imports into n8n; these tests
// keep them importable and in step with the callback contract (DESIGN §5).

type wfNode struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	Type        string                     `json:"type"`
	TypeVersion float64                    `json:"typeVersion"`
	Position    []float64                  `json:"position"`
	Parameters  map[string]any             `json:"parameters"`
	Credentials map[string]json.RawMessage `json:"credentials"`
}

type wfConn struct {
	Node  string `json:"node"`
	Type  string `json:"type"`
	Index int    `json:"index"`
}

type workflowFile struct {
	Name        string                           `json:"name"`
	Nodes       []wfNode                         `json:"nodes"`
	Connections map[string]map[string][][]wfConn `json:"connections"`
}

func loadWorkflow(t *testing.T, path string) workflowFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflowFile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("%s is not valid workflow JSON: %v", path, err)
	}
	return wf
}

func (wf workflowFile) node(t *testing.T, typ string) wfNode {
	t.Helper()
	var found []wfNode
	for _, n := range wf.Nodes {
		if n.Type == typ {
			found = append(found, n)
		}
	}
	if len(found) == 0 {
		t.Fatalf("no %s node", typ)
	}
	return found[0]
}

func (wf workflowFile) nodesOf(typ string) []wfNode {
	var out []wfNode
	for _, n := range wf.Nodes {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

// callbackFields are the DESIGN §5 body fields (with aliases) a workflow may send.
var callbackFields = []string{
	"ai_generation_request_id", "request_id", "status",
	"images", "image_url", "image_base64", "image_data", "image_format", "mime_type", "width", "height", "seed",
	"error_message", "error", "error_code", "execution_id", "model_id", "generation_time_ms", "metadata",
}

var objectKey = regexp.MustCompile(`(?m)^\s*([a-z0-9_]+):`)

// bodyKeys extracts the keys of the JSON.stringify({...}) object literal in
// an n8n expression.
func bodyKeys(t *testing.T, expr string) []string {
	t.Helper()
	if !strings.HasPrefix(expr, "={{ JSON.stringify({") {
		t.Fatalf("callback body is not a JSON.stringify expression: %q", expr)
	}
	var keys []string
	for _, m := range objectKey.FindAllStringSubmatch(expr, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

func checkGraph(t *testing.T, wf workflowFile) {
	t.Helper()
	names := map[string]bool{}
	ids := map[string]bool{}
	for _, n := range wf.Nodes {
		if !strings.HasPrefix(n.Type, "n8n-nodes-base.") {
			t.Errorf("node %q has type %q: only n8n's built-in n8n-nodes-base.* nodes import everywhere", n.Name, n.Type)
		}
		if n.Name == "" || n.ID == "" || n.TypeVersion == 0 || len(n.Position) != 2 {
			t.Errorf("node %+v lacks name, id, typeVersion or position", n)
		}
		if names[n.Name] || ids[n.ID] {
			t.Errorf("duplicate node name or id: %q", n.Name)
		}
		names[n.Name], ids[n.ID] = true, true
	}
	for from, outputs := range wf.Connections {
		if !names[from] {
			t.Errorf("connection from unknown node %q", from)
		}
		for kind, lanes := range outputs {
			for _, lane := range lanes {
				for _, c := range lane {
					if !names[c.Node] || c.Type != kind {
						t.Errorf("connection %q → %q (%s) names an unknown node or type", from, c.Node, c.Type)
					}
				}
			}
		}
	}
	// Every node but the trigger and notes must be reachable from the webhook.
	reached := map[string]bool{"Webhook": true}
	for changed := true; changed; {
		changed = false
		for from, outputs := range wf.Connections {
			if !reached[from] {
				continue
			}
			for _, lane := range outputs["main"] {
				for _, c := range lane {
					if !reached[c.Node] {
						reached[c.Node], changed = true, true
					}
				}
			}
		}
	}
	for _, n := range wf.Nodes {
		if n.Type != "n8n-nodes-base.stickyNote" && !reached[n.Name] {
			t.Errorf("node %q is not connected to the Webhook", n.Name)
		}
	}
}

func checkWebhook(t *testing.T, wf workflowFile) {
	t.Helper()
	wh := wf.node(t, "n8n-nodes-base.webhook")
	p := wh.Parameters
	if p["httpMethod"] != "POST" || p["path"] != "influence-gen/generate" || p["authentication"] != "headerAuth" || p["responseMode"] != "onReceived" {
		t.Errorf("webhook parameters = %v; want POST influence-gen/generate, headerAuth, respond immediately", p)
	}
	code := p["options"].(map[string]any)["responseCode"].(map[string]any)["values"].(map[string]any)
	if code["customCode"] != float64(202) {
		t.Errorf("webhook answers %v, want 202", code)
	}
	if _, ok := wh.Credentials["httpHeaderAuth"]; !ok {
		t.Error("webhook has no Header Auth credential")
	}
}

func checkBodies(t *testing.T, success, failure string) {
	t.Helper()
	for name, expr := range map[string]string{"success": success, "failure": failure} {
		keys := bodyKeys(t, expr)
		for _, k := range keys {
			if !slices.Contains(callbackFields, k) {
				t.Errorf("%s body sends %q, which DESIGN §5 does not define", name, k)
			}
		}
		for _, must := range []string{"ai_generation_request_id", "status"} {
			if !slices.Contains(keys, must) {
				t.Errorf("%s body lacks %q", name, must)
			}
		}
		if !strings.Contains(expr, "$('Webhook').item.json.body.ai_generation_request_id") {
			t.Errorf("%s body does not echo the request id from the webhook body", name)
		}
	}
	if !strings.Contains(success, "status: 'success'") || !strings.Contains(failure, "status: 'failed'") {
		t.Error("bodies must say status 'success' and 'failed'")
	}
	sk, fk := bodyKeys(t, success), bodyKeys(t, failure)
	if !slices.Contains(sk, "image_url") || !slices.Contains(sk, "image_base64") || !slices.Contains(fk, "error_message") {
		t.Errorf("success needs image_url/image_base64 and failure error_message: %v / %v", sk, fk)
	}
}

const callbackURLExpr = "={{ $('Webhook').item.json.body.callback_url }}"

func TestWorkflowTemplateIsImportableAndMatchesTheCallbackContract(t *testing.T) {
	wf := loadWorkflow(t, "workflow.example.json")
	checkGraph(t, wf)
	checkWebhook(t, wf)
	var gen, success, failure wfNode
	for _, n := range wf.nodesOf("n8n-nodes-base.httpRequest") {
		switch {
		case strings.HasPrefix(n.Name, "Generate image"):
			gen = n
		case n.Name == "Callback: success":
			success = n
		case n.Name == "Callback: failure":
			failure = n
		}
	}
	if gen.Name == "" || !strings.Contains(gen.Name, "FILL IN") {
		t.Error(`no clearly marked "Generate image (FILL IN…)" HTTP Request node`)
	}
	for _, cb := range []wfNode{success, failure} {
		if cb.Parameters["url"] != callbackURLExpr || cb.Parameters["method"] != "POST" {
			t.Errorf("%s posts to %v, want %s", cb.Name, cb.Parameters["url"], callbackURLExpr)
		}
		if cb.Parameters["genericAuthType"] != "httpHeaderAuth" || cb.Credentials["httpHeaderAuth"] == nil {
			t.Errorf("%s does not send the X-Callback-Token Header Auth credential", cb.Name)
		}
	}
	if _, ok := wf.Connections["Generated OK?"]; !ok || len(wf.Connections["Generated OK?"]["main"]) != 2 {
		t.Error("the IF node must route to a success and a failure callback")
	}
	checkBodies(t, success.Parameters["jsonBody"].(string), failure.Parameters["jsonBody"].(string))
}

func TestSignedWorkflowTemplateSignsTheStandardWebhooksWay(t *testing.T) {
	wf := loadWorkflow(t, "workflow.signed.example.json")
	checkGraph(t, wf)
	checkWebhook(t, wf)
	bodies := map[string]string{}
	for _, n := range wf.nodesOf("n8n-nodes-base.set") {
		for _, a := range n.Parameters["assignments"].(map[string]any)["assignments"].([]any) {
			as := a.(map[string]any)
			bodies[n.Name+"/"+as["name"].(string)] = as["value"].(string)
		}
	}
	checkBodies(t, bodies["Body: success/payload"], bodies["Body: failure/payload"])

	sign := wf.node(t, "n8n-nodes-base.crypto").Parameters
	if sign["action"] != "hmac" || sign["type"] != "SHA256" || sign["encoding"] != "base64" {
		t.Errorf("crypto node = %v, want HMAC SHA256 base64", sign)
	}
	if sign["value"] != "={{ $json.webhook_id + '.' + $json.webhook_timestamp + '.' + $json.payload }}" {
		t.Errorf("signed content = %v, want id.timestamp.body", sign["value"])
	}
	cb := wf.node(t, "n8n-nodes-base.httpRequest")
	for _, n := range wf.nodesOf("n8n-nodes-base.httpRequest") {
		if n.Name == "Callback (signed)" {
			cb = n
		}
	}
	if cb.Parameters["url"] != callbackURLExpr || cb.Parameters["contentType"] != "raw" || cb.Parameters["body"] != "={{ $json.payload }}" {
		t.Errorf("signed callback must post the exact signed bytes raw to the callback URL: %v", cb.Parameters)
	}
	headers := map[string]string{}
	for _, h := range cb.Parameters["headerParameters"].(map[string]any)["parameters"].([]any) {
		hm := h.(map[string]any)
		headers[hm["name"].(string)] = hm["value"].(string)
	}
	if headers["webhook-id"] == "" || headers["webhook-timestamp"] == "" || headers["webhook-signature"] != "=v1,{{ $json.signature }}" {
		t.Errorf("signature headers = %v", headers)
	}
}

// The README tells people to paste a printable key K into the Crypto node
// (which uses its Secret as UTF-8 text) and to store whsec_+base64(K) in
// influencegen. This proves the listener's verifier accepts what that node
// computes.
func TestSigningKeyRecipeOfTheSignedTemplateVerifies(t *testing.T) {
	k := "3f9a1c7e5b2d48a6c0e1f7b9d3a5c8e2f4b6d8a0c2e4f6a8"
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(k))
	id, ts, body := "msg_42_01JDX3V6Q6T7ZP3Y6N4B1K9S2E", time.Now().Unix(), []byte(`{"ai_generation_request_id":"01JDX3V6Q6T7ZP3Y6N4B1K9S2E","status":"success"}`)
	// What n8n's Crypto node does: createHmac('sha256', secretText).update(value).digest('base64').
	mac := hmac.New(sha256.New, []byte(k))
	mac.Write([]byte(id + "." + itoa(ts) + "." + string(body)))
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(key, id, itoa(ts), sig, body, time.Now()); err != nil {
		t.Errorf("listener rejects the template's signature: %v", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
