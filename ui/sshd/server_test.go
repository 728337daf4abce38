package sshd

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui"
)

func TestOnlyKeysInTeamTomlGetIn(t *testing.T) {
	r := newRig(t, nil)
	mia := r.addUser("mia", app.RoleStaff)
	stranger := newSigner(t)

	if _, err := r.dial(stranger); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: err = %v, want refused at authentication", err)
	}
	c := r.mustDial(mia)
	tm := r.openTerminal(c, 100, 30)
	tm.waitFor("InfluenceGen")

	// A password is never offered as a method.
	_, err := gossh.Dial("tcp", r.srv.Addr(), &gossh.ClientConfig{User: "mia", Auth: []gossh.AuthMethod{gossh.Password("mia")},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "attempted methods [none]") {
		t.Fatalf("password login: err = %v, want refused without trying a password", err)
	}
}

func TestTeamEditsApplyToTheNextLoginWithoutARestart(t *testing.T) {
	r := newRig(t, nil)
	r.addUser("mia", app.RoleAdmin)
	ola := newSigner(t)
	if _, err := r.dial(ola); err == nil {
		t.Fatal("ola got in before being added")
	}
	if err := store.AddTeamUser(r.teamPath, app.TeamUser{Name: "ola", Role: app.RoleStaff, Keys: []string{authorizedLine(ola, "ola@desk")}}); err != nil {
		t.Fatal(err)
	}
	c, err := r.dial(ola)
	if err != nil {
		t.Fatalf("ola after being added: %v", err)
	}
	c.Close()
	if err := store.RemoveTeamUser(r.teamPath, "ola"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dial(ola); err == nil {
		t.Fatal("ola still got in after being removed")
	}
	// A broken team file refuses everyone rather than guess.
	if err := os.WriteFile(r.teamPath, []byte("[[user]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.dial(ola); err == nil {
		t.Fatal("a broken team.toml let someone in")
	}
}

func TestWithoutAPtyTheSessionGetsAMessageAndEnds(t *testing.T) {
	r := newRig(t, nil)
	c := r.mustDial(r.addUser("mia", app.RoleStaff))
	tests := []struct {
		name string
		run  func(*gossh.Session) error
		want string
	}{
		{"a shell without a terminal (ssh -T)", func(s *gossh.Session) error { return s.Shell() }, "needs a terminal"},
		{"a command", func(s *gossh.Session) error { return s.Start("cat /etc/passwd") }, "only serves the InfluenceGen dashboard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			var out strings.Builder
			sess.Stdout, sess.Stderr = &out, &out
			if err := tt.run(sess); err != nil {
				t.Fatal(err)
			}
			err = sess.Wait()
			var exit *gossh.ExitError
			if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("err = %v, output %q; want exit 1 saying %q", err, out.String(), tt.want)
			}
		})
	}
	sess, _ := c.NewSession()
	defer sess.Close()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was accepted")
	}
	if _, err := c.Dial("tcp", r.srv.Addr()); err == nil {
		t.Error("port forwarding was accepted")
	}
}

func TestTheDashboardFollowsTheClientsWindowSize(t *testing.T) {
	r := newRig(t, nil)
	tm := r.openTerminal(r.mustDial(r.addUser("mia", app.RoleStaff)), 100, 30)
	tm.waitFor("InfluenceGen")
	tm.mark()
	if err := tm.sess.WindowChange(12, 50); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("this one is 50×12")
	tm.mark()
	if err := tm.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("No requests yet")
}

func TestTwoMembersSeeEachOthersRequestsLive(t *testing.T) {
	r := newRig(t, nil)
	mia := r.openTerminal(r.mustDial(r.addUser("mia", app.RoleStaff)), 160, 48)
	ola := r.openTerminal(r.mustDial(r.addUser("ola", app.RoleStaff)), 120, 40)
	mia.waitFor("No requests yet")
	ola.waitFor("No requests yet")

	mia.send("n")
	mia.waitFor("New request")
	mia.send("zebracorn")
	mia.send("\x13") // ctrl+s
	// The renderer redraws only what changed, so a status line may never
	// appear whole in the stream; the other member's list shows the row.
	ola.waitFor("zebracorn")

	page, err := r.db.ListRequests(context.Background(), app.ListQuery{})
	if err != nil || len(page.Requests) != 1 {
		t.Fatalf("requests = %v, %v", page.Requests, err)
	}
	if got := page.Requests[0].RequestedBy; got != "mia" {
		t.Fatalf("requested_by = %q, want the team.toml name mia", got)
	}

	// ola is staff: mia's request is not hers to cancel.
	ola.mark()
	ola.send("x") // acts at once (u would undo it): the service refuses
	ola.waitFor("requested by mia")
	// mine/all: ola has none of her own.
	ola.mark()
	// A message too long for the footer opens a box that the next key
	// closes (and does nothing else): j closes it, or moves nowhere.
	ola.send("j")
	ola.send("m")
	ola.waitFor("mine only")
	if got, _ := r.db.GetRequest(context.Background(), page.Requests[0].ID); got.Status == app.StatusCancelled {
		t.Fatal("staff cancelled someone else's request")
	}
}

