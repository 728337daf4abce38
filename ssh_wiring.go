package main

import (
	"context"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui"
	"github.com/influencegen/influencegen/ui/cli"
	"github.com/influencegen/influencegen/ui/sshd"
)

// sshWiring connects the team host (ui/sshd) and team.toml (store) to the
// CLI: serve --ssh, team add|list|remove and doctor's SSH checks.
func sshWiring() cli.SSHWiring {
	return cli.SSHWiring{
		Start:      startSSH,
		TeamFile:   store.TeamFile,
		LoadTeam:   store.LoadTeam,
		AddUser:    store.AddTeamUser,
		RemoveUser: store.RemoveTeamUser,
		KeyFingerprint: func(line string) (string, error) {
			pub, err := store.ParseSSHKey(line)
			if err != nil {
				return "", err
			}
			return gossh.FingerprintSHA256(pub), nil
		},
		Checks: func(ctx context.Context, cfg app.Config, paths app.Paths) []app.Check {
			return sshd.DoctorChecks(ctx, sshd.DoctorOptions{Config: cfg, Paths: paths, TeamFile: store.TeamFile(paths), LoadTeam: store.LoadTeam})
		},
	}
}

// startSSH serves the dashboard over SSH on the runtime serve started:
// every session shares its service, bus, store and listener.
func startSSH(ctx context.Context, env *cli.Env, svc *app.Service, rt cli.Runtime) (cli.SSHHost, error) {
	p, err := env.Open(ctx)
	if err != nil {
		return nil, err
	}
	var erp ui.ERPChecker
	if p.Config.OdooEnabled() {
		if e, err := newERP(p.Config, p.Secrets, p.Store, p.Log); err == nil {
			erp = e
		}
	}
	teamFile := store.TeamFile(p.Paths)
	ssh := p.Config.SSH
	srv, err := sshd.Open(sshd.Options{
		Listen: ssh.Listen, HostKeyPath: sshd.HostKeyPath(p.Paths),
		Team:     func() (app.Team, error) { return store.LoadTeam(teamFile) },
		ParseKey: store.ParseSSHKey,
		Backend:  sshBackend(env, p, svc, rt, erp),
		Log:      p.Log.With("component", "ssh"), Version: env.Build.Version,
		MaxSessions: ssh.MaxSessions, MaxPerUser: ssh.MaxPerUser,
		IdleTimeout: ssh.IdleTimeout.D(), KeepAlive: ssh.KeepAlive.D(),
	})
	if err != nil {
		return nil, err // not a typed-nil *sshd.Server inside the interface
	}
	return srv, nil
}

// sshBackend is what every session's dashboard shares: the runtime serve
// started, one team feed (the host's view of Odoo, issue 15) and one export
// folder in the host's data, never the service user's home.
func sshBackend(env *cli.Env, p cli.Parts, svc *app.Service, rt cli.Runtime, erp ui.ERPChecker) ui.Backend {
	return ui.Backend{
		Store: p.Store, Service: svc, Secrets: p.Secrets, Bus: svc.Bus, Config: p.Config,
		Profile: env.Profile(), Clock: app.SystemClock{}, Log: p.Log.With("component", "dashboard"),
		Listener: rt.ListenerStatus, ERP: erp,
		Presets:   presetBook(p.Paths, p.Config.Defaults()),
		Team:      newDashboardTeam(p.Config, p.Secrets, p.Store, p.Paths, p.Log),
		ExportDir: filepath.Join(p.Paths.DataDir, "exports"),
	}
}
