package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/store"
	"github.com/zalando/go-keyring"
)

// newcomerRig runs the real command tree on the real store, config and
// secrets code in a temp home, with go-keyring's mock standing in for the
// Secret Service, and doctor's network probes aimed only at loopback fakes.
type newcomerRig struct {
	t       *testing.T
	home    string
	environ map[string]string
}

func newNewcomerRig(t *testing.T) *newcomerRig {
	t.Helper()
	keyring.MockInit()
	return &newcomerRig{t: t, home: t.TempDir(), environ: map[string]string{
		// Never the default 8787: a real serve may be running on this machine.
		"INFLUENCEGEN_CALLBACK_LISTEN": freeAddr(t),
	}}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var testNoDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS in tests")
}}

func (r *newcomerRig) wiring() Wiring {
	getenv := func(k string) string { return r.environ[k] }
	return Wiring{
		LoadConfig: func(o Options) (app.Config, app.Paths, error) {
			return store.LoadConfig(store.LoadOptions{Home: o.Home, Overrides: o.Overrides, Getenv: getenv})
		},
		OpenLog: func(paths app.Paths, level string, also io.Writer) (*slog.Logger, io.Closer, error) {
			return store.OpenLog(paths, level, also)
		},
		OpenStore: func(ctx context.Context, paths app.Paths, log *slog.Logger) (app.Store, error) {
			return store.Open(ctx, paths.DB, store.Options{Log: log})
		},
		OpenSecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
			return store.NewSecrets(profile, settings, store.SecretsOptions{Getenv: getenv, Log: log})
		},
		Newcomer: NewcomerWiring{
			NetworkChecks: func(ctx context.Context, cfg app.Config) []app.Check {
				return n8n.DoctorChecks(ctx, n8n.DoctorOptions{Config: cfg, Resolver: testNoDNS,
					Tunnels: n8n.TunnelProbe{NgrokAPI: "http://127.0.0.1:1", CloudflaredMetrics: []string{}}})
			},
			SchemaLatest: store.LatestSchemaVersion(),
			OpenMemorySecrets: func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets {
				return store.NewSecrets(profile, settings, store.SecretsOptions{Memory: true, Getenv: getenv, Log: log})
			},
			StartSimulator: func(o DemoSimulatorOptions) (DemoSimulator, error) {
				return n8n.StartDemoSimulator(o.APIKeyHeader, o.APIKey, o.CallbackToken, o.WebhookSecret, o.Log)
			},
		},
	}
}

func (r *newcomerRig) run(args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Build: BuildInfo{Version: "1.2.3"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Opts: Options{Home: r.home, LogLevel: "debug", Overrides: map[string]string{}}, Wiring: r.wiring()}
	root := NewRoot(env, nil)
	root.SetArgs(args)
	code = Execute(context.Background(), root, env)
	return code, out.String(), errb.String()
}

func TestDoctorOnAnUnconfiguredProfileListsWhatIsMissingAndHowToFixIt(t *testing.T) {
	r := newNewcomerRig(t)
	code, out, errOut := r.run("doctor")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"✓ config", "✓ database", "✓ keyring",
		"✗ secret n8n-api-key", "→ influencegen secrets set n8n-api-key",
		"✗ secret callback-token", "→ influencegen secrets rotate callback-token",
		"✓ listen port", "✗ n8n webhook", "→ copy the Webhook node's Production URL",
		"– odoo", "sync off", "✓ odoo outbox",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	t.Log("\n" + out)
	if !strings.Contains(errOut, "checks failed") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestDoctorAllGreenAgainstTheSimulatedN8N(t *testing.T) {
	r := newNewcomerRig(t)
	sim := n8n.NewSimulator(n8n.SimulatorOptions{APIKey: func() string { return "demo-key" }, FailRate: -1})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	r.environ["INFLUENCEGEN_N8N_WEBHOOK_URL"] = sim.URL()
	r.environ["INFLUENCEGEN_N8N_API_KEY"] = "demo-key"
	r.environ["INFLUENCEGEN_CALLBACK_TOKEN"] = "demo-token"
	r.environ["INFLUENCEGEN_CALLBACK_PUBLIC_URL"] = "http://" + r.environ["INFLUENCEGEN_CALLBACK_LISTEN"]
	code, out, errOut := r.run("doctor", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var report app.DoctorReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json is not one JSON document: %v\n%s", err, out)
	}
	if !report.OK || len(report.Checks) < 10 {
		t.Errorf("report = %+v", report)
	}
	for _, c := range report.Checks {
		if c.State == app.CheckFail {
			t.Errorf("failed: %+v", c)
		}
		if strings.Contains(c.Detail, "demo-key") || strings.Contains(c.Detail, "demo-token") {
			t.Errorf("a secret leaked into %s: %q", c.Name, c.Detail)
		}
	}
	if sim.Stats().Accepted != 0 {
		t.Error("doctor started a generation")
	}
}

func TestDoctorJSONReportsAnInactiveWorkflowAndExitsOne(t *testing.T) {
	r := newNewcomerRig(t)
	inactive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"code":404,"message":"The requested webhook \"POST influence-gen/generate\" is not registered.","hint":"The workflow must be active for a production URL to run successfully."}`)
	}))
	t.Cleanup(inactive.Close)
	r.environ["INFLUENCEGEN_N8N_WEBHOOK_URL"] = inactive.URL + "/webhook/influence-gen/generate"
	code, out, _ := r.run("doctor", "--json")
	var report app.DoctorReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	if code != 1 || report.OK {
		t.Fatalf("exit %d, ok %v", code, report.OK)
	}
	for _, c := range report.Checks {
		if c.Name == "n8n webhook" && (c.State != app.CheckFail || !strings.Contains(c.Remedy, "activate the workflow")) {
			t.Errorf("n8n webhook = %+v", c)
		}
	}
}
