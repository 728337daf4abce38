package n8n_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func TestAdminSaysHowToFixAWrongKey(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "right")
	admin, err := n8n.NewAdmin(fake.URL+"/api/v1/", "wrong", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Workflows(context.Background())
	if app.ErrorCode(err) != app.EUNAUTHORIZED || !strings.Contains(err.Error(), "secrets set n8n-admin-key") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("err = %v; want unauthorized, the fix, and never the key", err)
	}
	if _, err := n8n.NewAdmin(fake.URL, "", time.Second); app.ErrorCode(err) != app.ENOTCONFIGURED {
		t.Errorf("no key: %v", err)
	}
}

func TestRotatingAHeaderValueKeepsTheHeaderName(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "k")
	admin, _ := n8n.NewAdmin(fake.URL, "k", 5*time.Second)
	ctx := context.Background()
	c, err := admin.CreateHeaderCredential(ctx, n8n.CredentialCallbackToken, n8n.HeaderAuth{Name: "X-Callback-Token", Value: "one"})
	if err != nil || c.ID == "" {
		t.Fatalf("create: %v %+v", err, c)
	}
	if err := admin.RotateHeaderValue(ctx, c.ID, "two"); err != nil {
		t.Fatal(err)
	}
	if got := fake.CredentialData(c.ID); got["name"] != "X-Callback-Token" || got["value"] != "two" {
		t.Errorf("after rotation n8n holds %v", got)
	}
	if err := admin.RotateHeaderValue(ctx, "nope", "x"); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("unknown credential: %v", err)
	}
}

func TestWorkflowRoundTripBindsCredentialsAndActivates(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "k")
	admin, _ := n8n.NewAdmin(fake.URL, "k", 5*time.Second)
	ctx := context.Background()
	ids := map[string]string{}
	for _, name := range []string{n8n.CredentialAPIKey, n8n.CredentialCallbackToken, n8n.CredentialProviderKey} {
		c, err := admin.CreateHeaderCredential(ctx, name, n8n.HeaderAuth{Name: "H", Value: "v"})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	wf, err := n8n.BuildWorkflow(n8n.WorkflowOptions{Provider: "openai", CredentialIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	created, err := admin.CreateWorkflow(ctx, wf)
	if err != nil {
		t.Fatalf("the public API refused the template: %v", err)
	}
	if err := admin.ActivateWorkflow(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	got, err := admin.GetWorkflow(ctx, created.ID)
	if err != nil || !got.Active || len(got.Nodes) != len(wf.Nodes) {
		t.Fatalf("get: %v active=%v nodes=%d", err, got.Active, len(got.Nodes))
	}
	if _, err := admin.UpdateWorkflow(ctx, created.ID, wf); err != nil {
		t.Fatal(err)
	}
	if err := admin.DeleteWorkflow(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := admin.DeleteWorkflow(ctx, created.ID); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
}

func TestFindExecutionExplainsARecordedFailure(t *testing.T) {
	fake := n8ntest.NewAdmin(t, "k")
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(n8ntest.PeersDir(t)), "n8n-api", "58-execution-missing-callback-credential-detail.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Response struct{ Body map[string]any } `json:"response"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	fake.AddExecution(ex.Response.Body)
	admin, _ := n8n.NewAdmin(fake.URL, "k", 5*time.Second)
	started, _ := time.Parse(time.RFC3339, ex.Response.Body["startedAt"].(string))
	rep, err := admin.FindExecution(context.Background(), "0F6UT8wQiKoQNsw9", "", "01JDX3V6Q6T7ZP3Y6N4B1K9R09", started, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID != "15" || rep.Status != "error" || rep.FailedNode != "Callback: success" || rep.Message != "Found credential with no ID." ||
		rep.EditorURL != fake.URL+"/workflow/0F6UT8wQiKoQNsw9/executions/15" {
		t.Errorf("report = %+v", rep)
	}
	if _, err := admin.FindExecution(context.Background(), "0F6UT8wQiKoQNsw9", "", "other", started, time.Minute); app.ErrorCode(err) != app.ENOTFOUND {
		t.Errorf("unknown request: %v", err)
	}
}
