package n8n

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// settingN8NSetup holds what setup made (ids, provider, path): the record
// that makes a re-run update instead of duplicating, and remove exact.
const settingN8NSetup = "n8n_setup"

// CallbackTokenHeader is the header the callback credential sends.
const CallbackTokenHeader = "X-Callback-Token"

type setupRecord struct {
	N8NURL      string            `json:"n8n_url"`
	WorkflowID  string            `json:"workflow_id"`
	Provider    string            `json:"provider"`
	Signed      bool              `json:"signed"`
	WebhookPath string            `json:"webhook_path"`
	Credentials map[string]string `json:"credentials"` // name → id
}

// Manager implements app.N8NAdmin over the public API.
type Manager struct {
	admin        *Admin
	secrets      app.Secrets
	settings     app.SettingsStore
	apiKeyHeader string
}

// NewManager builds the n8n admin from the configuration: n8nURL (flag) or
// the URL setup recorded or the webhook URL's origin, and the
// n8n-admin-key secret.
func NewManager(ctx context.Context, cfg app.Config, secrets app.Secrets, settings app.SettingsStore, n8nURL string) (app.N8NAdmin, error) {
	rec, _ := loadRecord(ctx, settings)
	if n8nURL == "" {
		n8nURL = rec.N8NURL
	}
	if n8nURL == "" && cfg.N8N.WebhookURL != "" {
		if u, err := url.Parse(cfg.N8N.WebhookURL); err == nil {
			n8nURL = u.Scheme + "://" + u.Host
		}
	}
	if n8nURL == "" {
		return nil, app.Errorf(app.EINVALID, "n8n's address is unknown: pass --n8n-url https://n8n.example.com")
	}
	key, _, err := secrets.Get(ctx, app.SecretN8NAdminKey)
	if err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		return nil, err
	}
	admin, err := NewAdmin(n8nURL, key, cfg.N8N.Timeout.D())
	if err != nil {
		return nil, err
	}
	header := cfg.N8N.APIKeyHeader
	if header == "" {
		header = "X-API-Key"
	}
	return &Manager{admin: admin, secrets: secrets, settings: settings, apiKeyHeader: header}, nil
}

func loadRecord(ctx context.Context, settings app.SettingsStore) (setupRecord, error) {
	var rec setupRecord
	raw, ok, err := settings.GetSetting(ctx, settingN8NSetup)
	if err != nil || !ok || raw == "" {
		return rec, err
	}
	err = json.Unmarshal([]byte(raw), &rec)
	return rec, err
}

func (m *Manager) saveRecord(ctx context.Context, rec setupRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return m.settings.SetSetting(ctx, settingN8NSetup, string(raw))
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ensureSecret returns a secret's value, generating and storing it when
// it is missing.
func (m *Manager) ensureSecret(ctx context.Context, name string) (value string, made bool, err error) {
	value, _, err = m.secrets.Get(ctx, name)
	if err == nil {
		return value, false, nil
	}
	if app.ErrorCode(err) != app.ENOTFOUND {
		return "", false, err
	}
	switch name {
	case app.SecretCallbackToken:
		value, _, err = m.secrets.RotateCallbackToken(ctx, 0)
	case app.SecretWebhookSecret:
		// The Crypto node uses its secret as text, so K must be printable:
		// whsec_ + base64(K) with K = 48 hex digits (README recipe).
		k := make([]byte, 24)
		_, _ = rand.Read(k)
		value = "whsec_" + base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(k)))
		err = m.secrets.Set(ctx, name, value)
	default:
		value = randomSecret(32)
		err = m.secrets.Set(ctx, name, value)
	}
	return value, err == nil, err
}

// signingKey is the printable K of webhook-secret = whsec_ + base64(K).
func signingKey(secret string) (string, error) {
	raw, err := DecodeWebhookSecret(secret)
	if err != nil {
		return "", err
	}
	for _, b := range raw {
		if b < 0x21 || b > 0x7e {
			return "", app.Errorf(app.EINVALID, "webhook-secret is not whsec_ + base64 of printable text, which n8n's Crypto node needs: delete it (`influencegen secrets delete webhook-secret`) and re-run setup to make one")
		}
	}
	return string(raw), nil
}

// credentialIDs maps every credential name n8n holds to its ids.
func (m *Manager) credentialIDs(ctx context.Context) (map[string][]string, map[string]bool, error) {
	list, err := m.admin.Credentials(ctx)
	if err != nil {
		return nil, nil, err
	}
	byName, exists := map[string][]string{}, map[string]bool{}
	for _, c := range list {
		exists[c.ID] = true
		if c.Type == CredentialTypeHeader {
			byName[c.Name] = append(byName[c.Name], c.ID)
		}
	}
	return byName, exists, nil
}

