package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newImageCmd) }

// imagePushTimeout bounds the Odoo push after a decision: the decision is
// committed and queued before it, so a slow or absent Odoo only delays it.
const imagePushTimeout = 8 * time.Second

func newImageCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "List images and pick the keepers: favourite, approve, reject",
		Long: `IMAGE is an image id (see ` + "`influencegen image list`" + `) or a unique prefix
(4+ hex digits) of its sha256. A decision is recorded locally at once, with
your name and the time, and queued for Odoo in the same transaction; the
command then tries to sync it (a few seconds at most). If Odoo is down it
syncs later (serve, the dashboard, or ` + "`influencegen sync now`" + `); the
latest decision by time wins.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newImageListCmd(env),
		newImageDecisionCmd(env, "favorite IMAGE", "Star an image (--off removes the star)", "favorite"),
		newImageDecisionCmd(env, "approve IMAGE", "Approve an image", string(app.ApprovalApproved)),
		newImageDecisionCmd(env, "reject IMAGE", "Reject an image", string(app.ApprovalRejected)),
		newImageDecisionCmd(env, "reset IMAGE", "Set an image back to undecided", string(app.ApprovalUndecided)))
	return cmd
}

// imageRow is one image of `image list --json` and of a decision's --json.
type imageRow struct {
	ID         int64        `json:"id"`
	RequestID  string       `json:"request_id"`
	SHA256     string       `json:"sha256"`
	Seed       *int64       `json:"seed"`
	Width      int          `json:"width"`
	Height     int          `json:"height"`
	Path       string       `json:"path"`
	Favorite   bool         `json:"favorite"`
	Approval   app.Approval `json:"approval"`
	ApprovedBy string       `json:"approved_by,omitempty"`
	ApprovedAt *time.Time   `json:"approved_at,omitempty"`
}

func toImageRow(im app.Image) imageRow {
	a := im.Approval
	if a == "" {
		a = app.ApprovalUndecided
	}
	return imageRow{ID: im.ID, RequestID: im.RequestID, SHA256: im.SHA256, Seed: im.Seed, Width: im.Width,
		Height: im.Height, Path: im.Path, Favorite: im.Favorite, Approval: a, ApprovedBy: im.ApprovedBy, ApprovedAt: im.ApprovedAt}
}

// imageLine is one line of `image list`: id, request, sha256, seed, size,
// path, favourite, approval, tab-separated for scripts.
func imageLine(r imageRow) string {
	seed := "-"
	if r.Seed != nil {
		seed = strconv.FormatInt(*r.Seed, 10)
	}
	fav := "-"
	if r.Favorite {
		fav = "★"
	}
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%dx%d\t%s\t%s\t%s", r.ID, r.RequestID, r.SHA256, seed, r.Width, r.Height,
		shown(r.Path), fav, r.Approval)
}

func newImageListCmd(env *Env) *cobra.Command {
	var (
		requestRef, batchID string
		approved, favorites bool
		rejected, asJSON    bool
		limit               int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List images, newest first: id, request, sha256, seed, size, path, favourite, approval",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if n := countTrue(approved, rejected, favorites); n > 1 {
				return usageError{fmt.Errorf("give at most one of --approved, --rejected and --favorites")}
			}
			st, err := env.Store(ctx)
			if err != nil {
				return err
			}
			q := app.ImageQuery{BatchID: batchID, Favorites: favorites, Limit: limit}
			switch {
			case approved:
				q.Approval = app.ApprovalApproved
			case rejected:
				q.Approval = app.ApprovalRejected
			}
			if requestRef != "" {
				req, err := st.FindRequest(ctx, requestRef)
				if err != nil {
					return err
				}
				q.RequestID = req.ID
			}
			ims, err := st.ListImages(ctx, q)
			if err != nil {
				return err
			}
			rows := make([]imageRow, len(ims))
			for i, im := range ims {
				rows[i] = toImageRow(im)
			}
			if asJSON {
				return writeJSON(env.Stdout, rows)
			}
			for _, r := range rows {
				if _, err := fmt.Fprintln(env.Stdout, imageLine(r)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&requestRef, "request", "", "only the images of request `ID` (id, unique prefix or Odoo record id)")
	f.StringVar(&batchID, "batch", "", "only the images of batch `ID`")
	f.BoolVar(&approved, "approved", false, "only approved images")
	f.BoolVar(&rejected, "rejected", false, "only rejected images")
	f.BoolVar(&favorites, "favorites", false, "only starred images")
	f.IntVar(&limit, "limit", 200, "at most `N` images (1…10000)")
	f.BoolVar(&asJSON, "json", false, `print [{"id","request_id","sha256","seed","width","height","path","favorite","approval",...}]`)
	return cmd
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// newImageDecisionCmd builds favorite/approve/reject/reset; what is
// "favorite" or an approval state.
func newImageDecisionCmd(env *Env, use, short, what string) *cobra.Command {
	var off, asJSON, noPush bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := curationService(ctx, env)
			if err != nil {
				return err
			}
			im, err := svc.Store.FindImage(ctx, args[0])
			if err != nil {
				return err
			}
			if what == "favorite" {
				im, err = svc.SetFavorite(ctx, im.ID, !off)
			} else {
				im, err = svc.SetApproval(ctx, im.ID, app.Approval(what))
			}
			if err != nil {
				return err
			}
			note := ""
			if !noPush {
				note = pushDecision(ctx, env)
			}
			if asJSON {
				return writeJSON(env.Stdout, toImageRow(im))
			}
			fmt.Fprintln(env.Stdout, imageLine(toImageRow(im)))
			if note != "" {
				fmt.Fprintln(env.Stderr, note)
			}
			return nil
		},
	}
	if what == "favorite" {
		cmd.Flags().BoolVar(&off, "off", false, "remove the star instead")
	}
	cmd.Flags().BoolVar(&noPush, "no-sync", false, "only record and queue the decision; do not try Odoo now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the image as `image list --json` does")
	return cmd
}

// curationService is the service for decisions: they send nothing to
// n8n, so it needs no n8n client.
func curationService(ctx context.Context, env *Env) (*app.Service, error) {
	p, err := env.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &app.Service{Config: p.Config, Store: p.Store, Clock: app.SystemClock{}, Log: p.Log, User: currentUser()}, nil
}

// pushDecision tries to sync the outbox now, bounded by imagePushTimeout,
// and says in one line what happened. It never fails the command: the
// decision is already committed and queued.
func pushDecision(ctx context.Context, env *Env) string {
	cfg, _, err := env.Config()
	if err != nil || !cfg.OdooEnabled() || env.Wiring.NewERP == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, imagePushTimeout)
	defer cancel()
	rep, err := syncNow(ctx, env)
	switch {
	case err != nil:
		return "odoo: queued; it syncs later (" + shown(app.ErrorMessage(err)) + ")"
	case rep.Parked > 0:
		return "odoo: parked: " + shown(rep.LastError) + "; fix it, then run `influencegen sync retry`"
	case rep.Retry > 0:
		return "odoo: queued; it syncs later (" + shown(rep.LastError) + ")"
	}
	return ""
}
