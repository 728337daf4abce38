package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui/cli"
)

// sendRig runs the real command tree against a real store in a temp home
// and the fake n8n on loopback. Retry waits are recorded, not slept.
type sendRig struct {
	home       string
	webhookURL string
	apiKey     string
	log        bytes.Buffer

	mu     sync.Mutex
	sleeps []time.Duration
}

func newSendRig(t *testing.T, webhookURL, apiKey string) *sendRig {
	return &sendRig{home: t.TempDir(), webhookURL: webhookURL, apiKey: apiKey}
}

func (r *sendRig) wiring() cli.Wiring {
	return cli.Wiring{
		LoadConfig: func(opts cli.Options) (app.Config, app.Paths, error) {
			cfg := app.DefaultConfig()
			cfg.N8N.WebhookURL = r.webhookURL
			cfg.Callback.PublicURL = "https://cb.example.test"
			p := app.Paths{Home: r.home, ConfigFile: filepath.Join(r.home, "config.toml"), DataDir: r.home,
				DB: filepath.Join(r.home, "influencegen.db"), ImagesDir: filepath.Join(r.home, "images"), LogFile: filepath.Join(r.home, "influencegen.log")}
			return cfg, p, nil
		},
		OpenLog: func(app.Paths, string, io.Writer) (*slog.Logger, io.Closer, error) {
			return slog.New(slog.NewTextHandler(&r.log, &slog.HandlerOptions{Level: slog.LevelDebug})), io.NopCloser(nil), nil
		},
		OpenStore: func(ctx context.Context, p app.Paths, log *slog.Logger) (app.Store, error) {
			return store.Open(ctx, p.DB, store.Options{Log: log})
		},
		OpenSecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
			return store.NewSecrets(profile, settings, store.SecretsOptions{Memory: true, Log: log,
				Getenv: func(k string) string {
					if k == "INFLUENCEGEN_N8N_API_KEY" {
						return r.apiKey
					}
					return ""
				}})
		},
		NewWorkflow: func(cfg app.Config, secrets app.Secrets, log *slog.Logger, version string) app.Workflow {
			return n8n.NewClient(n8n.ClientOptions{URL: cfg.N8N.WebhookURL, APIKeyHeader: cfg.N8N.APIKeyHeader,
				Timeout: cfg.N8N.Timeout.D(), Version: version, Log: log,
				APIKey: func(ctx context.Context) (string, error) {
					v, _, err := secrets.Get(ctx, app.SecretN8NAPIKey)
					return v, err
				},
				Sleep: func(_ context.Context, d time.Duration) error {
					r.mu.Lock()
					r.sleeps = append(r.sleeps, d)
					r.mu.Unlock()
					return nil
				}})
		},
		Presets: func(paths app.Paths, def app.GenerationDefaults) app.PresetBook {
			return store.PresetFile{Path: store.PresetsFile(paths), Defaults: def}
		},
	}
}

// run executes one command line and returns stdout, stderr and the exit code.
func (r *sendRig) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Build: cli.BuildInfo{Version: "1.0.0"}, Wiring: r.wiring(), Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr, Opts: cli.Options{Home: r.home, Profile: "test", LogLevel: "debug", Overrides: map[string]string{}}}
	root := cli.NewRoot(env, nil)
	root.SetArgs(args)
	code := cli.Execute(t.Context(), root, env)
	return stdout.String(), stderr.String(), code
}

type result struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

func decodeResults(t *testing.T, out string) []result {
	t.Helper()
	var rs []result
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("output is not the JSON array: %v\n%s", err, out)
	}
	return rs
}

