package n8n

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type receivedCallback struct {
	header http.Header
	body   map[string]any
}

// startSimulator runs a simulator whose callbacks land on a recording server.
func startSimulator(t *testing.T, opts SimulatorOptions) (*Simulator, chan receivedCallback, string) {
	t.Helper()
	got := make(chan receivedCallback, 16)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("callback body is not JSON: %v", err)
		}
		got <- receivedCallback{header: r.Header.Clone(), body: body}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success"}`)
	}))
	t.Cleanup(cb.Close)
	if opts.APIKey == nil {
		opts.APIKey = func() string { return "test-api-key" }
	}
	if opts.CallbackToken == nil {
		opts.CallbackToken = func() string { return "test-callback-token" }
	}
	if opts.Delay == nil {
		opts.Delay = func() time.Duration { return 0 }
	}
	if opts.FailRate == 0 {
		opts.FailRate = -1
	}
	sim := NewSimulator(opts)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, got, cb.URL + "/influence_gen/ai/callback/image_result"
}

func generateBody(id, prompt, callbackURL string, w, h int, seed int64, n int) string {
	b, _ := json.Marshal(map[string]any{
		"ai_generation_request_id": id, "ai_generation_request_model_id": nil,
		"generation_params": map[string]any{"prompt": prompt, "negative_prompt": "", "model_id": "sdxl",
			"resolution": "x", "width": w, "height": h, "aspect_ratio": "1:1", "seed": seed, "num_images": n},
		"callback_url": callbackURL, "requested_by": "alice", "requested_at": "2026-11-27T14:00:00Z", "client": "influencegen/test",
	})
	return string(b)
}

func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func waitCallback(t *testing.T, ch chan receivedCallback) receivedCallback {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10 s")
	}
	return receivedCallback{}
}

