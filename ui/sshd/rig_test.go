package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
	"github.com/influencegen/influencegen/ui"
)

// rig is a real host: SQLite in a temp dir, the app service and bus, a
// team.toml, and the SSH server on a free loopback port.
type rig struct {
	t        *testing.T
	srv      *Server
	db       *store.DB
	teamPath string
	dbPath   string
}

func newRig(t *testing.T, tune func(*Options)) *rig {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	dbPath := filepath.Join(dir, "influencegen.db")
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bus := app.NewBus()
	cfg := app.DefaultConfig()
	svc := &app.Service{Config: cfg, Store: db, Bus: bus, User: "host-login"}
	secrets := store.NewSecrets("test", db, store.SecretsOptions{Memory: true, Getenv: func(string) string { return "" }})
	r := &rig{t: t, db: db, teamPath: filepath.Join(dir, "team.toml"), dbPath: dbPath}
	opts := Options{
		Listen: "127.0.0.1:0", HostKeyPath: filepath.Join(dir, HostKeyName),
		Team:     func() (app.Team, error) { return store.LoadTeam(r.teamPath) },
		ParseKey: store.ParseSSHKey,
		Backend:  ui.Backend{Store: db, Service: svc, Secrets: secrets, Bus: bus, Config: cfg, Profile: "test"},
		Version:  "test",
	}
	if tune != nil {
		tune(&opts)
	}
	srv, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r.srv = srv
	return r
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authorizedLine(s gossh.Signer, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment
}

// addUser puts a new member with a fresh key into team.toml.
func (r *rig) addUser(name string, role app.Role) gossh.Signer {
	r.t.Helper()
	s := newSigner(r.t)
	if err := store.AddTeamUser(r.teamPath, app.TeamUser{Name: name, Role: role, Keys: []string{authorizedLine(s, name+"@test")}}); err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) dial(signer gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", r.srv.Addr(), &gossh.ClientConfig{
		User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
}

func (r *rig) mustDial(signer gossh.Signer) *gossh.Client {
	r.t.Helper()
	c, err := r.dial(signer)
	if err != nil {
		r.t.Fatalf("dial: %v", err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

// terminal is one interactive session as a client sees it.
type terminal struct {
	t     *testing.T
	sess  *gossh.Session
	stdin io.WriteCloser

	mu      sync.Mutex
	out     strings.Builder
	scanned int // bytes of out already searched by waitFor
	changed chan struct{}
	done    chan error

	// screen, when set (openScreen), models the client's terminal instead
	// of keeping the raw output; see screenShows.
	screenMu sync.Mutex
	vt       *vtScreen
	expect   func(*vtScreen) bool
	shownAt  chan time.Time
}

func (r *rig) openTerminal(c *gossh.Client, w, h int) *terminal {
	r.t.Helper()
	return openTerminal(r.t, c, w, h)
}

// openTerminal starts an interactive session with a pty of w×h.
func openTerminal(t *testing.T, c *gossh.Client, w, h int) *terminal {
	t.Helper()
	return openTerminalWith(t, c, w, h, nil)
}

// openScreen is openTerminal with the client's screen modelled (vtScreen)
// and no raw output kept: the load harness reads what a user would see.
func openScreen(t *testing.T, c *gossh.Client, w, h int) *terminal {
	t.Helper()
	return openTerminalWith(t, c, w, h, newVTScreen(w, h))
}

func openTerminalWith(t *testing.T, c *gossh.Client, w, h int, vt *vtScreen) *terminal {
	r := struct{ t *testing.T }{t}
	r.t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		r.t.Fatal(err)
	}
	tm := &terminal{t: r.t, sess: sess, changed: make(chan struct{}, 1), done: make(chan error, 1), vt: vt, shownAt: make(chan time.Time, 1)}
	tm.stdin, _ = sess.StdinPipe()
	stdout, _ := sess.StdoutPipe()
	stderr, _ := sess.StderrPipe()
	if err := sess.Shell(); err != nil {
		r.t.Fatal(err)
	}
	var readers sync.WaitGroup
	for _, src := range []io.Reader{stdout, stderr} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 && vt != nil && src == stdout {
					tm.onScreen(buf[:n])
				} else if n > 0 {
					tm.mu.Lock()
					tm.out.Write(buf[:n])
					tm.mu.Unlock()
					select {
					case tm.changed <- struct{}{}:
					default:
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	go func() {
		err := sess.Wait()
		readers.Wait()
		tm.done <- err
		close(tm.done)
	}()
	r.t.Cleanup(func() { sess.Close() })
	return tm
}

func (tm *terminal) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.Strip(tm.out.String())
}

// waitFor polls the session's output until it holds want: first in the
// raw bytes (cheap, and where styled text is usually contiguous), then, at
// most every 100ms, with the ANSI sequences stripped.
func (tm *terminal) waitFor(want string) {
	tm.t.Helper()
	if !tm.waitUpTo(want, 20*time.Second) {
		tail := tm.screen()
		tail = tail[max(0, len(tail)-2000):]
		tm.t.Fatalf("no %q on screen within 20s; last output:\n%s", want, tail)
	}
}

// waitUpTo is waitFor that reports a timeout instead of failing.
func (tm *terminal) waitUpTo(want string, limit time.Duration) bool {
	deadline := time.After(limit)
	var lastStrip time.Time
	for {
		tm.mu.Lock()
		raw := tm.out.String()
		from := max(0, tm.scanned-len(want))
		tm.scanned = len(raw)
		tm.mu.Unlock()
		if strings.Contains(raw[from:], want) {
			return true
		}
		if time.Since(lastStrip) > 100*time.Millisecond {
			lastStrip = time.Now()
			if strings.Contains(ansi.Strip(raw), want) {
				return true
			}
		}
		select {
		case <-tm.changed:
		case <-deadline:
			return false
		}
	}
}

// mark forgets what was shown so far, so the next waitFor sees only new output.
func (tm *terminal) mark() {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.out.Reset()
	tm.scanned = 0
}

func (tm *terminal) send(keys string) {
	tm.t.Helper()
	if _, err := tm.stdin.Write([]byte(keys)); err != nil {
		tm.t.Fatalf("send %q: %v", keys, err)
	}
}

// ended waits for the session to end and returns its exit error.
func (tm *terminal) ended() error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(20 * time.Second):
		tm.t.Fatalf("session did not end within 20s; last output:\n%s", tm.screen())
		return nil
	}
}
