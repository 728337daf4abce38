package cli

import (
	"fmt"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/export"
	"github.com/spf13/cobra"
)

func init() { register(newExportCmd) }

func newExportCmd(env *Env) *cobra.Command {
	var (
		dir, batchID, requestRef    string
		approved, favorites         bool
		contactSheet, force, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "export --to DIR [--approved|--favorites|--batch ID|--request ID]",
		Short: "Copy chosen images to a folder with readable names, a manifest.json and an optional contact sheet",
		Long: `Copies the selected images (all of them without a filter) to DIR as
<date>_<prompt-slug>_<seed>.<ext> (the request's date in UTC; the slug is
lower-case ASCII, at most 40 characters; a repeated name gets -2, -3, …),
checks each copy against its sha256, and writes manifest.json listing every
parameter, the sha256 and the approval of each file. --contact-sheet adds
contact-sheet.png, a grid of thumbnails with their names and seeds.
Nothing is written if a target file already exists, unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if dir == "" {
				return usageError{fmt.Errorf("--to DIR is required: the folder to export into")}
			}
			if countTrue(approved, favorites, batchID != "", requestRef != "") > 1 {
				return usageError{fmt.Errorf("give at most one of --approved, --favorites, --batch and --request")}
			}
			st, err := env.Store(ctx)
			if err != nil {
				return err
			}
			q := app.ImageQuery{Favorites: favorites, BatchID: batchID}
			if approved {
				q.Approval = app.ApprovalApproved
			}
			if requestRef != "" {
				req, err := st.FindRequest(ctx, requestRef)
				if err != nil {
					return err
				}
				q.RequestID = req.ID
			}
			res, err := export.Run(ctx, st, export.Options{Dir: dir, Query: q, ContactSheet: contactSheet, Force: force})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, res)
			}
			for _, f := range res.Images {
				fmt.Fprintf(env.Stdout, "%d\t%s\n", f.ImageID, shown(f.File))
			}
			fmt.Fprintf(env.Stdout, "exported %d image(s) to %s (manifest: %s", len(res.Images), shown(res.Dir), export.ManifestName)
			if res.ContactSheet != "" {
				fmt.Fprintf(env.Stdout, ", contact sheet: %s", export.ContactSheetName)
			}
			fmt.Fprintln(env.Stdout, ")")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "to", "", "export into `DIR` (created if missing)")
	f.BoolVar(&approved, "approved", false, "only approved images")
	f.BoolVar(&favorites, "favorites", false, "only starred images")
	f.StringVar(&batchID, "batch", "", "only the images of batch `ID`")
	f.StringVar(&requestRef, "request", "", "only the images of request `ID` (id, unique prefix or Odoo record id)")
	f.BoolVar(&contactSheet, "contact-sheet", false, "also write "+export.ContactSheetName)
	f.BoolVar(&force, "force", false, "overwrite files already in DIR")
	f.BoolVar(&asJSON, "json", false, `print {"dir","images":[…],"manifest","contact_sheet"}`)
	return cmd
}
