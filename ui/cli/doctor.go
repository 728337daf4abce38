package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newDoctorCmd) }

// doctorTimeout bounds the whole run: every probe has its own shorter
// timeout, this only guarantees doctor always ends.
const doctorTimeout = 90 * time.Second

func newDoctorCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check config, keyring, database, listener, tunnel, n8n and Odoo, with a fix for each problem",
		Long: "doctor checks every part the program needs and prints one line per check: ✓ passed, ! worth knowing,\n" +
			"✗ failed (with the one thing to do), – skipped (not set up). It never starts an image generation.\n" +
			"Exit status 1 when any check failed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), doctorTimeout)
			defer cancel()
			report := RunDoctor(ctx, env)
			if asJSON {
				if err := writeJSON(env.Stdout, report); err != nil {
					return err
				}
			} else {
				printDoctor(env.Stdout, report)
			}
			if !report.OK {
				return app.Errorf(app.EUNAVAILABLE, "%s", failedSummary(report))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// RunDoctor runs every check it can and never stops at the first failure:
// a newcomer should see the whole list of what is missing at once.
func RunDoctor(ctx context.Context, env *Env) app.DoctorReport {
	profile := env.Profile()
	cfg, paths, err := env.Config()
	checks := []app.Check{app.CheckConfig(cfg, paths, err)}
	if err != nil {
		// Without a config nothing else means anything; say so per part.
		for _, name := range []string{"database", "keyring", "listen port", "n8n webhook", "odoo"} {
			checks = append(checks, app.NewCheck(name, app.CheckSkip, "not checked: the config did not load", ""))
		}
		return app.NewDoctorReport(profile, checks)
	}
	n := env.Wiring.Newcomer

	st, err := env.Store(ctx)
	if err != nil {
		checks = append(checks, app.NewCheck("database", app.CheckFail, app.ErrorMessage(err),
			"check that "+paths.DB+" is readable and writable by you and not open in a newer build"))
	} else {
		db, _ := st.(app.DBHealth)
		checks = append(checks, app.CheckDatabase(ctx, db, paths.DB, n.SchemaLatest))
	}

	var secrets app.Secrets
	if st != nil {
		if secrets, err = env.Secrets(ctx); err != nil {
			checks = append(checks, app.NewCheck("keyring", app.CheckFail, app.ErrorMessage(err), "fix --profile"))
		}
	}
	if secrets != nil {
		checks = append(checks, app.CheckSecrets(ctx, secrets, cfg)...)
		checks = append(checks, app.CheckCallbackTokenStrength(ctx, secrets, cfg))
	}
	checks = append(checks, app.CheckListenBind(cfg))

	if n.NetworkChecks != nil {
		checks = append(checks, n.NetworkChecks(ctx, cfg)...)
	} else {
		checks = append(checks, app.NewCheck("network", app.CheckSkip, "network checks are not wired in this build", ""))
	}

	if secrets != nil {
		checks = append(checks, doctorN8NAPI(ctx, env, cfg)...)
	}
	checks = append(checks, doctorERP(ctx, env, cfg, secrets)...)
	if env.Wiring.SSH.Checks != nil {
		checks = append(checks, env.Wiring.SSH.Checks(ctx, cfg, paths)...)
	}
	if st != nil {
		checks = append(checks, app.CheckOutbox(ctx, st, cfg.OdooEnabled()))
		checks = append(checks, app.CheckParkedDeliveries(ctx, st))
		fh, _ := st.(app.FileHealth)
		checks = append(checks, app.CheckImageFiles(ctx, fh, paths.ImagesDir))
	}
	return app.NewDoctorReport(profile, checks)
}

// doctorN8NAPI checks the workflow through n8n's public API when an
// n8n-admin-key is set (the same steps as `n8n status`); without one it
// says what it would check.
func doctorN8NAPI(ctx context.Context, env *Env, cfg app.Config) []app.Check {
	admin := n8nAdminIfKeyed(ctx, env)
	if admin == nil {
		return []app.Check{app.NewCheck("n8n api", app.CheckSkip,
			"no n8n-admin-key (or no n8n address recorded): workflow, credentials and runs are not checked",
			"create a key in n8n (Settings → n8n API), `influencegen secrets set n8n-admin-key`, then `influencegen n8n setup`")}
	}
	var checks []app.Check
	_, _ = admin.Status(ctx, cfg.N8N.WebhookURL, func(s app.N8NStep) {
		state := app.CheckOK
		if !s.OK {
			state = app.CheckFail
		}
		checks = append(checks, app.NewCheck("n8n api: "+s.Name, state, s.Detail, s.Fix))
	})
	return checks
}

// doctorERP runs the Odoo checks when odoo.url is set; otherwise it reports
// sync off, which is a fine way to run.
func doctorERP(ctx context.Context, env *Env, cfg app.Config, secrets app.Secrets) []app.Check {
	open := env.Wiring.Newcomer.OpenERP
	switch {
	case !cfg.OdooEnabled():
		return app.CheckERP(ctx, nil, cfg)
	case open == nil || secrets == nil:
		return []app.Check{app.NewCheck("odoo", app.CheckSkip, "Odoo checks are not available in this build", "")}
	}
	log, _ := env.Log()
	erp, err := open(cfg, secrets, log)
	if err != nil {
		return []app.Check{app.NewCheck("odoo", app.CheckFail, app.ErrorMessage(err), "fix the odoo.* settings named above: influencegen config set odoo.url https://odoo.example.com")}
	}
	return app.CheckERP(ctx, erp, cfg)
}

var doctorMarks = map[string]string{app.CheckOK: "✓", app.CheckWarn: "!", app.CheckFail: "✗", app.CheckSkip: "–"}

// printDoctor writes one aligned line per check and the remedy under it.
func printDoctor(w io.Writer, r app.DoctorReport) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	fmt.Fprintf(w, "influencegen doctor (profile %s)\n\n", r.Profile)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s %-*s  %s\n", doctorMarks[c.State], width, c.Name, app.TerminalSafe(c.Detail)) // may quote Odoo or n8n
		if c.Remedy != "" && c.State != app.CheckOK {
			fmt.Fprintf(w, "  %-*s  → %s\n", width, "", c.Remedy)
		}
	}
	fmt.Fprintln(w)
	if r.OK {
		fmt.Fprintln(w, "All checks passed.")
	} else {
		fmt.Fprintln(w, failedSummary(r)+": fix the lines marked ✗ (each says how) and run doctor again.")
	}
}

func failedSummary(r app.DoctorReport) string {
	var names []string
	for _, c := range r.Checks {
		if !c.OK {
			names = append(names, c.Name)
		}
	}
	if len(names) == 1 {
		return "1 check failed (" + names[0] + ")"
	}
	return fmt.Sprintf("%d checks failed (%s)", len(names), strings.Join(names, ", "))
}
