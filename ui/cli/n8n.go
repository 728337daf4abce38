package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() { register(newN8NCmd) }

// EnvProviderKey carries the image provider's API key for `n8n setup`. It
// goes to n8n's credential only and is never stored by this program.
const EnvProviderKey = "INFLUENCEGEN_PROVIDER_API_KEY"

func newN8NCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "n8n",
		Short: "Set up, check or remove the n8n workflow through n8n's public API",
		Long: `These commands use n8n's own API key (secret n8n-admin-key, header
X-N8N-API-KEY): create one in n8n under Settings → n8n API, then
` + "`influencegen secrets set n8n-admin-key`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newN8NSetupCmd(env), newN8NStatusCmd(env), newN8NRemoveCmd(env))
	return cmd
}

// n8nAdmin builds the admin client (main wires n8n.NewManager).
func n8nAdmin(ctx context.Context, env *Env, n8nURL string) (app.N8NAdmin, Parts, error) {
	p, err := env.Open(ctx)
	if err != nil {
		return nil, Parts{}, err
	}
	if env.Wiring.NewN8NAdmin == nil {
		return nil, p, app.Errorf(app.EINTERNAL, "this build has no n8n admin wired (cli.Wiring.NewN8NAdmin is nil)")
	}
	admin, err := env.Wiring.NewN8NAdmin(ctx, p.Config, p.Secrets, p.Store, n8nURL)
	return admin, p, err
}

// stepPrinter prints ✓/✗ lines (unless JSON) and keeps the steps.
type stepPrinter struct {
	w      io.Writer
	asJSON bool
	steps  []app.N8NStep
}

func (s *stepPrinter) step(st app.N8NStep) {
	s.steps = append(s.steps, st)
	if s.asJSON {
		return
	}
	mark := "✓"
	if !st.OK {
		mark = "✗"
	}
	line := mark + " " + st.Name
	if st.Detail != "" {
		line += ": " + st.Detail
	}
	fmt.Fprintln(s.w, app.TerminalSafe(line))
	if st.Fix != "" {
		fmt.Fprintln(s.w, "  fix: "+app.TerminalSafe(st.Fix))
	}
}

type n8nSetupDoc struct {
	OK     bool               `json:"ok"`
	Steps  []app.N8NStep      `json:"steps"`
	Result app.N8NSetupResult `json:"result"`
	DryRun *dryRunDoc         `json:"dry_run,omitempty"`
	Error  string             `json:"error,omitempty"`
}

type dryRunDoc struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	RoundTrip string `json:"round_trip"`
}

