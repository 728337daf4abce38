package n8n

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every shipped template is checked for what real n8n 2.8.4 accepts through
// its public API (peers/n8n-api 16–21, 41–45) and for the app's contracts
// (DESIGN §4 request fields, §5 callback fields).

type wfNode struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	Type        string                     `json:"type"`
	TypeVersion float64                    `json:"typeVersion"`
	Position    []float64                  `json:"position"`
	Parameters  map[string]any             `json:"parameters"`
	Credentials map[string]json.RawMessage `json:"credentials"`
	RetryOnFail bool                       `json:"retryOnFail"`
	MaxTries    int                        `json:"maxTries"`
	WaitBetween int                        `json:"waitBetweenTries"`
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
	Settings    map[string]any                   `json:"settings"`
}

type templateCase struct {
	provider Provider
	signed   bool
	raw      []byte
	wf       workflowFile
}

func allTemplates(t *testing.T) []templateCase {
	t.Helper()
	var out []templateCase
	for _, p := range Providers {
		for _, signed := range []bool{false, true} {
			raw, err := WorkflowTemplate(p.Name, signed)
			if err != nil {
				t.Fatal(err)
			}
			var wf workflowFile
			if err := json.Unmarshal(raw, &wf); err != nil {
				t.Fatalf("%s: not valid JSON: %v", templateFile(p.Name, signed), err)
			}
			out = append(out, templateCase{p, signed, raw, wf})
		}
	}
	return out
}

func (wf workflowFile) named(name string) (wfNode, bool) {
	for _, n := range wf.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return wfNode{}, false
}

func (wf workflowFile) next(from string, out int) []string {
	lanes := wf.Connections[from]["main"]
	if out >= len(lanes) {
		return nil
	}
	var names []string
	for _, c := range lanes[out] {
		names = append(names, c.Node)
	}
	return names
}

// acceptedNodeFields are the node properties n8n's public API schema allows.
var acceptedNodeFields = []string{"id", "name", "type", "typeVersion", "position", "parameters", "credentials", "webhookId",
	"onError", "retryOnFail", "maxTries", "waitBetweenTries", "notes", "notesInFlow", "disabled", "alwaysOutputData", "executeOnce"}

func TestTemplatesHaveOnlyTheFieldsThePublicAPIAccepts(t *testing.T) {
	for _, tc := range allTemplates(t) {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(tc.raw, &top); err != nil {
			t.Fatal(err)
		}
		for k := range top {
			if !slices.Contains([]string{"name", "nodes", "connections", "settings"}, k) {
				t.Errorf("%s: top-level %q: POST /api/v1/workflows answers 400 for anything but name, nodes, connections, settings", tc.provider.Name, k)
			}
		}
		var nodes struct{ Nodes []map[string]json.RawMessage }
		_ = json.Unmarshal(tc.raw, &nodes)
		for _, n := range nodes.Nodes {
			for k := range n {
				if !slices.Contains(acceptedNodeFields, k) {
					t.Errorf("%s: node field %q is not in the public API's node schema", tc.provider.Name, k)
				}
			}
		}
		if tc.wf.Settings["saveDataSuccessExecution"] != "none" || tc.wf.Settings["executionOrder"] != "v1" {
			t.Errorf("%s: settings %v: successful runs must not keep the request (it holds the API key)", tc.provider.Name, tc.wf.Settings)
		}
	}
}

func TestTemplatesAreConnectedGraphsOfBuiltInNodes(t *testing.T) {
	for _, tc := range allTemplates(t) {
		names, ids := map[string]bool{}, map[string]bool{}
		for _, n := range tc.wf.Nodes {
			if !strings.HasPrefix(n.Type, "n8n-nodes-base.") {
				t.Errorf("%s: node %q has type %q: only built-in nodes import everywhere", tc.provider.Name, n.Name, n.Type)
			}
			if n.Name == "" || n.ID == "" || n.TypeVersion == 0 || len(n.Position) != 2 || names[n.Name] || ids[n.ID] {
				t.Errorf("%s: node %q lacks a unique name/id, typeVersion or position", tc.provider.Name, n.Name)
			}
			names[n.Name], ids[n.ID] = true, true
		}
		reached := map[string]bool{"Webhook": true}
		for changed := true; changed; {
			changed = false
			for from, outs := range tc.wf.Connections {
				if !names[from] {
					t.Fatalf("%s: connection from unknown node %q", tc.provider.Name, from)
				}
				for _, lane := range outs["main"] {
					for _, c := range lane {
						if !names[c.Node] {
							t.Fatalf("%s: connection to unknown node %q", tc.provider.Name, c.Node)
						}
						if reached[from] && !reached[c.Node] {
							reached[c.Node], changed = true, true
						}
					}
				}
			}
		}
		for _, n := range tc.wf.Nodes {
			if n.Type != "n8n-nodes-base.stickyNote" && !reached[n.Name] {
				t.Errorf("%s: node %q is not reachable from the Webhook", tc.provider.Name, n.Name)
			}
		}
	}
}

