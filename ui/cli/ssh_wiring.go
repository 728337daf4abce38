package cli

import (
	"context"

	"github.com/influencegen/influencegen/app"
)

// SSHWiring is what the team host needs from main: the SSH server
// (ui/sshd) and team.toml (store), which ui/cli must not import.
type SSHWiring struct {
	// Start opens the SSH dashboard server on the running runtime: every
	// session shares svc and rt.
	Start func(ctx context.Context, env *Env, svc *app.Service, rt Runtime) (SSHHost, error)
	// TeamFile is team.toml's path, beside config.toml.
	TeamFile func(paths app.Paths) string
	LoadTeam func(path string) (app.Team, error)
	// AddUser appends a member, keeping the rest of the file as written.
	AddUser    func(path string, u app.TeamUser) error
	RemoveUser func(path, name string) error
	// KeyFingerprint validates one authorized_keys line and returns its
	// SHA256 fingerprint (what team list shows instead of the key).
	KeyFingerprint func(line string) (string, error)
	// Checks are doctor's SSH lines (port, host key, team.toml, admins).
	Checks func(ctx context.Context, cfg app.Config, paths app.Paths) []app.Check
}

// SSHHost is the running SSH server.
type SSHHost interface {
	Addr() string
	// Fingerprint is the host key's, for users to compare on first connect.
	Fingerprint() string
	// Warning names a non-loopback address, or is "".
	Warning() string
	Close() error
}
