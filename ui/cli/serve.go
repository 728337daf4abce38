package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newServeCmd) }

func newServeCmd(env *Env) *cobra.Command {
	var withSSH bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the callback listener and the background workers without the dashboard",
		Long: `Runs what the dashboard runs in the background, headless: the callback
listener n8n posts results to, the sender, the ingest worker that stores
images, the timeout sweeper and the Odoo sync. It prints the listen address
and the callback URL to give n8n, logs to stderr as well as the log file,
and stops cleanly on Ctrl-C or SIGTERM (in-flight work is finished or left
to resume at the next start).

With --ssh (or ssh.enabled = true) it also serves the dashboard over SSH
to the people in team.toml (influencegen team add), each in their own
session on the same runtime: ssh -p 23234 HOST.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if withSSH {
				env.Opts.Overrides["ssh.enabled"] = "true"
			}
			return runServe(cmd.Context(), env)
		},
	}
	cmd.Flags().BoolVar(&withSSH, "ssh", false, "also serve the dashboard over SSH to the users in team.toml (config ssh.enabled)")
	ConfigFlag(cmd.Flags(), env, "ssh-listen", "ssh.listen", "`ADDR` the SSH server listens on (default 127.0.0.1:23234)")
	return cmd
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
	var host SSHHost
	if cfg, _, err := env.Config(); err == nil && cfg.SSH.Enabled {
		if host, err = startSSH(ctx, env, svc, rt); err != nil {
			return errors.Join(err, rt.Close())
		}
	}
	// The self-check result follows in the log (mirrored to stderr).
	<-ctx.Done() // main cancels it on SIGINT/SIGTERM
	fmt.Fprintln(env.Stderr, "influencegen: stopping…")
	var sshErr error
	if host != nil {
		sshErr = host.Close() // sessions end before the runtime they use
	}
	return errors.Join(sshErr, rt.Close())
}

// startSSH opens the team host and prints how to reach and check it.
func startSSH(ctx context.Context, env *Env, svc *app.Service, rt Runtime) (SSHHost, error) {
	if env.Wiring.SSH.Start == nil {
		return nil, app.Errorf(app.EINTERNAL, "this build has no SSH server wired (cli.Wiring.SSH.Start is nil)")
	}
	host, err := env.Wiring.SSH.Start(ctx, env, svc, rt)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Stdout, "ssh dashboard  %s\nssh host key   %s\n", host.Addr(), host.Fingerprint())
	if w := host.Warning(); w != "" {
		fmt.Fprintln(env.Stderr, w)
	}
	return host, nil
}
