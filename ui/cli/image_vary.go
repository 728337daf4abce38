package cli

import (
	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

// newImageVaryCmd builds `image vary` and `image reroll`: "more like
// this" from the command line, sent at once like `generate`.
func newImageVaryCmd(env *Env, reroll bool) *cobra.Command {
	var asJSON bool
	use, short := "vary IMAGE", "More like this: 4 requests with the image's parameters and the seeds after its seed"
	if reroll {
		use, short = "reroll IMAGE", "More like this: 4 requests with the image's parameters and fresh random seeds"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := newService(ctx, env)
			if err != nil {
				return err
			}
			im, err := svc.Store.FindImage(ctx, args[0])
			if err != nil {
				return err
			}
			var reqs []app.Request
			if reroll {
				reqs, err = svc.Reroll(ctx, im.ID)
			} else {
				reqs, err = svc.Vary(ctx, im.ID)
			}
			if err != nil {
				return err
			}
			ids := make([]string, len(reqs))
			for i, r := range reqs {
				ids[i] = r.ID
			}
			sent, sendErr := sendNow(ctx, svc, ids)
			return reportSent(env.Stdout, sent, sendErr, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print [{"id","status","error_code","error_message"}]`)
	return cmd
}