func TestSimulatorRejectsWrongOrMissingKeyLikeRealN8N(t *testing.T) {
	sim, got, cbURL := startSimulator(t, SimulatorOptions{})
	for _, key := range []string{"wrong-api-key", ""} {
		resp := post(t, sim.URL(), key, generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2H", "a cat", cbURL, 64, 64, 1, 1))
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 403 || string(body) != "Authorization data is wrong!" {
			t.Errorf("key %q: got %d %q, want 403 Authorization data is wrong!", key, resp.StatusCode, body)
		}
		if h := resp.Header.Get("WWW-Authenticate"); h != `Basic realm="Webhook"` {
			t.Errorf("WWW-Authenticate = %q", h)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			t.Errorf("403 has Content-Type %q; real n8n sends none", ct)
		}
	}
	select {
	case c := <-got:
		t.Fatalf("a rejected call must not call back, got %v", c.body)
	case <-time.After(50 * time.Millisecond):
	}
	if st := sim.Stats(); st.Rejected != 2 || st.Accepted != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSimulatorAnswersGetAndBadJSONAndUnknownPathLikeRealN8N(t *testing.T) {
	sim, _, _ := startSimulator(t, SimulatorOptions{})
	resp, err := http.Get(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET: %d, want 404", resp.StatusCode)
	}
	bad := post(t, sim.URL(), "test-api-key", `{"ai_generation_request_id": "x", "generation_params": {`)
	var e map[string]any
	_ = json.NewDecoder(bad.Body).Decode(&e)
	if bad.StatusCode != 422 || e["message"] != "Failed to parse request body" {
		t.Errorf("bad JSON: %d %v", bad.StatusCode, e)
	}
	unk := post(t, sim.BaseURL()+"/webhook/other", "test-api-key", `{}`)
	_ = json.NewDecoder(unk.Body).Decode(&e)
	if unk.StatusCode != 404 || !strings.Contains(e["message"].(string), "is not registered") {
		t.Errorf("unknown webhook: %d %v", unk.StatusCode, e)
	}
}

func TestSimulatorAcceptsThenCallsBackWithN8NHeadersAndAnImage(t *testing.T) {
	token := "tok-1"
	sim, got, cbURL := startSimulator(t, SimulatorOptions{CallbackToken: func() string { return token }})
	resp := post(t, sim.URL(), "test-api-key", generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2E", "a cat in a hat", cbURL, 2048, 1024, 7, 1))
	var ack map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ack)
	if resp.StatusCode != 202 || ack["status"] != "accepted" {
		t.Fatalf("ack: %d %v", resp.StatusCode, ack)
	}
	c := waitCallback(t, got)
	if c.header.Get("X-Callback-Token") != "tok-1" || !strings.HasPrefix(c.header.Get("User-Agent"), "axios/") {
		t.Errorf("callback headers: %v", c.header)
	}
	if c.body["status"] != "success" || c.body["ai_generation_request_id"] != "01JDX3V6Q6T7ZP3Y6N4B1K9S2E" {
		t.Fatalf("callback body: %v", c.body)
	}
	// The first execution sends base64; the size is capped at 1024 keeping 2:1.
	raw, err := base64.StdEncoding.DecodeString(c.body["image_base64"].(string))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width != 1024 || cfg.Height != 512 {
		t.Errorf("image %dx%d (%v), want 1024x512", cfg.Width, cfg.Height, err)
	}

	// Rotation: the next callback carries the new token; the second
	// execution sends a URL the simulator serves.
	token = "tok-2"
	post(t, sim.URL(), "test-api-key", generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2F", "a cat in a hat", cbURL, 64, 64, 7, 1))
	c = waitCallback(t, got)
	if c.header.Get("X-Callback-Token") != "tok-2" {
		t.Errorf("token after rotation = %q", c.header.Get("X-Callback-Token"))
	}
	u, ok := c.body["image_url"].(string)
	if !ok {
		t.Fatalf("second callback has no image_url: %v", c.body)
	}
	img, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Body.Close()
	data, _ := io.ReadAll(img.Body)
	if img.StatusCode != 200 || !bytes.Equal(data, SimImage("a cat in a hat", 7, 0, 64, 64)) {
		t.Errorf("served image: %d, %d bytes, not the deterministic picture", img.StatusCode, len(data))
	}
}

func TestSimulatorFailsPromptsContainingFailInAnyCase(t *testing.T) {
	sim, got, cbURL := startSimulator(t, SimulatorOptions{})
	post(t, sim.URL(), "test-api-key", generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2G", "please FaIl now", cbURL, 64, 64, 1, 1))
	c := waitCallback(t, got)
	if c.body["status"] != "failed" || !strings.Contains(c.body["error_message"].(string), "FAIL") {
		t.Errorf("callback = %v", c.body)
	}
	if _, has := c.body["image_url"]; has {
		t.Error("a failure must not carry an image")
	}
}

func TestSimulatorFailsAtRandomWhenTheRateSaysSo(t *testing.T) {
	sim, got, cbURL := startSimulator(t, SimulatorOptions{FailRate: 1})
	post(t, sim.URL(), "test-api-key", generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2G", "a dog", cbURL, 64, 64, 1, 1))
	if c := waitCallback(t, got); c.body["status"] != "failed" || c.body["error_message"] == "" {
		t.Errorf("callback = %v", c.body)
	}
}

func TestSimulatorSendsOneEntryPerImageWhenSeveralAreAsked(t *testing.T) {
	sim, got, cbURL := startSimulator(t, SimulatorOptions{})
	post(t, sim.URL(), "test-api-key", generateBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2G", "three dogs", cbURL, 64, 128, 10, 3))
	c := waitCallback(t, got)
	imgs, _ := c.body["images"].([]any)
	if len(imgs) != 3 {
		t.Fatalf("images = %v", c.body)
	}
	for i, v := range imgs {
		m := v.(map[string]any)
		if m["seed"].(float64) != float64(10+i) || m["width"].(float64) != 64 || m["height"].(float64) != 128 {
			t.Errorf("image %d = %v", i, m)
		}
	}
}

func TestSimImageIsDeterministicPerPromptAndSeed(t *testing.T) {
	a := SimImage("a red fox", 42, 0, 96, 64)
	if !bytes.Equal(a, SimImage("a red fox", 42, 0, 96, 64)) {
		t.Error("same prompt and seed gave different bytes")
	}
	if bytes.Equal(a, SimImage("a red fox", 43, 0, 96, 64)) {
		t.Error("a different seed gave the same picture")
	}
	if bytes.Equal(a, SimImage("a blue fox", 42, 0, 96, 64)) {
		t.Error("a different prompt gave the same picture")
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(a))
	if err != nil || cfg.Width != 96 || cfg.Height != 64 {
		t.Errorf("decoded %dx%d, %v", cfg.Width, cfg.Height, err)
	}
}

func TestSimSizeCapsTheLongerSideAndKeepsTheAspect(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{1024, 1024, 1024, 1024}, {4096, 2048, 1024, 512}, {832, 1216, 701, 1024}, {512, 768, 512, 768},
	} {
		if w, h := simSize(tc.w, tc.h, 1024); w != tc.ww || h != tc.wh {
			t.Errorf("%dx%d → %dx%d, want %dx%d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}