func newN8NSetupCmd(env *Env) *cobra.Command {
	var (
		o          app.N8NSetupOptions
		asJSON     bool
		skipDryRun bool
	)
	cmd := &cobra.Command{
		Use:   "setup --n8n-url URL --provider openai|stability|replicate|comfyui|custom",
		Short: "Create or update the credentials and the workflow in n8n, activate it, and prove the round trip",
		Long: `Creates or updates (safe to re-run) the Header Auth credentials from the keyring's
n8n-api-key and callback-token (generated when missing) and the provider's key
(from ` + EnvProviderKey + ` or _FILE, or typed at a prompt; it goes to n8n only),
creates or updates the workflow, activates it, checks every node's credential is
bound, writes n8n.webhook_url and n8n.models to the config, and sends a dry run
(a built-in image, no provider call) through the real callback URL.`,
		Example: `  influencegen n8n setup --n8n-url https://n8n.example.com --provider openai
  influencegen n8n setup --n8n-url http://127.0.0.1:5678 --provider comfyui --provider-url http://gpu-box:8188`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.N8NURL == "" || o.Provider == "" {
				return Usagef("--n8n-url and --provider are required, e.g. --n8n-url https://n8n.example.com --provider openai")
			}
			ctx := cmd.Context()
			admin, p, err := n8nAdmin(ctx, env, o.N8NURL)
			if err != nil {
				return err
			}
			out := &stepPrinter{w: env.Stdout, asJSON: asJSON}
			doc := n8nSetupDoc{}
			finish := func(err error) error {
				doc.OK, doc.Steps = err == nil, out.steps
				if err != nil {
					doc.Error = err.Error()
				}
				if asJSON {
					if werr := writeJSON(env.Stdout, doc); werr != nil {
						return werr
					}
				}
				return err
			}
			if o.ProviderKey, err = providerKey(env, o.Provider); err != nil {
				return finish(err)
			}
			res, err := admin.Setup(ctx, o, out.step)
			doc.Result = res
			if err != nil {
				return finish(err)
			}
			if err := writeN8NConfig(env, p.Paths, res); err != nil {
				out.step(app.N8NStep{Name: "config", Detail: err.Error(), Fix: "influencegen config set n8n.webhook_url " + res.WebhookURL})
				return finish(err)
			}
			out.step(app.N8NStep{Name: "config", OK: true, Detail: "n8n.webhook_url = " + res.WebhookURL + "; n8n.models = " + strings.Join(res.Models, ",")})
			if !skipDryRun {
				dr, err := setupDryRun(ctx, env, out)
				doc.DryRun = dr
				if err != nil {
					return finish(err)
				}
			}
			if !asJSON {
				fmt.Fprintf(env.Stdout, "n8n is set up: %s (workflow %s)\n", app.TerminalSafe(res.EditorURL), res.WorkflowID)
			}
			return finish(nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.N8NURL, "n8n-url", "", "n8n's address, e.g. https://n8n.example.com")
	f.StringVar(&o.Provider, "provider", "", "image provider template: openai, stability, replicate, comfyui or custom")
	f.StringVar(&o.ProviderURL, "provider-url", "", "the provider's base URL (default: the provider's public API)")
	f.StringVar(&o.WebhookPath, "path", "influence-gen/generate", "the webhook path in n8n")
	f.BoolVar(&o.Signed, "signed", false, "sign callbacks the Standard Webhooks way (for callback.auth = signature)")
	f.BoolVar(&skipDryRun, "no-dry-run", false, "skip the dry-run round trip (e.g. when n8n cannot reach the callback URL yet)")
	f.BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// providerKey reads the provider's key from the env (or _FILE), else asks
// without echo on a terminal; keyless providers and re-runs may skip it.
func providerKey(env *Env, provider string) (string, error) {
	if v := strings.TrimSpace(os.Getenv(EnvProviderKey)); v != "" {
		return v, nil
	}
	if path := os.Getenv(EnvProviderKey + "_FILE"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", app.Errorf(app.EINVALID, "%s_FILE: %v", EnvProviderKey, err)
		}
		return strings.TrimSpace(string(raw)), nil
	}
	if provider == "comfyui" {
		return "", nil
	}
	if f, ok := env.Stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(env.Stderr, "%s API key (Enter keeps the one n8n has; input hidden): ", provider)
		return readHidden(env, f)
	}
	return "", nil
}

func writeN8NConfig(env *Env, paths app.Paths, res app.N8NSetupResult) error {
	if env.Wiring.SetConfig == nil {
		return app.Errorf(app.EINTERNAL, "config set is not wired in this build")
	}
	if err := env.Wiring.SetConfig(paths, "n8n.webhook_url", res.WebhookURL); err != nil {
		return err
	}
	// An empty list (custom) clears a previous provider's models, so the
	// composer falls back to generation.models.
	if err := env.Wiring.SetConfig(paths, "n8n.models", strings.Join(res.Models, ",")); err != nil {
		return err
	}
	env.ReloadConfig()
	return nil
}

