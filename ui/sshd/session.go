package sshd

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// sessionModel wraps one session's dashboard. It adds what only a shared
// host needs, leaving the dashboard itself unchanged: the idle timeout
// with its warning, and a recover so a panic ends this session alone.
type sessionModel struct {
	inner      tea.Model
	idle       time.Duration
	warnBefore time.Duration
	tick       time.Duration
	now        func() time.Time
	end        *sessionEnd

	lastInput time.Time
	warned    bool
	width     int

	// frames caps redraws caused by outside events (callbacks reach every
	// session at once) at one per frameGap; a key always gets a fresh frame.
	frames   *frameCache
	minFrame time.Duration
	// sessions counts the host's open sessions (nil: this one alone).
	sessions func() int
}

// hostFramesPerSecond is how many frames all sessions together draw per
// second for outside events (spinners, callbacks, reloads). Each frame of a
// 160×48 dashboard costs a few milliseconds of CPU to build and diff, and
// 16 sessions at 20 frames a second would take more than one core, leaving
// keys waiting behind other sessions' spinners; the budget keeps that work
// bounded however many members are connected.
const hostFramesPerSecond = 100

// frameGap is how far apart this session's frames for outside events are:
// minFrame, or longer when many sessions share the host's frame budget.
func (m sessionModel) frameGap() time.Duration {
	gap := m.minFrame
	if m.sessions != nil {
		gap = max(gap, time.Duration(m.sessions())*time.Second/hostFramesPerSecond)
	}
	return gap
}

// frameCache is the last rendered dashboard view. It is touched only on
// the program's event loop (Update and View), so it needs no lock.
type frameCache struct {
	view    tea.View
	at      time.Time
	valid   bool
	pending bool // a frameDueMsg is on its way
}

type frameDueMsg struct{}

// sessionEnd is why a session ended, shared with the handler that prints
// it after the dashboard has left the alternate screen.
type sessionEnd struct {
	mu     sync.Mutex
	reason string
	log    *slog.Logger
	user   string
}

func (e *sessionEnd) set(reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reason == "" {
		e.reason = reason
	}
}

func (e *sessionEnd) get() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reason
}

// recovered turns a panic into the end of this session, logged with its
// stack; the host and the other sessions carry on.
func (e *sessionEnd) recovered(r any) {
	e.log.Error("ssh: panic in a session; ending that session only", "user", e.user, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	e.set("the dashboard hit an internal error and this session ended (it is in the host's log); reconnect to continue")
}

type idleTickedMsg struct{}

func (m sessionModel) idleTick() tea.Cmd {
	return tea.Tick(m.tick, func(time.Time) tea.Msg { return idleTickedMsg{} })
}

func (m sessionModel) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.end.recovered(r)
			cmd = tea.Quit
		}
	}()
	return tea.Batch(m.inner.Init(), m.idleTick())
}

func (m sessionModel) Update(msg tea.Msg) (next tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.end.recovered(r)
			next, cmd = m, tea.Quit // the model before the panic: Bubble Tea still renders it once
		}
	}()
	fresh := false
	switch msg := msg.(type) {
	case tea.KeyPressMsg, tea.MouseClickMsg, tea.MouseWheelMsg, tea.PasteMsg:
		m.lastInput, m.warned = m.now(), false
		fresh = true
	case tea.WindowSizeMsg:
		m.width = msg.Width
		fresh = true
	case frameDueMsg:
		m.frames.pending, m.frames.valid = false, false
		return m, nil
	case idleTickedMsg:
		idleFor := m.now().Sub(m.lastInput)
		if idleFor >= m.idle {
			m.end.set(fmt.Sprintf("no key for %s: session ended (ssh.idle_timeout)", m.idle.Round(time.Second)))
			return m, tea.Quit
		}
		if warned := idleFor >= m.idle-m.warnBefore; warned != m.warned {
			m.warned, m.frames.valid = warned, false
		}
		return m, m.idleTick()
	}
	m.inner, cmd = m.inner.Update(msg)
	return m, tea.Batch(cmd, m.throttle(fresh))
}

// throttle decides whether the View after this Update renders anew or
// repeats the last frame, scheduling the catch-up frame it owes.
func (m sessionModel) throttle(fresh bool) tea.Cmd {
	f := m.frames
	if f == nil || m.minFrame <= 0 {
		return nil
	}
	gap := m.frameGap()
	since := m.now().Sub(f.at)
	if fresh || !f.valid || since >= gap {
		f.valid = false
		return nil
	}
	if f.pending {
		return nil
	}
	f.pending = true
	return tea.Tick(gap-since, func(time.Time) tea.Msg { return frameDueMsg{} })
}

func (m sessionModel) View() (v tea.View) {
	defer func() {
		if r := recover(); r != nil {
			m.end.recovered(r)
			v = tea.NewView("")
		}
	}()
	if f := m.frames; f != nil && f.valid {
		v = f.view
	} else {
		v = m.inner.View()
		if f != nil {
			f.view, f.at, f.valid = v, m.now(), true
		}
	}
	if m.warned {
		// The warning replaces the footer's last line: the dashboard fills
		// the screen exactly, so a line added below would scroll it.
		lines := strings.Split(v.Content, "\n")
		warn := fmt.Sprintf("\x1b[7m idle: this session ends in under %s unless you press a key \x1b[0m", m.warnBefore.Round(time.Second))
		if m.width > 0 {
			warn = ansi.Truncate(warn, m.width, "…")
		}
		lines[len(lines)-1] = warn
		v.Content = strings.Join(lines, "\n")
	}
	return v
}
