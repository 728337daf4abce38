package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/zalando/go-keyring"
)

func (r *newcomerRig) env() (*Env, *bytes.Buffer) {
	var out bytes.Buffer
	return &Env{Build: BuildInfo{Version: "1.2.3"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out,
		Opts: Options{Home: r.home, LogLevel: "debug", Overrides: map[string]string{}}, Wiring: r.wiring()}, &out
}

func TestStartDemoIsolatesTheProfileAndKeepsSecretsInMemoryWithoutASecretService(t *testing.T) {
	r := newNewcomerRig(t)
	keyring.MockInitWithError(errors.New(`exec: "dbus-launch": executable file not found in $PATH`))
	env, _ := r.env()
	t.Cleanup(func() { _ = env.Close() })
	ctx := context.Background()
	sess, err := StartDemo(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })

	if env.Profile() != DemoProfile || sess.Home != filepath.Join(r.home, "demo") || !sess.Memory {
		t.Errorf("profile %q, home %q, memory %v", env.Profile(), sess.Home, sess.Memory)
	}
	cfg, paths, err := env.Config()
	if err != nil {
		t.Fatal(err)
	}
	if paths.DB != filepath.Join(r.home, "demo", "influencegen.db") {
		t.Errorf("demo database at %s, want it inside the demo folder", paths.DB)
	}
	if cfg.N8N.WebhookURL != sess.WebhookURL || cfg.Callback.PublicURL != "http://"+sess.Listen || cfg.Callback.Listen == "127.0.0.1:8787" {
		t.Errorf("config not pointed at the demo: %+v %+v", cfg.N8N, cfg.Callback)
	}
	secrets, err := env.Secrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	statuses, _ := secrets.Status(ctx)
	for _, st := range statuses {
		if (st.Name == app.SecretN8NAPIKey || st.Name == app.SecretCallbackToken) && st.Source != app.SourceMemory {
			t.Errorf("%s from %q, want memory", st.Name, st.Source)
		}
	}

	// The simulator accepts the generated key and refuses anything else.
	key, _, _ := secrets.Get(ctx, app.SecretN8NAPIKey)
	for _, tc := range []struct {
		key  string
		want int
	}{{key, 202}, {"wrong", 403}} {
		req, _ := http.NewRequest(http.MethodPost, sess.WebhookURL, strings.NewReader(`{"ai_generation_request_id":"x","generation_params":{"prompt":"p","width":64,"height":64},"callback_url":""}`))
		req.Header.Set("X-API-Key", tc.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("key %q: HTTP %d, want %d", tc.key[:3], resp.StatusCode, tc.want)
		}
	}
}

func TestStartDemoUsesTheKeyringWhenItWorksAndKeepsSecretsAcrossRuns(t *testing.T) {
	r := newNewcomerRig(t)
	ctx := context.Background()
	first := func() string {
		env, _ := r.env()
		defer env.Close()
		sess, err := StartDemo(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if sess.Memory {
			t.Error("a working keyring must be used")
		}
		s, _ := env.Secrets(ctx)
		v, src, err := s.Get(ctx, app.SecretCallbackToken)
		if err != nil || src != app.SourceKeyring {
			t.Fatalf("callback token from %q: %v", src, err)
		}
		return v
	}
	if a, b := first(), first(); a != b {
		t.Error("a second demo run replaced the stored demo token")
	}
}

func TestDemoCommandWithoutADashboardSaysSo(t *testing.T) {
	r := newNewcomerRig(t)
	code, _, errOut := r.run("demo")
	if code != 1 || !strings.Contains(errOut, "demo --headless") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
