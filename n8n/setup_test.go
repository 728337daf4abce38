package n8n_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// memSecrets is an in-memory app.Secrets (the keyring is the store's
// business; these tests are about what goes to n8n).
type memSecrets struct {
	mu     sync.Mutex
	values map[string]string
}

func (m *memSecrets) Get(_ context.Context, name string) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.values[name]; ok {
		return v, app.SourceMemory, nil
	}
	return "", app.SourceMissing, app.Errorf(app.ENOTFOUND, "%s is not set", name)
}
func (m *memSecrets) Set(_ context.Context, name, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[name] = value
	return nil
}
func (m *memSecrets) Delete(ctx context.Context, name string) error      { return m.Set(ctx, name, "") }
func (m *memSecrets) Status(context.Context) ([]app.SecretStatus, error) { return nil, nil }
func (m *memSecrets) RotateCallbackToken(ctx context.Context, _ time.Duration) (string, time.Time, error) {
	return "rotated-token", time.Time{}, m.Set(ctx, app.SecretCallbackToken, "rotated-token")
}
func (m *memSecrets) ValidateCallbackToken(context.Context, string) (bool, error) { return false, nil }

type memSettings struct{ sync.Map }

func (m *memSettings) GetSetting(_ context.Context, key string) (string, bool, error) {
	v, ok := m.Load(key)
	if !ok {
		return "", false, nil
	}
	return v.(string), true, nil
}
func (m *memSettings) SetSetting(_ context.Context, key, value string) error {
	m.Store(key, value)
	return nil
}

func newManager(t *testing.T) (app.N8NAdmin, *n8ntest.Admin, *memSecrets) {
	fake := n8ntest.NewAdmin(t, "admin")
	sec := &memSecrets{values: map[string]string{app.SecretN8NAdminKey: "admin"}}
	m, err := n8n.NewManager(context.Background(), app.DefaultConfig(), sec, &memSettings{}, fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	return m, fake, sec
}

func TestSetupWithoutTheProviderKeySaysWhereToPutItAndAReRunRepairs(t *testing.T) {
	m, fake, sec := newManager(t)
	ctx := context.Background()
	var steps []app.N8NStep
	_, err := m.Setup(ctx, app.N8NSetupOptions{Provider: "openai"}, func(s app.N8NStep) { steps = append(steps, s) })
	last := steps[len(steps)-1]
	if err == nil || last.OK || !strings.Contains(last.Fix, "INFLUENCEGEN_PROVIDER_API_KEY") {
		t.Fatalf("setup without a provider key: %v, last step %+v", err, last)
	}
	if sec.values[app.SecretN8NAPIKey] == "" || sec.values[app.SecretCallbackToken] != "rotated-token" {
		t.Errorf("missing secrets were not generated: %v", sec.values)
	}
	res, err := m.Setup(ctx, app.N8NSetupOptions{Provider: "openai", ProviderKey: "sk-1"}, func(app.N8NStep) {})
	if err != nil {
		t.Fatal(err)
	}
	if creds, wfs := fake.Counts(); creds != 3 || wfs != 1 || res.WebhookURL != fake.URL+"/webhook/influence-gen/generate" || res.Models[0] != "gpt-image-1" {
		t.Errorf("after the re-run: %d credentials, %d workflows, %+v", creds, wfs, res)
	}
}

func TestPushSecretChangesOnlyTheValueOfItsCredential(t *testing.T) {
	m, fake, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Setup(ctx, app.N8NSetupOptions{Provider: "comfyui"}, func(app.N8NStep) {}); err != nil {
		t.Fatal(err)
	}
	if creds, _ := fake.Counts(); creds != 2 {
		t.Errorf("comfyui needs no provider key, yet %d credentials exist", creds)
	}
	if err := m.PushSecret(ctx, app.SecretCallbackToken, "token-2"); err != nil {
		t.Fatal(err)
	}
	if got := fake.CredentialDataByName(n8n.CredentialCallbackToken); got["name"] != n8n.CallbackTokenHeader || got["value"] != "token-2" {
		t.Errorf("after the push n8n holds %v; want the header name kept and the new value", got)
	}
	if err := m.PushSecret(ctx, app.SecretWebhookSecret, "x"); app.ErrorCode(err) != app.EINVALID {
		t.Errorf("pushing a secret without a credential: %v", err)
	}
}
