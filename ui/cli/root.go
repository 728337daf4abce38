// Package cli is the command-line interface: cobra commands that parse
// flags, call app services and print results. It imports only app; main
// supplies the adapters through Wiring, so commands can be tested with
// fakes or with the real store on a temp dir.
//
// Exit codes (DESIGN §7): 0 ok, 1 failure, 2 usage (bad flags or invalid input).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// BuildInfo is set by main from ldflags.
type BuildInfo struct {
	Version, Commit, Date string
}

// Options are the global flags.
type Options struct {
	Home     string // --home / INFLUENCEGEN_HOME
	Profile  string // --profile / INFLUENCEGEN_PROFILE
	LogLevel string // --log-level
	// Overrides holds flag-level config overrides ("section.key" → value);
	// they win over env and file (DESIGN §1).
	Overrides map[string]string
}

// Wiring holds the constructors main supplies. Each is called at most once
// per process through Env's lazy accessors.
type Wiring struct {
	// LoadConfig resolves paths and loads config: flags > env > file > defaults.
	LoadConfig func(opts Options) (app.Config, app.Paths, error)
	// OpenLog opens the log file; alsoStderr mirrors it for headless modes.
	OpenLog func(paths app.Paths, level string, alsoStderr io.Writer) (*slog.Logger, io.Closer, error)
	// OpenStore opens (and migrates) the SQLite database.
	OpenStore func(ctx context.Context, paths app.Paths, log *slog.Logger) (app.Store, error)
	// ResolvePublicURL returns the callback base URL n8n can reach:
	// callback.public_url, else a detected ngrok/cloudflared tunnel, else
	// http://<listen>. nil falls back to the configuration alone.
	ResolvePublicURL func(ctx context.Context, cfg app.Config) string
	// OpenSecrets returns the secret store of a profile.
	OpenSecrets func(profile string, settings app.SettingsStore, log *slog.Logger) app.Secrets
	// SetConfig writes one key into the config file (`config set`), keeping
	// the others, after validating the result.
	SetConfig func(paths app.Paths, key, value string) error
	// NewWorkflow builds the n8n webhook client (n8n.NewClient) for
	// generate/retry; ui/cli must not import n8n itself.
	NewWorkflow func(cfg app.Config, secrets app.Secrets, log *slog.Logger, version string) app.Workflow
	// Newcomer wires `doctor` and `demo` (ui/cli/demo_wiring.go).
	Newcomer NewcomerWiring
	// StartRuntime opens the callback listener (binding first, so a busy
	// port fails at once naming the address), then starts the ingest worker
	// and, with opts.Workers, the sender, the sweeper and the Odoo sync.
	// Runtime.Close stops them in reverse order. main supplies it
	// (runtime.go); `serve`, the dashboard and `generate --wait` use it.
	StartRuntime func(ctx context.Context, env *Env, svc *app.Service, opts RuntimeOptions) (Runtime, error)
	// NewERP builds the Odoo adapter (odoo.NewERP) for `sync now`; ui/cli
	// must not import odoo itself. It fails with ENOTCONFIGURED (reason
	// odoo_not_configured) when odoo.url is empty.
	NewERP func(cfg app.Config, secrets app.Secrets, store app.Store, log *slog.Logger) (app.ERP, error)
	// NewN8NAdmin builds the n8n public-API admin (n8n.NewManager) for
	// `n8n setup|status|remove`, --push-n8n and doctor; n8nURL "" means
	// the address setup recorded.
	NewN8NAdmin func(ctx context.Context, cfg app.Config, secrets app.Secrets, settings app.SettingsStore, n8nURL string) (app.N8NAdmin, error)
	// SSH wires the team host: serve --ssh, team, doctor's SSH checks
	// (ui/cli/ssh_wiring.go).
	SSH SSHWiring
	// Presets opens presets.toml beside the config (store.PresetFile) for
	// `preset`, `generate --preset` and the composer's picker.
	Presets func(paths app.Paths, def app.GenerationDefaults) app.PresetBook
}

// Env is what every command receives: IO, options and lazily opened parts.
type Env struct {
	Build  BuildInfo
	Opts   Options
	Wiring Wiring
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	mu       sync.Mutex
	cfg      *app.Config
	paths    app.Paths
	log      *slog.Logger
	closers  []io.Closer
	store    app.Store
	secrets  app.Secrets
	logExtra io.Writer // stderr mirror for serve
}