// putCredential updates the recorded credential, adopts a single one of
// that name, or creates it. data.Value == "" keeps n8n's value.
func (m *Manager) putCredential(ctx context.Context, rec *setupRecord, byName map[string][]string, exists map[string]bool, name string, data HeaderAuth) (string, error) {
	id := rec.Credentials[name]
	if id == "" || !exists[id] {
		id = ""
		if ids := byName[name]; len(ids) == 1 {
			id = ids[0]
		} else if len(ids) > 1 {
			return "", app.Errorf(app.ECONFLICT, "n8n holds %d credentials named %q: delete the extra ones in n8n (Overview → Credentials) and re-run setup", len(ids), name)
		}
	}
	if id == "" {
		if data.Value == "" {
			return "", app.Errorf(app.EINVALID, "credential %q needs a value", name)
		}
		c, err := m.admin.CreateHeaderCredential(ctx, name, data)
		return c.ID, err
	}
	if data.Value == "" {
		return id, nil
	}
	return id, m.admin.SetHeaderCredential(ctx, id, data)
}

// Setup implements app.N8NAdmin.
func (m *Manager) Setup(ctx context.Context, o app.N8NSetupOptions, step func(app.N8NStep)) (app.N8NSetupResult, error) {
	fail := func(name string, err error, fix string) (app.N8NSetupResult, error) {
		step(app.N8NStep{Name: name, Detail: err.Error(), Fix: fix})
		return app.N8NSetupResult{}, err
	}
	p, err := FindProvider(o.Provider)
	if err != nil {
		return fail("provider", err, "")
	}
	path := strings.Trim(o.WebhookPath, "/")
	if path == "" {
		path = DefaultWebhookPath
	}
	if _, err := m.admin.Workflows(ctx); err != nil {
		return fail("n8n reachable, admin key accepted", err, "check --n8n-url and `influencegen secrets set n8n-admin-key`")
	}
	step(app.N8NStep{Name: "n8n reachable, admin key accepted", OK: true, Detail: m.admin.BaseURL()})

	rec, _ := loadRecord(ctx, m.settings)
	if rec.Credentials == nil || rec.N8NURL != m.admin.BaseURL() {
		rec = setupRecord{Credentials: map[string]string{}}
	}
	rec.N8NURL, rec.Provider, rec.Signed, rec.WebhookPath = m.admin.BaseURL(), p.Name, o.Signed, path

	apiKey, madeKey, err := m.ensureSecret(ctx, app.SecretN8NAPIKey)
	if err != nil {
		return fail("secrets", err, "fix the keyring, or set INFLUENCEGEN_N8N_API_KEY")
	}
	token, madeToken, err := m.ensureSecret(ctx, app.SecretCallbackToken)
	if err != nil {
		return fail("secrets", err, "fix the keyring, or set INFLUENCEGEN_CALLBACK_TOKEN")
	}
	var signing string
	if o.Signed {
		secret, _, err := m.ensureSecret(ctx, app.SecretWebhookSecret)
		if err == nil {
			signing, err = signingKey(secret)
		}
		if err != nil {
			return fail("secrets", err, "")
		}
	}
	detail := "n8n-api-key and callback-token are set"
	if madeKey || madeToken {
		detail = "generated the missing n8n-api-key/callback-token"
	}
	step(app.N8NStep{Name: "secrets", OK: true, Detail: detail})

	byName, exists, err := m.credentialIDs(ctx)
	if err != nil {
		return fail("credentials", err, "")
	}
	creds := []struct {
		name string
		data HeaderAuth
	}{
		{CredentialAPIKey, HeaderAuth{Name: m.apiKeyHeader, Value: apiKey}},
		{CredentialCallbackToken, HeaderAuth{Name: CallbackTokenHeader, Value: token}},
	}
	noKey := p.KeyHeader == "" || (o.ProviderKey == "" && p.Name == "custom" && rec.Credentials[CredentialProviderKey] == "" && len(byName[CredentialProviderKey]) == 0)
	if !noKey {
		value := ""
		if o.ProviderKey != "" {
			value = p.KeyPrefix + o.ProviderKey
		}
		creds = append(creds, struct {
			name string
			data HeaderAuth
		}{CredentialProviderKey, HeaderAuth{Name: p.KeyHeader, Value: value}})
	}
	for _, c := range creds {
		id, err := m.putCredential(ctx, &rec, byName, exists, c.name, c.data)
		if err != nil {
			fix := ""
			if c.name == CredentialProviderKey {
				fix = "give the provider's API key in INFLUENCEGEN_PROVIDER_API_KEY (or _FILE), or type it at the prompt"
			}
			return fail("credential "+c.name, err, fix)
		}
		rec.Credentials[c.name] = id
		if err := m.saveRecord(ctx, rec); err != nil {
			return fail("credential "+c.name, err, "")
		}
		step(app.N8NStep{Name: "credential " + c.name, OK: true, Detail: "id " + id})
	}

	wf, err := BuildWorkflow(WorkflowOptions{Provider: p.Name, Signed: o.Signed, ProviderURL: o.ProviderURL, WebhookPath: path,
		SigningKey: signing, NoKey: noKey, CredentialIDs: rec.Credentials})
	if err != nil {
		return fail("workflow", err, "")
	}
	var state WorkflowState
	if rec.WorkflowID != "" {
		if _, err := m.admin.GetWorkflow(ctx, rec.WorkflowID); err == nil {
			state, err = m.admin.UpdateWorkflow(ctx, rec.WorkflowID, wf)
			if err != nil {
				return fail("workflow", err, "")
			}
		} else if app.ErrorCode(err) != app.ENOTFOUND {
			return fail("workflow", err, "")
		}
	}
	if state.ID == "" {
		if state, err = m.admin.CreateWorkflow(ctx, wf); err != nil {
			return fail("workflow", err, "")
		}
		rec.WorkflowID = state.ID
		if err := m.saveRecord(ctx, rec); err != nil {
			return fail("workflow", err, "")
		}
	}
	step(app.N8NStep{Name: "workflow " + wf.Name, OK: true, Detail: "id " + state.ID})

	if err := m.admin.ActivateWorkflow(ctx, state.ID); err != nil {
		return fail("activate", err, "open the workflow in n8n's editor and fix the node it names, then re-run setup")
	}
	step(app.N8NStep{Name: "activate", OK: true, Detail: "webhook POST /webhook/" + path})

	if err := m.verifyBound(ctx, state.ID, rec.Credentials); err != nil {
		return fail("credentials bound", err, "re-run setup; if it persists, open the workflow in n8n and pick the credential on the node named")
	}
	step(app.N8NStep{Name: "credentials bound", OK: true, Detail: "every node names a credential that exists"})

	models := ProviderModels(p)
	return app.N8NSetupResult{WorkflowID: state.ID, WebhookURL: m.admin.BaseURL() + "/webhook/" + path,
		EditorURL: m.admin.EditorURL(state.ID, ""), Models: models, Provider: p.Name}, nil
}

