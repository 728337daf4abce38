package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// TestN8NSetupIsIdempotentProvesTheRoundTripAndRemovesCleanly runs the
// real commands against the fake n8n admin API (which replays the
// recorded n8n 2.8.4 answers) and a real callback listener: setup makes
// three credentials and one active workflow, its dry run comes back
// through the callback URL, a second setup changes nothing, status passes
// and remove leaves n8n as it was.
func TestN8NSetupIsIdempotentProvesTheRoundTripAndRemovesCleanly(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "admin-key")
	home := t.TempDir()
	t.Setenv("INFLUENCEGEN_HOME", home)
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", "e2e-callback-token")
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "e2e-api-key")
	t.Setenv("INFLUENCEGEN_N8N_ADMIN_KEY", "admin-key")
	t.Setenv("INFLUENCEGEN_PROVIDER_API_KEY", "sk-provider")
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", freeAddr(t))
	ctx := context.Background()

	setup := []string{"n8n", "setup", "--n8n-url", fake.URL, "--provider", "openai", "--provider-url", "http://127.0.0.1:9/v1"}
	code, out, errOut := runCLI(ctx, setup...)
	if code != 0 {
		t.Fatalf("setup exited %d:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"✓ n8n reachable", "✓ credential InfluenceGen provider key", "✓ activate", "✓ credentials bound", "✓ dry run: callback received", "n8n is set up"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "sk-provider") || strings.Contains(out+errOut, "e2e-api-key") {
		t.Error("setup printed a secret")
	}
	cfg, err := os.ReadFile(filepath.Join(home, "config.toml"))
	if err != nil || !strings.Contains(string(cfg), fake.URL+"/webhook/influence-gen/generate") || !strings.Contains(string(cfg), "gpt-image-1") {
		t.Fatalf("config.toml = %s (%v); want n8n.webhook_url and n8n.models", cfg, err)
	}
	if creds, wfs := fake.Counts(); creds != 3 || wfs != 1 {
		t.Fatalf("n8n holds %d credentials and %d workflows, want 3 and 1", creds, wfs)
	}

	code, out, errOut = runCLI(ctx, append(setup, "--json")...)
	var doc struct {
		OK     bool `json:"ok"`
		DryRun struct {
			Status string `json:"status"`
		} `json:"dry_run"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || !doc.OK || doc.DryRun.Status != "completed" {
		t.Fatalf("second setup exited %d: %s %s", code, out, errOut)
	}
	if creds, wfs := fake.Counts(); creds != 3 || wfs != 1 {
		t.Errorf("a re-run made duplicates: %d credentials, %d workflows", creds, wfs)
	}

	_, out, _ = runCLI(ctx, "doctor", "--json")
	var report struct {
		Checks []struct{ Name, State string }
	}
	_ = json.Unmarshal([]byte(out), &report)
	found := map[string]string{}
	for _, c := range report.Checks {
		found[c.Name] = c.State
	}
	if found["n8n api: credentials bound"] != "ok" || found["n8n api: webhook URL matches the config"] != "ok" {
		t.Errorf("doctor does not check n8n through its API: %v", found)
	}

	// Why did it fail: a provider failure, then `status ID` shows n8n's run.
	code, out, errOut = runCLI(ctx, "generate", "--prompt", "FAIL500 please", "--model", "gpt-image-1", "--resolution", "1024x1024", "--wait", "--json")
	var gen []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		ErrorCode string `json:"error_code"`
	}
	if err := json.Unmarshal([]byte(out), &gen); err != nil || len(gen) != 1 || gen[0].Status != "failed" || gen[0].ErrorCode != "gpu_oom" {
		t.Fatalf("generate FAIL500 exited %d: %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI(ctx, "status", gen[0].ID)
	for _, want := range []string{"failing node", "Stop and Error", "gpu_oom: " + n8ntest.ProviderFailure, fake.URL + "/workflow/"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status %s lacks %q (exit %d):\n%s\n%s", gen[0].ID, want, code, out, errOut)
		}
	}

	if code, out, errOut = runCLI(ctx, "n8n", "status"); code != 0 || !strings.Contains(out, "✓ webhook URL matches the config") {
		t.Errorf("status exited %d:\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut = runCLI(ctx, "n8n", "remove"); code != 0 {
		t.Fatalf("remove exited %d: %s %s", code, out, errOut)
	}
	if creds, wfs := fake.Counts(); creds != 0 || wfs != 0 {
		t.Errorf("after remove n8n holds %d credentials and %d workflows", creds, wfs)
	}
	if code, _, _ = runCLI(ctx, "n8n", "status"); code == 0 {
		t.Error("status passes with nothing set up")
	}
}