func TestTemplatesAckWithJSONAndSkipReSends(t *testing.T) {
	for _, tc := range allTemplates(t) {
		wh, _ := tc.wf.named("Webhook")
		p := wh.Parameters
		if p["httpMethod"] != "POST" || p["path"] != DefaultWebhookPath || p["authentication"] != "headerAuth" || p["responseMode"] != "onReceived" {
			t.Errorf("%s: webhook %v", tc.provider.Name, p)
		}
		opts := p["options"].(map[string]any)
		if opts["responseCode"].(map[string]any)["values"].(map[string]any)["customCode"] != float64(202) || opts["responseData"] != `{"status":"accepted"}` {
			t.Errorf("%s: webhook must answer 202 {\"status\":\"accepted\"}", tc.provider.Name)
		}
		hdr, _ := json.Marshal(opts["responseHeaders"])
		if !strings.Contains(string(hdr), `"name":"Content-Type","value":"application/json"`) {
			t.Errorf("%s: the 202 ack needs Content-Type application/json (n8n sends text/html otherwise): %s", tc.provider.Name, hdr)
		}
		dedupe := tc.wf.next("Webhook", 0)
		d, _ := tc.wf.named(strings.Join(dedupe, ""))
		if d.Type != "n8n-nodes-base.removeDuplicates" || d.Parameters["operation"] != "removeItemsSeenInPreviousExecutions" ||
			d.Parameters["dedupeValue"] != "={{ $json.body.ai_generation_request_id }}" {
			t.Errorf("%s: the Webhook must lead straight to a Remove Duplicates node keyed on the request id across executions, got %v", tc.provider.Name, d)
		}
	}
}

func credName(t *testing.T, n wfNode, typ string) string {
	t.Helper()
	var c struct {
		ID   *string `json:"id"`
		Name string  `json:"name"`
	}
	if raw, ok := n.Credentials[typ]; ok {
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
	}
	return c.Name
}

func TestEveryNodeThatAuthenticatesNamesItsCredential(t *testing.T) {
	for _, tc := range allTemplates(t) {
		for _, n := range tc.wf.Nodes {
			var want string
			switch {
			case n.Type == "n8n-nodes-base.webhook":
				want = CredentialAPIKey
			case n.Parameters["authentication"] == "genericCredentialType":
				typ, _ := n.Parameters["genericAuthType"].(string)
				if typ != CredentialTypeHeader {
					t.Errorf("%s: %q uses %q, setup only makes Header Auth", tc.provider.Name, n.Name, typ)
				}
				want = CredentialProviderKey
				if n.Name == "Callback" {
					want = CredentialCallbackToken
				}
			case n.Type == "n8n-nodes-base.httpRequest" && n.Name != "Fetch image" && tc.provider.KeyHeader != "":
				t.Errorf("%s: %q calls out without a credential", tc.provider.Name, n.Name)
			}
			if want != "" && credName(t, n, CredentialTypeHeader) != want {
				t.Errorf("%s: %q must name the credential %q, has %v", tc.provider.Name, n.Name, want, n.Credentials)
			}
		}
	}
}

func TestFailuresStopWithAnErrorAfterARetriedCallback(t *testing.T) {
	for _, tc := range allTemplates(t) {
		cb, ok := tc.wf.named("Callback")
		if !ok || cb.Parameters["url"] != "={{ $('Webhook').first().json.body.callback_url }}" || cb.Parameters["body"] != "={{ $json.payload }}" {
			t.Fatalf("%s: no Callback node posting the payload to the request's callback_url", tc.provider.Name)
		}
		if !cb.RetryOnFail || cb.MaxTries < 3 || cb.WaitBetween < 1000 {
			t.Errorf("%s: the callback must retry (≥3 tries, seconds apart): %v/%d/%d", tc.provider.Name, cb.RetryOnFail, cb.MaxTries, cb.WaitBetween)
		}
		if next := tc.wf.next("Callback", 0); !slices.Equal(next, []string{"Failed?"}) || !slices.Equal(tc.wf.next("Failed?", 0), []string{"Stop and Error"}) {
			t.Errorf("%s: Callback → Failed? → Stop and Error missing", tc.provider.Name)
		}
		if se, _ := tc.wf.named("Stop and Error"); se.Type != "n8n-nodes-base.stopAndError" {
			t.Errorf("%s: Stop and Error node type %q", tc.provider.Name, se.Type)
		}
		// Every path into the callback goes through the one Callback body node.
		for from, outs := range tc.wf.Connections {
			for _, lane := range outs["main"] {
				for _, c := range lane {
					if c.Node == "Callback" && from != "Callback body" && from != NodeSign {
						t.Errorf("%s: %q feeds the callback directly", tc.provider.Name, from)
					}
				}
			}
		}
	}
}

