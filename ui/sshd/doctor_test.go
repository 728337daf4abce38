package sshd

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

func TestDoctorChecksTheTeamHost(t *testing.T) {
	r := newRig(t, nil)
	paths := app.Paths{ConfigFile: filepath.Join(filepath.Dir(r.teamPath), "config.toml"), DataDir: filepath.Dir(r.srv.opts.HostKeyPath)}
	cfg := app.DefaultConfig()
	cfg.SSH.Enabled = true
	check := func(name string) app.Check {
		t.Helper()
		for _, c := range DoctorChecks(context.Background(), DoctorOptions{Config: cfg, Paths: paths, TeamFile: r.teamPath, LoadTeam: store.LoadTeam}) {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no %q check", name)
		return app.Check{}
	}

	if c := check("team.toml"); c.State != app.CheckFail || !strings.Contains(c.Detail, "lists no users") {
		t.Errorf("empty team: %+v", c)
	}
	r.addUser("ola", app.RoleStaff)
	if c := check("team.toml"); c.State != app.CheckFail || !strings.Contains(c.Detail, "no admin") {
		t.Errorf("team without an admin: %+v", c)
	}
	r.addUser("mia", app.RoleAdmin)
	if c := check("team.toml"); c.State != app.CheckOK || c.Detail != "2 user(s), 1 admin(s)" {
		t.Errorf("team with an admin: %+v", c)
	}
	if c := check("ssh host key"); c.State != app.CheckOK || !strings.HasPrefix(c.Detail, r.srv.Fingerprint()) {
		t.Errorf("host key: %+v, want the server's fingerprint %s", c, r.srv.Fingerprint())
	}
	cfg.SSH.Listen = r.srv.Addr()
	if c := check("ssh port"); c.State != app.CheckOK || !strings.Contains(c.Detail, "served by a running influencegen") {
		t.Errorf("port held by our server: %+v", c)
	}
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() { // a program that is not us: accepts and says nothing
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg.SSH.Listen = other.Addr().String()
	if c := check("ssh port"); c.State != app.CheckFail || !strings.Contains(c.Detail, "in use by another program") {
		t.Errorf("port held by another program: %+v", c)
	}
	cfg.SSH.Enabled = false
	if cs := DoctorChecks(context.Background(), DoctorOptions{Config: cfg, Paths: paths, TeamFile: filepath.Join(t.TempDir(), "none.toml"), LoadTeam: store.LoadTeam}); len(cs) != 1 || cs[0].State != app.CheckSkip {
		t.Errorf("host off without team.toml: %+v, want one skipped line", cs)
	}
}
