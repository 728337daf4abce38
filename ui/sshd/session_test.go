package sshd

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// countingModel counts how often its view is rendered.
type countingModel struct{ views *int }

func (c countingModel) Init() tea.Cmd                       { return nil }
func (c countingModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return c, nil }
func (c countingModel) View() tea.View {
	*c.views++
	return tea.NewView("line one\nfooter")
}

type eventArrivedMsg struct{}

func TestOutsideEventsRedrawAtMostOncePerFrameButKeysAlwaysRedraw(t *testing.T) {
	now := time.Unix(0, 0)
	views := 0
	var m tea.Model = sessionModel{inner: countingModel{&views}, idle: time.Hour, warnBefore: time.Minute, tick: time.Second,
		now: func() time.Time { return now }, end: &sessionEnd{log: slog.New(slog.DiscardHandler)}, lastInput: now,
		frames: &frameCache{}, minFrame: 50 * time.Millisecond}
	m.View()
	var owed tea.Cmd
	for range 20 { // 20 callbacks within one frame interval
		var cmd tea.Cmd
		m, cmd = m.Update(eventArrivedMsg{})
		if cmd != nil {
			owed = cmd
		}
		m.View()
	}
	if views != 1 {
		t.Fatalf("%d renders for 20 events inside one frame, want the first only", views)
	}
	if owed == nil {
		t.Fatal("no catch-up frame scheduled: the last event would never be drawn")
	}
	m, _ = m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
	m.View()
	if views != 2 {
		t.Fatalf("a key got the cached frame (%d renders)", views)
	}
	now = now.Add(10 * time.Millisecond)
	m, _ = m.Update(frameDueMsg{})
	m.View()
	if views != 3 {
		t.Fatalf("the catch-up frame did not render (%d renders)", views)
	}
}

func TestManySessionsShareTheHostsFrameBudgetForOutsideEvents(t *testing.T) {
	for _, tc := range []struct {
		sessions int
		gap      time.Duration // between frames for outside events
	}{
		{1, 50 * time.Millisecond},   // alone: the floor
		{4, 50 * time.Millisecond},   // 4 × 10ms is still under the floor
		{16, 160 * time.Millisecond}, // 16 sessions share 100 frames/s
		{32, 320 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%d sessions", tc.sessions), func(t *testing.T) {
			now := time.Unix(0, 0)
			views := 0
			var m tea.Model = sessionModel{inner: countingModel{&views}, idle: time.Hour, warnBefore: time.Minute, tick: time.Second,
				now: func() time.Time { return now }, end: &sessionEnd{log: slog.New(slog.DiscardHandler)}, lastInput: now,
				frames: &frameCache{}, minFrame: 50 * time.Millisecond, sessions: func() int { return tc.sessions }}
			m.View()
			views = 0
			var due time.Time
			for range 100 {
				now = now.Add(10 * time.Millisecond)
				if !due.IsZero() && !now.Before(due) { // the catch-up frame's tick fires
					m, _ = m.Update(frameDueMsg{})
					due = time.Time{}
				}
				var cmd tea.Cmd
				m, cmd = m.Update(eventArrivedMsg{})
				if cmd != nil && due.IsZero() {
					due = now.Add(m.(sessionModel).frameGap() - now.Sub(m.(sessionModel).frames.at))
				}
				m.View()
			}
			if got := m.(sessionModel).frameGap(); got != tc.gap {
				t.Fatalf("frame gap %v, want %v", got, tc.gap)
			}
			// One second of events every 10ms draws about one frame per gap.
			if most := int(time.Second/tc.gap) + 1; views > most || views < most-2 {
				t.Fatalf("%d renders in one second of events every 10ms, want %d–%d", views, most-2, most)
			}
			m, _ = m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
			before := views
			m.View()
			if views != before+1 {
				t.Fatal("a key waited for the frame budget")
			}
		})
	}
}

func TestTheIdleWarningReplacesTheFooterBeforeTheEnd(t *testing.T) {
	now := time.Unix(0, 0)
	views := 0
	end := &sessionEnd{log: slog.New(slog.DiscardHandler)}
	var m tea.Model = sessionModel{inner: countingModel{&views}, idle: 10 * time.Minute, warnBefore: time.Minute, tick: time.Second,
		now: func() time.Time { return now }, end: end, lastInput: now, frames: &frameCache{}, minFrame: 50 * time.Millisecond}
	now = now.Add(9*time.Minute + time.Second)
	m, _ = m.Update(idleTickedMsg{})
	if v := m.View().Content; !strings.HasPrefix(v, "line one\n") || !strings.Contains(v, "idle: this session ends in under 1m0s") {
		t.Fatalf("view at 9m01s idle:\n%s", v)
	}
	m, _ = m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"})
	if v := m.View().Content; strings.Contains(v, "idle") {
		t.Fatal("the warning stayed after a key")
	}
	now = now.Add(10 * time.Minute)
	if _, cmd := m.Update(idleTickedMsg{}); cmd == nil || !strings.Contains(end.get(), "no key for 10m0s") {
		t.Fatalf("after 10m idle: reason %q", end.get())
	}
}

func TestANonLoopbackAddressIsNamedInAWarning(t *testing.T) {
	for addr, warn := range map[string]bool{"127.0.0.1:23234": false, "[::1]:23234": false, "localhost:23234": false,
		"0.0.0.0:23234": true, "192.168.1.5:23234": true} {
		got := BindWarning(addr)
		if (got != "") != warn || (warn && !strings.Contains(got, addr)) {
			t.Errorf("BindWarning(%q) = %q", addr, got)
		}
	}
}