// requestFields are DESIGN §4's body and generation_params fields, plus
// dry_run (this extension).
var (
	requestFields = []string{"ai_generation_request_id", "ai_generation_request_model_id", "generation_params", "callback_url", "requested_by", "requested_at", "client"}
	paramFields   = []string{"prompt", "negative_prompt", "model_id", "resolution", "width", "height", "aspect_ratio", "seed", "num_images", "dry_run"}
	reqRef        = regexp.MustCompile(`(?:json\.body|\breq)\.([a-zA-Z_]+)`)
	paramRef      = regexp.MustCompile(`(?:generation_params|\bgp)\.([a-zA-Z_]+)`)
)

func stringsIn(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case map[string]any:
		for _, e := range x {
			stringsIn(e, out)
		}
	case []any:
		for _, e := range x {
			stringsIn(e, out)
		}
	}
}

func TestExpressionsReadOnlyFieldsTheAppSends(t *testing.T) {
	for _, tc := range allTemplates(t) {
		for _, n := range tc.wf.Nodes {
			var texts []string
			stringsIn(n.Parameters, &texts)
			for _, s := range texts {
				for _, m := range reqRef.FindAllStringSubmatch(s, -1) {
					if !slices.Contains(requestFields, m[1]) {
						t.Errorf("%s/%s reads request field %q, which DESIGN §4 does not define", tc.provider.Name, n.Name, m[1])
					}
				}
				for _, m := range paramRef.FindAllStringSubmatch(s, -1) {
					if !slices.Contains(paramFields, m[1]) {
						t.Errorf("%s/%s reads generation_params.%s, which DESIGN §4 does not define", tc.provider.Name, n.Name, m[1])
					}
				}
			}
		}
	}
}

var (
	callbackFields = []string{"ai_generation_request_id", "request_id", "status", "images", "image_url", "image_base64", "image_data",
		"image_format", "mime_type", "width", "height", "seed", "error_message", "error", "error_code", "execution_id", "model_id", "generation_time_ms", "metadata"}
	imageFields   = []string{"url", "image_url", "base64", "image_base64", "data", "mime_type", "format", "width", "height", "seed"}
	payloadObject = regexp.MustCompile(`(?s)payload = \{(.*?)\n  \};`)
	imageObject   = regexp.MustCompile(`(?:push|success)\(\[?\{ ([^}]*)\}`)
	literalKey    = regexp.MustCompile(`(?:^|[{,]\s*|\n\s*)([a-z_0-9]+):`)
)

func TestCallbackPayloadsUseOnlyCallbackContractFields(t *testing.T) {
	for _, tc := range allTemplates(t) {
		body, _ := tc.wf.named("Callback body")
		js := body.Parameters["jsCode"].(string)
		objs := payloadObject.FindAllStringSubmatch(js, -1)
		if len(objs) != 2 {
			t.Fatalf("%s: want a success and a failure payload, found %d", tc.provider.Name, len(objs))
		}
		for _, o := range objs {
			keys := literalKey.FindAllStringSubmatch(o[1], -1)
			for _, k := range keys {
				if !slices.Contains(callbackFields, k[1]) {
					t.Errorf("%s: callback sends %q, which DESIGN §5 does not define", tc.provider.Name, k[1])
				}
			}
		}
		if !strings.Contains(js, "result.ok === true && images.length > 0") {
			t.Errorf("%s: success must require at least one image", tc.provider.Name)
		}
		for _, n := range tc.wf.Nodes {
			code, _ := n.Parameters["jsCode"].(string)
			for _, o := range imageObject.FindAllStringSubmatch(code, -1) {
				for _, k := range literalKey.FindAllStringSubmatch(o[1], -1) {
					if !slices.Contains(imageFields, k[1]) {
						t.Errorf("%s/%s: image field %q is not in DESIGN §5", tc.provider.Name, n.Name, k[1])
					}
				}
			}
		}
	}
}

