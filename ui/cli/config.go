package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/BurntSushi/toml"
	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newConfigCmd) }

func newConfigCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show where the config lives, show the effective config, or set one key",
		Long: `Configuration is read from config.toml, then INFLUENCEGEN_<SECTION>_<KEY>
environment variables, then flags (flag > env > file > default).
Secrets never live in the config: use 'influencegen secrets'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigPathCmd(env), newConfigShowCmd(env), newConfigSetCmd(env))
	return cmd
}

func newConfigPathCmd(env *Env) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "path",
		Short: "Print the config file path (--all: every path, --json: as JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := env.Paths()
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(env.Stdout, paths)
			case all:
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				if paths.Home != "" {
					fmt.Fprintf(tw, "home\t%s\n", paths.Home)
				}
				fmt.Fprintf(tw, "config\t%s\ndata\t%s\ndatabase\t%s\nimages\t%s\nlog\t%s\n",
					paths.ConfigFile, paths.DataDir, paths.DB, paths.ImagesDir, paths.LogFile)
				return tw.Flush()
			}
			_, err = fmt.Fprintln(env.Stdout, paths.ConfigFile)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every path as one JSON document")
	cmd.Flags().BoolVar(&all, "all", false, "print every path: config, data, database, images, log")
	return cmd
}

// shownConfig is `config show --json`: the effective config and its file.
type shownConfig struct {
	ConfigFile string     `json:"config_file"`
	Config     app.Config `json:"config"`
}

func newConfigShowCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (file + env + flags); never secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, paths, err := env.Config()
			if err != nil {
				return err
			}
			cfg = redactConfig(cfg)
			if asJSON {
				return writeJSON(env.Stdout, shownConfig{ConfigFile: paths.ConfigFile, Config: cfg})
			}
			fmt.Fprintf(env.Stdout, "# effective configuration: defaults < %s < INFLUENCEGEN_* env < flags\n", paths.ConfigFile)
			fmt.Fprintf(env.Stdout, "# secrets are not config: see `influencegen secrets status`\n\n")
			return toml.NewEncoder(env.Stdout).Encode(cfg)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// redactConfig hides credentials a person may have pasted into a URL.
func redactConfig(cfg app.Config) app.Config {
	cfg.N8N.WebhookURL = redactURL(cfg.N8N.WebhookURL)
	cfg.Callback.PublicURL = redactURL(cfg.Callback.PublicURL)
	cfg.Odoo.URL = redactURL(cfg.Odoo.URL)
	return cfg
}

func newConfigSetCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set one key (section.key) in the config file; lists are comma-separated",
		Example: `  influencegen config set n8n.webhook_url https://n8n.example.com/webhook/influence-gen/generate
  influencegen config set callback.max_body 16MiB
  influencegen config set generation.models sdxl,flux-dev`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := env.Paths()
			if err != nil {
				return err
			}
			if env.Wiring.SetConfig == nil {
				return app.Errorf(app.EINTERNAL, "config set is not wired in this build")
			}
			if err := env.Wiring.SetConfig(paths, args[0], args[1]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "set %s in %s\n", args[0], paths.ConfigFile)
			return err
		},
	}
}
