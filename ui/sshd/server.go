// Package sshd serves the dashboard over SSH to the members of a team
// (issue 16): one host runs the runtime (one database writer, one sender,
// one callback listener, one Odoo syncer) and every session gets its own
// dashboard model, size and colour profile on top of it.
//
// Identity is the SSH key alone, checked against team.toml at each login.
// The server never runs anything but the dashboard: no shell, no exec, no
// port or agent forwarding, no SFTP. It must never write to a session
// before authentication, and never log key material beyond a fingerprint.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/ui"
)

// Options configure the SSH server.
type Options struct {
	Listen      string // "127.0.0.1:23234"; port 0 picks a free one (tests)
	HostKeyPath string
	// Team reads team.toml; it is called at every login.
	Team func() (app.Team, error)
	// ParseKey reads one authorized_keys line (store.ParseSSHKey).
	ParseKey func(line string) (gossh.PublicKey, error)
	// Backend is the host's shared runtime; each session gets a copy
	// carrying its member and its terminal's environment.
	Backend ui.Backend
	Log     *slog.Logger
	Version string

	MaxSessions int           // default 32
	MaxPerUser  int           // default 4
	IdleTimeout time.Duration // default 30m; the warning comes a minute before (half of it when shorter)
	KeepAlive   time.Duration // default 30s

	// NewModel builds a session's dashboard; nil is ui.New. Tests use it
	// to wrap the real dashboard with a fault.
	NewModel func(ctx context.Context, b ui.Backend) tea.Model
	// AuthFailures per source address per minute before that source is
	// refused outright; default 20 (a client offering many agent keys
	// counts one failure per key).
	AuthFailures int
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 32
	}
	if o.MaxPerUser <= 0 {
		o.MaxPerUser = 4
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 30 * time.Second
	}
	if o.AuthFailures <= 0 {
		o.AuthFailures = 20
	}
	if o.NewModel == nil {
		o.NewModel = func(ctx context.Context, b ui.Backend) tea.Model { return ui.New(ctx, b) }
	}
}

// Server is a running SSH server.
type Server struct {
	opts        Options
	srv         *ssh.Server
	ln          net.Listener
	auth        *authenticator
	limits      *sessionLimits
	fingerprint string
	sessions    sync.WaitGroup
	served      chan struct{}
	closeOnce   sync.Once

	// One feed and one set of shared reads for all sessions (relay.go,
	// sharedreads.go); stopFeed ends the feed's goroutine on Close.
	feed     *hostFeed
	stopFeed context.CancelFunc
}

// Open loads (or makes) the host key and binds the address, so a busy
// port fails here naming it, then serves in the background.
func Open(opts Options) (*Server, error) {
	opts.defaults()
	if opts.Team == nil || opts.ParseKey == nil {
		return nil, errors.New("sshd: Options.Team and Options.ParseKey are required")
	}
	signer, err := LoadOrCreateHostKey(opts.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:        opts,
		limits:      newSessionLimits(opts.MaxSessions, opts.MaxPerUser),
		fingerprint: gossh.FingerprintSHA256(signer.PublicKey()),
		served:      make(chan struct{}),
		auth: &authenticator{team: opts.Team, parse: opts.ParseKey, log: opts.Log,
			limiter: newFailureLimiter(opts.AuthFailures, time.Minute)},
	}
	s.srv = &ssh.Server{
		Version:     "influencegen_" + strings.ReplaceAll(opts.Version, " ", "_"),
		HostSigners: []ssh.Signer{signer},
		Handler:     s.handle,
		// Only public keys: with no password or keyboard-interactive
		// handler, the client is never offered those methods.
		PublicKeyHandler: func(ctx ssh.Context, key ssh.PublicKey) bool {
			return s.auth.allow(ctx.RemoteAddr(), key)
		},
		// nil forwarding callbacks deny port forwarding; no subsystem
		// handlers refuse SFTP; agent forwarding is only a flag we ignore.
		HandshakeTimeout: 30 * time.Second,
		ServerConfigCallback: func(ssh.Context) *gossh.ServerConfig {
			return &gossh.ServerConfig{MaxAuthTries: 6}
		},
		ConnectionFailedCallback: func(conn net.Conn, err error) {
			opts.Log.Debug("ssh: connection failed", "source", hostOf(conn.RemoteAddr()), "err", err)
		},
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, app.Errorf(app.EUNAVAILABLE, "ssh: cannot listen on %s: %v (another program, or another influencegen serve, uses it: set ssh.listen or --ssh-listen)", opts.Listen, err)
	}
	s.ln = ln
	if opts.Backend.Store != nil {
		feedCtx, stop := context.WithCancel(context.Background())
		s.feed, s.stopFeed = newHostFeed(feedCtx, opts.Backend.Bus, newSharedReads(opts.Backend.Store), 250*time.Millisecond, 2, 250*time.Millisecond), stop
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
			opts.Log.Error("ssh: server stopped", "err", err)
		}
	}()
	opts.Log.Info("ssh: listening", "addr", ln.Addr().String(), "host_key", s.fingerprint)
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Fingerprint is the host key's SHA256 fingerprint.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Sessions is the number of dashboards open now.
func (s *Server) Sessions() int { return s.limits.count() }

// Warning names the address when the server is reachable from other
// machines, as the callback listener does.
func (s *Server) Warning() string { return BindWarning(s.Addr()) }

// BindWarning is the warning for a non-loopback SSH address, or "".
func BindWarning(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		return ""
	}
	return fmt.Sprintf("warning: the SSH dashboard listens on %s, reachable from other machines: anyone holding a key listed in team.toml can connect (set ssh.listen = \"127.0.0.1:23234\" to keep it local)", addr)
}

