package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/influencegen/influencegen/app"
	"golang.org/x/term"
)

// maxSecretInput bounds what `secrets set` reads from a pipe: far above any
// real secret, far below what could hurt.
const maxSecretInput = 64 << 10

// readSecretInput reads a secret from stdin: on a terminal without echo
// (golang.org/x/term), otherwise the whole input minus one trailing newline
// (what `echo` and editors add). Never from argv: argv is visible to every
// user through ps and lands in shell history.
func readSecretInput(env *Env, name string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(env.Stderr, "%s (input hidden): ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", app.Errorf(app.EUNAVAILABLE, "read %s from the terminal: %v", name, err)
		}
		return nonEmpty(name, string(b))
	}
	if env.Stdin == nil {
		return "", Usagef("%s: no stdin: pipe the value in, e.g. printf %%s \"$VALUE\" | influencegen secrets set %s", name, name)
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, maxSecretInput+1))
	if err != nil {
		return "", app.Errorf(app.EUNAVAILABLE, "read %s from stdin: %v", name, err)
	}
	if len(b) > maxSecretInput {
		return "", Usagef("%s: stdin holds more than %d KiB: give only the secret", name, maxSecretInput>>10)
	}
	v := string(b)
	if s, ok := strings.CutSuffix(v, "\n"); ok {
		v = strings.TrimSuffix(s, "\r")
	}
	return nonEmpty(name, v)
}

func nonEmpty(name, v string) (string, error) {
	if v == "" {
		return "", Usagef("%s: the value is empty: type it at the prompt or pipe it in, e.g. printf %%s \"$VALUE\" | influencegen secrets set %s", name, name)
	}
	return v, nil
}