func TestStaffCannotOpenTheAdminScreenAndAdminsCan(t *testing.T) {
	r := newRig(t, nil)
	staff := r.openTerminal(r.mustDial(r.addUser("ola", app.RoleStaff)), 120, 40)
	admin := r.openTerminal(r.mustDial(r.addUser("mia", app.RoleAdmin)), 120, 40)
	staff.waitFor("No requests yet")
	admin.waitFor("No requests yet")
	// Staff are not offered the admin key, and pressing it does nothing:
	// the next key still acts on the list (l opens the activity view).
	staff.send("a")
	staff.send("l")
	staff.waitFor("recent events, newest first")
	if strings.Contains(staff.screen(), "values are never shown") {
		t.Fatal("staff saw the secrets panel")
	}
	admin.send("a")
	admin.waitFor("values are never shown")
	// The admin rotates the token (typing the word, as the confirm asks);
	// the activity log says who.
	admin.send("t")
	admin.send("rotate")
	admin.send("\r")
	admin.waitFor("New callback token")
	acts, err := r.db.ListActivity(context.Background(), app.ActivityQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range acts {
		found = found || (a.Kind == app.ActivityTokenRotated && strings.Contains(a.Message, "by mia"))
	}
	if !found {
		t.Fatalf("no token_rotated activity naming mia in %+v", acts)
	}
}

// panicOnBang is the real dashboard with one fault: "!" panics in Update.
type panicOnBang struct{ tea.Model }

func (p panicOnBang) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "!" {
		panic("injected fault")
	}
	next, cmd := p.Model.Update(msg)
	return panicOnBang{next}, cmd
}

func TestAPanicEndsOnlyThatSession(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.NewModel = func(ctx context.Context, b ui.Backend) tea.Model { return panicOnBang{ui.New(ctx, b)} }
	})
	miaKey := r.addUser("mia", app.RoleStaff)
	crash := r.openTerminal(r.mustDial(miaKey), 100, 30)
	other := r.openTerminal(r.mustDial(r.addUser("ola", app.RoleStaff)), 100, 30)
	crash.waitFor("No requests yet")
	other.waitFor("No requests yet")

	crash.send("!")
	if err := crash.ended(); err == nil {
		t.Fatal("the crashed session exited 0")
	}
	if !strings.Contains(crash.screen(), "internal error") {
		t.Fatalf("crashed session output lacks the explanation:\n%s", crash.screen())
	}
	other.send("n")
	other.waitFor("New request")
	again := r.openTerminal(r.mustDial(miaKey), 100, 30)
	again.waitFor("No requests yet")
}

func TestSessionLimits(t *testing.T) {
	r := newRig(t, func(o *Options) { o.MaxSessions, o.MaxPerUser = 2, 1 })
	mia, ola, kim := r.addUser("mia", app.RoleStaff), r.addUser("ola", app.RoleStaff), r.addUser("kim", app.RoleStaff)
	first := r.openTerminal(r.mustDial(mia), 100, 30)
	first.waitFor("No requests yet")

	second := r.openTerminal(r.mustDial(mia), 100, 30)
	if err := second.ended(); err == nil || !strings.Contains(second.screen(), "mia already has 1 sessions open") {
		t.Fatalf("second session of mia: %v\n%s", err, second.screen())
	}
	r.openTerminal(r.mustDial(ola), 100, 30).waitFor("No requests yet")
	third := r.openTerminal(r.mustDial(kim), 100, 30)
	if err := third.ended(); err == nil || !strings.Contains(third.screen(), "the host is full (2 sessions") {
		t.Fatalf("kim on a full host: %v\n%s", err, third.screen())
	}
	// q ends only mia's own session and frees her slot.
	first.send("q")
	if err := first.ended(); err != nil {
		t.Fatalf("q: %v", err)
	}
	r.openTerminal(r.mustDial(mia), 100, 30).waitFor("No requests yet")
}

func TestAnIdleSessionIsWarnedThenEnded(t *testing.T) {
	r := newRig(t, func(o *Options) { o.IdleTimeout = 600 * time.Millisecond })
	tm := r.openTerminal(r.mustDial(r.addUser("mia", app.RoleStaff)), 100, 30)
	tm.waitFor("idle: this session ends")
	if err := tm.ended(); err == nil || !strings.Contains(tm.screen(), "session ended (ssh.idle_timeout)") {
		t.Fatalf("idle session: %v\n%s", err, tm.screen())
	}
}

func TestRepeatedFailuresFromOneSourceAreRefusedOutright(t *testing.T) {
	r := newRig(t, func(o *Options) { o.AuthFailures = 3 })
	mia := r.addUser("mia", app.RoleStaff)
	for range 3 {
		if _, err := r.dial(newSigner(t)); err == nil {
			t.Fatal("an unknown key got in")
		}
	}
	// Past the limit even a valid key from that source waits for the window.
	if _, err := r.dial(mia); err == nil {
		t.Fatal("a valid key got in from a source over the failure limit")
	}
}

func TestTheHostKeyIsMadeOnceWithMode0600(t *testing.T) {
	r := newRig(t, nil)
	path := r.srv.opts.HostKeyPath
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v, want mode 0600", st, err)
	}
	fp, err := HostKeyFingerprint(path)
	if err != nil || fp != r.srv.Fingerprint() || !strings.HasPrefix(fp, "SHA256:") {
		t.Fatalf("fingerprint %q (%v), server says %q", fp, err, r.srv.Fingerprint())
	}
	// The client sees the same key.
	var seen string
	c, err := gossh.Dial("tcp", r.srv.Addr(), &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(newSigner(t))},
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error { seen = gossh.FingerprintSHA256(key); return nil }})
	if err == nil {
		c.Close()
	}
	if seen != fp {
		t.Fatalf("client saw host key %q, want %q", seen, fp)
	}
}
