package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type fakeStatusSecrets struct {
	Secrets // only Status and Get are used
	st      []SecretStatus
	err     error
	values  map[string]string // Get's answers when Status fails
}

func (f fakeStatusSecrets) Status(context.Context) ([]SecretStatus, error) { return f.st, f.err }

func (f fakeStatusSecrets) Get(_ context.Context, name string) (string, string, error) {
	if v, ok := f.values[name]; ok {
		return v, SourceEnv, nil
	}
	if f.err != nil {
		return "", "", f.err
	}
	return "", "", ReasonErrorf(ENOTFOUND, "secret_missing", "%s is not set", name)
}

type fakeDB struct {
	quick   error
	version int
}

func (f fakeDB) QuickCheck(context.Context) error                     { return f.quick }
func (f fakeDB) SchemaVersion(context.Context) (int, error)           { return f.version, nil }
func (f fakeOutbox) OutboxStats(context.Context) (OutboxStats, error) { return f.stats, nil }

type fakeOutbox struct {
	OutboxStore
	stats OutboxStats
}

type fakeERP struct {
	ERP
	res ERPCheck
}

func (f fakeERP) Check(context.Context) (ERPCheck, error) { return f.res, nil }

func states(checks []Check) map[string]string {
	m := map[string]string{}
	for _, c := range checks {
		m[c.Name] = c.State
	}
	return m
}

func TestCheckSecrets(t *testing.T) {
	allSet := []SecretStatus{
		{Name: SecretN8NAPIKey, Source: SourceKeyring, Fingerprint: "aaaa1111"},
		{Name: SecretCallbackToken, Source: SourceEnv, Fingerprint: "bbbb2222"},
		{Name: SecretCallbackTokenPrevious, Source: SourceMissing},
		{Name: SecretWebhookSecret, Source: SourceMissing},
		{Name: SecretOdooAPIKey, Source: SourceMissing},
	}
	odoo := DefaultConfig()
	odoo.Odoo.URL = "https://odoo.example.com"
	signed := DefaultConfig()
	signed.Callback.Auth = AuthSignature
	tests := []struct {
		name    string
		secrets Secrets
		cfg     Config
		want    map[string]string
	}{
		{"every needed secret set passes and unneeded ones are skipped", fakeStatusSecrets{st: allSet}, DefaultConfig(),
			map[string]string{"keyring": CheckOK, "secret n8n-api-key": CheckOK, "secret callback-token": CheckOK, "secret webhook-secret": CheckSkip, "secret odoo-api-key": CheckSkip}},
		{"odoo configured makes its key required", fakeStatusSecrets{st: allSet}, odoo,
			map[string]string{"secret odoo-api-key": CheckFail}},
		{"signature auth makes the webhook secret required", fakeStatusSecrets{st: allSet}, signed,
			map[string]string{"secret webhook-secret": CheckFail}},
		{"an unreachable keyring warns and missing secrets fail", fakeStatusSecrets{st: []SecretStatus{
			{Name: SecretN8NAPIKey, Source: SourceMissing, Error: "keyring unavailable: install gnome-keyring or set INFLUENCEGEN_N8N_API_KEY"},
			{Name: SecretCallbackToken, Source: SourceMissing},
		}}, DefaultConfig(), map[string]string{"keyring": CheckWarn, "secret n8n-api-key": CheckFail, "secret callback-token": CheckFail}},
		{"no keyring with every secret in the environment passes", fakeStatusSecrets{err: Errorf(EUNAVAILABLE, "keyring unavailable"),
			values: map[string]string{SecretN8NAPIKey: "k", SecretCallbackToken: "t"}}, DefaultConfig(),
			map[string]string{"keyring": CheckWarn, "secret n8n-api-key": CheckOK, "secret callback-token": CheckOK, "secret odoo-api-key": CheckSkip}},
		{"no keyring and no override fails each required secret", fakeStatusSecrets{err: Errorf(EUNAVAILABLE, "keyring unavailable")}, DefaultConfig(),
			map[string]string{"keyring": CheckWarn, "secret n8n-api-key": CheckFail, "secret callback-token": CheckFail}},
		{"memory secrets say so", fakeStatusSecrets{st: []SecretStatus{{Name: SecretN8NAPIKey, Source: SourceMemory, Fingerprint: "x"}}}, DefaultConfig(),
			map[string]string{"keyring": CheckWarn, "secret n8n-api-key": CheckOK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := CheckSecrets(context.Background(), tc.secrets, tc.cfg)
			got := states(checks)
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s = %q, want %q (all %v)", name, got[name], want, checks)
				}
			}
			for _, c := range checks {
				if c.State == CheckFail && c.Remedy == "" {
					t.Errorf("%s fails without a remedy", c.Name)
				}
			}
		})
	}
}

func TestCheckDatabaseOutboxAndConfig(t *testing.T) {
	ctx := context.Background()
	if c := CheckDatabase(ctx, fakeDB{version: 3}, "/x.db", 3); c.State != CheckOK || !strings.Contains(c.Detail, "schema version 3") {
		t.Errorf("healthy db: %+v", c)
	}
	if c := CheckDatabase(ctx, fakeDB{quick: errors.New("page 4 is never used")}, "/x.db", 3); c.State != CheckFail || c.Remedy == "" {
		t.Errorf("corrupt db: %+v", c)
	}
	if c := CheckDatabase(ctx, fakeDB{version: 5}, "/x.db", 3); c.State != CheckFail {
		t.Errorf("newer schema: %+v", c)
	}
	old := time.Now().Add(-time.Hour)
	if c := CheckOutbox(ctx, fakeOutbox{stats: OutboxStats{Pending: 2, OldestPending: &old}}, true); c.State != CheckOK {
		t.Errorf("pending backlog: %+v", c)
	}
	if c := CheckOutbox(ctx, fakeOutbox{stats: OutboxStats{Parked: 1, LastError: "odoo_validation: prompt is required"}}, true); c.State != CheckFail || !strings.Contains(c.Remedy, "sync retry") {
		t.Errorf("parked items: %+v", c)
	}
	if c := CheckConfig(DefaultConfig(), Paths{ConfigFile: "/c.toml"}, nil); c.State != CheckOK {
		t.Errorf("good config: %+v", c)
	}
	if c := CheckConfig(Config{}, Paths{ConfigFile: "/c.toml"}, Errorf(EINVALID, "callback.auth = \"x\": use token")); c.State != CheckFail || !strings.Contains(c.Remedy, "/c.toml") {
		t.Errorf("bad config: %+v", c)
	}
}

func TestCheckERP(t *testing.T) {
	ctx := context.Background()
	off := CheckERP(ctx, nil, DefaultConfig())
	if len(off) != 1 || off[0].State != CheckSkip || !strings.Contains(off[0].Detail, "sync off") {
		t.Errorf("sync off: %+v", off)
	}
	cfg := DefaultConfig()
	cfg.Odoo.URL = "https://odoo.example.com"
	erp := fakeERP{res: ERPCheck{Items: []ERPCheckItem{
		{Name: "reachable", OK: true, Detail: "Odoo 19.0"},
		{Name: "login", OK: false, Detail: "Odoo rejected the API key", Reason: ReasonOdooAuth},
	}}}
	got := CheckERP(ctx, erp, cfg)
	if len(got) != 2 || got[0].State != CheckOK || got[1].State != CheckFail || !strings.Contains(got[1].Remedy, "secrets set odoo-api-key") {
		t.Errorf("odoo checks: %+v", got)
	}
	if r := NewDoctorReport("default", got); r.OK {
		t.Error("a failed Odoo login must fail the report")
	}
}