// verifyBound reads the stored workflow back: activation checks only the
// Webhook node's credential (peers/n8n-api 45), so a callback node without
// one would 202 every request and never call back.
func (m *Manager) verifyBound(ctx context.Context, workflowID string, want map[string]string) error {
	state, err := m.admin.GetWorkflow(ctx, workflowID)
	if err != nil {
		return err
	}
	if !state.Active {
		return app.Errorf(app.EUNAVAILABLE, "the workflow is not active")
	}
	_, exists, err := m.credentialIDs(ctx)
	if err != nil {
		return err
	}
	for _, raw := range state.Nodes {
		var n struct {
			Name        string `json:"name"`
			Credentials map[string]struct {
				ID   *string `json:"id"`
				Name string  `json:"name"`
			} `json:"credentials"`
		}
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		for typ, c := range n.Credentials {
			if c.ID == nil || !exists[*c.ID] {
				return app.Errorf(app.EUNAVAILABLE, "node %q has no %s credential bound (named %q)", app.CleanLine(n.Name), typ, app.CleanLine(c.Name))
			}
			if id := want[c.Name]; id != "" && id != *c.ID {
				return app.Errorf(app.EUNAVAILABLE, "node %q is bound to credential %s, not the %q setup made (%s)", app.CleanLine(n.Name), *c.ID, c.Name, id)
			}
		}
	}
	return nil
}

// requestWindow is how far around a request's send time its n8n run is
// looked for when the callback named no execution.
const requestWindow = 10 * time.Minute

// Explain implements app.N8NAdmin.
func (m *Manager) Explain(ctx context.Context, r app.Request) (app.N8NExecution, error) {
	rec, err := loadRecord(ctx, m.settings)
	if err != nil {
		return app.N8NExecution{}, err
	}
	sent := r.CreatedAt
	if r.SentAt != nil {
		sent = *r.SentAt
	}
	rep, err := m.admin.FindExecution(ctx, rec.WorkflowID, r.ExecutionID, r.ID, sent, requestWindow)
	if err != nil {
		return app.N8NExecution{}, err
	}
	return rep.N8NExecution, nil
}

// PushSecret implements app.N8NAdmin.
func (m *Manager) PushSecret(ctx context.Context, name, value string) error {
	cred := map[string]string{app.SecretN8NAPIKey: CredentialAPIKey, app.SecretCallbackToken: CredentialCallbackToken}[name]
	if cred == "" {
		return app.Errorf(app.EINVALID, "%s has no n8n credential: only n8n-api-key and callback-token are pushed", name)
	}
	rec, err := loadRecord(ctx, m.settings)
	if err != nil {
		return err
	}
	id := rec.Credentials[cred]
	if id == "" {
		byName, _, err := m.credentialIDs(ctx)
		if err != nil {
			return err
		}
		if len(byName[cred]) != 1 {
			return app.Errorf(app.ENOTFOUND, "n8n holds %d credentials named %q: run `influencegen n8n setup` first", len(byName[cred]), cred)
		}
		id = byName[cred][0]
	}
	if err := m.admin.RotateHeaderValue(ctx, id, value); err != nil {
		return fmt.Errorf("pushing %s to n8n credential %q: %w", name, cred, err)
	}
	return nil
}
