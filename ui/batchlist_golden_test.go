package ui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// TestBatchRowsMatchTheirGoldenFiles draws a batch collapsed, expanded
// and in the detail, in a dark and a light terminal. Refresh with:
// go test ./ui -run Golden -update
func TestBatchRowsMatchTheirGoldenFiles(t *testing.T) {
	r := newRig(t, true)
	batchOfFour(t, r)
	for _, theme := range []struct {
		name string
		bg   tea.BackgroundColorMsg
	}{{"dark", darkTerminal}, {"light", lightTerminal}} {
		for _, sz := range []struct{ w, h int }{{80, 24}, {160, 48}} {
			for _, sc := range []struct {
				name string
				keys []string
			}{{"collapsed", nil}, {"expanded", []string{"right", "down"}}, {"detail", []string{"enter"}}} {
				t.Run(fmt.Sprintf("%s_%dx%d_%s", sc.name, sz.w, sz.h, theme.name), func(t *testing.T) {
					m := step(t, r.model(t, sz.w, sz.h), theme.bg)
					golden.RequireEqual(t, screenText(press(t, m, sc.keys...)))
				})
			}
		}
	}
}
