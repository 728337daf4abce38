package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/spf13/cobra"
)

func init() { register(newSecretsCmd) }

func newSecretsCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage secrets in the OS keyring: status, set, get, rotate, delete",
		Long: `Secrets live in the OS keyring (service "influencegen", account "<profile>/<name>").
INFLUENCEGEN_<NAME> and INFLUENCEGEN_<NAME>_FILE win over the keyring, e.g.
INFLUENCEGEN_CALLBACK_TOKEN or INFLUENCEGEN_N8N_API_KEY_FILE=/run/secrets/n8n.

Names: ` + strings.Join(app.SecretNames, ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSecretsStatusCmd(env), newSecretsSetCmd(env), newSecretsGetCmd(env),
		newSecretsRotateCmd(env), newSecretsDeleteCmd(env))
	return cmd
}

// secretEnvVar mirrors DESIGN §2's override names (INFLUENCEGEN_ + the name
// in upper case with underscores); the previous token has none.
func secretEnvVar(name string) string {
	if name == app.SecretCallbackTokenPrevious {
		return ""
	}
	return "INFLUENCEGEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// secretsStatusDoc is `secrets status --json`.
type secretsStatusDoc struct {
	Profile string             `json:"profile"`
	Secrets []app.SecretStatus `json:"secrets"`
}

func newSecretsStatusCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each secret's source and fingerprint, and the previous token's expiry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sec, err := env.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			statuses, statusErr := sec.Status(cmd.Context())
			if statuses == nil {
				return statusErr
			}
			if asJSON {
				if err := writeJSON(env.Stdout, secretsStatusDoc{Profile: env.Profile(), Secrets: statuses}); err != nil {
					return err
				}
				return statusErr
			}
			now := time.Now()
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "NAME\tSOURCE\tFINGERPRINT\tNOTE\n")
			for _, st := range statuses {
				fp := st.Fingerprint
				if fp == "" {
					fp = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st.Name, st.Source, fp, secretNote(st, now))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "profile %s; keyring service \"influencegen\", account \"%s/<name>\"\n", env.Profile(), env.Profile())
			return statusErr
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// secretNote is the last column of `secrets status`: an error, an expiry,
// or how to set a missing secret.
func secretNote(st app.SecretStatus, now time.Time) string {
	switch {
	case st.Error != "":
		// The full message (with its remedy) is printed once below the
		// table; here only what it means for this name.
		what := "keyring unavailable"
		if strings.Contains(st.Error, "did not answer within") {
			what = "keyring timed out"
		} else if !strings.Contains(st.Error, "keyring") {
			return "error: " + st.Error
		}
		if v := secretEnvVar(st.Name); v != "" {
			return what + "; or set " + v + " / " + v + "_FILE"
		}
		return what
	case st.ExpiresAt != nil && st.Expired:
		return fmt.Sprintf("expired %s (no longer accepted)", st.ExpiresAt.UTC().Format(time.RFC3339))
	case st.ExpiresAt != nil:
		return fmt.Sprintf("accepted until %s (%s left)", st.ExpiresAt.UTC().Format(time.RFC3339), st.ExpiresAt.Sub(now).Round(time.Second))
	case st.Name == app.SecretCallbackTokenPrevious && st.Source != app.SourceMissing:
		return "no known expiry: not accepted"
	case st.Source == app.SourceMissing && st.Name == app.SecretCallbackToken:
		return "create with: influencegen secrets rotate callback-token"
	case st.Source == app.SourceMissing && st.Name == app.SecretCallbackTokenPrevious:
		return "exists only after a rotation"
	case st.Source == app.SourceMissing:
		return "set with: influencegen secrets set " + st.Name
	case st.Source == app.SourceEnv:
		return "from " + secretEnvVar(st.Name)
	case st.Source == app.SourceFile:
		return "from " + secretEnvVar(st.Name) + "_FILE"
	}
	return ""
}

func checkSecretName(name string) error {
	for _, n := range app.SecretNames {
		if n == name {
			return nil
		}
	}
	return Usagef("unknown secret %q: use one of %s", name, strings.Join(app.SecretNames, ", "))
}