// setupDryRun sends one dry-run request through the real path (sender →
// n8n → callback URL → listener) and waits for its result.
func setupDryRun(ctx context.Context, env *Env, out *stepPrinter) (*dryRunDoc, error) {
	fail := func(err error, fix string) (*dryRunDoc, error) {
		out.step(app.N8NStep{Name: "dry run", Detail: err.Error(), Fix: fix})
		return nil, err
	}
	svc, err := newService(ctx, env)
	if err != nil {
		return fail(err, "")
	}
	wait, stop, err := generateWait(ctx, env, svc)
	if err != nil {
		return fail(err, "")
	}
	defer stop()
	start := time.Now()
	reqs, err := svc.Submit(ctx, app.ParamsInput{Prompt: "influencegen n8n setup: dry run", DryRun: true})
	if err != nil {
		return fail(err, "")
	}
	sent, err := sendNow(ctx, svc, []string{reqs[0].ID})
	if err == nil {
		err = failedToStart(sent)
	}
	if err != nil {
		return fail(err, "check n8n.webhook_url and the n8n-api-key credential; `influencegen n8n status`")
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	final, err := wait(waitCtx, []string{reqs[0].ID})
	doc := &dryRunDoc{RequestID: reqs[0].ID, RoundTrip: time.Since(start).Round(time.Millisecond).String()}
	if err != nil {
		return fail(err, "n8n could not reach the callback URL: set callback.public_url (or start a tunnel) and check `influencegen doctor`")
	}
	doc.Status = string(final[0].Status)
	if final[0].Status != app.StatusCompleted {
		return fail(app.Errorf(app.EUNAVAILABLE, "dry run %s ended %s: %s", final[0].ID, final[0].Status, final[0].ErrorMessage),
			"`influencegen status "+final[0].ID+"` shows n8n's run")
	}
	out.step(app.N8NStep{Name: "dry run", OK: true, Detail: "callback received, round trip " + doc.RoundTrip})
	return doc, nil
}

func newN8NStatusCmd(env *Env) *cobra.Command {
	var (
		asJSON bool
		n8nURL string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Check n8n: reachable, key valid, workflow active, credentials bound, webhook URL, recent runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			admin, p, err := n8nAdmin(cmd.Context(), env, n8nURL)
			if err != nil {
				return err
			}
			out := &stepPrinter{w: env.Stdout, asJSON: asJSON}
			runs, err := admin.Status(cmd.Context(), p.Config.N8N.WebhookURL, out.step)
			if asJSON {
				doc := map[string]any{"ok": err == nil, "steps": out.steps, "executions": runs}
				if err != nil {
					doc["error"] = err.Error()
				}
				if werr := writeJSON(env.Stdout, doc); werr != nil {
					return werr
				}
				return err
			}
			for _, r := range runs {
				fmt.Fprintf(env.Stdout, "  run %s  %-8s %s  %s\n", r.ID, app.TerminalSafe(r.Status), r.StartedAt.Local().Format(time.DateTime), app.TerminalSafe(r.EditorURL))
			}
			if len(runs) == 0 && err == nil {
				fmt.Fprintln(env.Stdout, "  no saved runs (successful runs are not saved)")
			}
			return err
		},
	}
	cmd.Flags().StringVar(&n8nURL, "n8n-url", "", "n8n's address (default: the one setup used)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func newN8NRemoveCmd(env *Env) *cobra.Command {
	var n8nURL string
	cmd := &cobra.Command{
		Use:   "remove",
		Short: "Delete the workflow and the credentials `n8n setup` created",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			admin, _, err := n8nAdmin(cmd.Context(), env, n8nURL)
			if err != nil {
				return err
			}
			out := &stepPrinter{w: env.Stdout}
			if err := admin.Remove(cmd.Context(), out.step); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "removed what setup created (n8n.webhook_url is left as it is)")
			return nil
		},
	}
	cmd.Flags().StringVar(&n8nURL, "n8n-url", "", "n8n's address (default: the one setup used)")
	return cmd
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func readHidden(env *Env, f *os.File) (string, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", app.Errorf(app.EUNAVAILABLE, "read the provider key from the terminal: %v", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// n8nAdminIfKeyed returns the n8n admin when an n8n-admin-key is set and
// setup recorded where n8n is; nil otherwise, without a word: explaining
// a failure is a bonus, never a reason for a command to fail.
func n8nAdminIfKeyed(ctx context.Context, env *Env) app.N8NAdmin {
	if env.Wiring.NewN8NAdmin == nil {
		return nil
	}
	p, err := env.Open(ctx)
	if err != nil {
		return nil
	}
	if _, _, err := p.Secrets.Get(ctx, app.SecretN8NAdminKey); err != nil {
		return nil
	}
	admin, err := env.Wiring.NewN8NAdmin(ctx, p.Config, p.Secrets, p.Store, "")
	if err != nil {
		return nil
	}
	return admin
}
