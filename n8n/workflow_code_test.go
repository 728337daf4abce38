package n8n

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The Code nodes' JavaScript is run with Node (when it is installed) the
// way n8n runs a "Run Once for Each Item" Code node: $json is the input
// item, $('Node').first().json reads another node, and the returned
// {json} is the output. This covers the providers that cannot run against
// a real n8n here (Stability, Replicate, ComfyUI) with their documented
// answer shapes.

// codeCase is one Code node run: its template, node name, input item and
// the other nodes it reads.
type codeCase struct {
	provider, node string
	in, extra      map[string]any
}

// runCodeNodes runs every case in one Node process (starting Node costs
// seconds on a busy machine) and returns each output item's json.
func runCodeNodes(t *testing.T, cases []codeCase) []map[string]any {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	var script strings.Builder
	script.WriteString("const all = JSON.parse(require('fs').readFileSync(0, 'utf8'));\nconst runs = [];\n")
	inputs := make([]any, len(cases))
	for i, c := range cases {
		var wf workflowFile
		raw, _ := WorkflowTemplate(c.provider, false)
		_ = json.Unmarshal(raw, &wf)
		n, ok := wf.named(c.node)
		if !ok {
			t.Fatalf("%s has no node %q", c.provider, c.node)
		}
		nodes := map[string]any{
			"Webhook": map[string]any{"body": map[string]any{"ai_generation_request_id": "01REQ", "callback_url": "http://cb",
				"generation_params": map[string]any{"prompt": "a fox", "negative_prompt": "", "model_id": "sd3.5-large", "width": 1024, "height": 1024,
					"aspect_ratio": "1:1", "seed": 7, "num_images": 1}}},
			NodeProviderSettings: map[string]any{"provider_url": "http://p.test/v1", "deadline_seconds": 900},
		}
		for k, v := range c.extra {
			nodes[k] = v
		}
		inputs[i] = map[string]any{"json": c.in, "nodes": nodes}
		// Each node's code runs in its own function scope, as in n8n.
		fmt.Fprintf(&script, "runs.push(async (harnessInput) => { const nodes = harnessInput.nodes; const $ = (name) => ({ first: () => ({ json: nodes[name] || {} }), isExecuted: name in nodes }); const $json = harnessInput.json; const $execution = { id: '77' };\n%s\n});\n", n.Parameters["jsCode"])
	}
	script.WriteString("(async () => { const out = []; for (let i = 0; i < runs.length; i++) { const r = await runs[i](all[i]); out.push(r && r.json); } return out; })().then((o) => process.stdout.write(JSON.stringify(o)), (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });\n")
	stdin, _ := json.Marshal(inputs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "-e", script.String())
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v: %s", err, errb.String())
	}
	var res []map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != len(cases) {
		t.Fatalf("node printed %s", out.String())
	}
	return res
}

func withParams(change map[string]any) map[string]any {
	gp := map[string]any{"prompt": "a fox", "negative_prompt": "", "model_id": "sd3.5-large", "width": 1024, "height": 1024, "aspect_ratio": "1:1", "seed": 7, "num_images": 1}
	for k, v := range change {
		gp[k] = v
	}
	return map[string]any{"Webhook": map[string]any{"body": map[string]any{"ai_generation_request_id": "01REQ", "generation_params": gp}}}
}

func answer(status int, body any) map[string]any {
	return map[string]any{"statusCode": status, "body": body, "headers": map[string]any{}}
}