func TestGenerateCountThreeJSONPrintsThreeProcessingRequestsAndPostsTheDesignPayload(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, errOut, code := r.run(t, "generate", "--prompt", "a red fox", "--count", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rs := decodeResults(t, out)
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3: %s", len(rs), out)
	}
	for _, res := range rs {
		if res.Status != "processing" || res.ErrorCode != "" {
			t.Errorf("result %+v, want processing", res)
		}
	}
	if !strings.Contains(out, `"error_code": ""`) || !strings.Contains(out, `"error_message": ""`) {
		t.Errorf("every result must carry error_code and error_message: %s", out)
	}

	// Exactly the DESIGN §4 payload and headers, per request.
	db, err := store.Open(t.Context(), filepath.Join(r.home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := fake.Requests()
	if len(got) != 3 {
		t.Fatalf("fake received %d requests, want 3", len(got))
	}
	for _, rec := range got {
		id := rec.Header.Get("Idempotency-Key")
		req, err := db.GetRequest(t.Context(), id)
		if err != nil {
			t.Fatalf("posted id %q: %v", id, err)
		}
		for k, v := range map[string]string{"Content-Type": "application/json", "X-API-Key": "test-api-key", "User-Agent": "influencegen/1.0.0"} {
			if rec.Header.Get(k) != v {
				t.Errorf("header %s = %q, want %q", k, rec.Header.Get(k), v)
			}
		}
		req.Status = app.StatusSending
		want, _ := n8n.Payload(req, "https://cb.example.test"+app.CallbackPath, "1.0.0")
		if !bytes.Equal(rec.Body, want) {
			t.Errorf("body\n got %s\nwant %s", rec.Body, want)
		}
		body := rec.JSON()
		if body["ai_generation_request_model_id"] != nil || body["requested_by"] == "" {
			t.Errorf("body = %v", body)
		}
	}
}

func TestGenerateWithAWrongKeyPrintsN8NAuthWithTheRemedyAndExitsOne(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "wrong-api-key")
	out, errOut, code := r.run(t, "generate", "--prompt", "a red fox")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"initiation_failed", "n8n_auth", "n8n rejected the API key (HTTP 403). Set it with `influencegen secrets set n8n-api-key`", "(now X-API-Key)"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "influencegen retry ID") {
		t.Errorf("stderr = %q", errOut)
	}
	if strings.Contains(r.log.String(), "wrong-api-key") || strings.Contains(out+errOut, "wrong-api-key") {
		t.Error("the API key leaked into output or log")
	}
}

func TestGenerateWithTheWebhookDownRetriesThreeTimesThenReportsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := newSendRig(t, "http://"+addr+n8ntest.DefaultPath, "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox", "--json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	rs := decodeResults(t, out)
	if len(rs) != 1 || rs[0].Status != "initiation_failed" || rs[0].ErrorCode != "n8n_unreachable" ||
		!strings.Contains(rs[0].ErrorMessage, addr) || !strings.Contains(rs[0].ErrorMessage, "connection refused") {
		t.Errorf("results = %+v", rs)
	}
	if len(r.sleeps) != 3 {
		t.Errorf("retried %d times (%v), want 3", len(r.sleeps), r.sleeps)
	}
}

func TestGenerateRefusesBadInputBeforeStoringAnything(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a missing prompt is a usage error", []string{"generate"}, "--prompt is required"},
		{"a bad resolution names the rule", []string{"generate", "--prompt", "x", "--resolution", "1000x1001"}, "multiple of 8"},
		{"a count above the limit names the range", []string{"generate", "--prompt", "x", "--count", "40"}, "between 1 and 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := r.run(t, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
	if fake.Count() != 0 {
		t.Errorf("n8n received %d requests", fake.Count())
	}
}

func TestGenerateWithoutAWebhookURLSaysWhichCommandSetsIt(t *testing.T) {
	r := newSendRig(t, "", "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox")
	if code != 1 || !strings.Contains(out, "not_configured") || !strings.Contains(out, "influencegen config set n8n.webhook_url URL") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestGenerateTellsN8NTheTunnelURLWhenATunnelForwardsToTheListener(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	w := r.wiring()
	w.ResolvePublicURL = func(context.Context, app.Config) string { return "https://fox.trycloudflare.com/" }
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Build: cli.BuildInfo{Version: "1.0.0"}, Wiring: w, Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr, Opts: cli.Options{Home: r.home, Profile: "test", Overrides: map[string]string{}}}
	root := cli.NewRoot(env, nil)
	root.SetArgs([]string{"generate", "--prompt", "a red fox", "--json"})
	if code := cli.Execute(t.Context(), root, env); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("fake received %d requests", len(got))
	}
	var body struct {
		CallbackURL string `json:"callback_url"`
	}
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.CallbackURL != "https://fox.trycloudflare.com"+app.CallbackPath {
		t.Fatalf("callback_url = %q, want the tunnel's", body.CallbackURL)
	}
}
