package n8n

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The templates are generated, not hand-edited: twelve workflows share
// the same head (webhook, dedupe, dry run) and tail (callback with retries,
// Stop and Error), and a fix must land in all of them at once. The Code
// nodes' JavaScript lives in workflows/src so it can be read and checked
// with `node --check`.

var updateTemplates = flag.Bool("update", false, "rewrite n8n/workflows/*.json from workflows/src")

type tplCred struct {
	ID   *string `json:"id"`
	Name string  `json:"name"`
}

type tplNode struct {
	Parameters       map[string]any     `json:"parameters"`
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	Type             string             `json:"type"`
	TypeVersion      float64            `json:"typeVersion"`
	Position         [2]int             `json:"position"`
	WebhookID        string             `json:"webhookId,omitempty"`
	Credentials      map[string]tplCred `json:"credentials,omitempty"`
	OnError          string             `json:"onError,omitempty"`
	RetryOnFail      bool               `json:"retryOnFail,omitempty"`
	MaxTries         int                `json:"maxTries,omitempty"`
	WaitBetweenTries int                `json:"waitBetweenTries,omitempty"`
	Notes            string             `json:"notes,omitempty"`
	NotesInFlow      bool               `json:"notesInFlow,omitempty"`
}

type tplConn struct {
	Node  string `json:"node"`
	Type  string `json:"type"`
	Index int    `json:"index"`
}

type tplWorkflow struct {
	Name        string                            `json:"name"`
	Nodes       []*tplNode                        `json:"nodes"`
	Connections map[string]map[string][][]tplConn `json:"connections"`
	Settings    map[string]any                    `json:"settings"`
}

type builder struct {
	key string
	wf  tplWorkflow
}

func stableUUID(parts ...string) string {
	sum := sha1.Sum([]byte("influencegen/" + strings.Join(parts, "/")))
	h := fmt.Sprintf("%x", sum[:16])
	return h[0:8] + "-" + h[8:12] + "-5" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func (b *builder) add(name, typ string, version float64, params map[string]any) *tplNode {
	n := &tplNode{Parameters: params, ID: stableUUID(b.key, name), Name: name, Type: typ, TypeVersion: version}
	b.wf.Nodes = append(b.wf.Nodes, n)
	return n
}

// link connects output out of from to to's input.
func (b *builder) link(from string, out int, to string) {
	if b.wf.Connections[from] == nil {
		b.wf.Connections[from] = map[string][][]tplConn{"main": nil}
	}
	lanes := b.wf.Connections[from]["main"]
	for len(lanes) <= out {
		lanes = append(lanes, []tplConn{})
	}
	lanes[out] = append(lanes[out], tplConn{Node: to, Type: "main", Index: 0})
	b.wf.Connections[from]["main"] = lanes
}

func headerCred(name string) map[string]tplCred {
	return map[string]tplCred{"httpHeaderAuth": {Name: name}}
}

func readJS(t *testing.T, names ...string) string {
	t.Helper()
	var parts []string
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join("workflows", "src", n+".js"))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, strings.TrimSpace(string(raw)))
	}
	return strings.Join(parts, "\n\n") + "\n"
}

func (b *builder) code(t *testing.T, name string, js ...string) *tplNode {
	return b.add(name, "n8n-nodes-base.code", 2, map[string]any{"mode": "runOnceForEachItem", "jsCode": readJS(t, append([]string{"common"}, js...)...)})
}

func ifTrue(id, expr string) map[string]any {
	return map[string]any{
		"conditions": map[string]any{
			"options":    map[string]any{"caseSensitive": true, "leftValue": "", "typeValidation": "loose"},
			"conditions": []any{map[string]any{"id": id, "leftValue": expr, "rightValue": "", "operator": map[string]any{"type": "boolean", "operation": "true", "singleValue": true}}},
			"combinator": "and",
		},
		"options": map[string]any{},
	}
}

func (b *builder) ifNode(name, expr string) *tplNode {
	return b.add(name, "n8n-nodes-base.if", 2, ifTrue(stableUUID(b.key, name, "cond"), expr))
}

// providerResponse makes an HTTP Request node hand every answer (any
// status) to the next Code node, which reads the provider's own error.
var providerResponse = map[string]any{"response": map[string]any{"fullResponse": true, "neverError": true}}

