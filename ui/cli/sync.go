package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newSyncCmd) }

func newSyncCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Odoo sync: see the backlog, re-queue parked items, sync now",
		Long: `Every change to a request is queued for Odoo (the outbox) in the same
transaction as the change, and ` + "`serve`" + ` or the dashboard sync it in the
background. Odoo being down is normal: items wait and retry with backoff.
A permanent error (rejected key, missing addon, refused values) parks the
item until you fix the cause and run ` + "`influencegen sync retry`" + `.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSyncStatusCmd(env), newSyncRetryCmd(env), newSyncNowCmd(env))
	return cmd
}

// syncStatus is `sync status --json`.
type syncStatus struct {
	Enabled       bool       `json:"enabled"`
	URL           string     `json:"url,omitempty"`
	Pending       int        `json:"pending"`
	Parked        int        `json:"parked"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
}

func newSyncStatusCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show how many Odoo operations wait or are parked, and the last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, _, err := env.Config()
			if err != nil {
				return err
			}
			st, err := env.Store(ctx)
			if err != nil {
				return err
			}
			stats, err := st.OutboxStats(ctx)
			if err != nil {
				return err
			}
			out := syncStatus{Enabled: cfg.OdooEnabled(), URL: redactURL(cfg.Odoo.URL), Pending: stats.Pending,
				Parked: stats.Parked, OldestPending: stats.OldestPending, LastError: stats.LastError}
			if asJSON {
				return writeJSON(env.Stdout, out)
			}
			printSyncStatus(env, out, time.Now())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"enabled","url","pending","parked","oldest_pending","last_error"}`)
	return cmd
}

func printSyncStatus(env *Env, s syncStatus, now time.Time) {
	w := env.Stdout
	if s.Enabled {
		fmt.Fprintf(w, "odoo:     %s\n", s.URL)
	} else {
		fmt.Fprintln(w, "odoo:     off (odoo.url is not set; changes still queue and sync once it is)")
	}
	pending := fmt.Sprintf("%d", s.Pending)
	if s.OldestPending != nil && s.Pending > 0 {
		pending += fmt.Sprintf(" (oldest waiting %s)", now.Sub(*s.OldestPending).Round(time.Second))
	}
	fmt.Fprintf(w, "pending:  %s\n", pending)
	fmt.Fprintf(w, "parked:   %d\n", s.Parked)
	if s.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", s.LastError)
	}
	if s.Parked > 0 {
		fmt.Fprintln(w, "Parked items wait for a person: fix the cause above, then run `influencegen sync retry`.")
	}
}

func newSyncRetryCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "retry [ID]",
		Short: "Re-queue parked Odoo operations (of one request, or all)",
		Long: `ID is a full request id, a unique prefix of one, or an Odoo record id.
Without ID every parked item is re-queued. A running ` + "`serve`" + ` or dashboard
picks them up within a second; otherwise run ` + "`influencegen sync now`" + `.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := env.Store(ctx)
			if err != nil {
				return err
			}
			requestID := ""
			if len(args) == 1 {
				req, err := st.FindRequest(ctx, args[0])
				if err != nil {
					return err
				}
				requestID = req.ID
			}
			n, err := st.OutboxRequeue(ctx, requestID)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, map[string]any{"request_id": requestID, "requeued": n})
			}
			switch {
			case n == 0 && requestID != "":
				fmt.Fprintf(env.Stdout, "nothing parked for request %s\n", requestID)
			case n == 0:
				fmt.Fprintln(env.Stdout, "nothing parked")
			default:
				fmt.Fprintf(env.Stdout, "re-queued %d Odoo operation(s); a running serve or dashboard syncs them now, or run `influencegen sync now`\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"request_id","requeued"}`)
	return cmd
}

// maxSyncNowBatches bounds `sync now`: a backlog larger than this many
// batches (1,000 items each) is left to serve.
const maxSyncNowBatches = 200

func newSyncNowCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "now",
		Short: "Sync every due Odoo operation now and report what happened",
		Long: `Runs the sync in this process until nothing is due (or Odoo fails), then
prints how many operations were synced, rescheduled or parked. Exits 1 if
anything is left waiting or parked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			total, err := syncNow(ctx, env)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(env.Stdout, total); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(env.Stdout, "synced %d, rescheduled %d, parked %d (%d Odoo calls", total.Done, total.Retry, total.Parked, total.RPCs)
				if total.Protocol != "" {
					fmt.Fprintf(env.Stdout, " over %s", total.Protocol)
				}
				fmt.Fprintln(env.Stdout, ")")
			}
			switch {
			case total.Parked > 0:
				return app.ReasonErrorf(app.ECONFLICT, "odoo_sync_parked",
					"%d operation(s) parked: %s; fix it, then run `influencegen sync retry`", total.Parked, total.LastError)
			case total.Retry > 0:
				return app.ReasonErrorf(app.EUNAVAILABLE, "odoo_sync_retry",
					"%d operation(s) will be retried: %s", total.Retry, total.LastError)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"items","done","retry","parked","rpcs","last_error","protocol"}`)
	return cmd
}

// syncNow runs batches until the outbox has nothing due or a batch had to
// reschedule (Odoo is failing: trying the next batch would fail too).
func syncNow(ctx context.Context, env *Env) (app.SyncReport, error) {
	var total app.SyncReport
	if env.Wiring.NewERP == nil {
		return total, app.Errorf(app.ENOTCONFIGURED, "Odoo sync is not available in this build")
	}
	p, err := env.Open(ctx)
	if err != nil {
		return total, err
	}
	erp, err := env.Wiring.NewERP(p.Config, p.Secrets, p.Store, p.Log)
	if err != nil {
		return total, err
	}
	for i := 0; i < maxSyncNowBatches; i++ {
		rep, err := erp.RunOnce(ctx)
		total.Items += rep.Items
		total.Done += rep.Done
		total.Retry += rep.Retry
		total.Parked += rep.Parked
		total.RPCs += rep.RPCs
		if rep.Protocol != "" {
			total.Protocol = rep.Protocol
		}
		if rep.LastError != "" {
			total.LastError = rep.LastError
		}
		if err != nil {
			return total, err
		}
		if rep.Items == 0 || rep.Retry > 0 {
			break
		}
	}
	return total, nil
}