// Config returns the loaded configuration.
func (e *Env) Config() (app.Config, app.Paths, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.configLocked()
}

func (e *Env) configLocked() (app.Config, app.Paths, error) {
	if e.cfg == nil {
		cfg, paths, err := e.Wiring.LoadConfig(e.Opts)
		if err != nil {
			e.paths = paths
			return app.Config{}, app.Paths{}, err
		}
		e.cfg, e.paths = &cfg, paths
	}
	return *e.cfg, e.paths, nil
}

// ReloadConfig makes the next Config() read the file again (after a
// command wrote to it, as `n8n setup` does).
func (e *Env) ReloadConfig() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg = nil
}

// Paths returns where the program keeps its files. Unlike Config it
// succeeds when only the config's values are wrong, so `config path` and
// `config set` can still help fix a broken file.
func (e *Env) Paths() (app.Paths, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, paths, err := e.configLocked()
	if err != nil && e.paths.ConfigFile != "" {
		return e.paths, nil
	}
	return paths, err
}

// MirrorLogToStderr makes the log also go to stderr (serve). Call it before
// the first Log().
func (e *Env) MirrorLogToStderr() { e.logExtra = e.Stderr }

// Log returns the file logger.
func (e *Env) Log() (*slog.Logger, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logLocked()
}

func (e *Env) logLocked() (*slog.Logger, error) {
	if e.log == nil {
		_, paths, err := e.configLocked()
		if err != nil {
			return nil, err
		}
		log, closer, err := e.Wiring.OpenLog(paths, e.Opts.LogLevel, e.logExtra)
		if err != nil {
			return nil, err
		}
		e.log = log
		e.closers = append(e.closers, closer)
	}
	return e.log, nil
}

// Store returns the opened database.
func (e *Env) Store(ctx context.Context) (app.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store == nil {
		_, paths, err := e.configLocked()
		if err != nil {
			return nil, err
		}
		log, err := e.logLocked()
		if err != nil {
			return nil, err
		}
		st, err := e.Wiring.OpenStore(ctx, paths, log)
		if err != nil {
			return nil, err
		}
		e.store = st
		e.closers = append(e.closers, st)
	}
	return e.store, nil
}

// Secrets returns the profile's secret store.
func (e *Env) Secrets(ctx context.Context) (app.Secrets, error) {
	st, err := e.Store(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.secrets == nil {
		if err := checkProfile(e.profile()); err != nil {
			return nil, err
		}
		e.secrets = e.Wiring.OpenSecrets(e.profile(), st, e.log)
	}
	return e.secrets, nil
}

// Profile returns the active profile ("default" when none is given).
func (e *Env) Profile() string { return e.profile() }

func (e *Env) profile() string {
	if e.Opts.Profile == "" {
		return "default"
	}
	return e.Opts.Profile
}

// checkProfile keeps profile names to what is safe in a keyring account
// ("<profile>/<name>") and a settings key.
func checkProfile(p string) error {
	if len(p) > 64 {
		return Usagef("--profile %q is too long: use at most 64 letters, digits, '-' or '_'", p)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Usagef("--profile %q: use only letters, digits, '-' or '_' (e.g. default, demo, work)", p)
		}
	}
	return nil
}

// Close releases everything opened, newest first.
func (e *Env) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i].Close())
	}
	e.closers = nil
	return errors.Join(errs...)
}

// commands holds the constructors of the top-level commands; each command's
// file registers itself so adding a command touches no shared file.
var commands []func(*Env) *cobra.Command

func register(newCmd func(*Env) *cobra.Command) { commands = append(commands, newCmd) }

