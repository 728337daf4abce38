package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

// syncRig runs the real sync commands on a temp home, against the fake Odoo.
type syncRig struct {
	t       *testing.T
	home    string
	environ map[string]string
}

func newSyncRig(t *testing.T, fake *odootest.Server) *syncRig {
	return &syncRig{t: t, home: t.TempDir(), environ: map[string]string{
		"INFLUENCEGEN_ODOO_URL": fake.URL, "INFLUENCEGEN_ODOO_DATABASE": fake.Database(),
		"INFLUENCEGEN_ODOO_API_KEY": fake.Key(),
	}}
}

func (r *syncRig) getenv(k string) string { return r.environ[k] }

func (r *syncRig) run(args ...string) (int, string, string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	env := r.env(&out, &errb)
	root := NewRoot(env, nil)
	root.SetArgs(args)
	code := Execute(context.Background(), root, env)
	return code, out.String(), errb.String()
}

func (r *syncRig) env(out, errb io.Writer) *Env {
	return &Env{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: errb,
		Opts: Options{Home: r.home, LogLevel: "debug", Overrides: map[string]string{}},
		Wiring: Wiring{
			LoadConfig: func(o Options) (app.Config, app.Paths, error) {
				return store.LoadConfig(store.LoadOptions{Home: o.Home, Overrides: o.Overrides, Getenv: r.getenv})
			},
			OpenLog: func(paths app.Paths, level string, also io.Writer) (*slog.Logger, io.Closer, error) {
				return store.OpenLog(paths, level, also)
			},
			OpenStore: func(ctx context.Context, paths app.Paths, log *slog.Logger) (app.Store, error) {
				return store.Open(ctx, paths.DB, store.Options{Log: log})
			},
			OpenSecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
				return store.NewSecrets(profile, settings, store.SecretsOptions{Getenv: r.getenv, Log: log})
			},
			NewERP: func(cfg app.Config, secrets app.Secrets, st app.Store, log *slog.Logger) (app.ERP, error) {
				erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: secrets, Store: st, Log: log})
				if err != nil {
					return nil, err
				}
				return erp, nil
			},
		},
	}
}

// seedRequests stores n queued requests in the rig's database.
func (r *syncRig) seedRequests(n int) []app.Request {
	r.t.Helper()
	_, paths, err := store.LoadConfig(store.LoadOptions{Home: r.home, Getenv: r.getenv})
	if err != nil {
		r.t.Fatal(err)
	}
	st, err := store.Open(context.Background(), paths.DB, store.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	reqs := make([]app.Request, n)
	for i := range reqs {
		reqs[i] = app.Request{ID: app.NewID(now), Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: now, UpdatedAt: now,
			Params: app.GenerationParams{Prompt: "a red cube", Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", Seed: 1, NumImages: 1}}
	}
	if err := st.CreateRequests(context.Background(), reqs); err != nil {
		r.t.Fatal(err)
	}
	return reqs
}

func TestSyncCommandsShowParkRetryAndDrainTheOutbox(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	reqs := rig.seedRequests(3)

	code, out, errOut := rig.run("sync", "status", "--json")
	var st syncStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Enabled || st.Pending != 3 || st.Parked != 0 {
		t.Fatalf("sync status --json: exit %d, %s %s", code, out, errOut)
	}

	fake.SetReadOnly(true)
	code, out, errOut = rig.run("sync", "now")
	if code != 1 || !strings.Contains(out, "parked 3") || !strings.Contains(errOut, "odoo_access") || !strings.Contains(errOut, "sync retry") {
		t.Fatalf("sync now without rights: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, out, _ = rig.run("sync", "status")
	if code != 0 || !strings.Contains(out, "parked:   3") || !strings.Contains(out, "last error: odoo_access") {
		t.Fatalf("sync status after parking: exit %d\n%s", code, out)
	}

	fake.SetReadOnly(false)
	code, out, errOut = rig.run("sync", "retry", reqs[0].ID)
	if code != 0 || !strings.Contains(out, "re-queued 1 Odoo operation(s)") {
		t.Fatalf("sync retry ID: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = rig.run("sync", "retry")
	if code != 0 || !strings.Contains(out, "re-queued 2 Odoo operation(s)") {
		t.Fatalf("sync retry: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = rig.run("sync", "now", "--json")
	var rep app.SyncReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Done != 3 || rep.Protocol != "json2" {
		t.Fatalf("sync now: exit %d\n%s%s", code, out, errOut)
	}
	if n := len(fake.Records("influence_gen.ai_image_generation_request")); n != 3 {
		t.Fatalf("Odoo holds %d records, want 3", n)
	}
	code, out, _ = rig.run("sync", "retry")
	if code != 0 || strings.TrimSpace(out) != "nothing parked" {
		t.Fatalf("sync retry with nothing parked: exit %d, %q", code, out)
	}
}

func TestSyncNowWithoutOdooURLSaysHowToTurnItOn(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	delete(rig.environ, "INFLUENCEGEN_ODOO_URL")
	code, _, errOut := rig.run("sync", "now")
	if code != 1 || !strings.Contains(errOut, "set odoo.url") {
		t.Fatalf("exit %d, stderr %q; want a failure naming odoo.url", code, errOut)
	}
}

func TestPushCallbackTokenWritesOdooOrSaysTheTokenIsActiveLocally(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	rig := newSyncRig(t, fake)
	env := rig.env(io.Discard, io.Discard)
	defer env.Close()
	if err := pushCallbackToken(context.Background(), env, "fresh-token"); err != nil {
		t.Fatal(err)
	}
	if fake.Param("influence_gen.n8n_callback_token") != "fresh-token" {
		t.Fatal("the token did not reach Odoo")
	}
	fake.SetDown(true)
	err := pushCallbackToken(context.Background(), env, "another-token")
	if err == nil || !strings.Contains(app.ErrorMessage(err), "active locally") || strings.Contains(err.Error(), "another-token") {
		t.Fatalf("with Odoo down: %v, want a message saying the token is active locally (without the token)", err)
	}
}
