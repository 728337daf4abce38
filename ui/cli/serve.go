package cli

import (
	"context"
	"fmt"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newServeCmd) }

func newServeCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the callback listener and the background workers without the dashboard",
		Long: `Runs what the dashboard runs in the background, headless: the callback
listener n8n posts results to, the sender, the ingest worker that stores
images, the timeout sweeper and the Odoo sync. It prints the listen address
and the callback URL to give n8n, logs to stderr as well as the log file,
and stops cleanly on Ctrl-C or SIGTERM (in-flight work is finished or left
to resume at the next start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), env) },
	}
}

func runServe(ctx context.Context, env *Env) error {
	env.MirrorLogToStderr()
	if env.Wiring.StartRuntime == nil {
		return app.Errorf(app.EINTERNAL, "this build has no callback listener wired (cli.Wiring.StartRuntime is nil)")
	}
	svc, err := NewService(ctx, env, app.NewBus())
	if err != nil {
		return err
	}
	rt, err := env.Wiring.StartRuntime(ctx, env, svc, RuntimeOptions{Workers: true})
	if err != nil {
		return err
	}
	st := rt.ListenerStatus()
	fmt.Fprintf(env.Stdout, "listening on   %s\ncallback URL   %s\ntunnel         %s\n", rt.ListenAddr(), rt.CallbackURL(), st.Tunnel)
	if st.Warning != "" {
		fmt.Fprintln(env.Stderr, st.Warning)
	}
	if st.Exposed != "" {
		fmt.Fprintln(env.Stderr, st.Exposed)
	}
	// The self-check result follows in the log (mirrored to stderr).
	<-ctx.Done() // main cancels it on SIGINT/SIGTERM
	fmt.Fprintln(env.Stderr, "influencegen: stopping…")
	return rt.Close()
}
