package ui

import (
	tea "charm.land/bubbletea/v2"
	"fmt"
	"strings"
	"testing"

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

// TestScreensMatchTheirGoldenFiles renders every screen at a normal, a
// large and a narrow size. Refresh with: go test ./ui -run Golden -update
func TestScreensMatchTheirGoldenFiles(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {160, 48}, {60, 20}}
	screens := []struct {
		name string
		keys []string
		text string
	}{
		{name: "list"},
		{name: "detail", keys: []string{"enter"}},
		{name: "detail_failed", keys: []string{"j", "j", "j", "enter"}},
		{name: "composer_errors", keys: []string{"n", "tab", "tab", "tab", "tab", "ctrl+a", "ctrl+k"}, text: "12x12"},
		{name: "admin", keys: []string{"a"}},
		{name: "activity", keys: []string{"l"}},
		{name: "help", keys: []string{"?"}},
	}
	// One seeded store serves every screen: none of them writes to it.
	r := newRig(t, true)
	for _, sz := range sizes {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h), func(t *testing.T) {
				m := r.model(t, sz.w, sz.h)
				m = press(t, m, sc.keys...)
				if sc.text != "" {
					m = typeText(t, m, sc.text)
					m = press(t, m, "ctrl+s")
				}
				golden.RequireEqual(t, screenText(m))
			})
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
