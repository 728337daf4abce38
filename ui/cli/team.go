package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/influencegen/influencegen/app"
)

func init() { register(newTeamCmd) }

func newTeamCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Manage who may use the dashboard over SSH (team.toml)",
		Long: `team edits team.toml, beside config.toml: the people who may connect to
'influencegen serve --ssh', each with a role and one or more SSH public keys.
staff compose, act on their own requests and see everyone's; admin also
opens the admin screen and acts on anyone's request. Changes apply to the
next connection without restarting serve. You may also edit the file by hand.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTeamAddCmd(env), newTeamListCmd(env), newTeamRemoveCmd(env))
	return cmd
}

// teamPath resolves team.toml and checks the wiring.
func teamPath(env *Env) (string, SSHWiring, error) {
	w := env.Wiring.SSH
	if w.TeamFile == nil || w.LoadTeam == nil {
		return "", w, app.Errorf(app.EINTERNAL, "this build has no team file wired (cli.Wiring.SSH)")
	}
	paths, err := env.Paths()
	if err != nil {
		return "", w, err
	}
	return w.TeamFile(paths), w, nil
}

func newTeamAddCmd(env *Env) *cobra.Command {
	var role, keyLine, keyFile string
	cmd := &cobra.Command{
		Use:   "add NAME --role staff|admin (--key \"ssh-ed25519 AAAA…\" | --key-file FILE)",
		Short: "Add a person with their SSH public key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, w, err := teamPath(env)
			if err != nil {
				return err
			}
			name := args[0]
			if err := app.CheckUserName(name); err != nil {
				return err
			}
			r, err := app.ParseRole(role)
			if err != nil {
				return Usagef("--role: %s", app.ErrorMessage(err))
			}
			keys, err := readTeamKeys(keyLine, keyFile)
			if err != nil {
				return err
			}
			var fps []string
			for _, k := range keys {
				fp, err := w.KeyFingerprint(k)
				if err != nil {
					return err
				}
				fps = append(fps, fp)
			}
			if err := w.AddUser(path, app.TeamUser{Name: name, Role: r, Keys: keys}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "added %s (%s) with key %s to %s\n", name, r, strings.Join(fps, ", "), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "staff", "`ROLE`: staff or admin")
	cmd.Flags().StringVar(&keyLine, "key", "", "the public key `LINE`, as in ~/.ssh/id_ed25519.pub")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "read the public key(s) from `FILE` (one per line, e.g. ~/.ssh/id_ed25519.pub)")
	return cmd
}

// readTeamKeys takes exactly one of --key and --key-file. A file may hold
// several keys (an authorized_keys file); comments and blank lines are skipped.
func readTeamKeys(keyLine, keyFile string) ([]string, error) {
	switch {
	case keyLine != "" && keyFile != "":
		return nil, Usagef("give --key or --key-file, not both")
	case keyLine != "":
		return []string{strings.TrimSpace(keyLine)}, nil
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, app.Errorf(app.EINVALID, "--key-file: %v", err)
		}
		var keys []string
		for line := range strings.SplitSeq(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
		if len(keys) == 0 {
			return nil, app.Errorf(app.EINVALID, "--key-file %s holds no public key", keyFile)
		}
		return keys, nil
	}
	return nil, Usagef("give the person's public key: --key \"ssh-ed25519 AAAA… name@host\" or --key-file FILE")
}

// teamMember is one row of team list: fingerprints, never the keys.
type teamMember struct {
	Name         string   `json:"name"`
	Role         app.Role `json:"role"`
	Fingerprints []string `json:"fingerprints"`
}

func newTeamListCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the people in team.toml with their roles and key fingerprints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, w, err := teamPath(env)
			if err != nil {
				return err
			}
			team, err := w.LoadTeam(path)
			if err != nil {
				return err
			}
			members := []teamMember{}
			for _, u := range team.Users {
				m := teamMember{Name: u.Name, Role: u.Role, Fingerprints: []string{}}
				for _, k := range u.Keys {
					if fp, err := w.KeyFingerprint(k); err == nil {
						m.Fingerprints = append(m.Fingerprints, fp)
					}
				}
				members = append(members, m)
			}
			if asJSON {
				return writeJSON(env.Stdout, map[string]any{"file": path, "users": members})
			}
			if len(members) == 0 {
				fmt.Fprintf(env.Stdout, "nobody yet in %s: influencegen team add NAME --role admin --key-file ~/.ssh/id_ed25519.pub\n", path)
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tKEYS")
			for _, m := range members {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, m.Role, strings.Join(m.Fingerprints, " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func newTeamRemoveCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a person: their keys stop working at their next connection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, w, err := teamPath(env)
			if err != nil {
				return err
			}
			if err := w.RemoveUser(path, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "removed %s from %s (open sessions continue until they end)\n", args[0], path)
			return nil
		},
	}
}