// NewRoot builds the command tree. run is the action of the bare
// `influencegen` (the dashboard); nil prints help.
func NewRoot(env *Env, run func(cmd *cobra.Command, env *Env) error) *cobra.Command {
	root := &cobra.Command{
		Use:           "influencegen",
		Short:         "Generate AI images through n8n, watch them arrive, keep records in Odoo",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       env.Build.Version,
	}
	if run != nil {
		root.RunE = func(cmd *cobra.Command, _ []string) error { return run(cmd, env) }
		root.Args = cobra.NoArgs
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&env.Opts.Home, "home", env.Opts.Home, "put config, database, images and log in `DIR` (env INFLUENCEGEN_HOME)")
	pf.StringVar(&env.Opts.Profile, "profile", env.Opts.Profile, "profile `NAME`: separates keyring entries (env INFLUENCEGEN_PROFILE)")
	pf.StringVar(&env.Opts.LogLevel, "log-level", env.Opts.LogLevel, "log `LEVEL`: debug, info, warn or error")
	ConfigFlag(pf, env, "public-url", "callback.public_url", "base `URL` n8n calls back (e.g. a tunnel's https URL); empty detects ngrok/cloudflared")
	for _, newCmd := range commands {
		root.AddCommand(newCmd(env))
	}
	markUsageErrors(root)
	return root
}

// markUsageErrors makes cobra's argument-count errors usage errors (exit 2)
// for every command, including ones added by other files.
func markUsageErrors(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markUsageErrors(sub)
	}
}

// ConfigFlag adds a flag that overrides config key ("section.key") for this
// run: it wins over env and the config file (DESIGN §1). Commands use it for
// the common keys, e.g. ConfigFlag(cmd.Flags(), env, "listen", "callback.listen", "…").
func ConfigFlag(fs *pflag.FlagSet, env *Env, name, key, usage string) {
	fs.Var(&configOverride{env: env, key: key}, name, usage+" (config "+key+")")
}

// configOverride is a pflag.Value writing into Env.Opts.Overrides.
type configOverride struct {
	env      *Env
	key, val string
}

func (o *configOverride) String() string { return o.val }
func (o *configOverride) Type() string   { return "string" }
func (o *configOverride) Set(v string) error {
	if o.env.Opts.Overrides == nil {
		o.env.Opts.Overrides = map[string]string{}
	}
	o.val = v
	o.env.Opts.Overrides[o.key] = v
	return nil
}

// usageError marks errors that exit with code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// Usagef returns a usage error (exit code 2).
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// ExitCode maps an error to the process exit code: usage and invalid input
// are 2, everything else 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var u usageError
	if errors.As(err, &u) || app.ErrorCode(err) == app.EINVALID || isCobraUsage(err) {
		return 2
	}
	return 1
}

// Execute runs the tree and returns the exit code, printing the error.
func Execute(ctx context.Context, root *cobra.Command, env *Env) int {
	err := root.ExecuteContext(ctx)
	if cerr := env.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		msg := err.Error()
		if app.ErrorCode(err) == app.EINTERNAL && !isUsage(err) {
			msg = fmt.Sprintf("%v (details in the log file)", err)
		}
		fmt.Fprintln(env.Stderr, "influencegen:", app.TerminalSafe(msg)) // may quote outside text
		if isUsage(err) {
			fmt.Fprintln(env.Stderr, "Run 'influencegen --help' (or 'influencegen COMMAND --help') for usage.")
		}
	}
	return ExitCode(err)
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || isCobraUsage(err)
}

// isCobraUsage recognises the errors cobra makes itself before any command
// runs (it has no typed errors for them).
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "invalid argument ")
}

// DefaultEnv returns an Env on the process's standard streams.
func DefaultEnv(build BuildInfo, w Wiring) *Env {
	return &Env{Build: build, Wiring: w, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Opts: Options{Home: os.Getenv("INFLUENCEGEN_HOME"), Profile: os.Getenv("INFLUENCEGEN_PROFILE"), LogLevel: "info", Overrides: map[string]string{}}}
}

// Parts are the opened pieces services and workers are built from.
type Parts struct {
	Config  app.Config
	Paths   app.Paths
	Log     *slog.Logger
	Store   app.Store
	Secrets app.Secrets
}

// Open opens config, log, store and secrets (each once per process) for
// commands that need all of them.
func (e *Env) Open(ctx context.Context) (Parts, error) {
	cfg, paths, err := e.Config()
	if err != nil {
		return Parts{}, err
	}
	log, err := e.Log()
	if err != nil {
		return Parts{}, err
	}
	st, err := e.Store(ctx)
	if err != nil {
		return Parts{}, err
	}
	secrets, err := e.Secrets(ctx)
	if err != nil {
		return Parts{}, err
	}
	return Parts{Config: cfg, Paths: paths, Log: log, Store: st, Secrets: secrets}, nil
}
