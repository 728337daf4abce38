package odoo_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
)

// memSecrets is an app.Secrets holding values in memory.
type memSecrets struct {
	app.Secrets
	values map[string]string
}

func (m memSecrets) Get(_ context.Context, name string) (string, string, error) {
	v, ok := m.values[name]
	if !ok {
		return "", app.SourceMissing, app.ReasonErrorf(app.ENOTFOUND, "secret_missing", "%s is not set", name)
	}
	return v, app.SourceMemory, nil
}

func newERP(t *testing.T, fake *odootest.Server, tweak func(*app.Config)) *odoo.ERP {
	t.Helper()
	key := fake.Key() // before tweak: a test may revoke it
	cfg := app.DefaultConfig()
	cfg.Odoo.URL, cfg.Odoo.Database, cfg.Odoo.Username = fake.URL, fake.Database(), fake.Login()
	if tweak != nil {
		tweak(&cfg)
	}
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: memSecrets{values: map[string]string{app.SecretOdooAPIKey: key}},
		HTTP: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return erp
}

func TestCheckPassesOnAnOdooWithTheAddonInstalled(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolAuto, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			fake := odootest.New(t, odootest.Config{})
			res, err := newERP(t, fake, func(c *app.Config) { c.Odoo.Protocol = protocol }).Check(context.Background())
			if err != nil || !res.OK() {
				t.Fatalf("check = %+v, %v; want all ok", res, err)
			}
			var names []string
			for _, it := range res.Items {
				names = append(names, it.Name)
			}
			want := "reachable login model:influence_gen.ai_image_generation_request rights:create:influence_gen.ai_image_generation_request " +
				"rights:write:influence_gen.ai_image_generation_request model:influence_gen.generated_image " +
				"rights:create:influence_gen.generated_image rights:write:influence_gen.generated_image addon"
			if strings.Join(names, " ") != want || res.Version != "19.0" || res.Protocol == "" {
				t.Fatalf("checks %v (version %q, protocol %q)", names, res.Version, res.Protocol)
			}
		})
	}
}

func TestCheckNamesTheFixForEachProblem(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*odootest.Server, *app.Config)
		item   string
		reason string
		says   string
	}{
		{name: "a revoked key fails login with odoo_auth", setup: func(f *odootest.Server, _ *app.Config) { f.RevokeKey() },
			item: "login", reason: app.ReasonOdooAuth, says: "secrets set odoo-api-key"},
		{name: "a missing addon fails the model check", setup: func(_ *odootest.Server, c *app.Config) { c.Odoo.RequestModel = "influence_gen.nope" },
			item: "model:influence_gen.nope", reason: app.ReasonOdooModelMissing, says: "install the influence_gen_ai_integration addon"},
		{name: "an addon from before the guarded methods fails the addon check", setup: func(_ *odootest.Server, _ *app.Config) {},
			item: "addon", reason: app.ReasonOdooAddonOutdated, says: "-u influence_gen_ai_integration"},
		{name: "a read-only user fails the rights check", setup: func(f *odootest.Server, _ *app.Config) { f.SetReadOnly(true) },
			item: "rights:create:influence_gen.ai_image_generation_request", reason: app.ReasonOdooAccess, says: "Internal User"},
		{name: "a URL that is not Odoo fails reachability", setup: func(_ *odootest.Server, c *app.Config) { c.Odoo.URL += "/nothing-here" },
			item: "reachable", reason: app.ReasonOdooProtocol, says: "is odoo.url the Odoo base URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := odootest.New(t, odootest.Config{OldAddon: tc.item == "addon"})
			erp := newERP(t, fake, func(c *app.Config) { tc.setup(fake, c) })
			res, err := erp.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range res.Items {
				if it.Name == tc.item {
					if it.OK || it.Reason != tc.reason || !strings.Contains(it.Detail, tc.says) {
						t.Fatalf("%s: %+v, want reason %s saying %q", tc.item, it, tc.reason, tc.says)
					}
					return
				}
			}
			t.Fatalf("no %s line in %+v", tc.item, res.Items)
		})
	}
}

func TestPushCallbackTokenWritesTheSeedsSystemParameter(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	erp := newERP(t, fake, nil)
	if err := erp.PushCallbackToken(context.Background(), "new-token"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Param(odoo.CallbackTokenParam); got != "new-token" {
		t.Fatalf("parameter = %q, want the new token", got)
	}
	fake.SetAdmin(false)
	err := erp.PushCallbackToken(context.Background(), "other-token")
	if app.ErrorReason(err) != app.ReasonOdooAccess || !strings.Contains(app.ErrorMessage(err), "Settings (Administration) group") {
		t.Fatalf("without admin rights: %v, want odoo_access naming the group", err)
	}
	if strings.Contains(app.ErrorMessage(err), "other-token") {
		t.Fatal("the error message contains the token")
	}
}

func TestNewERPWithoutURLSaysSyncIsOff(t *testing.T) {
	_, err := odoo.NewERP(app.DefaultConfig(), odoo.ERPOptions{Secrets: memSecrets{}})
	if app.ErrorCode(err) != app.ENOTCONFIGURED || !strings.Contains(app.ErrorMessage(err), "set odoo.url") {
		t.Fatalf("err = %v, want not_configured naming odoo.url", err)
	}
}
