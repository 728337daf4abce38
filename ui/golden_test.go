package ui

import (
	"fmt"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// screenText is what a person sees: the view without colours.
func screenText(m Model) string {
	lines := strings.Split(ansi.Strip(m.View().Content), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

var (
	lightTerminal = tea.BackgroundColorMsg{Color: color.White}
	darkTerminal  = tea.BackgroundColorMsg{Color: color.Black}
)

// TestScreensMatchTheirGoldenFiles renders every screen at a normal, a
// large and a wide size, in a dark and in a light terminal. Refresh with:
// go test ./ui -run Golden -update
func TestScreensMatchTheirGoldenFiles(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {120, 40}, {160, 48}}
	screens := []struct {
		name   string
		keys   []string
		text   string
		submit bool
	}{
		{name: "list"},
		{name: "detail", keys: []string{"enter"}},
		{name: "detail_failed", keys: []string{"j", "j", "j", "enter"}},
		{name: "composer", keys: []string{"n"}, text: "a red fox in fresh snow"},
		{name: "composer_errors", keys: []string{"n", "tab", "tab", "tab", "tab", "ctrl+a", "ctrl+k"}, text: "12x12", submit: true},
		{name: "confirm_rotate", keys: []string{"a", "t"}},
		{name: "admin", keys: []string{"a"}},
		{name: "activity", keys: []string{"l"}},
		{name: "help", keys: []string{"?"}},
		{name: "team", keys: []string{"T"}},
		{name: "team_detail", keys: []string{"T", "enter"}},
	}
	// One seeded store serves every screen: none of them writes to it. Its
	// Odoo holds four team requests for the team scope (T).
	r, _ := teamRig(t)
	for _, theme := range []struct {
		name string
		bg   tea.BackgroundColorMsg
	}{{"dark", darkTerminal}, {"light", lightTerminal}} {
		for _, sz := range sizes {
			for _, sc := range screens {
				t.Run(fmt.Sprintf("%s_%dx%d_%s", sc.name, sz.w, sz.h, theme.name), func(t *testing.T) {
					m := r.model(t, sz.w, sz.h)
					m = step(t, m, theme.bg)
					m = press(t, m, sc.keys...)
					if sc.text != "" {
						m = typeText(t, m, sc.text)
					}
					if sc.submit {
						m = press(t, m, "ctrl+s")
					}
					golden.RequireEqual(t, screenText(m))
				})
			}
		}
	}
}

func TestATinyTerminalSaysItIsTooSmall(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 50, 12)
	got := screenText(m)
	if !strings.Contains(got, "Terminal too small") || !strings.Contains(got, "50×12") {
		t.Fatalf("want a too-small message naming the size, got:\n%s", got)
	}
	m = step(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	if strings.Contains(screenText(m), "too small") {
		t.Fatal("after growing, the dashboard should be back")
	}
}
