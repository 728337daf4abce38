package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// activityModel is the recent event log: requests' lifecycles, rejected
// callbacks (reason and source, never the token), sync and n8n errors,
// secret changes. It scrolls in a viewport under a fixed title line.
type activityModel struct {
	keys          activityKeys
	width, height int
	items         []app.Activity
	loaded        bool
	err           error
	vp            viewport.Model
	styles        *styles // shared and immutable: rebuilt whole on a new background
}

func newActivity(keys activityKeys) activityModel {
	vp := viewport.New()
	vp.KeyMap = keys.Scroll
	return activityModel{keys: keys, vp: vp}
}

func (a *activityModel) SetSize(w, h int) {
	a.width, a.height = w, max(h, 1)
	a.vp.SetWidth(w)
	a.vp.SetHeight(max(a.height-1, 1))
	a.refresh()
}

// setStyles re-renders the lines in the new theme.
func (a *activityModel) setStyles(s *styles) {
	a.styles = s
	a.refresh()
}

func (a activityModel) Update(msg tea.Msg) (activityModel, tea.Cmd) {
	switch msg := msg.(type) {
	case activityLoadedMsg:
		a.loaded, a.err = true, msg.err
		if msg.err == nil {
			a.items = msg.items
		}
		a.refresh()
		return a, nil
	case tea.KeyPressMsg:
		if key.Matches(msg, a.keys.Top) {
			a.vp.GotoTop()
			return a, nil
		}
	}
	var cmd tea.Cmd
	a.vp, cmd = a.vp.Update(msg)
	return a, cmd
}

// refresh renders every item into the viewport (at most 500 are loaded).
func (a *activityModel) refresh() {
	if a.styles == nil {
		return
	}
	s := a.styles
	var lines []string
	switch {
	case a.err != nil:
		lines = append(lines, s.err.Render("cannot read activity: "+errText(a.err)))
	case !a.loaded:
		lines = append(lines, s.muted.Render("loading…"))
	case len(a.items) == 0:
		lines = append(lines, s.muted.Render("Nothing has happened yet."))
	}
	for _, it := range a.items {
		st := s.muted
		switch it.Level {
		case app.LevelError:
			st = s.err
		case app.LevelWarn:
			st = s.warn
		}
		id := it.RequestID
		if len(id) > 10 {
			id = id[len(id)-10:] // the random tail tells requests apart
		}
		line := s.muted.Render(it.CreatedAt.Local().Format("01-02 15:04:05")) + " " +
			st.Render(fmt.Sprintf("%-5s %-17s", it.Level, app.TerminalSafe(it.Kind))) + " " +
			s.muted.Render(fmt.Sprintf("%-10s", id)) + " " + oneLine(app.TerminalSafe(it.Message))
		lines = append(lines, ansi.Truncate(line, a.width, "…"))
	}
	a.vp.SetContentLines(lines)
}

func (a activityModel) View(s *styles) string {
	pct := ""
	if a.vp.TotalLineCount() > a.vp.Height() {
		pct = fmt.Sprintf(" · %3.0f%%", a.vp.ScrollPercent()*100)
	}
	title := s.title.Render("Activity") + s.muted.Render(fmt.Sprintf("  %d recent events, newest first, local time%s", len(a.items), pct))
	return fitLines(title+"\n"+a.vp.View(), a.width, a.height)
}
