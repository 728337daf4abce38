package ui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// TestCurationScreensMatchTheirGoldenFiles renders the grid, the viewer
// and compare at 80×24 and 160×48 in a dark and a light terminal.
// Refresh with: go test ./ui -run CurationScreens -update
func TestCurationScreensMatchTheirGoldenFiles(t *testing.T) {
	r := galleryRig(t)
	screens := []struct {
		name  string
		keys  []string
		fresh bool // it writes decisions: a store of its own
	}{
		{name: "grid_decided", keys: []string{"v", "f", "right", "+", "right", "-", "right", "f", "+"}, fresh: true},
		{name: "viewer_decided", keys: []string{"v", "f", "+", "enter"}, fresh: true},
		{name: "grid", keys: []string{"v", "right", "space"}},
		{name: "request_grid", keys: []string{"enter", "v", "down"}},
		{name: "viewer", keys: []string{"v", "right", "enter"}},
		{name: "compare", keys: []string{"v", "space", "G", "space", "c"}},
	}
	for _, theme := range []struct {
		name string
		bg   tea.BackgroundColorMsg
	}{{"dark", darkTerminal}, {"light", lightTerminal}} {
		for _, sz := range []struct{ w, h int }{{80, 24}, {160, 48}} {
			for _, sc := range screens {
				t.Run(fmt.Sprintf("%s_%dx%d_%s", sc.name, sz.w, sz.h, theme.name), func(t *testing.T) {
					rr := r
					if sc.fresh {
						rr = galleryRig(t)
					}
					m := rr.model(t, sz.w, sz.h)
					m = step(t, m, theme.bg)
					m = press(t, m, sc.keys...)
					golden.RequireEqual(t, screenText(m))
				})
			}
		}
	}
}
