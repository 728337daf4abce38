package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newStatusCmd) }

func newStatusCmd(env *Env) *cobra.Command {
	var (
		asJSON bool
		team   bool
		limit  int
		search string
	)
	cmd := &cobra.Command{
		Use:   "status [ID]",
		Short: "List recent requests, or show one in full",
		Long: `Without ID: the most recent requests (state, age, model, Odoo sync, prompt).
With ID (a full id, a unique prefix, or an Odoo record id): every parameter,
the timeline, the error and the images of that request.
With --team: the team's recent requests from Odoo (who, state, host, when),
made on any host or in Odoo.
With --search: only the requests matching it, in the dashboard's search
syntax: free text on the prompt plus model:NAME seed:N is:STATE by:NAME
after:YYYY-MM-DD before:YYYY-MM-DD (see README "Search").`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 1000 {
				return Usagef("--limit %d: use 1 to 1000", limit)
			}
			if _, err := app.ParseSearchQuery(search); err != nil {
				return Usagef("--search: %s", strings.TrimPrefix(err.Error(), "search: "))
			}
			if search != "" && (team || len(args) == 1) {
				return Usagef("--search filters the local list; it takes no ID and no --team")
			}
			if team {
				if len(args) == 1 {
					return Usagef("--team lists the team's requests; it takes no ID")
				}
				return listTeam(cmd.Context(), env, asJSON, limit, time.Now())
			}
			cfg, _, err := env.Config()
			if err != nil {
				return err
			}
			st, err := env.Store(cmd.Context())
			if err != nil {
				return err
			}
			v := statusView{w: env.Stdout, st: st, asJSON: asJSON, now: time.Now(), odoo: cfg.OdooEnabled(), search: search}
			if len(args) == 1 {
				v.n8n = n8nAdminIfKeyed(cmd.Context(), env)
				return v.showRequest(cmd.Context(), args[0])
			}
			return v.listRequests(cmd.Context(), limit)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many recent requests to list")
	cmd.Flags().StringVar(&search, "search", "", `only requests matching this search, e.g. "red car model:sdxl is:failed after:2026-11-01"`)
	cmd.Flags().BoolVar(&team, "team", false, "list everyone's requests as Odoo holds them (all hosts, and requests made in Odoo)")
	return cmd
}

// statusView renders status output.
type statusView struct {
	w      io.Writer
	st     app.Store
	asJSON bool
	now    time.Time
	odoo   bool         // sync configured; otherwise the sync column says "off"
	n8n    app.N8NAdmin // nil without an n8n-admin-key: no "why did it fail"
	search string       // the list's search (README "Search"); "" = every request
}

// syncLabel is the request's sync state as a person should read it.
func (v statusView) syncLabel(r app.Request) app.SyncState {
	if !v.odoo {
		return app.SyncOff
	}
	return r.SyncState
}

// statusList is status --json without ID.
type statusList struct {
	Counts   map[app.Status]int `json:"counts"`
	Requests []app.Request      `json:"requests"`
	HasMore  bool               `json:"has_more"`
}

func (v statusView) listRequests(ctx context.Context, limit int) error {
	w, st, now := v.w, v.st, v.now
	page, err := st.ListRequests(ctx, app.ListQuery{Limit: limit, Search: v.search})
	if err != nil {
		return err
	}
	counts, err := st.CountByStatusMatching(ctx, app.ListQuery{Search: v.search})
	if err != nil {
		return err
	}
	reqs := page.Requests
	if reqs == nil {
		reqs = []app.Request{}
	}
	for i := range reqs {
		reqs[i].SyncState = v.syncLabel(reqs[i])
	}
	if v.asJSON {
		return writeJSON(w, statusList{Counts: counts, Requests: reqs, HasMore: page.HasMore})
	}
	if len(page.Requests) == 0 && v.search != "" {
		_, err := fmt.Fprintf(w, "No requests match the search %q.\n", v.search)
		return err
	}
	if len(page.Requests) == 0 {
		_, err := fmt.Fprintln(w, "No requests yet. Start one with: influencegen generate --prompt \"a red fox in the snow\"")
		return err
	}
	var summary []string
	for _, s := range app.Statuses {
		if counts[s] > 0 {
			summary = append(summary, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	fmt.Fprintln(w, strings.Join(summary, " · "))
	if parked := v.parked(ctx, ""); len(parked) > 0 {
		fmt.Fprintf(w, "! %d callback(s) parked after failing %d times: see `influencegen doctor`\n", len(parked), app.MaxDeliveryAttempts)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGE\tMODEL\tSYNC\tPROMPT")
	for _, r := range page.Requests {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, age(now, r.CreatedAt), shown(r.Params.Model), r.SyncState, shown(excerpt(r.Params.Prompt, 50)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.HasMore {
		fmt.Fprintf(w, "(the %d most recent; --limit N shows more)\n", len(page.Requests))
	}
	return nil
}

// statusDetail is status ID --json.
type statusDetail struct {
	Request  app.Request    `json:"request"`
	Timeline []app.Activity `json:"timeline"`
	Images   []app.Image    `json:"images"`
	// Parked are the request's callbacks that failed too often to be
	// retried (their bodies left out).
	Parked []app.Delivery `json:"parked_callbacks,omitempty"`
	// N8N is the n8n run of a failed or timed-out request (admin key set).
	N8N      *app.N8NExecution `json:"n8n_execution,omitempty"`
	N8NError string            `json:"n8n_execution_error,omitempty"`
}

func (v statusView) showRequest(ctx context.Context, ref string) error {
	w, st, now := v.w, v.st, v.now
	req, err := st.FindRequest(ctx, ref)
	if err != nil {
		return err
	}
	acts, err := st.ListActivity(ctx, app.ActivityQuery{RequestID: req.ID, Limit: 500})
	if err != nil {
		return err
	}
	slices.Reverse(acts) // oldest first: a timeline reads forward
	imgs, err := st.Images(ctx, req.ID)
	if err != nil {
		return err
	}
	if acts == nil {
		acts = []app.Activity{}
	}
	if imgs == nil {
		imgs = []app.Image{}
	}
	req.SyncState = v.syncLabel(req)
	run, runErr := app.ExplainFailure(ctx, v.n8n, req)
	if v.asJSON {
		doc := statusDetail{Request: req, Timeline: acts, Images: imgs, Parked: v.parked(ctx, req.ID), N8N: run}
		if runErr != nil {
			doc.N8NError = runErr.Error()
		}
		return writeJSON(w, doc)
	}
	p := req.Params
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// Every value may hold outside text (n8n's error, execution id; the
	// user's own prompt pasted from anywhere): printed through shown.
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, shown(v))
		}
	}
	row("id", req.ID)
	row("state", string(req.Status))
	if req.DeletedAt != nil { // in its undo window: the collector removes it soon
		row("deleted", req.DeletedAt.UTC().Format(time.RFC3339)+" (hidden from lists; removed once the undo window has passed)")
	}
	if req.ErrorCode != "" {
		row("error", req.ErrorCode+": "+req.ErrorMessage)
	}
	row("prompt", p.Prompt)
	row("negative", p.NegativePrompt)
	row("model", p.Model)
	row("resolution", fmt.Sprintf("%s (%s)", p.Resolution(), p.AspectRatio))
	row("seed", fmt.Sprint(p.Seed))
	row("requested", fmt.Sprintf("%s by %s (%s ago)", req.CreatedAt.Local().Format(time.DateTime), req.RequestedBy, age(now, req.CreatedAt)))
	if req.SentAt != nil {
		row("accepted", req.SentAt.Local().Format(time.DateTime))
	}
	if req.CompletedAt != nil {
		row("finished", req.CompletedAt.Local().Format(time.DateTime))
	}
	row("send attempts", fmt.Sprint(req.SendAttempts))
	row("n8n execution", req.ExecutionID)
	row("retry of", req.RetryOf)
	sync := string(req.SyncState)
	if req.OdooID > 0 {
		sync += fmt.Sprintf(" (Odoo record %d)", req.OdooID)
	}
	row("odoo sync", sync)
	for _, d := range v.parked(ctx, req.ID) {
		row("callback", fmt.Sprintf("%d parked after %d failed attempts: %s (see `influencegen doctor`)", d.ID, d.Attempts, d.LastError))
	}
	if runErr != nil {
		row("n8n run", "not found: "+app.TerminalSafe(runErr.Error()))
	}
	if run != nil {
		row("n8n run", run.ID+" "+app.TerminalSafe(run.Status))
		row("failing node", app.TerminalSafe(run.FailedNode))
		row("n8n says", app.TerminalSafe(run.Message))
		row("open in n8n", app.TerminalSafe(run.EditorURL))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(imgs) > 0 {
		fmt.Fprintf(w, "\nimages (%d)\n", len(imgs))
		for _, im := range imgs {
			fmt.Fprintf(w, "  %d. %dx%d %s %s  %s\n", im.Sequence, im.Width, im.Height, shown(im.MimeType), humanBytes(im.Bytes), shown(im.Path))
		}
	}
	fmt.Fprintln(w, "\ntimeline")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range acts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.CreatedAt.Local().Format(time.TimeOnly), shown(a.Kind), shown(a.Message))
	}
	return tw.Flush()
}

// parked lists the callbacks of requestID ("" = all) that failed too often
// to be retried; a store without them, or an error, shows none.
func (v statusView) parked(ctx context.Context, requestID string) []app.Delivery {
	p, ok := v.st.(app.ParkedDeliveries)
	if !ok {
		return nil
	}
	list, err := p.ParkedDeliveries(ctx, requestID, 100)
	if err != nil {
		return nil
	}
	return list
}

// age renders a duration the way a person glances at it: 42s, 5m, 3h, 2d.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// excerpt is the first n characters of a prompt on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
