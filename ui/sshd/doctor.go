package sshd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

// DoctorOptions is what the SSH checks read.
type DoctorOptions struct {
	Config   app.Config
	Paths    app.Paths
	TeamFile string
	LoadTeam func(path string) (app.Team, error)
}

// HostKeyPath is where serve --ssh keeps its host key.
func HostKeyPath(paths app.Paths) string { return filepath.Join(paths.DataDir, HostKeyName) }

// DoctorChecks checks the team host: the port (free, or answered by a
// running influencegen), the host key, team.toml and its admins. With the
// host off and no team.toml it reports one skipped line.
func DoctorChecks(ctx context.Context, o DoctorOptions) []app.Check {
	_, statErr := os.Stat(o.TeamFile)
	if !o.Config.SSH.Enabled && statErr != nil {
		return []app.Check{app.NewCheck("ssh", app.CheckSkip, "team host off (serve --ssh, or ssh.enabled = true, serves the dashboard over SSH)", "")}
	}
	return []app.Check{portCheck(ctx, o.Config.SSH.Listen), hostKeyCheck(HostKeyPath(o.Paths)), teamCheck(o)}
}

func portCheck(ctx context.Context, addr string) app.Check {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		detail := addr + " is free"
		if w := BindWarning(addr); w != "" {
			return app.NewCheck("ssh port", app.CheckWarn, detail+"; "+w, "")
		}
		return app.NewCheck("ssh port", app.CheckOK, detail, "")
	}
	// Busy: ours if it answers with our SSH version string.
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, derr := d.DialContext(ctx, "tcp", addr)
	if derr == nil {
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		if strings.HasPrefix(line, "SSH-2.0-influencegen") {
			return app.NewCheck("ssh port", app.CheckOK, addr+" is served by a running influencegen serve --ssh", "")
		}
	}
	return app.NewCheck("ssh port", app.CheckFail, fmt.Sprintf("%s is in use by another program: %v", addr, err),
		"stop that program, or choose another address: influencegen config set ssh.listen 127.0.0.1:23235")
}

func hostKeyCheck(path string) app.Check {
	if _, err := os.Stat(path); err != nil {
		return app.NewCheck("ssh host key", app.CheckWarn, "no host key yet at "+path, "serve --ssh makes one at its first start and prints its fingerprint")
	}
	fp, err := HostKeyFingerprint(path)
	if err != nil {
		return app.NewCheck("ssh host key", app.CheckFail, err.Error(), "fix the file's owner and mode (chmod 600), or move it away to make a new one")
	}
	return app.NewCheck("ssh host key", app.CheckOK, fp+" (users see this on their first connect)", "")
}

func teamCheck(o DoctorOptions) app.Check {
	team, err := o.LoadTeam(o.TeamFile)
	if err != nil {
		return app.NewCheck("team.toml", app.CheckFail, app.ErrorMessage(err), "fix the line named above; until then every SSH login is refused")
	}
	if len(team.Users) == 0 {
		return app.NewCheck("team.toml", app.CheckFail, "nobody can connect: "+o.TeamFile+" lists no users",
			"influencegen team add NAME --role admin --key-file ~/.ssh/id_ed25519.pub")
	}
	if team.Admins() == 0 {
		return app.NewCheck("team.toml", app.CheckFail, fmt.Sprintf("%d user(s), no admin: nobody can rotate the callback token or fix secrets over SSH", len(team.Users)),
			"add one: influencegen team add NAME --role admin --key-file FILE")
	}
	return app.NewCheck("team.toml", app.CheckOK, fmt.Sprintf("%d user(s), %d admin(s)", len(team.Users), team.Admins()), "")
}
