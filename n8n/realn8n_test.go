package n8n_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
)

// Opt-in: runs the shipped templates on a real n8n (2.8.4 was used) through
// its public API. Not part of the default run: it needs a running n8n.
//
//	INFLUENCEGEN_REAL_N8N_URL=http://127.0.0.1:5678 INFLUENCEGEN_REAL_N8N_KEY=… \
//	  go test ./n8n -run TestRealN8N -v
//
// The provider is a fake on loopback and the callbacks go to a sink here.

const realPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

type sink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   map[string][]map[string]any
	hdrs  map[string]http.Header
	fails map[string]int // request id → how many callbacks to refuse first
	seen  chan string
}

func newSink(t *testing.T) *sink {
	s := &sink{got: map[string][]map[string]any{}, hdrs: map[string]http.Header{}, fails: map[string]int{}, seen: make(chan string, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		id := fmt.Sprint(body["ai_generation_request_id"])
		s.mu.Lock()
		body["_raw"] = string(raw)
		s.got[id] = append(s.got[id], body)
		s.hdrs[id] = r.Header.Clone()
		refuse := s.fails[id] > 0
		if refuse {
			s.fails[id]--
		}
		s.mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success"}`)
		s.seen <- id
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// wait returns the accepted callback for id.
func (s *sink) wait(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		list, pending := s.got[id], s.fails[id]
		s.mu.Unlock()
		if n := len(list); n > 0 && pending == 0 {
			return list[n-1]
		}
		select {
		case <-s.seen:
		case <-deadline:
			t.Fatalf("no callback for %s within 60 s", id)
		}
	}
}

// fakeProvider answers like OpenAI's Images API (/v1/images/generations)
// and like a generic custom endpoint (/custom): FAIL500 → HTTP 500 with
// {"error":{"message","code"}}, NOIMG → 200 without an image.
func fakeProvider(t *testing.T) (*httptest.Server, *sync.Map) {
	hits := &sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		prompt := fmt.Sprint(body["prompt"])
		n, _ := hits.LoadOrStore(prompt, new(int))
		*(n.(*int))++
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(prompt, "FAIL500"):
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"error":{"message":"The GPU ran out of memory","code":"gpu_oom"}}`)
		case strings.Contains(prompt, "NOIMG") && r.URL.Path == "/custom":
			_, _ = io.WriteString(w, `{"id":"job-1","status":"queued"}`)
		case strings.Contains(prompt, "NOIMG"):
			_, _ = io.WriteString(w, `{"created":1,"data":[]}`)
		case r.URL.Path == "/custom":
			_, _ = io.WriteString(w, `{"image_base64":"`+realPNG+`","image_format":"png","seed":7}`)
		default:
			_, _ = io.WriteString(w, `{"created":1,"data":[{"b64_json":"`+realPNG+`"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// fakeAsyncProviders answers like Replicate (/replicate/v1: a prediction
// that is "processing" on its first poll) and ComfyUI (/comfy: /prompt,
// /history/{id} empty on the first poll, /view with the PNG).
func fakeAsyncProviders(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	polls := map[string]int{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/replicate/v1/models/"):
			id := fmt.Sprint(len(polls) + 1)
			polls["r"+id] = 0
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"id":"%s","status":"starting","output":null,"error":null,"urls":{"get":"%s/replicate/v1/predictions/%s"}}`, id, srv.URL, id)
		case strings.HasPrefix(r.URL.Path, "/replicate/v1/predictions/"):
			id := strings.TrimPrefix(r.URL.Path, "/replicate/v1/predictions/")
			polls["r"+id]++
			if polls["r"+id] < 2 {
				fmt.Fprintf(w, `{"id":"%s","status":"processing","urls":{"get":"%s/replicate/v1/predictions/%s"}}`, id, srv.URL, id)
				return
			}
			fmt.Fprintf(w, `{"id":"%s","status":"succeeded","output":["https://replicate.delivery/fake/%s.png"]}`, id, id)
		case r.Method == http.MethodPost && r.URL.Path == "/comfy/prompt":
			id := fmt.Sprintf("c%d", len(polls)+1)
			polls[id] = 0
			fmt.Fprintf(w, `{"prompt_id":"%s","number":1,"node_errors":{}}`, id)
		case strings.HasPrefix(r.URL.Path, "/comfy/history/"):
			id := strings.TrimPrefix(r.URL.Path, "/comfy/history/")
			polls[id]++
			if polls[id] < 2 {
				_, _ = io.WriteString(w, `{}`)
				return
			}
			fmt.Fprintf(w, `{"%s":{"status":{"status_str":"success","completed":true,"messages":[]},"outputs":{"9":{"images":[{"filename":"ig_%s.png","subfolder":"","type":"output"}]}}}}`, id, id)
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/stability/v2beta/stable-image/generate/"):
			// Stability takes multipart form data and answers JSON when asked.
			if err := r.ParseMultipartForm(1 << 20); err != nil || r.FormValue("prompt") == "" || r.FormValue("aspect_ratio") != "1:1" ||
				r.FormValue("model") != "sd3.5-large" || r.Header.Get("Accept") != "application/json" {
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"id":"x","name":"bad_request","errors":["fake: form %v, accept %q"]}`, r.MultipartForm, r.Header.Get("Accept"))
				return
			}
			fmt.Fprintf(w, `{"image":"%s","seed":%s,"finish_reason":"SUCCESS"}`, realPNG, r.FormValue("seed"))
		case r.URL.Path == "/comfy/view":
			png, _ := base64.StdEncoding.DecodeString(realPNG)
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(png)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRealN8NRunsTheShippedTemplates(t *testing.T) {
	base, key := os.Getenv("INFLUENCEGEN_REAL_N8N_URL"), os.Getenv("INFLUENCEGEN_REAL_N8N_KEY")
	if base == "" || key == "" {
		t.Skip("set INFLUENCEGEN_REAL_N8N_URL and INFLUENCEGEN_REAL_N8N_KEY to run the templates on a real n8n")
	}
	admin, err := n8n.NewAdmin(base, key, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provider, hits := fakeProvider(t)
	async := fakeAsyncProviders(t)
	cb := newSink(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	apiKey, token := "real-api-key-"+suffix, "real-callback-token-"+suffix
	ids := map[string]string{}
	for name, data := range map[string]n8n.HeaderAuth{
		n8n.CredentialAPIKey:        {Name: "X-API-Key", Value: apiKey},
		n8n.CredentialCallbackToken: {Name: "X-Callback-Token", Value: token},
		n8n.CredentialProviderKey:   {Name: "Authorization", Value: "Bearer sk-fake"},
	} {
		c, err := admin.CreateHeaderCredential(ctx, name+" "+suffix, data)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
		t.Cleanup(func() { _ = admin.DeleteCredential(context.Background(), c.ID) })
	}

	for _, tc := range []struct {
		provider, url, model string
		signed               bool
	}{
		{"openai", provider.URL + "/v1", "gpt-image-1", false},
		{"custom", provider.URL + "/custom", "sdxl", false},
		{"openai", provider.URL + "/v1", "gpt-image-1", true},
		{"replicate", async.URL + "/replicate/v1", "black-forest-labs/flux-schnell", false},
		{"comfyui", async.URL + "/comfy", "sd_xl_base_1.0.safetensors", false},
		{"stability", async.URL + "/stability", "sd3.5-large", false},
	} {
		name := tc.provider
		if tc.signed {
			name += ".signed"
		}
		t.Run(name, func(t *testing.T) {
			path := "ig-real/" + strings.ReplaceAll(name, ".", "-") + "-" + suffix
			signingKey := "0123456789abcdef0123456789abcdef0123456789abcdef"
			wf, err := n8n.BuildWorkflow(n8n.WorkflowOptions{Provider: tc.provider, Signed: tc.signed, ProviderURL: tc.url, WebhookPath: path,
				SigningKey: signingKey, CredentialIDs: ids})
			if err != nil {
				t.Fatal(err)
			}
			state, err := admin.CreateWorkflow(ctx, wf)
			if err != nil {
				t.Fatalf("real n8n refused the template: %v", err)
			}
			t.Cleanup(func() { _ = admin.DeleteWorkflow(context.Background(), state.ID) })
			if err := admin.ActivateWorkflow(ctx, state.ID); err != nil {
				t.Fatalf("activate: %v", err)
			}
			send := func(id, prompt string, dry bool) {
				t.Helper()
				req := app.Request{ID: id, Params: app.GenerationParams{Prompt: prompt, Model: tc.model, Width: 1024, Height: 1024,
					AspectRatio: "1:1", Seed: 7, NumImages: 1, DryRun: dry}, CreatedAt: time.Now()}
				body, err := n8n.Payload(req, cb.srv.URL+app.CallbackPath, "test")
				if err != nil {
					t.Fatal(err)
				}
				hr, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(base, "/")+"/webhook/"+path, bytes.NewReader(body))
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("X-API-Key", apiKey)
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				ack, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || string(ack) != `{"status":"accepted"}` {
					t.Fatalf("ack %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), ack)
				}
			}
			id := func(kind string) string { return kind + "-" + name + "-" + suffix }

			send(id("ok"), "a fox "+id("ok"), false)
			got := cb.wait(t, id("ok"))
			images, _ := got["images"].([]any)
			wantImage := realPNG
			if tc.provider == "replicate" {
				wantImage = ""
			}
			if got["status"] != "success" || len(images) != 1 || fmt.Sprint(images[0].(map[string]any)["base64"]) != wantImage && wantImage != "" || got["execution_id"] == nil {
				t.Errorf("success callback = %v", got["_raw"])
			}
			if tc.provider == "replicate" || tc.provider == "comfyui" || tc.provider == "stability" {
				// Polled providers: success after a Wait loop, and the dry run.
				if tc.provider == "replicate" && !strings.HasPrefix(fmt.Sprint(images[0].(map[string]any)["url"]), "https://replicate.delivery/") {
					t.Errorf("replicate image = %v", images[0])
				}
				send(id("dry"), "DRY "+id("dry"), true)
				if got := cb.wait(t, id("dry")); got["status"] != "success" {
					t.Errorf("dry-run callback = %v", got["_raw"])
				}
				return
			}
			if h := cb.hdrs[id("ok")]; h.Get("X-Callback-Token") != token {
				t.Errorf("callback token header = %q", h.Get("X-Callback-Token"))
			} else if tc.signed {
				secret, _ := n8n.DecodeWebhookSecret("whsec_" + base64.StdEncoding.EncodeToString([]byte(signingKey)))
				if err := n8n.VerifySignature(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), []byte(got["_raw"].(string)), time.Now()); err != nil {
					t.Errorf("signature does not verify: %v", err)
				}
			}

			send(id("fail"), "FAIL500 "+id("fail"), false)
			got = cb.wait(t, id("fail"))
			if got["status"] != "failed" || got["error_code"] != "gpu_oom" || got["error_message"] != "The GPU ran out of memory" {
				t.Errorf("provider 500 callback = %v", got["_raw"])
			}

			send(id("noimg"), "NOIMG "+id("noimg"), false)
			got = cb.wait(t, id("noimg"))
			if got["status"] != "failed" || got["error_code"] != "provider_no_image" || !strings.Contains(fmt.Sprint(got["error_message"]), "without an image") {
				t.Errorf("no-image callback = %v", got["_raw"])
			}

			send(id("dry"), "DRY "+id("dry"), true)
			got = cb.wait(t, id("dry"))
			if got["status"] != "success" || len(got["images"].([]any)) != 1 {
				t.Errorf("dry-run callback = %v", got["_raw"])
			}
			if _, called := hits.Load("DRY " + id("dry")); called {
				t.Error("the dry run called the provider")
			}

			// A re-send of a seen id is skipped; the next request is the barrier.
			send(id("ok"), "a fox "+id("ok"), false)
			cb.mu.Lock()
			cb.fails[id("retry")] = 2 // the callback URL refuses twice: n8n must retry
			cb.mu.Unlock()
			send(id("retry"), "a fox "+id("retry"), false)
			cb.wait(t, id("retry"))
			cb.mu.Lock()
			attempts, okCalls := len(cb.got[id("retry")]), len(cb.got[id("ok")])
			cb.mu.Unlock()
			if attempts != 3 {
				t.Errorf("callback attempts = %d, want 3 (2 refused + 1)", attempts)
			}
			if n, _ := hits.Load("a fox " + id("ok")); *(n.(*int)) != 1 || okCalls != 1 {
				t.Errorf("a re-sent id was generated again: provider calls %d, callbacks %d", *(n.(*int)), okCalls)
			}

			// A rotation pushed to the callback credential applies to the next run.
			if !tc.signed && tc.provider == "openai" {
				if err := admin.RotateHeaderValue(ctx, ids[n8n.CredentialCallbackToken], token+"-2"); err != nil {
					t.Fatal(err)
				}
				send(id("rotated"), "a fox "+id("rotated"), false)
				cb.wait(t, id("rotated"))
				cb.mu.Lock()
				h := cb.hdrs[id("rotated")]
				cb.mu.Unlock()
				if h.Get("X-Callback-Token") != token+"-2" {
					t.Errorf("after the push n8n sent X-Callback-Token %q", h.Get("X-Callback-Token"))
				}
				_ = admin.RotateHeaderValue(ctx, ids[n8n.CredentialCallbackToken], token)
			}

			// The provider failure is an error execution naming Stop and Error.
			runs, err := admin.Executions(ctx, state.ID, 20)
			if err != nil {
				t.Fatal(err)
			}
			var failedRun string
			for _, r := range runs {
				if r.Status != "error" {
					continue
				}
				rep, err := admin.Execution(ctx, string(r.ID))
				if err == nil && rep.RequestID == id("fail") {
					failedRun = rep.FailedNode + ": " + rep.Message
				}
			}
			if !strings.Contains(failedRun, "Stop and Error") || !strings.Contains(failedRun, "gpu_oom") {
				t.Errorf("the provider failure's execution = %q (runs %+v)", failedRun, runs)
			}
			for _, r := range runs {
				if r.Status == "success" {
					t.Errorf("a successful run was saved (%s): saveDataSuccessExecution must be none", r.ID)
				}
			}
		})
	}
}