func (b *builder) providerCall(name, method, urlExpr string, p Provider, extra map[string]any) *tplNode {
	params := map[string]any{"method": method, "url": urlExpr,
		"options": map[string]any{"timeout": 300000, "response": providerResponse}}
	if p.KeyHeader != "" {
		params["authentication"] = "genericCredentialType"
		params["genericAuthType"] = "httpHeaderAuth"
	}
	for k, v := range extra {
		params[k] = v
	}
	n := b.add(name, "n8n-nodes-base.httpRequest", 4.2, params)
	n.OnError = "continueRegularOutput"
	if p.KeyHeader != "" {
		n.Credentials = headerCred(CredentialProviderKey)
	}
	return n
}

func dryRunPNG(t *testing.T) (string, int) {
	const side = 8
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for x := range side {
		for y := range side {
			img.Set(x, y, color.RGBA{R: 0x4a, G: 0x90, B: 0xe2, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), side
}

func buildTemplate(t *testing.T, p Provider, signed bool) tplWorkflow {
	key := p.Name
	title := "InfluenceGen – " + p.Name
	if signed {
		key += ".signed"
		title += " (signed callback)"
	}
	b := &builder{key: key, wf: tplWorkflow{Name: title, Connections: map[string]map[string][][]tplConn{},
		// Successful runs keep nothing: their input holds the app's API key
		// in clear text. Failed runs keep it too (see README).
		Settings: map[string]any{"executionOrder": "v1", "saveDataSuccessExecution": "none", "saveManualExecutions": false, "saveExecutionProgress": false}}}

	wh := b.add("Webhook", "n8n-nodes-base.webhook", 2, map[string]any{
		"httpMethod": "POST", "path": DefaultWebhookPath, "authentication": "headerAuth", "responseMode": "onReceived",
		"options": map[string]any{
			"responseCode":    map[string]any{"values": map[string]any{"responseCode": "customCode", "customCode": 202}},
			"responseData":    `{"status":"accepted"}`,
			"responseHeaders": map[string]any{"entries": []any{map[string]any{"name": "Content-Type", "value": "application/json"}}},
		},
	})
	wh.WebhookID = stableUUID("webhook")
	wh.Credentials = headerCred(CredentialAPIKey)

	b.add("Skip re-sends", "n8n-nodes-base.removeDuplicates", 2, map[string]any{
		"operation":   "removeItemsSeenInPreviousExecutions",
		"logic":       "removeItemsWithAlreadySeenKeyValues",
		"dedupeValue": "={{ $json.body.ai_generation_request_id }}",
		"options":     map[string]any{},
	})
	b.link("Webhook", 0, "Skip re-sends")

	b.add(NodeProviderSettings, "n8n-nodes-base.set", 3.4, map[string]any{
		"assignments": map[string]any{"assignments": []any{
			map[string]any{"id": stableUUID(key, "provider_url"), "name": "provider_url", "type": "string", "value": p.DefaultURL},
			map[string]any{"id": stableUUID(key, "deadline_seconds"), "name": "deadline_seconds", "type": "number", "value": 900},
		}},
		"options": map[string]any{},
	}).Notes = "provider_url: the provider's base URL (an OpenAI-compatible gateway, a self-hosted server, a test fake)."
	b.link("Skip re-sends", 0, NodeProviderSettings)

	b.ifNode("Dry run?", "={{ $('Webhook').first().json.body.generation_params.dry_run === true }}")
	b.link(NodeProviderSettings, 0, "Dry run?")
	png, side := dryRunPNG(t)
	dry := b.code(t, "Dry run image", "dry_run")
	dry.Parameters["jsCode"] = strings.NewReplacer("DRY_RUN_PNG", "'"+png+"'", "DRY_RUN_SIZE", fmt.Sprint(side)).Replace(dry.Parameters["jsCode"].(string))
	b.link("Dry run?", 0, "Dry run image")
	b.link("Dry run image", 0, "Callback body")

	b.code(t, "Map parameters", p.Name+"_map")
	b.link("Dry run?", 1, "Map parameters")
	b.ifNode("Supported?", "={{ $json.ok === true }}")
	b.link("Map parameters", 0, "Supported?")
	b.link("Supported?", 1, "Callback body")

	jsonBody := map[string]any{"sendBody": true, "specifyBody": "json", "jsonBody": "={{ JSON.stringify($json.body) }}"}
	switch p.Name {
	case "stability":
		var form []any
		for _, f := range []string{"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "model"} {
			form = append(form, map[string]any{"parameterType": "formData", "name": f, "value": "={{ $json.form." + f + " }}"})
		}
		b.providerCall("Call provider", "POST", "={{ $json.url }}", p, map[string]any{
			"sendHeaders": true, "headerParameters": map[string]any{"parameters": []any{map[string]any{"name": "Accept", "value": "application/json"}}},
			"sendBody": true, "contentType": "multipart-form-data", "bodyParameters": map[string]any{"parameters": form},
		})
	default:
		b.providerCall("Call provider", "POST", "={{ $json.url }}", p, jsonBody)
	}
	b.link("Supported?", 0, "Call provider")

	if !p.Async {
		b.code(t, "Read answer", p.Name+"_read")
		b.link("Call provider", 0, "Read answer")
		b.link("Read answer", 0, "Callback body")
	} else {
		b.code(t, "Read submission", p.Name+"_read")
		b.link("Call provider", 0, "Read submission")
		b.ifNode("Still running?", "={{ $json.pending === true }}")
		b.link("Read submission", 0, "Still running?")
		b.add("Wait", "n8n-nodes-base.wait", 1.1, map[string]any{"resume": "timeInterval", "amount": 3, "unit": "seconds"}).WebhookID = stableUUID(key, "wait")
		b.link("Still running?", 0, "Wait")
		b.providerCall("Poll provider", "GET", "={{ $json.poll_url }}", p, nil)
		b.link("Wait", 0, "Poll provider")
		b.code(t, "Read poll", p.Name+"_read")
		b.link("Poll provider", 0, "Read poll")
		b.link("Read poll", 0, "Still running?")
		if p.Name == "comfyui" {
			b.ifNode("Image ready?", "={{ !!$json.fetch_url }}")
			b.link("Still running?", 1, "Image ready?")
			b.link("Image ready?", 1, "Callback body")
			f := b.add("Fetch image", "n8n-nodes-base.httpRequest", 4.2, map[string]any{"method": "GET", "url": "={{ $json.fetch_url }}",
				"options": map[string]any{"timeout": 120000, "response": map[string]any{"response": map[string]any{"responseFormat": "file", "outputPropertyName": "data"}}}})
			f.OnError = "continueRegularOutput"
			b.link("Image ready?", 0, "Fetch image")
			x := b.add("Image to base64", "n8n-nodes-base.extractFromFile", 1, map[string]any{"operation": "binaryToPropery", "binaryPropertyName": "data", "destinationKey": "image_base64", "options": map[string]any{}})
			x.OnError = "continueRegularOutput"
			b.link("Fetch image", 0, "Image to base64")
			b.code(t, "Read image", "comfyui_image")
			b.link("Image to base64", 0, "Read image")
			b.link("Read image", 0, "Callback body")
		} else {
			b.link("Still running?", 1, "Callback body")
		}
	}

	b.code(t, "Callback body", "callback_body")
	cbParams := map[string]any{
		"method": "POST", "url": "={{ $('Webhook').first().json.body.callback_url }}",
		"authentication": "genericCredentialType", "genericAuthType": "httpHeaderAuth",
		"sendBody": true, "contentType": "raw", "rawContentType": "application/json", "body": "={{ $json.payload }}",
		"options": map[string]any{"timeout": 10000},
	}
	last := "Callback body"
	if signed {
		b.add("Signing fields", "n8n-nodes-base.set", 3.4, map[string]any{
			"assignments": map[string]any{"assignments": []any{
				map[string]any{"id": stableUUID(key, "webhook_id"), "name": "webhook_id", "type": "string", "value": "={{ 'msg_' + $execution.id + '_' + $('Webhook').first().json.body.ai_generation_request_id }}"},
				map[string]any{"id": stableUUID(key, "webhook_timestamp"), "name": "webhook_timestamp", "type": "string", "value": "={{ String(Math.floor(Date.now() / 1000)) }}"},
			}},
			"includeOtherFields": true, "options": map[string]any{},
		})
		b.link(last, 0, "Signing fields")
		b.add(NodeSign, "n8n-nodes-base.crypto", 1, map[string]any{
			"action": "hmac", "type": "SHA256", "value": "={{ $json.webhook_id + '.' + $json.webhook_timestamp + '.' + $json.payload }}",
			"dataPropertyName": "signature", "secret": signingKeyPlaceholder, "encoding": "base64",
		})
		b.link("Signing fields", 0, NodeSign)
		last = NodeSign
		cbParams["sendHeaders"] = true
		cbParams["headerParameters"] = map[string]any{"parameters": []any{
			map[string]any{"name": "webhook-id", "value": "={{ $json.webhook_id }}"},
			map[string]any{"name": "webhook-timestamp", "value": "={{ $json.webhook_timestamp }}"},
			map[string]any{"name": "webhook-signature", "value": "=v1,{{ $json.signature }}"},
		}}
	}
	cb := b.add("Callback", "n8n-nodes-base.httpRequest", 4.2, cbParams)
	// The app's listener is idempotent, so at-least-once delivery is safe.
	cb.RetryOnFail, cb.MaxTries, cb.WaitBetweenTries = true, 4, 3000
	cb.Credentials = headerCred(CredentialCallbackToken)
	b.link(last, 0, "Callback")
	b.ifNode("Failed?", "={{ $('Callback body').first().json.failed === true }}")
	b.link("Callback", 0, "Failed?")
	b.add("Stop and Error", "n8n-nodes-base.stopAndError", 1, map[string]any{
		"errorType": "errorMessage", "errorMessage": "={{ $('Callback body').first().json.error_code + ': ' + $('Callback body').first().json.error_message }}",
	})
	b.link("Failed?", 0, "Stop and Error")

	b.add("Read me", "n8n-nodes-base.stickyNote", 1, map[string]any{"content": readMe(p, signed), "height": 320, "width": 520})
	layout(&b.wf)
	return b.wf
}

func readMe(p Provider, signed bool) string {
	var s strings.Builder
	fmt.Fprintf(&s, "## InfluenceGen: %s\nEasiest: `influencegen n8n setup --n8n-url URL --provider %s", p.Title, p.Name)
	if signed {
		s.WriteString(" --signed")
	}
	s.WriteString("` does all of this.\nBy hand:\n1. Credential **" + CredentialAPIKey + "** (Header Auth): Name `X-API-Key`, Value = `influencegen secrets get n8n-api-key`.\n")
	s.WriteString("2. Credential **" + CredentialCallbackToken + "** (Header Auth): Name `X-Callback-Token`, Value = `influencegen secrets get callback-token`.\n")
	if p.KeyHeader != "" {
		fmt.Fprintf(&s, "3. Credential **%s** (Header Auth): Name `%s`, Value = `%s<your provider key>`.\n", CredentialProviderKey, p.KeyHeader, p.KeyPrefix)
	}
	fmt.Fprintf(&s, "4. **%s** → provider_url (default %s).\n", NodeProviderSettings, p.DefaultURL)
	if signed {
		s.WriteString("5. Paste the signing key K (not the whsec_ value) into **" + NodeSign + "** → Secret.\n")
	}
	s.WriteString("Then activate and copy the Production URL into `n8n.webhook_url`.")
	return s.String()
}

// layout places nodes in columns by their distance from the Webhook.
func layout(wf *tplWorkflow) {
	depth := map[string]int{"Webhook": 0}
	queue := []string{"Webhook"}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		for _, lane := range wf.Connections[from]["main"] {
			for _, c := range lane {
				if _, seen := depth[c.Node]; !seen {
					depth[c.Node] = depth[from] + 1
					queue = append(queue, c.Node)
				}
			}
		}
	}
	rows := map[int]int{}
	for _, n := range wf.Nodes {
		d, ok := depth[n.Name]
		if !ok {
			n.Position = [2]int{-40, -380}
			continue
		}
		n.Position = [2]int{d * 240, 300 + rows[d]*180}
		rows[d]++
	}
}

func renderTemplate(t *testing.T, p Provider, signed bool) []byte {
	out, err := json.MarshalIndent(buildTemplate(t, p, signed), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestWorkflowTemplatesAreUpToDate(t *testing.T) {
	for _, p := range Providers {
		for _, signed := range []bool{false, true} {
			want := renderTemplate(t, p, signed)
			path := templateFile(p.Name, signed)
			if *updateTemplates {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale or hand-edited: regenerate with go test ./n8n -run TestWorkflowTemplatesAreUpToDate -update", path)
			}
		}
	}
}
