package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/ui"
	"github.com/influencegen/influencegen/ui/cli"
)

// driver runs the dashboard's Update loop without a terminal: each Cmd
// runs with a deadline (one that blocks cannot hang the test) and what it
// answers goes back into Update, except timer ticks: the Odoo poll's are
// kept for the test to send when it chooses, the others dropped.
type driver struct {
	t     *testing.T
	m     tea.Model
	polls []tea.Msg
	sent  int
}

func (d *driver) send(msg tea.Msg) {
	next, cmd := d.m.Update(msg)
	d.m = next
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	for _, msg := range d.results(cmd) {
		d.send(msg)
	}
}

func (d *driver) results(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(10 * time.Second):
		return nil
	}
	switch msg := msg.(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, d.results(c)...)
		}
		return out
	}
	switch fmt.Sprintf("%T", msg) {
	case "ui.odooPolledMsg":
		d.polls = append(d.polls, msg)
		return nil
	case "ui.pollTickedMsg", "spinner.TickMsg":
		return nil // the other timers re-arm for ever; this test does not need them
	}
	if d.sent++; d.sent > 500 {
		d.t.Fatal("the dashboard keeps answering itself: more than 500 messages")
	}
	return []tea.Msg{msg}
}

func (d *driver) screen() string { return ansi.Strip(d.m.View().Content) }

// TestTheTeamScopeShowsAnotherMembersRequestWithinOnePoll wires the
// dashboard's team scope as the binary does (newDashboardTeam) against the
// fake Odoo: a request another member makes in Odoo after T was opened is
// on screen after one poll, and the header counts it in the Odoo queue.
func TestTheTeamScopeShowsAnotherMembersRequestWithinOnePoll(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "dash-team")
	t.Setenv("INFLUENCEGEN_ODOO_URL", fake.URL)
	t.Setenv("INFLUENCEGEN_ODOO_DATABASE", fake.Database())
	t.Setenv("INFLUENCEGEN_ODOO_API_KEY", fake.Key())
	t.Setenv("INFLUENCEGEN_ODOO_ACCEPT_REQUESTS", "true")
	t.Setenv("INFLUENCEGEN_ODOO_POLL_INTERVAL", "50ms")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := cli.DefaultEnv(cli.BuildInfo{Version: "test"}, wiring())
	p, err := env.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	team := newDashboardTeam(p.Config, p.Secrets, p.Store, p.Paths, p.Log)
	if team == nil || team.QueueWaiting == nil {
		t.Fatalf("with Odoo configured and accept_requests on, the dashboard gets no team scope or queue count: %+v", team)
	}
	fake.Generate("poster for the spring fair", "Bob", nil)

	d := &driver{t: t, m: ui.New(ctx, ui.Backend{Store: p.Store, Config: p.Config, Profile: "dash-team", Team: team, Clock: app.SystemClock{}})}
	d.send(tea.WindowSizeMsg{Width: 140, Height: 30})
	d.run(d.m.Init())
	d.send(tea.KeyPressMsg{Code: 'T', Text: "T"})
	screen := d.screen()
	if !strings.Contains(screen, "Bob") || !strings.Contains(screen, "poster for the spring fair") {
		t.Fatalf("T should list Bob's request from Odoo:\n%s", screen)
	}

	fake.Generate("banner for the summer sale", "Carol", nil)
	if len(d.polls) != 1 {
		t.Fatalf("the dashboard should keep one poll timer, has %d", len(d.polls))
	}
	poll := d.polls[0]
	d.polls = nil
	d.send(poll) // one poll interval later
	screen = d.screen()
	if !strings.Contains(screen, "Carol") || !strings.Contains(screen, "banner for the summer sale") {
		t.Fatalf("a request made in Odoo should show up within one poll:\n%s", screen)
	}
	if !strings.Contains(screen, "Odoo queue: 2 waiting") {
		t.Fatalf("the header should count the 2 unclaimed Odoo requests:\n%s", screen)
	}
}

// TestWithoutOdooTheDashboardHasNoTeamScope: T then says Odoo is not
// configured (ui tests), because the wiring hands the UI nothing.
func TestWithoutOdooTheDashboardHasNoTeamScope(t *testing.T) {
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "dash-team-off")
	t.Setenv("INFLUENCEGEN_ODOO_URL", "")
	env := cli.DefaultEnv(cli.BuildInfo{Version: "test"}, wiring())
	p, err := env.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if team := newDashboardTeam(p.Config, p.Secrets, p.Store, p.Paths, p.Log); team != nil {
		t.Fatalf("without odoo.url the dashboard got a team scope: %+v", team)
	}
}

// TestSSHSessionsGetTheTeamScopeAndExportIntoTheHostsData: the team host
// is where the team scope matters most, so its sessions are wired like the
// local dashboard (once they were not: T said Odoo was off and E exported
// into the service user's home).
func TestSSHSessionsGetTheTeamScopeAndExportIntoTheHostsData(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "ssh-team")
	t.Setenv("INFLUENCEGEN_ODOO_URL", fake.URL)
	t.Setenv("INFLUENCEGEN_ODOO_DATABASE", fake.Database())
	t.Setenv("INFLUENCEGEN_ODOO_API_KEY", fake.Key())
	env := cli.DefaultEnv(cli.BuildInfo{Version: "test"}, wiring())
	p, err := env.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := sshBackend(env, p, &app.Service{}, idleRuntime{}, nil)
	if b.Team == nil || b.Team.Feed == nil {
		t.Fatalf("an SSH session with Odoo configured got no team scope: %+v", b.Team)
	}
	if want := filepath.Join(p.Paths.DataDir, "exports"); b.ExportDir != want {
		t.Fatalf("SSH sessions export into %q, want the host's data folder %q", b.ExportDir, want)
	}
	if b.Presets == nil {
		t.Fatal("SSH sessions got no presets for ctrl+t")
	}
}

// idleRuntime stands for serve's runtime where only the wiring is checked.
type idleRuntime struct{}

func (idleRuntime) ListenAddr() string                 { return "127.0.0.1:0" }
func (idleRuntime) CallbackURL() string                { return "http://127.0.0.1:0/callback" }
func (idleRuntime) ListenerStatus() app.ListenerStatus { return app.ListenerStatus{} }
func (idleRuntime) Close() error                       { return nil }
