package main

import (
	"context"
	"slices"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/ui/cli"
)

// TestTheDashboardGetsTheN8NAdminOnlyWithAnAdminKey checks main's wiring
// of ui.Backend.N8NAdmin: nothing without an n8n-admin-key (the screens
// then say how to enable it), and with one the same n8n.NewManager the
// CLI uses, talking to n8n with that key.
func TestTheDashboardGetsTheN8NAdminOnlyWithAnAdminKey(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "admin-key")
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "dash-n8n")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.URL+"/webhook/influence-gen/generate")
	t.Setenv("INFLUENCEGEN_N8N_ADMIN_KEY", "")
	ctx := context.Background()
	env := cli.DefaultEnv(cli.BuildInfo{Version: "test"}, wiring())
	p, err := env.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	build := keyedN8NAdmin(env, p)
	if build == nil {
		t.Fatal("the binary's wiring has an n8n admin, yet the dashboard gets none")
	}
	if admin, err := build(ctx); admin != nil || err != nil {
		t.Fatalf("without n8n-admin-key: admin %v, error %v; want neither", admin, err)
	}

	t.Setenv("INFLUENCEGEN_N8N_ADMIN_KEY", "admin-key")
	admin, err := build(ctx)
	if err != nil || admin == nil {
		t.Fatalf("with n8n-admin-key: admin %v, error %v", admin, err)
	}
	failed := app.Request{ID: "01JDX3V6Q6T7ZP3Y6N4B000001", Status: app.StatusFailed}
	if _, err := app.ExplainFailure(ctx, admin, failed); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("explaining a request n8n never ran: %v; want not found", err)
	}
	if !slices.Contains(fake.Calls(), "GET /api/v1/executions") {
		t.Errorf("the admin did not ask n8n (with the key): calls %v", fake.Calls())
	}

	env.Wiring.NewN8NAdmin = nil
	if keyedN8NAdmin(env, p) != nil {
		t.Error("a build without an n8n admin still hands the dashboard a factory")
	}
}
