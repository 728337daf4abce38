package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
	"github.com/zalando/go-keyring"
)

// foundationRig runs the real command tree against the real store, config
// and secrets code on a temp home, with go-keyring's mock provider standing
// in for the Secret Service and a fake environment.
type foundationRig struct {
	t       *testing.T
	home    string
	environ map[string]string
	build   BuildInfo
}

func newFoundationRig(t *testing.T) *foundationRig {
	t.Helper()
	keyring.MockInit() // a fresh, empty in-memory keyring per test
	return &foundationRig{t: t, home: t.TempDir(), environ: map[string]string{},
		build: BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-11-27T13:00:00Z"}}
}

func (r *foundationRig) getenv(k string) string { return r.environ[k] }

// run executes one command line like a fresh process would and returns the
// exit code and both streams.
func (r *foundationRig) run(stdin string, args ...string) (code int, stdout, stderr string) {
	r.t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		Build: r.build, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
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
			SetConfig: func(paths app.Paths, key, value string) error {
				return store.SetConfigValue(paths.ConfigFile, key, value)
			},
			SSH: teamWiringForTests(),
		},
	}
	root := NewRoot(env, nil)
	root.SetArgs(args)
	code = Execute(context.Background(), root, env)
	return code, out.String(), errb.String()
}

// mustRun runs a command that must succeed and returns its stdout.
func (r *foundationRig) mustRun(stdin string, args ...string) string {
	r.t.Helper()
	code, out, errOut := r.run(stdin, args...)
	if code != 0 {
		r.t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}