// Close stops accepting, ends every session and waits for them (at most
// a few seconds: a session's dashboard quits when its connection closes).
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.srv.Close()
		if errors.Is(err, ssh.ErrServerClosed) {
			err = nil
		}
		<-s.served
		done := make(chan struct{})
		go func() { s.sessions.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.opts.Log.Warn("ssh: sessions still ending after 5s; stopping anyway")
		}
		if s.stopFeed != nil {
			s.stopFeed()
		}
	})
	return err
}

// handle runs one session: checks, then the dashboard until it quits.
func (s *Server) handle(sess ssh.Session) {
	s.sessions.Add(1)
	defer s.sessions.Done()
	actor, ok := s.auth.lookup(sess.PublicKey())
	end := &sessionEnd{log: s.opts.Log, user: actor.Name}
	defer func() {
		if r := recover(); r != nil {
			end.recovered(r)
			s.finish(sess, end.get(), 1)
		}
	}()
	if !ok {
		// Removed from team.toml between login and session start.
		s.finish(sess, "your key is no longer in this host's team.toml", 1)
		return
	}
	if sess.RawCommand() != "" || sess.Subsystem() != "" {
		s.finish(sess, "this host only serves the InfluenceGen dashboard: connect without a command (ssh -p PORT host)", 1)
		return
	}
	pty, windows, hasPty := sess.Pty()
	if !hasPty {
		s.finish(sess, "the InfluenceGen dashboard needs a terminal: connect without -T and without a command (ssh -p PORT host)", 1)
		return
	}
	release, err := s.limits.acquire(actor.Name)
	if err != nil {
		s.finish(sess, err.Error(), 1)
		return
	}
	// The slot is freed before the client learns the session ended (below,
	// before finish), so reconnecting right after q is never refused as
	// "already has a session open"; the defer covers a panic.
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(release) }
	defer free()
	log := s.opts.Log.With("user", actor.Name, "source", hostOf(sess.RemoteAddr()))
	log.Info("ssh: session started", "term", pty.Term, "width", pty.Window.Width, "height", pty.Window.Height)
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	go s.keepAlive(ctx, sess, log)

	b := s.sessionBackend(actor, sess, pty)
	warn := min(time.Minute, s.opts.IdleTimeout/2)
	model := sessionModel{
		inner: s.opts.NewModel(ctx, b), idle: s.opts.IdleTimeout, warnBefore: warn,
		tick: min(5*time.Second, max(warn/4, 10*time.Millisecond)), now: time.Now, end: end, lastInput: time.Now(),
		frames: &frameCache{}, minFrame: 50 * time.Millisecond, sessions: s.limits.count,
	}
	// 120 fps (Bubble Tea's most; 60 by default) halves the wait between a
	// key's frame and its flush; frames for outside events stay capped by
	// frameGap, and an unchanged frame costs one string comparison.
	opts := append(bm.MakeOptions(sess), tea.WithContext(ctx), tea.WithoutSignalHandler(), tea.WithFPS(120))
	program := tea.NewProgram(model, opts...)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case w, ok := <-windows:
				if !ok {
					return
				}
				program.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
			}
		}
	}()
	_, runErr := program.Run()
	program.Kill()
	free()
	reason := end.get()
	switch {
	case reason != "":
		log.Info("ssh: session ended", "reason", reason)
		s.finish(sess, reason, 1)
	case runErr != nil && ctx.Err() == nil && !errors.Is(runErr, tea.ErrProgramKilled):
		log.Error("ssh: dashboard stopped", "err", runErr)
		s.finish(sess, "the dashboard stopped: "+runErr.Error(), 1)
	default:
		log.Info("ssh: session ended")
		s.finish(sess, "", 0)
	}
}

// finish prints a last line (if any) and ends the session.
func (s *Server) finish(sess ssh.Session, msg string, code int) {
	if msg != "" {
		_, _ = fmt.Fprintf(sess.Stderr(), "influencegen: %s\r\n", msg)
	}
	_ = sess.Exit(code)
	_ = sess.Close()
}

// sessionBackend is the shared runtime seen by one member: their name on
// every action, their terminal's environment, and no server-side viewer
// (o would open the picture on the host, not on the member's screen).
func (s *Server) sessionBackend(actor app.Actor, sess ssh.Session, pty ssh.Pty) ui.Backend {
	b := s.opts.Backend
	b.User = actor
	if s.feed != nil {
		// The sessions read through the host's shared reads and hear the
		// host's events through its feed, all at the same moments.
		b.Store, b.Bus = s.feed.reads, s.feed.bus
	}
	env := map[string]string{}
	for _, kv := range sess.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	env["TERM"] = pty.Term
	b.Getenv = func(k string) string { return env[k] }
	b.OpenImage = func(context.Context, string) error {
		return app.Errorf(app.EUNAVAILABLE, "opening images in a viewer works only on the host itself; the picture shows inline where your terminal supports it")
	}
	return b
}

// keepAlive probes the client; a connection that stops answering (a laptop
// closed without logging out) is closed, freeing its session slot.
func (s *Server) keepAlive(ctx context.Context, sess ssh.Session, log *slog.Logger) {
	conn, ok := sess.Context().Value(ssh.ContextKeyConn).(gossh.Conn)
	if !ok {
		return
	}
	t := time.NewTicker(s.opts.KeepAlive)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		replied := make(chan error, 1)
		go func() {
			_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
			replied <- err
		}()
		select {
		case <-ctx.Done():
			return
		case err := <-replied:
			if err != nil {
				return // the connection is gone already
			}
			missed = 0
		case <-time.After(s.opts.KeepAlive):
			if missed++; missed >= 3 {
				log.Info("ssh: client stopped answering keep-alives; closing its connection")
				_ = conn.Close()
				return
			}
		}
	}
}