func newSecretsSetCmd(env *Env) *cobra.Command {
	var pushN8N bool
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret read from stdin (typed without echo on a terminal; never from argv)",
		Example: `  influencegen secrets set n8n-api-key            # prompts, input hidden
  printf %s "$KEY" | influencegen secrets set odoo-api-key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkSecretName(name); err != nil {
				return err
			}
			value, err := readSecretInput(env, name)
			if err != nil {
				return err
			}
			if pushN8N && name != app.SecretN8NAPIKey {
				return Usagef("--push-n8n works for n8n-api-key only (callback-token: `secrets rotate callback-token --push-n8n`)")
			}
			sec, err := env.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			// n8n first: its webhook takes a new key at once and has no
			// grace period, so the local key changes only once n8n has it.
			if pushN8N {
				if err := pushToN8N(cmd.Context(), env, name, value); err != nil {
					return err
				}
			}
			if err := sec.Set(cmd.Context(), name, value); err != nil {
				return err
			}
			where := "the keyring"
			_, src, _ := sec.Get(cmd.Context(), name)
			if src == app.SourceMemory {
				where = "memory (this process only)"
			}
			fmt.Fprintf(env.Stdout, "stored %s in %s (profile %s, fingerprint %s)\n", name, where, env.Profile(), app.Fingerprint(value))
			if src == app.SourceEnv || src == app.SourceFile {
				v := secretEnvVar(name)
				if src == app.SourceFile {
					v += "_FILE"
				}
				fmt.Fprintf(env.Stderr, "note: %s is set and wins over the keyring; unset it to use the stored value\n", v)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&pushN8N, "push-n8n", false, "n8n-api-key only: first write the new key into n8n's credential (needs n8n-admin-key)")
	return cmd
}

func newSecretsGetCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a secret's value (the only command that shows one, besides rotate)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSecretName(args[0]); err != nil {
				return err
			}
			sec, err := env.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			value, _, err := sec.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(env.Stdout, value)
			return err
		},
	}
}

// rotateDoc is `secrets rotate --json`.
type rotateDoc struct {
	Name              string     `json:"name"`
	Token             string     `json:"token"`
	Fingerprint       string     `json:"fingerprint"`
	PreviousExpiresAt *time.Time `json:"previous_expires_at"`
	Grace             string     `json:"grace"`
}

func newSecretsRotateCmd(env *Env) *cobra.Command {
	var (
		grace    time.Duration
		asJSON   bool
		pushOdoo bool
		pushN8N  bool
	)
	cmd := &cobra.Command{
		Use:   "rotate callback-token",
		Short: "Make a new callback token; the old one stays valid for --grace",
		Long: `Makes a new callback token (32 random bytes, base64url) and prints it once.
The old token stays valid as callback-token-previous until the grace period
ends, so n8n keeps working while you paste the new token into its credential.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != app.SecretCallbackToken {
				return Usagef("only callback-token can be rotated (got %q): store other secrets with `influencegen secrets set NAME`", args[0])
			}
			if grace < 0 {
				return Usagef("--grace %s is negative: use 0 to drop the old token at once, or e.g. 15m", grace)
			}
			sec, err := env.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			token, expires, err := sec.RotateCallbackToken(cmd.Context(), grace)
			if err != nil {
				return err
			}
			if asJSON {
				doc := rotateDoc{Name: app.SecretCallbackToken, Token: token, Fingerprint: app.Fingerprint(token), Grace: grace.String()}
				if !expires.IsZero() {
					doc.PreviousExpiresAt = &expires
				}
				if err := writeJSON(env.Stdout, doc); err != nil {
					return err
				}
				return pushRotated(cmd, env, pushOdoo, pushN8N, token)
			}
			fmt.Fprintln(env.Stdout, token)
			if expires.IsZero() {
				fmt.Fprintf(env.Stdout, "no previous token is accepted (first token, or --grace 0); fingerprint %s\n", app.Fingerprint(token))
			} else {
				fmt.Fprintf(env.Stdout, "previous token accepted until %s (grace %s); fingerprint %s\n",
					expires.UTC().Format(time.RFC3339), grace, app.Fingerprint(token))
			}
			if !pushN8N {
				fmt.Fprintln(env.Stderr, "Paste the token into n8n's callback credential (header X-Callback-Token) before the grace ends; it is not shown again.")
			}
			return pushRotated(cmd, env, pushOdoo, pushN8N, token)
		},
	}
	cmd.Flags().DurationVar(&grace, "grace", 15*time.Minute, "how long the previous token stays valid")
	cmd.Flags().BoolVar(&pushOdoo, "push-odoo", false, "also write the new token to Odoo's system parameter influence_gen.n8n_callback_token (needs Odoo admin rights)")
	cmd.Flags().BoolVar(&pushN8N, "push-n8n", false, "also write the new token into n8n's callback credential (needs n8n-admin-key); runs already under way use the old one, which the grace keeps valid")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

// pushRotated pushes a rotated callback token to n8n and/or Odoo. The
// token is already active locally (the old one stays valid for the grace),
// so a failure is reported, not undone.
func pushRotated(cmd *cobra.Command, env *Env, pushOdoo, pushN8N bool, token string) error {
	if pushN8N {
		if err := pushToN8N(cmd.Context(), env, app.SecretCallbackToken, token); err != nil {
			return err
		}
	}
	return pushIfAsked(cmd, env, pushOdoo, token)
}

// pushToN8N PATCHes the secret's n8n credential (value only).
func pushToN8N(ctx context.Context, env *Env, name, value string) error {
	admin, _, err := n8nAdmin(ctx, env, "")
	if err != nil {
		return err
	}
	if err := admin.PushSecret(ctx, name, value); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pushed %s to n8n (fingerprint %s)\n", name, app.Fingerprint(value))
	return nil
}

func newSecretsDeleteCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a secret from the keyring",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSecretName(args[0]); err != nil {
				return err
			}
			sec, err := env.Secrets(cmd.Context())
			if err != nil {
				return err
			}
			if err := sec.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "deleted %s (profile %s)\n", args[0], env.Profile())
			return err
		},
	}
}

// pushIfAsked writes the rotated token to Odoo for --push-odoo. The token
// is already active locally, so a failure here is reported, not undone.
func pushIfAsked(cmd *cobra.Command, env *Env, push bool, token string) error {
	if !push {
		return nil
	}
	if err := pushCallbackToken(cmd.Context(), env, token); err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "pushed to Odoo: ir.config_parameter influence_gen.n8n_callback_token")
	return nil
}
