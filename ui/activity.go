package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// activityModel is the recent event log: requests' lifecycles, rejected
// callbacks (reason and source, never the token), sync and n8n errors.
type activityModel struct {
	keys          activityKeys
	width, height int
	items         []app.Activity
	loaded        bool
	err           error
	offset        int
}

func (a *activityModel) SetSize(w, h int) { a.width, a.height = w, max(h, 1) }

func (a activityModel) Update(msg tea.Msg) (activityModel, tea.Cmd) {
	switch msg := msg.(type) {
	case activityLoadedMsg:
		a.loaded, a.err = true, msg.err
		if msg.err == nil {
			a.items = msg.items
		}
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, a.keys.Up):
			a.offset = max(a.offset-1, 0)
		case key.Matches(msg, a.keys.Down):
			a.offset = min(a.offset+1, max(len(a.items)-a.height+1, 0))
		case key.Matches(msg, a.keys.Top):
			a.offset = 0
		}
	case tea.MouseWheelMsg:
		if msg.Mouse().Button == tea.MouseWheelUp {
			a.offset = max(a.offset-3, 0)
		} else {
			a.offset = min(a.offset+3, max(len(a.items)-a.height+1, 0))
		}
	}
	return a, nil
}

func (a activityModel) View(s styles) string {
	lines := []string{s.title.Render("Activity") + s.muted.Render(fmt.Sprintf("  %d recent events, newest first", len(a.items)))}
	switch {
	case a.err != nil:
		lines = append(lines, s.err.Render("cannot read activity: "+app.ErrorMessage(a.err)))
	case !a.loaded:
		lines = append(lines, s.muted.Render("loading…"))
	case len(a.items) == 0:
		lines = append(lines, s.muted.Render("Nothing has happened yet."))
	}
	end := min(a.offset+a.height-1, len(a.items))
	for _, it := range a.items[min(a.offset, end):end] {
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
		line := s.muted.Render(it.CreatedAt.UTC().Format("01-02 15:04:05")) + " " +
			st.Render(fmt.Sprintf("%-5s %-17s", it.Level, it.Kind)) + " " +
			s.muted.Render(fmt.Sprintf("%-10s", id)) + " " + oneLine(it.Message)
		lines = append(lines, ansi.Truncate(line, a.width, "…"))
	}
	for len(lines) < a.height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:a.height], "\n")
}