func TestCodeNodesReadEachProvidersAnswers(t *testing.T) {
	tests := []struct {
		name, provider, node string
		in, extra            map[string]any
		want                 map[string]any // fields that must match
		wantText             string         // substring of the JSON result
	}{
		{"openai refuses a negative prompt", "openai", "Map parameters", map[string]any{}, withParams(map[string]any{"negative_prompt": "blur", "model_id": "dall-e-3"}),
			map[string]any{"ok": false, "error_code": "unsupported_parameter"}, "negative_prompt"},
		{"openai refuses a size dall-e-3 cannot make", "openai", "Map parameters", map[string]any{}, withParams(map[string]any{"model_id": "dall-e-3", "width": 512, "height": 512}),
			map[string]any{"ok": false, "error_code": "unsupported_parameter"}, "resolution"},
		{"openai asks gpt-image for base64 without response_format", "openai", "Map parameters", map[string]any{}, withParams(map[string]any{"model_id": "gpt-image-1"}),
			map[string]any{"ok": true, "url": "http://p.test/v1/images/generations"}, `"size":"1024x1024"`},
		{"openai reads b64_json", "openai", "Read answer", answer(200, map[string]any{"data": []any{map[string]any{"b64_json": "AAAA"}}}), nil,
			map[string]any{"ok": true}, `"base64":"AAAA"`},
		{"openai reads the provider's error", "openai", "Read answer", answer(400, map[string]any{"error": map[string]any{"message": "Your prompt was rejected", "code": "content_policy_violation"}}), nil,
			map[string]any{"ok": false, "error_code": "content_policy_violation", "error_message": "Your prompt was rejected"}, ""},
		{"an error without a code becomes provider_http_<status>", "openai", "Read answer", answer(503, "upstream busy"), nil,
			map[string]any{"ok": false, "error_code": "provider_http_503"}, "upstream busy"},
		{"an unreachable provider", "openai", "Read answer", map[string]any{"error": map[string]any{"message": "connect ECONNREFUSED"}}, nil,
			map[string]any{"ok": false, "error_code": "provider_unreachable"}, "ECONNREFUSED"},
		{"stability maps sd3 models to the sd3 endpoint", "stability", "Map parameters", map[string]any{}, nil,
			map[string]any{"ok": true, "url": "http://p.test/v1/v2beta/stable-image/generate/sd3"}, `"model":"sd3.5-large"`},
		{"stability refuses an aspect ratio it cannot make", "stability", "Map parameters", map[string]any{}, withParams(map[string]any{"aspect_ratio": "4:3"}),
			map[string]any{"ok": false, "error_code": "unsupported_parameter"}, "aspect_ratio"},
		{"stability reads its image and seed", "stability", "Read answer", answer(200, map[string]any{"image": "BBBB", "seed": 42, "finish_reason": "SUCCESS"}), nil,
			map[string]any{"ok": true}, `"seed":42`},
		{"stability's content filter", "stability", "Read answer", answer(200, map[string]any{"image": "", "finish_reason": "CONTENT_FILTERED"}), nil,
			map[string]any{"ok": false, "error_code": "content_filtered"}, ""},
		{"stability's error list", "stability", "Read answer", answer(400, map[string]any{"id": "x", "name": "bad_request", "errors": []any{"prompt: too long"}}), nil,
			map[string]any{"ok": false, "error_code": "bad_request", "error_message": "prompt: too long"}, ""},
		{"replicate posts to the model's predictions", "replicate", "Map parameters", map[string]any{}, withParams(map[string]any{"model_id": "black-forest-labs/flux-schnell"}),
			map[string]any{"ok": true, "url": "http://p.test/v1/models/black-forest-labs/flux-schnell/predictions"}, ""},
		{"replicate: a started prediction is polled", "replicate", "Read submission", answer(201, map[string]any{"id": "p1", "status": "starting", "urls": map[string]any{"get": "http://p.test/v1/predictions/p1"}}), nil,
			map[string]any{"pending": true, "poll_url": "http://p.test/v1/predictions/p1"}, ""},
		{"replicate: a finished prediction gives URLs", "replicate", "Read poll", answer(200, map[string]any{"id": "p1", "status": "succeeded", "output": []any{"https://replicate.delivery/x.png"}}),
			map[string]any{"Read submission": map[string]any{"deadline": 9e15}}, map[string]any{"ok": true}, `"url":"https://replicate.delivery/x.png"`},
		{"replicate: a failed prediction", "replicate", "Read poll", answer(200, map[string]any{"id": "p1", "status": "failed", "error": "NSFW content detected"}),
			map[string]any{"Read submission": map[string]any{"deadline": 9e15}}, map[string]any{"ok": false, "error_code": "provider_failed", "error_message": "NSFW content detected"}, ""},
		{"replicate: past the deadline", "replicate", "Read poll", answer(200, map[string]any{"id": "p1", "status": "processing", "urls": map[string]any{"get": "u"}}),
			map[string]any{"Read submission": map[string]any{"deadline": 1}}, map[string]any{"ok": false, "error_code": "provider_timeout"}, ""},
		{"comfyui: a queued prompt is polled in /history", "comfyui", "Read submission", answer(200, map[string]any{"prompt_id": "abc", "number": 1, "node_errors": map[string]any{}}), nil,
			map[string]any{"pending": true, "poll_url": "http://p.test/v1/history/abc"}, ""},
		{"comfyui: a finished prompt's image is fetched from /view", "comfyui", "Read poll",
			answer(200, map[string]any{"abc": map[string]any{"status": map[string]any{"status_str": "success", "completed": true}, "outputs": map[string]any{"9": map[string]any{"images": []any{map[string]any{"filename": "ig_0001.png", "subfolder": "", "type": "output"}}}}}}),
			map[string]any{"Read submission": map[string]any{"deadline": 9e15, "prompt_id": "abc"}}, map[string]any{"fetch_url": "http://p.test/v1/view?filename=ig_0001.png&subfolder=&type=output"}, ""},
		{"comfyui: an execution error", "comfyui", "Read poll",
			answer(200, map[string]any{"abc": map[string]any{"status": map[string]any{"status_str": "error", "messages": []any{[]any{"execution_error", map[string]any{"exception_message": "ckpt not found"}}}}}}),
			map[string]any{"Read submission": map[string]any{"deadline": 9e15, "prompt_id": "abc"}}, map[string]any{"ok": false, "error_code": "provider_failed", "error_message": "ckpt not found"}, ""},
		{"comfyui: the provider's 400 with node errors", "comfyui", "Read submission", answer(400, map[string]any{"error": map[string]any{"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"}}), nil,
			map[string]any{"ok": false, "error_code": "prompt_outputs_failed_validation"}, ""},
		{"custom reads OpenAI-style data", "custom", "Read answer", answer(200, map[string]any{"data": []any{map[string]any{"b64_json": "CCCC"}}}), nil,
			map[string]any{"ok": true}, `"base64":"CCCC"`},
		{"custom reads an output URL", "custom", "Read answer", answer(200, map[string]any{"output": "https://img.example/1.png"}), nil,
			map[string]any{"ok": true}, `"url":"https://img.example/1.png"`},
		{"custom: a 2xx without an image", "custom", "Read answer", answer(200, map[string]any{"id": "job-1", "status": "queued"}), nil,
			map[string]any{"ok": false, "error_code": "provider_no_image"}, "job-1"},
		{"the callback body needs an image for success", "custom", "Callback body", map[string]any{"ok": true, "images": []any{}}, nil,
			map[string]any{"failed": true, "error_code": "provider_no_image"}, ""},
		{"the callback body carries the execution id", "custom", "Callback body", map[string]any{"ok": true, "images": []any{map[string]any{"url": "https://x/1.png"}}}, nil,
			map[string]any{"failed": false}, `\"execution_id\":\"77\"`},
	}
	cases := make([]codeCase, len(tests))
	for i, tt := range tests {
		cases[i] = codeCase{tt.provider, tt.node, tt.in, tt.extra}
	}
	results := runCodeNodes(t, cases)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := results[i]
			for k, v := range tt.want {
				if g, _ := json.Marshal(got[k]); string(g) != string(must(json.Marshal(v))) {
					t.Errorf("%s = %s, want %v (all: %v)", k, g, v, got)
				}
			}
			if all, _ := json.Marshal(got); tt.wantText != "" && !strings.Contains(string(all), tt.wantText) {
				t.Errorf("result %s lacks %s", all, tt.wantText)
			}
		})
	}
}

func must(b []byte, _ error) []byte { return b }
