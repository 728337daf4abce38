package cli

import (
	"fmt"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newCancelCmd) }

// cancelResult is cancel --json.
type cancelResult struct {
	ID     string     `json:"id"`
	Status app.Status `json:"status"`
}

func newCancelCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Stop waiting for a request (a result that still arrives is kept, the state stays cancelled)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := newService(ctx, env)
			if err != nil {
				return err
			}
			req, err := svc.Store.FindRequest(ctx, args[0])
			if err != nil {
				return err
			}
			out, err := svc.Cancel(ctx, req.ID)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, cancelResult{ID: out.ID, Status: out.Status})
			}
			_, err = fmt.Fprintf(env.Stdout, "%s\t%s\n", out.ID, out.Status)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id","status"}`)
	return cmd
}
