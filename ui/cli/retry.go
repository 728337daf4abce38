package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newRetryCmd) }

func newRetryCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Send a request again: the same id after initiation_failed, a new one after failed or timed_out",
		Long: `ID is a full request id, a unique prefix of one, or an Odoo record id.
An initiation_failed request is re-sent with the same id; a failed or
timed_out request is copied into a new request (retry_of = ID) and sent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := newService(ctx, env)
			if err != nil {
				return err
			}
			orig, err := svc.Store.FindRequest(ctx, args[0])
			if err != nil {
				return err
			}
			retry, err := svc.Retry(ctx, orig.ID)
			if err != nil {
				return err
			}
			sent, sendErr := sendNow(ctx, svc, []string{retry.ID})
			if !asJSON && retry.ID != orig.ID {
				fmt.Fprintf(env.Stdout, "retrying %s as a new request:\n", orig.ID)
			}
			return reportSent(env.Stdout, sent, sendErr, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print [{"id","status","error_code","error_message"}]`)
	return cmd
}
