package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/influencegen/influencegen/app"
)

// statusTeam is status --team --json.
type statusTeam struct {
	Requests []app.TeamRequest `json:"requests"`
}

// listTeam prints the team's recent requests as Odoo holds them (issue 15
// §3): every host's and every Odoo user's, newest change first.
func listTeam(ctx context.Context, env *Env, asJSON bool, limit int, now time.Time) error {
	if env.Wiring.NewERP == nil {
		return app.Errorf(app.ENOTCONFIGURED, "Odoo is not available in this build")
	}
	p, err := env.Open(ctx)
	if err != nil {
		return err
	}
	if !p.Config.OdooEnabled() {
		return app.ReasonErrorf(app.ENOTCONFIGURED, "odoo_not_configured",
			"the team view reads Odoo: set odoo.url, odoo.database and the API key (see README: Odoo sync)")
	}
	erp, err := env.Wiring.NewERP(p.Config, p.Secrets, p.Store, p.Log)
	if err != nil {
		return err
	}
	src, ok := erp.(app.TeamSource)
	if !ok {
		return app.Errorf(app.ENOTCONFIGURED, "this Odoo adapter has no team view")
	}
	reqs, err := src.Team(ctx, time.Time{}, limit)
	if err != nil {
		return fmt.Errorf("read the team's requests from Odoo: %w", err)
	}
	if asJSON {
		return writeJSON(env.Stdout, statusTeam{Requests: reqs})
	}
	if len(reqs) == 0 {
		_, err := fmt.Fprintln(env.Stdout, "No requests in Odoo yet.")
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCHANGED\tWHO\tHOST\tMODEL\tIMAGES\tPROMPT")
	for _, r := range reqs {
		id := r.ID
		if id == "" {
			id = fmt.Sprintf("odoo:%d", r.OdooID)
		}
		state := r.State
		if r.CancelRequested && state != string(app.StatusCancelled) {
			state += " (cancel asked)"
		}
		host := r.Host
		if host == "" {
			host = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", app.TerminalSafe(id), app.TerminalSafe(state),
			age(now, r.UpdatedAt), app.TerminalSafe(r.RequestedBy), app.TerminalSafe(host), app.TerminalSafe(r.Model),
			r.Images, app.TerminalSafe(excerpt(r.Prompt, 40)))
	}
	return tw.Flush()
}
