package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newDemoCmd) }

// DemoProfile is the profile demo mode runs under: it names the keyring
// entries, so the demo never reads or overwrites real secrets.
const DemoProfile = "demo"

func newDemoCmd(env *Env) *cobra.Command {
	var headless bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try the dashboard with a built-in simulated n8n: no keyring, n8n or Odoo needed",
		Long: "demo runs the dashboard against a simulated n8n on a loopback port. It uses profile \"demo\" and its own\n" +
			"folder (<data dir>/demo), so it never touches your real data or secrets. Prompts containing \"fail\"\n" +
			"fail on purpose, and about 1 in 20 fails at random, so every state can be seen.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if headless {
				env.MirrorLogToStderr()
			}
			sess, err := StartDemo(cmd.Context(), env)
			if err != nil {
				return err
			}
			defer sess.Close()
			fmt.Fprintf(env.Stderr, "demo: simulated n8n at %s, files in %s, secrets %s\n", sess.WebhookURL, sess.Home, sess.SecretsWhere())
			target := cmd.Root()
			if headless {
				serve, _, err := cmd.Root().Find([]string{"serve"})
				if err != nil || serve == nil || serve.Name() != "serve" {
					return app.Errorf(app.EINTERNAL, "this build has no serve command to run the headless demo")
				}
				target = serve
			}
			if target.RunE == nil {
				return app.Errorf(app.EINTERNAL, "this build has no dashboard: run `influencegen demo --headless`")
			}
			target.SetContext(cmd.Context())
			return target.RunE(target, nil)
		},
	}
	cmd.Flags().BoolVar(&headless, "headless", false, "run the listener and workers without the dashboard (like serve)")
	return cmd
}

// DemoSession is a prepared demo: profile, folder, secrets and a running
// simulated n8n, with the config pointing at it. The dashboard or serve
// then runs on the same Env as usual.
type DemoSession struct {
	Home       string
	WebhookURL string
	Listen     string
	Memory     bool // secrets live in this process only (no Secret Service)
	Simulator  DemoSimulator
}

// SecretsWhere says where the demo's secrets live, for the banner.
func (s *DemoSession) SecretsWhere() string {
	if s.Memory {
		return "in memory (no Secret Service found)"
	}
	return "in the keyring under profile " + DemoProfile
}

// Close stops the simulator.
func (s *DemoSession) Close() error {
	if s.Simulator == nil {
		return nil
	}
	return s.Simulator.Close()
}

// StartDemo turns env into the demo's: profile demo, home <data dir>/demo,
// a free loopback port for the listener, generated demo secrets (in memory
// when no keyring answers) and a simulated n8n. Call it before anything
// has loaded the config.
func StartDemo(ctx context.Context, env *Env) (*DemoSession, error) {
	n := env.Wiring.Newcomer
	if n.StartSimulator == nil {
		return nil, app.Errorf(app.EINTERNAL, "this build has no simulated n8n")
	}
	env.mu.Lock()
	loaded := env.cfg != nil
	env.mu.Unlock()
	if loaded {
		return nil, app.Errorf(app.EINTERNAL, "demo must be prepared before the config is loaded")
	}
	home, err := demoHome(env)
	if err != nil {
		return nil, err
	}
	listen, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}

	// The simulator reads the secrets on every call: they are set up below,
	// after the store exists, and may be rotated from the dashboard.
	var secrets atomic.Pointer[app.Secrets]
	read := func(name string) func() string {
		return func() string {
			s := secrets.Load()
			if s == nil {
				return ""
			}
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, _, err := (*s).Get(rctx, name)
			if err != nil {
				return ""
			}
			return v
		}
	}
	sim, err := n.StartSimulator(DemoSimulatorOptions{
		APIKey: read(app.SecretN8NAPIKey), APIKeyHeader: "X-API-Key",
		CallbackToken: read(app.SecretCallbackToken), WebhookSecret: read(app.SecretWebhookSecret),
	})
	if err != nil {
		return nil, err
	}
	sess := &DemoSession{Home: home, WebhookURL: sim.URL(), Listen: listen, Simulator: sim}
	fail := func(err error) (*DemoSession, error) {
		_ = sess.Close()
		return nil, err
	}

	env.Opts.Home, env.Opts.Profile = home, DemoProfile
	if env.Opts.Overrides == nil {
		env.Opts.Overrides = map[string]string{}
	}
	for k, v := range map[string]string{
		"n8n.webhook_url": sim.URL(), "n8n.api_key_header": "X-API-Key",
		"callback.listen": listen, "callback.public_url": "http://" + listen, "callback.auth": app.AuthToken,
	} {
		env.Opts.Overrides[k] = v
	}
	if _, _, err := env.Config(); err != nil {
		return fail(err)
	}
	st, err := env.Store(ctx)
	if err != nil {
		return fail(err)
	}
	log, err := env.Log()
	if err != nil {
		return fail(err)
	}
	chosen := env.Wiring.OpenSecrets(DemoProfile, st, log)
	if !keyringWorks(ctx, chosen) && n.OpenMemorySecrets != nil {
		chosen, sess.Memory = n.OpenMemorySecrets(DemoProfile, st, log), true
		log.Info("demo: no Secret Service answered; demo secrets live in memory")
	}
	if err := ensureDemoSecrets(ctx, chosen); err != nil {
		return fail(err)
	}
	// Hand the chosen store to everything that asks env for secrets next
	// (the dashboard, serve), so they and the simulator agree.
	env.mu.Lock()
	env.secrets = chosen
	env.mu.Unlock()
	secrets.Store(&chosen)
	return sess, nil
}

// demoHome is <data dir>/demo, made private.
func demoHome(env *Env) (string, error) {
	_, paths, err := env.Wiring.LoadConfig(Options{Home: env.Opts.Home, Profile: DemoProfile})
	if paths.DataDir == "" {
		if err == nil {
			err = app.Errorf(app.EUNAVAILABLE, "cannot find the data folder: set INFLUENCEGEN_HOME or --home")
		}
		return "", err
	}
	// A broken real config does not matter: the demo has its own.
	home := filepath.Join(paths.DataDir, DemoProfile)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", app.Errorf(app.EUNAVAILABLE, "cannot create the demo folder %s: %v", home, err)
	}
	return home, nil
}

// freeLoopbackAddr picks a free port, so the demo runs beside a real
// `serve` on 8787.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", app.Errorf(app.EUNAVAILABLE, "no free loopback port for the demo listener: %v", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// keyringWorks reports whether the secret store can reach its keyring.
func keyringWorks(ctx context.Context, s app.Secrets) bool {
	statuses, err := s.Status(ctx)
	if err != nil {
		return false
	}
	for _, st := range statuses {
		if st.Error != "" {
			return false
		}
	}
	return true
}

// ensureDemoSecrets makes the n8n API key and callback token the simulator
// and the listener share, keeping any a previous demo run stored.
func ensureDemoSecrets(ctx context.Context, s app.Secrets) error {
	for _, name := range []string{app.SecretN8NAPIKey, app.SecretCallbackToken} {
		_, _, err := s.Get(ctx, name)
		if err == nil {
			continue
		}
		if app.ErrorCode(err) != app.ENOTFOUND {
			return err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return app.Errorf(app.EINTERNAL, "generate demo %s: %w", name, err)
		}
		if err := s.Set(ctx, name, base64.RawURLEncoding.EncodeToString(b[:])); err != nil {
			return err
		}
	}
	return nil
}