var dryRunPNGLiteral = regexp.MustCompile(`base64: '([A-Za-z0-9+/=]+)'`)

func TestDryRunAnswersWithABuiltInPNGWithoutCallingTheProvider(t *testing.T) {
	for _, tc := range allTemplates(t) {
		if got := tc.wf.next("Dry run?", 0); !slices.Equal(got, []string{"Dry run image"}) || !slices.Equal(tc.wf.next("Dry run image", 0), []string{"Callback body"}) {
			t.Errorf("%s: dry run must go straight to the callback, goes to %v", tc.provider.Name, got)
		}
		img, _ := tc.wf.named("Dry run image")
		m := dryRunPNGLiteral.FindStringSubmatch(img.Parameters["jsCode"].(string))
		if m == nil {
			t.Fatalf("%s: no built-in PNG", tc.provider.Name)
		}
		raw, _ := base64.StdEncoding.DecodeString(m[1])
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Errorf("%s: dry-run image is not a PNG: %v", tc.provider.Name, err)
		}
	}
}

func TestSignedTemplatesSignTheStandardWebhooksWay(t *testing.T) {
	for _, tc := range allTemplates(t) {
		sign, ok := tc.wf.named(NodeSign)
		if !tc.signed {
			if ok {
				t.Errorf("%s: the plain template signs", tc.provider.Name)
			}
			continue
		}
		p := sign.Parameters
		if p["action"] != "hmac" || p["type"] != "SHA256" || p["encoding"] != "base64" || p["secret"] != signingKeyPlaceholder ||
			p["value"] != "={{ $json.webhook_id + '.' + $json.webhook_timestamp + '.' + $json.payload }}" {
			t.Errorf("%s: crypto node %v", tc.provider.Name, p)
		}
		cb, _ := tc.wf.named("Callback")
		hdr, _ := json.Marshal(cb.Parameters["headerParameters"])
		for _, h := range []string{`"webhook-id"`, `"webhook-timestamp"`, `"=v1,{{ $json.signature }}"`} {
			if !strings.Contains(string(hdr), h) {
				t.Errorf("%s: signed callback lacks %s", tc.provider.Name, h)
			}
		}
	}
}

func TestBuildWorkflowBindsCredentialsURLPathAndKey(t *testing.T) {
	wf, err := BuildWorkflow(WorkflowOptions{Provider: "openai", Signed: true, ProviderURL: "http://127.0.0.1:9/v1", WebhookPath: "/ig/gen/",
		SigningKey: "K123", CredentialIDs: map[string]string{CredentialAPIKey: "a1", CredentialCallbackToken: "c1", CredentialProviderKey: "p1"}})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(wf)
	for _, want := range []string{`"path":"ig/gen"`, `"value":"http://127.0.0.1:9/v1"`, `"secret":"K123"`, `"id":"a1","name":"InfluenceGen n8n API key"`, `"id":"c1"`, `"id":"p1"`} {
		if !strings.Contains(string(all), want) {
			t.Errorf("built workflow lacks %s", want)
		}
	}
	comfy, err := BuildWorkflow(WorkflowOptions{Provider: "comfyui", NoKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(comfy); strings.Contains(string(raw), CredentialProviderKey) {
		t.Error("a keyless provider still names the provider credential")
	}
	if _, err := BuildWorkflow(WorkflowOptions{Provider: "midjourney"}); err == nil || !strings.Contains(err.Error(), "openai, stability") {
		t.Errorf("unknown provider error = %v", err)
	}
}

// The README tells people to paste a printable key K into the Crypto node
// (which uses its Secret as UTF-8 text) and to store whsec_+base64(K) in
// influencegen. This proves the listener's verifier accepts what that node
// computes.
func TestSigningKeyRecipeOfTheSignedTemplateVerifies(t *testing.T) {
	k := "3f9a1c7e5b2d48a6c0e1f7b9d3a5c8e2f4b6d8a0c2e4f6a8"
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(k))
	id, ts, body := "msg_42_01JDX3V6Q6T7ZP3Y6N4B1K9S2E", strconv.FormatInt(time.Now().Unix(), 10), []byte(`{"ai_generation_request_id":"01JDX3V6Q6T7ZP3Y6N4B1K9S2E","status":"success"}`)
	mac := hmac.New(sha256.New, []byte(k))
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(key, id, ts, sig, body, time.Now()); err != nil {
		t.Errorf("listener rejects the template's signature: %v", err)
	}
}
